// The openai-compatible adapter against a real self-hosted model: llama.cpp's llama-server
// serving SmolLM2-135M-Instruct on 127.0.0.1 (TRIAGE_TEST_LLAMA_URL; `make test` builds and
// starts it: deploy/local/services up-llama). Real jobs go through the api and the router: a
// real completion billed from the server's own token counts, a deadline too short for the
// generation cut and recorded as a timeout, and a concurrency limit the server never sees
// exceeded. The server-side figures come from the server's Prometheus /metrics, never from
// triage's own counters.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "route/plan.hpp"
#include "support.hpp"

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;

// The server's root (TRIAGE_TEST_LLAMA_URL less its /v1).
std::string ServerRoot() {
  auto url = t::LlamaUrl();
  if (url.size() >= 3 && url.ends_with("/v1")) url.resize(url.size() - 3);
  return url;
}

// llama-server's counters and gauges ("llamacpp:<name> <value>" lines), by name without the
// prefix. Fails the test when the endpoint does not answer (the server runs without --metrics).
std::map<std::string, double> ServerMetrics(boost::asio::io_context& io) {
  http::ClientRequest r;
  r.method = "GET";
  r.url = ServerRoot() + "/metrics";
  r.timeout = std::chrono::seconds(10);
  const auto res = t::Call(io, r);
  EXPECT_EQ(res.status, 200) << r.url << ": " << res.error << res.body;
  std::map<std::string, double> out;
  std::istringstream lines(res.body);
  std::string name;
  double value = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("llamacpp:")) continue;
    std::istringstream fields(line.substr(9));
    if (fields >> name >> value) out[name] = value;
  }
  return out;
}

// What the server counted between two reads of its metrics.
struct ServerCounts {
  long prompt = 0;     // prompt tokens, evaluated and reused from its prompt cache
  long cached = 0;     // of them reused from its cache
  long predicted = 0;  // generated tokens
};
ServerCounts Between(const std::map<std::string, double>& before,
                     const std::map<std::string, double>& after) {
  auto delta = [&](const char* key) {
    EXPECT_TRUE(after.contains(key)) << "llama-server's /metrics has no llamacpp:" << key;
    return after.contains(key) ? std::lround(after.at(key) - before.at(key)) : 0L;
  };
  const long cached = delta("prompt_tokens_cached_total");
  return {delta("prompt_tokens_total") + cached, cached, delta("tokens_predicted_total")};
}

class Llama : public t::PipelineTest {
 protected:
  // Prices in $ per 1M tokens, whole micro-dollars per token so costs are exact.
  static constexpr double kInputUsd = 3, kOutputUsd = 9, kCachedUsd = 1;

  void SetUp() override {
    config.cache.enabled = false;  // every job must reach the server
    ModelConfig m;
    m.name = "smollm2";
    m.provider = "openai-compatible";
    m.base_url = t::LlamaUrl();
    m.model_id = "smollm2-135m-instruct";
    m.pricing = {static_cast<core::Micros>(kInputUsd * 1e6),
                 static_cast<core::Micros>(kOutputUsd * 1e6),
                 static_cast<core::Micros>(kCachedUsd * 1e6)};
    m.max_tokens = 48;
    m.temperature = 0.0;
    // Generous: two cores shared with the unit tests; only the timeout test wants it short.
    m.timeout_seconds = 120;
    if (adjust_model) adjust_model(m);
    config.models["smollm2"] = m;
    config.standard_model = "smollm2";
    for (auto& rung : config.routing.ladder.rungs)
      if (rung.name == "standard") rung.model = "smollm2";
    // Every job is one call of the real model, whatever its tier.
    const auto plan = std::get<route::Plan>(route::ParsePlan("direct(standard)"));
    for (const auto tier : core::kAllTiers)
      config.routing.plans[std::string(core::ToString(tier))] = plan;
    Start(Roles{true, true, false, false});  // api and router: direct() stays inline
    ASSERT_TRUE(t::WaitFor([&] { return ServerMetrics(io)["requests_processing"] == 0; },
                           std::chrono::seconds(60)))
        << "llama-server is busy with another client's requests";
  }
  std::string Submit(const std::string& task) {
    const auto res = Send("POST", "/v1/jobs", json{{"task", task}, {"domain", "general"}}.dump());
    EXPECT_EQ(res.status, 202) << res.body << res.error;
    return json::parse(res.body).at("id").get<std::string>();
  }
  bool Final(const std::string& id) {
    const auto state = Job(id).value("state", "");
    return state != "queued" && state != "running";
  }
  json Done(const std::string& id) {
    EXPECT_TRUE(t::WaitFor([&] { return Final(id); }, std::chrono::seconds(180)));
    return Job(id);
  }

  std::function<void(ModelConfig&)> adjust_model;
};

