// `triage demo`: the whole pipeline on this machine's Kafka and Postgres, fed by the project's
// own workload over HTTP, with callbacks received (and their signatures checked) on a local
// receiver; then the per-tier report, and the strategy table: the seed's strategies, triage's
// and the oracle run through the routing engine offline on the same jobs (strategy_table.hpp).
#include <fmt/core.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "app/strategy_table.hpp"
#include "app/workload.hpp"
#include "classify/commands.hpp"
#include "core/percentile.hpp"
#include "notify/webhook.hpp"
#include "providers/sim.hpp"
#include "route/record.hpp"
#include "store/migrations.hpp"

namespace triage::app {
namespace net = boost::asio;
using nlohmann::json;

namespace {

struct Receipts {
  std::mutex mutex;
  std::set<std::string> job_ids;
  int deliveries = 0;
  int bad_signatures = 0;
};

struct Row {
  std::string tier, route, answer, state;
  core::Micros cost = 0;
  double latency_ms = 0;
  int attempts = 0;
  std::string decision;  // the decision trail (route/record.hpp), JSON
};

// Built outside the coroutine: GCC 12 miscompiles initializer lists inside coroutines.
http::ClientRequest SubmitRequest(const std::string& api, const std::string& callback,
                                  const Problem& problem, size_t index) {
  json body = {{"task", problem.text},
               {"domain", "math"},
               {"callback_url", callback},
               {"metadata", {{"demo_index", index}, {"sim", SimMetadata(problem)}}}};
  http::ClientRequest request;
  request.url = api;
  request.body = body.dump();
  request.headers = {{"content-type", "application/json"}};
  return request;
}

std::string Usd(core::Micros micros) { return core::FormatUsd(micros); }

void PrintTiers(const std::vector<Problem>& problems, const std::vector<std::string>& ids,
                const std::map<std::string, Row>& rows, double time_scale) {
  struct Bucket {
    int count = 0, correct = 0, inline_count = 0, escalated = 0;
    core::Micros cost = 0;
    std::vector<double> latencies;
  };
  std::map<int, Bucket> by_tier;
  Bucket total;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto it = rows.find(ids[i]);
    if (it == rows.end()) continue;
    const Row& r = it->second;
    const int tier = static_cast<int>(core::ParseTier(r.tier).value_or(core::Tier::kEasy));
    for (Bucket* b : {&by_tier[tier], &total}) {
      ++b->count;
      b->correct += r.state == "completed" && IsCorrect(problems[i], r.answer);
      b->inline_count += r.route == "inline";
      b->escalated += r.route == "reasoning" && r.attempts > 1;
      b->cost += r.cost;
      b->latencies.push_back(r.latency_ms / 1000.0);
    }
  }
  fmt::print(
      "\nPer tier (the router's classification; models simulated, latencies at time "
      "scale {} — divide by it for real-time equivalents)\n",
      time_scale);
  fmt::print("{:<20}{:>6}{:>8}{:>11}{:>10}{:>13}{:>15}{:>9}{:>9}\n", "tier", "jobs", "inline",
             "reasoning", "accuracy", "cost", "cost/correct", "p50 s", "p95 s");
  auto line = [](const std::string& name, const Bucket& b) {
    fmt::print("{:<20}{:>6}{:>8}{:>11}{:>9.1f}%{:>13}{:>15}{:>9.2f}{:>9.2f}\n", name, b.count,
               b.inline_count, b.count - b.inline_count, 100.0 * b.correct / std::max(1, b.count),
               Usd(b.cost), b.correct ? Usd(b.cost / b.correct) : "-",
               core::Percentile(b.latencies, 0.5), core::Percentile(b.latencies, 0.95));
  };
  for (const auto& [tier, b] : by_tier)
    line(std::string(core::ToString(static_cast<core::Tier>(tier))), b);
  line("total", total);
  fmt::print("escalated after an inline attempt: {}\n", total.escalated);
}

// The live run as a row of the strategy table: judged the same way, latencies by wall clock
// (queueing included), escalations read from each job's decision trail.
StrategyRow LiveRow(const std::vector<Problem>& problems, const std::vector<std::string>& ids,
                    const std::map<std::string, Row>& rows, const route::Ladder& ladder) {
  StrategyRow live;
  live.name = "triage default, live";
  std::vector<double> latencies;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto it = rows.find(ids[i]);
    if (it == rows.end()) continue;
    const Row& r = it->second;
    ++live.count;
    live.correct += r.state == "completed" && IsCorrect(problems[i], r.answer);
    live.cost += r.cost;
    latencies.push_back(r.latency_ms / 1000.0);
    const auto decision = json::parse(r.decision, nullptr, false);
    if (!decision.is_object()) continue;
    const auto plan = route::ParsePlan(decision.value("plan", ""));
    const auto stages =
        std::holds_alternative<route::Plan>(plan) ? std::get<route::Plan>(plan).stages.size() : 0;
    bool queued = false, escalated = false, accepted = false;
    for (const auto& step : decision.value("steps", json::array())) {
      const auto* rung = ladder.Find(step.value("rung", ""));
      queued = queued || (rung && rung->queued);
      const auto outcome = step.value("outcome", "");
      accepted = accepted || outcome == "accepted";
      if (outcome == "next" && step.value("stage", 0) + 1 < static_cast<int>(stages)) {
        escalated = true;
        ++live.reasons[route::ReasonKind(step.value("reason", ""))];
      }
    }
    live.reached_queued += queued;
    live.escalated += escalated;
    live.unaccepted += !accepted;
  }
  live.p50_s = core::Percentile(latencies, 0.5);
  live.p95_s = core::Percentile(latencies, 0.95);
  return live;
}

