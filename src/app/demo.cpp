// `triage demo`: the whole pipeline on this machine's Kafka and Postgres, fed by the project's
// own workload over HTTP, with callbacks received (and their signatures checked) on a local
// receiver; then the per-tier report, and what the other two strategies of the seed document
// would have cost on the same jobs (simulated with the same seed, no waiting).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "app/workload.hpp"
#include "notify/webhook.hpp"
#include "providers/sim.hpp"
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
};

// Built outside the coroutine: GCC 12 miscompiles initializer lists inside coroutines.
http::ClientRequest SubmitRequest(const std::string& api, const std::string& callback,
                                  const Problem& problem, size_t index) {
  json body = {{"task", problem.text},
               {"domain", "math"},
               {"callback_url", callback},
               {"metadata", {{"demo_index", index},
                             {"sim", {{"difficulty", problem.difficulty},
                                      {"expected_answer", problem.answer}}}}}};
  http::ClientRequest request;
  request.url = api;
  request.body = body.dump();
  request.headers = {{"content-type", "application/json"}};
  return request;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

std::string Usd(core::Micros micros) { return core::FormatUsd(micros); }

void PrintTable(const std::vector<Problem>& problems, const std::vector<std::string>& ids,
                const std::map<std::string, Row>& rows, const Config& config, double time_scale) {
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
      b->correct += r.state == "completed" && r.answer == problems[i].answer;
      b->inline_count += r.route == "inline";
      b->escalated += r.route == "reasoning" && r.attempts > 1;
      b->cost += r.cost;
      b->latencies.push_back(r.latency_ms / 1000.0);
    }
  }
  fmt::print("\nPer tier (the router's classification; models simulated, latencies at time "
             "scale {} — divide by it for real-time equivalents)\n",
             time_scale);
  fmt::print("{:<20}{:>6}{:>8}{:>11}{:>10}{:>13}{:>15}{:>9}{:>9}\n", "tier", "jobs", "inline",
             "reasoning", "accuracy", "cost", "cost/correct", "p50 s", "p95 s");
  auto line = [](const std::string& name, const Bucket& b) {
    fmt::print("{:<20}{:>6}{:>8}{:>11}{:>9.1f}%{:>13}{:>15}{:>9.2f}{:>9.2f}\n", name, b.count,
               b.inline_count, b.count - b.inline_count, 100.0 * b.correct / std::max(1, b.count),
               Usd(b.cost), b.correct ? Usd(b.cost / b.correct) : "-",
               Percentile(b.latencies, 0.5), Percentile(b.latencies, 0.95));
  };
  for (const auto& [tier, b] : by_tier) line(std::string(core::ToString(static_cast<core::Tier>(tier))), b);
  line("total", total);
  fmt::print("escalated after an inline attempt: {}\n", total.escalated);

  // The same jobs under the seed's two single-model strategies, from the same simulation.
  const auto standard = config.StandardModel(), reasoning = config.ReasoningModel();
  auto strategy = [&](const ModelConfig& m) {
    Bucket b;
    for (size_t i = 0; i < ids.size(); ++i) {
      providers::ModelRequest req;
      req.prompt = problems[i].text;
      req.job_id = ids[i];
      req.sim_hints = {{"difficulty", problems[i].difficulty},
                       {"expected_answer", problems[i].answer}};
      const auto outcome = providers::Simulate(
          {m.name, m.profile, m.pricing, config.sim_seed, time_scale}, req);
      ++b.count;
      b.correct += outcome.correct;
      b.cost += providers::CostOf(outcome.usage, m.pricing);
    }
    return b;
  };
  const Bucket all_standard = strategy(standard), all_reasoning = strategy(reasoning);
  fmt::print("\nStrategies on these {} jobs (simulated):\n", total.count);
  fmt::print("{:<28}{:>10}{:>13}{:>15}\n", "strategy", "accuracy", "cost", "cost/correct");
  auto strategy_line = [](const std::string& name, const Bucket& b) {
    fmt::print("{:<28}{:>9.1f}%{:>13}{:>15}\n", name, 100.0 * b.correct / std::max(1, b.count),
               Usd(b.cost), b.correct ? Usd(b.cost / b.correct) : "-");
  };
  strategy_line("standard model for all", all_standard);
  strategy_line("reasoning model for all", all_reasoning);
  strategy_line("triage (measured above)", total);
}

}  // namespace

int RunDemo(Config config, const DemoOptions& options) {
  config.sim_time_scale = options.time_scale;
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
  fmt::print("triage demo: {} generated problems, models simulated (sim.seed {}), latencies "
             "scaled by {}\n",
             problems.size(), config.sim_seed, options.time_scale);

  net::io_context io;
  store::Db db(config.postgres);
  queue::Producer producer(config.kafka);
  Pipeline pipeline(io, config, db, producer, RouterClassifier());
  pipeline.Start(Roles{});

  Receipts receipts;
  http::Server receiver(io, {"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
                        [&](http::Request req) -> net::awaitable<http::Response> {
                          const auto id = std::string(req["webhook-id"]);
                          const auto ts = std::string(req["webhook-timestamp"]);
                          const auto sig = std::string(req["webhook-signature"]);
                          const bool valid =
                              !ts.empty() &&
                              sig == notify::Sign(key, id, std::stoll(ts), req.body());
                          const auto event = json::parse(req.body(), nullptr, false);
                          std::lock_guard lock(receipts.mutex);
                          ++receipts.deliveries;
                          if (!valid) {
                            ++receipts.bad_signatures;
                            co_return http::ErrorResponse(req, http::Status::unauthorized,
                                                          "bad_signature", "signature mismatch");
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
  // One io thread: see RunServe.
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
  for (size_t w = 0; w < 32; ++w) submits.push_back(net::co_spawn(io, submitter(w), net::use_future));
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
        " (SELECT count(*) FROM attempts a WHERE a.job_id = j.id)"
        " FROM jobs j WHERE j.id = ANY($1::uuid[])",
        array);
    for (const auto& r : result)
      rows[r[0].as<std::string>()] = {r[1].as<std::string>(), r[2].as<std::string>(),
                                      r[3].as<std::string>(), r[4].as<std::string>(),
                                      r[5].as<core::Micros>(), r[6].as<double>(), r[7].as<int>()};
  });
  PrintTable(problems, ids, rows, config, options.time_scale);

  pipeline.Stop();
  receiver.Stop();
  guard.reset();
  io.stop();
  for (auto& t : threads) t.join();
  return received == ids.size() && receipts.bad_signatures == 0 ? 0 : 1;
}

}  // namespace triage::app