TEST_F(Llama, ARealCompletionIsBilledWithTheTokensTheServerCounted) {
  const auto before = ServerMetrics(io);
  const auto id = Submit("What is 2 + 3?");
  const auto job = Done(id);
  const auto server = Between(before, ServerMetrics(io));

  ASSERT_EQ(job["state"], "completed") << job.dump(2);
  ASSERT_EQ(job["attempts"].size(), 1u) << job.dump(2);
  const auto& a = job["attempts"][0];
  EXPECT_EQ(a["model"], "smollm2");
  EXPECT_EQ(a["provider"], "openai-compatible");
  EXPECT_EQ(a["simulated"], false);
  EXPECT_FALSE(a.contains("error")) << a.dump();
  EXPECT_FALSE(job["answer"].get<std::string>().empty()) << job.dump(2);
  // The server's own counts are what the attempt row carries.
  EXPECT_GT(server.prompt, 0);
  EXPECT_GT(server.predicted, 0);
  EXPECT_EQ(a["tokens"]["input"], server.prompt) << a.dump();
  EXPECT_EQ(a["tokens"]["cached_read"], server.cached) << a.dump();
  EXPECT_EQ(a["tokens"]["output"], server.predicted) << a.dump();
  EXPECT_EQ(a["tokens"]["reasoning"], 0);
  EXPECT_LE(server.predicted, 48) << "max_tokens was not passed on";
  // And at the configured prices: fresh input 3, cached input 1, output 9 micro-dollars a token.
  const long expected_cost =
      3 * (server.prompt - server.cached) + 1 * server.cached + 9 * server.predicted;
  EXPECT_EQ(a["cost_micros"], expected_cost);
  EXPECT_EQ(job["cost_micros"], expected_cost);
}

class LlamaTimeout : public Llama {
 protected:
  LlamaTimeout() {
    adjust_model = [](ModelConfig& m) {
      m.max_tokens = 2048;  // at most ~100 tokens a second here: 20 s and more
      m.timeout_seconds = 1;
      m.policy.retry.max_attempts = 1;  // one call, so one timeout to look at
    };
  }
};

TEST_F(LlamaTimeout, ACallWhoseDeadlineIsTooShortForTheGenerationIsCutAndRecordedAsATimeout) {
  const auto before = ServerMetrics(io);
  const auto id = Submit(
      "Write a very long story about a dragon who learns to count. Use at least 2000 words.");
  const auto job = Done(id);
  ASSERT_EQ(job["attempts"].size(), 1u) << job.dump(2);
  const auto& a = job["attempts"][0];
  EXPECT_EQ(a["model"], "smollm2");
  ASSERT_TRUE(a.contains("error")) << a.dump();
  EXPECT_NE(a["error"].get<std::string>().find("deadline exceeded"), std::string::npos) << a.dump();
  // The job's deadline (1 s) was set a moment before the call started: a little under 1 s.
  EXPECT_GE(a["latency_ms"].get<long>(), 900) << a.dump();
  EXPECT_LT(a["latency_ms"].get<long>(), 10000) << "the call was not cut at its deadline";
  // No reply, so no usage: nothing billed. The job's time ran out with no answer: expired,
  // marked degraded, saying so.
  EXPECT_EQ(a["cost_micros"], 0);
  EXPECT_EQ(job["state"], "expired") << job.dump(2);
  EXPECT_EQ(job["degraded"], true);
  EXPECT_NE(job["error"].get<std::string>().find("ran out of time"), std::string::npos)
      << job.dump(2);
  // The server saw the client leave and stopped generating long before max_tokens.
  ASSERT_TRUE(t::WaitFor([&] { return ServerMetrics(io)["requests_processing"] == 0; },
                         std::chrono::seconds(60)));
  const auto server = Between(before, ServerMetrics(io));
  EXPECT_GT(server.predicted, 0) << "the server never started generating";
  EXPECT_LT(server.predicted, 2048) << "the server generated all it was allowed to";
}

class LlamaConcurrency : public Llama {
 protected:
  static constexpr int kLimit = 2;  // the server has 4 slots (services up-llama's default)
  LlamaConcurrency() {
    adjust_model = [](ModelConfig& m) { m.policy.max_concurrency = kLimit; };
  }
};

TEST_F(LlamaConcurrency, TheServerNeverProcessesMoreRequestsThanMaxConcurrency) {
  const auto before = ServerMetrics(io);
  std::vector<std::string> ids;
  for (int i = 1; i <= 8; ++i) ids.push_back(Submit("What is " + std::to_string(i) + " + 7?"));
  // Sample the server's count of requests in progress until every job is final; each sample is
  // answered by the server's own loop between two decoding steps.
  std::atomic<bool> done{false};
  double most = 0, deferred = 0;
  std::thread sampler([&] {
    for (int i = 0; i < 20000 && !done; ++i) {  // bounded; the jobs end well before
      auto m = ServerMetrics(io);
      most = std::max(most, m["requests_processing"]);
      deferred = std::max(deferred, m["requests_deferred"]);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a sampling interval
    }
  });
  const bool finished = t::WaitFor(
      [&] { return std::all_of(ids.begin(), ids.end(), [&](auto& id) { return Final(id); }); },
      std::chrono::seconds(240));
  done = true;
  sampler.join();
  ASSERT_TRUE(finished);
  EXPECT_LE(most, kLimit) << "the server processed more requests at once than the limit";
  EXPECT_EQ(most, kLimit) << "the limit was never reached: the sampling cannot see concurrency";
  EXPECT_EQ(deferred, 0) << "the server queued requests: its slots, not triage, limited them";
  // Every call billed, and together exactly what the server generated.
  const auto server = Between(before, ServerMetrics(io));
  long output = 0, input = 0;
  for (const auto& id : ids) {
    const auto job = Job(id);
    ASSERT_EQ(job["state"], "completed") << job.dump(2);
    ASSERT_EQ(job["attempts"].size(), 1u) << job.dump(2);
    output += job["attempts"][0]["tokens"]["output"].get<long>();
    input += job["attempts"][0]["tokens"]["input"].get<long>();
  }
  EXPECT_EQ(output, server.predicted);
  EXPECT_EQ(input, server.prompt);
}

}  // namespace
}  // namespace triage::app