// Every strategy run through the routing engine offline on the live run's jobs (their ids, so
// the sims draw what they drew live) and the router's tiers; then the oracles and the goal.
void PrintStrategies(const std::vector<Problem>& problems, const std::vector<std::string>& ids,
                     const std::map<std::string, Row>& rows, const Config& config,
                     const std::function<classify::Classification(std::string_view)>& classifier,
                     double time_scale) {
  std::vector<OfflineJob> jobs;
  int same_tier = 0, live_jobs = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto tier =
        classify::ApplyConfidenceCut(classifier(problems[i].text), config.policy.confidence_cut);
    if (const auto it = rows.find(ids[i]); it != rows.end()) {
      ++live_jobs;
      same_tier += it->second.tier == core::ToString(tier);
    }
    jobs.push_back({ids[i], problems[i], tier});
  }
  const auto models = OfflineModelsOf(config);
  const auto strategies = DemoStrategies(config.routing, "math");
  std::vector<StrategyRow> table;
  for (const auto& s : strategies) table.push_back(RunStrategy(jobs, s, models));
  const StrategyRow& low = table.at(0);
  const StrategyRow& top = table.at(1);
  const StrategyRow& triage = table.back();
  // What the default's cascade threshold buys (not the config; the brief's sweep).
  std::vector<StrategyRow> sweep;
  for (const double min_confidence : {0.7, 0.8, 0.9}) {
    const auto routing = config.routing;
    auto thresholds = routing.ThresholdsFor("math");
    thresholds.min_confidence = min_confidence;
    sweep.push_back(RunStrategy(jobs,
                                {fmt::format("triage default, min_conf {}", min_confidence), "",
                                 [routing, thresholds](core::Tier tier) {
                                   return StrategyChoice{routing.PlanFor("math", tier), thresholds};
                                 }},
                                models));
  }
  // And one plan that is not the config: self-consistency on the cheapest rung below hard.
  {
    const auto& ladder = config.routing.ladder.rungs;
    const auto up = (ladder.back().queued ? "escalate(" : "direct(") + ladder.back().name + ")";
    const auto vote = std::get<route::Plan>(
        route::ParsePlan("self_consistency(" + ladder.front().name + ", n=5, share=0.6) -> " + up));
    const auto hard = std::get<route::Plan>(route::ParsePlan(up));
    sweep.push_back(RunStrategy(
        jobs,
        {"what if: vote below hard", "",
         [vote, hard, thresholds = config.routing.ThresholdsFor("math")](core::Tier tier) {
           return StrategyChoice{tier < core::Tier::kHard ? vote : hard, thresholds};
         }},
        models));
  }
  std::vector<const StrategyRow*> all;
  for (const auto& r : table) all.push_back(&r);
  for (const auto& r : sweep) all.push_back(&r);
  auto by_rung =
      CheapestCorrect("oracle: cheapest correct rung", jobs, {&low, &top}, models.ladder);
  by_rung.description = "per job the first sample of each rung; the cheapest right one, else " +
                        models.ladder.rungs.back().name;
  auto by_call = CheapestCorrect("oracle: cheapest correct call", jobs, all, models.ladder);
  by_call.description = "per job the cheapest right call any row above made, else the top rung's";

  fmt::print(
      "\nStrategies on these {} jobs, each run through the routing engine offline (models "
      "simulated with the live run's job ids and sim.seed {}; the router's tiers, which "
      "match the live run's on {} of {} jobs). Verification without the true answers: "
      "step checks.\n",
      jobs.size(), config.sim_seed, same_tier, live_jobs);
  std::vector<StrategyRow> printed = table;
  printed.push_back(LiveRow(problems, ids, rows, models.ladder));
  for (const auto& r : sweep) printed.push_back(r);
  printed.push_back(by_rung);
  printed.push_back(by_call);
  fmt::print("{}", FormatStrategyTable(printed, time_scale));
  fmt::print("\n{}{}", FormatGoal(triage, low, top, {&by_rung, &by_call}),
             FormatGoal(table.at(2), low, top, {}));
}

}  // namespace

