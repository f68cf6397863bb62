// `triage demo-local`: a small workload on a real self-hosted model (SmolLM2-135M-Instruct on
// llama.cpp's llama-server, `make demo-local`) beside the simulated reasoning model, through the
// whole pipeline on this machine's Kafka and Postgres; then what the tiny model could and could
// not do, judged against the workload's true answers.
#include <fmt/core.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "app/strategy_table.hpp"
#include "app/workload.hpp"
#include "core/percentile.hpp"
#include "route/plan.hpp"
#include "store/jobs.hpp"
#include "store/migrations.hpp"

namespace triage::app {
namespace net = boost::asio;
using nlohmann::json;

namespace {

// Bare one-operation sums and products: the easiest thing to ask, as a baseline below the
// workload's word problems. Deterministic.
std::vector<Problem> BareArithmetic(int count) {
  std::vector<Problem> out;
  for (int i = 0; i < count; ++i) {
    const long long a = 3 + (i * 7) % 17, b = 2 + (i * 5) % 11;
    const bool add = i % 2 == 0;
    const long long value = add ? a + b : a * b;
    const std::string expr = std::to_string(a) + (add ? " + " : " * ") + std::to_string(b);
    out.push_back({"What is " + expr + "?",
                   std::to_string(value),
                   "easy",
                   "bare-arithmetic",
                   {expr + " = " + std::to_string(value)}});
  }
  return out;
}

constexpr const char* kBare = "one operation (What is 7 + 5?)";
constexpr const char* kEasy = "easy word problem (1-2 steps)";
constexpr const char* kMedium = "multi-step algebra";
constexpr const char* kHard = "competition counting";

std::string KindOf(const Problem& p) {
  if (p.kind == "bare-arithmetic") return kBare;
  if (p.difficulty == "easy") return kEasy;
  return p.difficulty == "medium" ? kMedium : kHard;
}

// Built outside the coroutine: GCC 12 miscompiles initializer lists inside coroutines.
http::ClientRequest SubmitRequest(const std::string& api, const Problem& problem) {
  json body = {
      {"task", problem.text}, {"domain", "math"}, {"metadata", {{"sim", SimMetadata(problem)}}}};
  http::ClientRequest request;
  request.url = api;
  request.body = body.dump();
  request.headers = {{"content-type", "application/json"}};
  return request;
}

struct Tally {
  int jobs = 0, answered = 0, right = 0, accepted = 0, accepted_wrong = 0, escalated = 0;
  int final_right = 0;
  double confidence_right = 0, confidence_wrong = 0;
  int with_confidence_right = 0, with_confidence_wrong = 0;
};

}  // namespace

Config LocalModelConfig(Config config, const LocalDemoOptions& options) {
  if (!config.models.contains(kLocalModel)) {
    ModelConfig m;
    m.name = kLocalModel;
    m.provider = "openai-compatible";
    m.model_id = "smollm2-135m-instruct";
    // A notional price for the machine's time: 2 cents per 1M tokens, in and out.
    m.pricing = {20'000, 20'000, 20'000};
    m.max_tokens = 256;
    m.temperature = 0.0;
    m.logprobs = true;  // its confidence: the mean token probability
    m.timeout_seconds = 120;
    m.policy.max_concurrency = 4;  // the server's slots (services up-llama)
    config.models[kLocalModel] = m;
  }
  if (!options.llama_url.empty()) config.models.at(kLocalModel).base_url = options.llama_url;
  if (config.models.at(kLocalModel).base_url.empty())
    throw ConfigError("demo-local: no server URL: pass --llama-url or set TRIAGE_LLAMA_URL");
  config.standard_model = kLocalModel;
  for (auto& rung : config.routing.ladder.rungs)
    if (rung.name == "standard") rung.model = kLocalModel;
  // Every job gets one answer of the real model; the cascade keeps it or escalates.
  const auto plan =
      std::get<route::Plan>(route::ParsePlan("cascade(standard) -> escalate(reasoning)"));
  config.routing.plans.clear();
  for (const auto tier : core::kAllTiers)
    config.routing.plans[std::string(core::ToString(tier))] = plan;
  return config;
}

int RunDemoLocal(Config config, const LocalDemoOptions& options) {
  config = LocalModelConfig(std::move(config), options);
  config.SetSimTimeScale(options.time_scale);
  config.api.port = 0;
  config.cache.enabled = false;  // every job is a fresh call
  const auto& local = config.models.at(kLocalModel);
  {
    pqxx::connection conn(config.postgres.dsn);
    store::Migrate(conn);
  }
  EnsurePipelineTopics(config);
  auto problems = BareArithmetic(options.arithmetic_jobs);
  for (auto& p : GenerateWorkload(options.jobs, options.seed)) problems.push_back(std::move(p));
  fmt::print(
      "triage demo-local: {} problems on {} ({} at {}, max_tokens {}, temperature 0, "
      "confidence from log-probabilities, at most {} calls at once), each escalated to the "
      "simulated {} when the cascade does not keep its answer (min_confidence {})\n",
      problems.size(), kLocalModel, local.model_id, local.base_url, local.max_tokens,
      local.policy.max_concurrency, config.reasoning_model,
      config.routing.ThresholdsFor("math").min_confidence);

  net::io_context io;
  store::Db db(config.postgres);
  queue::Producer producer(config.kafka);
  Pipeline pipeline(io, config, db, producer, RouterClassifier());
  pipeline.Start(Roles{true, true, true, false});
  auto guard = net::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  const std::string api = "http://127.0.0.1:" + std::to_string(pipeline.ApiPort()) + "/v1/jobs";

  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> ids;
  for (const auto& p : problems) {
    const auto res = net::co_spawn(io, http::Send(SubmitRequest(api, p)), net::use_future).get();
    if (res.status != 202)
      throw std::runtime_error("submit failed: " + std::to_string(res.status) + " " + res.body +
                               res.error);
    ids.push_back(json::parse(res.body).at("id").get<std::string>());
  }
  // Poll the jobs until every one is final (bounded).
  std::vector<store::JobRecord> jobs;
  auto last_report = started;
  while (std::chrono::steady_clock::now() - started < std::chrono::minutes(20)) {
    jobs.clear();
    db.RunBlocking([&](pqxx::connection& c) {
      for (const auto& id : ids)
        if (auto j = store::GetJob(c, id, true)) jobs.push_back(std::move(*j));
    });
    const auto final_count = std::count_if(jobs.begin(), jobs.end(),
                                           [](const auto& j) { return core::IsFinal(j.state); });
    if (final_count == static_cast<long>(ids.size())) break;
    if (std::chrono::steady_clock::now() - last_report > std::chrono::seconds(10)) {
      fmt::print("  final: {}/{}\n", final_count, ids.size());
      last_report = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  pipeline.Stop();
  guard.reset();
  io.stop();
  thread.join();

  std::map<std::string, Tally> by_kind;
  Tally total;
  core::Micros local_cost = 0, other_cost = 0;
  std::int64_t tokens_in = 0, tokens_out = 0;
  std::vector<double> rates, latencies;
  int failed_calls = 0, unfinished = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto& job = jobs[i];
    const auto& problem = problems[i];
    unfinished += !core::IsFinal(job.state);
    const store::AttemptRecord* first = nullptr;
    bool escalated = false;
    for (const auto& a : job.attempts) {
      (a.model == kLocalModel ? local_cost : other_cost) += a.cost_micros;
      if (a.model == kLocalModel && !first) first = &a;
      escalated = escalated || a.model != kLocalModel;
    }
    for (Tally* t : {&by_kind[KindOf(problem)], &total}) {
      ++t->jobs;
      t->final_right +=
          job.state == core::JobState::kCompleted && IsCorrect(problem, job.answer.value_or(""));
      t->escalated += escalated;
      if (!first || first->error) continue;
      ++t->answered;
      const bool right = IsCorrect(problem, first->answer.value_or(""));
      t->right += right;
      t->accepted += !escalated;
      t->accepted_wrong += !escalated && !right;
      if (first->confidence) {
        (right ? t->confidence_right : t->confidence_wrong) += *first->confidence;
        ++(right ? t->with_confidence_right : t->with_confidence_wrong);
      }
    }
    if (!first) continue;
    if (first->error) {
      ++failed_calls;
      continue;
    }
    tokens_in += first->usage.input;
    tokens_out += first->usage.output;
    latencies.push_back(static_cast<double>(first->latency_ms) / 1000.0);
    if (first->latency_ms > 0)
      rates.push_back(static_cast<double>(first->usage.output) * 1000.0 /
                      static_cast<double>(first->latency_ms));
  }

  fmt::print("all final in {:.1f} s ({} unfinished)\n\n", elapsed, unfinished);
  fmt::print("What {} answered, judged against the true answers (its one call per job):\n",
             kLocalModel);
  fmt::print("{:<34}{:>5}{:>7}{:>9}{:>10}{:>16}{:>11}{:>13}\n", "problem", "jobs", "right", "kept",
             "kept but", "conf. right /", "escalated", "final right");
  fmt::print("{:<34}{:>5}{:>7}{:>9}{:>10}{:>16}{:>11}{:>13}\n", "", "", "", "", "wrong",
             "wrong (mean)", "", "");
  auto mean = [](double sum, int n) { return n ? fmt::format("{:.2f}", sum / n) : "-"; };
  auto line = [&](const std::string& name, const Tally& t) {
    fmt::print("{:<34}{:>5}{:>7}{:>9}{:>10}{:>16}{:>11}{:>13}\n", name, t.jobs,
               fmt::format("{}/{}", t.right, t.answered), t.accepted, t.accepted_wrong,
               mean(t.confidence_right, t.with_confidence_right) + " / " +
                   mean(t.confidence_wrong, t.with_confidence_wrong),
               t.escalated, fmt::format("{}/{}", t.final_right, t.jobs));
  };
  for (const auto* kind : {kBare, kEasy, kMedium, kHard})
    if (by_kind.contains(kind)) line(kind, by_kind.at(kind));
  line("total", total);
  fmt::print(
      "\n{} calls: {} tokens in, {} out; {:.0f} output tokens/s per call (median), {:.0f} "
      "across the run; call latency p50 {:.2f} s, p95 {:.2f} s; {} failed calls\n",
      kLocalModel, tokens_in, tokens_out, core::Percentile(rates, 0.5),
      elapsed > 0 ? static_cast<double>(tokens_out) / elapsed : 0.0,
      core::Percentile(latencies, 0.5), core::Percentile(latencies, 0.95), failed_calls);
  fmt::print("cost: {} on {} (its notional price), {} on the simulated models\n",
             core::FormatUsd(local_cost), kLocalModel, core::FormatUsd(other_cost));
  // The same figures in a sentence, so nobody has to read the table to learn what it can do.
  auto of = [&](std::initializer_list<const char*> kinds) {
    int right = 0, count = 0;
    for (const auto* k : kinds) {
      right += by_kind[k].right;
      count += by_kind[k].jobs;
    }
    return fmt::format("{} of {}", right, count);
  };
  fmt::print(
      "\nIn plain words: it got {} one-operation sums and products right, {} easy word problems, "
      "and {} multi-step algebra and counting problems. The cascade kept {} of its answers, {} of "
      "them wrong; the rest went to the reasoning model.\n",
      of({kBare}), of({kEasy}), of({kMedium, kHard}), total.accepted, total.accepted_wrong);
  return unfinished == 0 ? 0 : 1;
}

}  // namespace triage::app