int RunDemo(Config config, const DemoOptions& options) {
  config.SetSimTimeScale(options.time_scale);
  config.api.port = 0;
  // The demo signs its webhooks with a key of its own and checks every signature it receives.
  std::string key(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size()));
  config.webhook_key = key;

  {
    pqxx::connection conn(config.postgres.dsn);
    store::Migrate(conn);
  }
  EnsurePipelineTopics(config);
  const auto problems = GenerateWorkload(options.jobs, options.seed);
  fmt::print(
      "triage demo: {} generated problems, models simulated (sim.seed {}), latencies "
      "scaled by {}\n",
      problems.size(), config.sim_seed, options.time_scale);

  net::io_context io;
  store::Db db(config.postgres);
  queue::Producer producer(config.kafka);
  const auto classifier = RouterClassifier();
  Pipeline pipeline(io, config, db, producer, classifier);
  pipeline.Start(Roles{});

  Receipts receipts;
  http::Server receiver(
      io, {"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
      [&](http::Request req) -> net::awaitable<http::Response> {
        const auto id = std::string(req["webhook-id"]);
        const auto ts = std::string(req["webhook-timestamp"]);
        const auto sig = std::string(req["webhook-signature"]);
        const bool valid = !ts.empty() && sig == notify::Sign(key, id, std::stoll(ts), req.body());
        const auto event = json::parse(req.body(), nullptr, false);
        std::lock_guard lock(receipts.mutex);
        ++receipts.deliveries;
        if (!valid) {
          ++receipts.bad_signatures;
          co_return http::ErrorResponse(req, http::Status::unauthorized, "bad_signature",
                                        "signature mismatch");
        }
        if (event.is_object() && event.contains("data"))
          receipts.job_ids.insert(event["data"].value("id", ""));
        co_return http::JsonResponse(req, http::Status::ok, "{}");
      });
  receiver.Start();
  const std::string callback = "http://127.0.0.1:" + std::to_string(receiver.Port()) + "/hook";
  const std::string api = "http://127.0.0.1:" + std::to_string(pipeline.ApiPort()) + "/v1/jobs";

  std::vector<std::thread> threads;
  auto guard = net::make_work_guard(io);
  // One io thread, as RunServe runs.
  threads.emplace_back([&] { io.run(); });

  // Submit over HTTP, 32 at a time.
  std::vector<std::string> ids(problems.size());
  const auto started = std::chrono::steady_clock::now();
  auto submitter = [&](size_t first) -> net::awaitable<void> {
    for (size_t i = first; i < problems.size(); i += 32) {
      const auto response = co_await http::Send(SubmitRequest(api, callback, problems[i], i));
      if (response.status != 202)
        throw std::runtime_error("submit failed: " + std::to_string(response.status) + " " +
                                 response.body + response.error);
      ids[i] = json::parse(response.body).at("id").get<std::string>();
    }
  };
  std::vector<std::future<void>> submits;
  for (size_t w = 0; w < 32; ++w)
    submits.push_back(net::co_spawn(io, submitter(w), net::use_future));
  for (auto& f : submits) f.get();
  fmt::print("submitted {} jobs over HTTP in {:.1f} s\n", ids.size(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  const auto limit = started + std::chrono::minutes(15);
  size_t received = 0;
  auto last_report = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < limit) {
    {
      std::lock_guard lock(receipts.mutex);
      received = receipts.job_ids.size();
    }
    if (received >= ids.size()) break;
    if (std::chrono::steady_clock::now() - last_report > std::chrono::seconds(5)) {
      fmt::print("  callbacks received: {}/{}\n", received, ids.size());
      last_report = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("all done in {:.1f} s: {} of {} callbacks ({} deliveries, {} bad signatures)\n",
             elapsed, received, ids.size(), receipts.deliveries, receipts.bad_signatures);

  std::map<std::string, Row> rows;
  db.RunBlocking([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::string array = "{";
    for (size_t i = 0; i < ids.size(); ++i) array += (i ? "," : "") + ids[i];
    array += "}";
    auto result = tx.exec_params(
        "SELECT j.id::text, coalesce(j.tier, ''), coalesce(j.route, ''), coalesce(j.answer, ''),"
        " j.state, j.cost_micros,"
        " extract(epoch FROM coalesce(j.completed_at, now()) - j.created_at) * 1000,"
        " (SELECT count(*) FROM attempts a WHERE a.job_id = j.id), coalesce(j.decision::text, '')"
        " FROM jobs j WHERE j.id = ANY($1::uuid[])",
        array);
    for (const auto& r : result)
      rows[r[0].as<std::string>()] = {r[1].as<std::string>(),  r[2].as<std::string>(),
                                      r[3].as<std::string>(),  r[4].as<std::string>(),
                                      r[5].as<core::Micros>(), r[6].as<double>(),
                                      r[7].as<int>(),          r[8].as<std::string>()};
  });
  PrintTiers(problems, ids, rows, options.time_scale);
  PrintStrategies(problems, ids, rows, config, classifier, options.time_scale);

  pipeline.Stop();
  receiver.Stop();
  guard.reset();
  io.stop();
  for (auto& t : threads) t.join();
  return received == ids.size() && receipts.bad_signatures == 0 ? 0 : 1;
}

}  // namespace triage::app
