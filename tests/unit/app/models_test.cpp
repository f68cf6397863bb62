// Model configuration and the Models wiring: real providers from config, prices, fallbacks,
// the cache, against a local OpenAI-compatible server.
#include "app/models.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace triage::app {
namespace {
using namespace std::chrono_literals;

std::string WriteConfig(const std::string& name, const std::string& text) {
  const auto path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

void ExpectErrorNaming(const std::string& text, const std::string& key) {
  try {
    auto c = LoadConfig(WriteConfig("models_bad.toml", text));
    Models models(c, nullptr);
    FAIL() << "expected a ConfigError naming " << key;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, ReadsProvidersPricesPoliciesFallbacksAndCacheTtls) {
  const auto c = LoadConfig(WriteConfig("models_ok.toml", R"(
[router]
model = "local"
[models.local]
provider = "openai-compatible"
base_url = "http://127.0.0.1:1/v1"
model = "qwen2.5:7b"
price_input = 0.10
price_output = 0.40
price_cached_input = 0.05
price_reasoning = 0.80
price_cached_write = 0.125
max_concurrency = 8
rate_per_second = 5.0
rate_burst = 2
retry_max_attempts = 4
retry_base_ms = 250
breaker_cooldown_seconds = 10
fallbacks = ["sim-standard"]
reasoning_effort = "low"
temperature = -1
[providers.openai-compatible]
max_concurrency = 3
[cache]
ttl_seconds = 600
[cache.domain_ttl]
math = "forever"
writing = 0
)"));
  const auto& m = c.models.at("local");
  EXPECT_EQ(m.provider, "openai-compatible");
  EXPECT_EQ(m.model_id, "qwen2.5:7b");
  EXPECT_EQ(m.pricing.input, 100'000);
  EXPECT_EQ(m.pricing.output, 400'000);
  EXPECT_EQ(m.pricing.cached_input, 50'000);
  EXPECT_EQ(m.pricing.reasoning, 800'000);
  EXPECT_EQ(m.pricing.cached_write, 125'000);
  EXPECT_EQ(m.policy.max_concurrency, 8u);
  EXPECT_DOUBLE_EQ(m.policy.rate_per_second, 5.0);
  EXPECT_EQ(m.policy.retry.max_attempts, 4);
  EXPECT_EQ(m.policy.retry.base_delay, 250ms);
  EXPECT_EQ(m.policy.breaker.cooldown, 10s);
  EXPECT_EQ(m.fallbacks, std::vector<std::string>{"sim-standard"});
  EXPECT_FALSE(m.temperature.has_value());
  EXPECT_FALSE(c.models.at("sim-standard").pricing.reasoning.has_value());  // billed as output
  EXPECT_EQ(c.provider_max_concurrency.at("openai-compatible"), 3u);
  EXPECT_FALSE(c.provider_max_concurrency.contains("openai"));
  const auto cache = CacheOptionsFrom(c.cache);
  EXPECT_EQ(cache.default_ttl, 600s);
  EXPECT_EQ(cache.domain_ttl.at("math"), std::nullopt);
  EXPECT_EQ(cache.domain_ttl.at("writing"), 0s);
}

TEST(ModelConfig, BadModelSettingsNameTheirKey) {
  ExpectErrorNaming("[models.x]\nprovider = \"bard\"\n", "models.x.provider");
  ExpectErrorNaming("[models.x]\nprovider = \"openai-compatible\"\n", "models.x.base_url");
  ExpectErrorNaming("[models.sim-standard]\nfallbacks = [\"nope\"]\n",
                    "models.sim-standard.fallbacks");
  ExpectErrorNaming("[models.sim-standard]\nthinking_budget = 10\n",
                    "models.sim-standard.thinking_budget");
  ExpectErrorNaming("[cache.domain_ttl]\nmath = \"sometimes\"\n", "cache.domain_ttl.math");
  ::unsetenv("TRIAGE_TEST_NO_SUCH_KEY");
  ExpectErrorNaming(
      "[router]\nmodel = \"gpt\"\n[models.gpt]\nprovider = \"openai\"\napi_key_env = "
      "\"TRIAGE_TEST_NO_SUCH_KEY\"\n",
      "models.gpt.api_key_env");
}

// A test server keeps `io` busy for ever: runs it until `call` is done (bounded at 10 s).
providers::CallOutcome RunUntilDone(boost::asio::io_context& io,
                                    boost::asio::awaitable<providers::CallOutcome> call) {
  io.restart();
  auto f = boost::asio::co_spawn(io, std::move(call), boost::asio::use_future);
  const auto limit = std::chrono::steady_clock::now() + 10s;
  while (f.wait_for(0s) != std::future_status::ready && std::chrono::steady_clock::now() < limit)
    io.run_one_for(100ms);
  return f.get();
}

// A provider that answers every call 503, counting them in `calls`.
http::Handler Unavailable(int* calls) {
  return [calls](http::Request req) -> boost::asio::awaitable<http::Response> {
    ++*calls;
    co_return http::ErrorResponse(req, http::Status::service_unavailable, "down", "maintenance");
  };
}

TEST(Models, CallsARealProviderThroughFallbacksAndTheCache) {
  // An OpenAI-compatible server on port 0 that fails every call with 503.
  boost::asio::io_context io;
  int calls = 0;
  http::ServerOptions options;
  options.port = 0;
  http::Server server(io, options, Unavailable(&calls));
  server.Start();
  auto c = LoadConfig(WriteConfig("models_live.toml", R"(
[router]
model = "local"
[models.local]
provider = "openai-compatible"
base_url = "http://127.0.0.1:)" + std::to_string(server.Port()) +
                                                          R"(/v1"
retry_max_attempts = 2
retry_base_ms = 1
retry_max_ms = 2
fallbacks = ["sim-standard"]
[cache]
enabled = true
)"));
  c.SetSimTimeScale(0.001);
  Models models(c, nullptr);
  providers::ModelRequest request;
  request.prompt = "What is 2 + 2?";
  request.job_id = "job-1";
  auto ask = [&] {
    return RunUntilDone(
        io, models.Call("local", request, std::chrono::steady_clock::now() + 10s, "math"));
  };
  const auto out = ask();
  ASSERT_TRUE(out.response);
  ASSERT_EQ(out.attempts.size(), 3u);  // two 503s, then the fallback
  EXPECT_NE(out.attempts[0].error.find("HTTP 503"), std::string::npos) << out.attempts[0].error;
  EXPECT_EQ(out.attempts[1].provider, "openai-compatible");
  EXPECT_TRUE(out.attempts[2].fallback);
  EXPECT_EQ(out.attempts[2].model, "sim-standard");
  EXPECT_GT(out.attempts[2].cost_micros, 0);
  EXPECT_EQ(calls, 2);
  const auto again = ask();
  ASSERT_EQ(again.attempts.size(), 1u);
  EXPECT_TRUE(again.attempts[0].cache_hit);
  EXPECT_EQ(again.attempts[0].cost_micros, 0);
  EXPECT_EQ(calls, 2);
  server.Stop();
}

// `timeout_seconds` is a model's only timeout: set after loading (as code does), it still
// bounds each call, though the job's deadline is far off.
TEST(Models, ACallIsCutAtItsModelsTimeoutSeconds) {
  boost::asio::io_context io;
  auto c = LoadConfig("");
  c.SetSimTimeScale(1.0);
  auto& m = c.models.at("sim-standard");
  m.profile.latency_min_s = m.profile.latency_max_s = 5;
  m.timeout_seconds = 1;
  m.policy.retry.max_attempts = 1;
  Models models(c, nullptr);
  providers::ModelRequest request;
  request.prompt = "What is 2 + 2?";
  request.job_id = "job-timeout";
  const auto out = RunUntilDone(
      io, models.Call("sim-standard", request, std::chrono::steady_clock::now() + 9s, "math"));
  ASSERT_FALSE(out.response) << "the 5 s call was not cut";
  ASSERT_EQ(out.attempts.size(), 1u);
  EXPECT_EQ(out.attempts[0].error_kind, providers::ErrorKind::kTimeout) << out.attempts[0].error;
  EXPECT_LT(out.attempts[0].latency, 3s);
}

// The value of the sample line that starts with `series` ("name{labels}"), or -1.
double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

TEST(Models, RecordBreakerStatesAndCacheLookupsInTheMetrics) {
  // A model that always fails opens its breaker after two calls; its fallback answers.
  boost::asio::io_context io;
  http::ServerOptions options;
  options.port = 0;
  int calls = 0;
  http::Server server(io, options, Unavailable(&calls));
  server.Start();
  auto c = LoadConfig(WriteConfig("models_metrics.toml", R"(
[router]
model = "local"
[models.local]
provider = "openai-compatible"
base_url = "http://127.0.0.1:)" + std::to_string(server.Port()) +
                                                             R"(/v1"
retry_max_attempts = 1
breaker_window = 2
breaker_min_calls = 2
breaker_failure_rate = 1.0
breaker_cooldown_seconds = 3600
fallbacks = ["sim-standard"]
[cache]
enabled = true
)"));
  c.SetSimTimeScale(0.001);
  auto metrics = std::make_shared<metrics::Metrics>();
  Models models(c, nullptr, metrics);
  auto ask = [&](const std::string& prompt) {
    providers::ModelRequest request;
    request.prompt = prompt;
    return RunUntilDone(
        io, models.Call("local", request, std::chrono::steady_clock::now() + 10s, "math"));
  };
  ASSERT_TRUE(ask("What is 1 + 1?").response);
  auto t = metrics->Text();
  EXPECT_EQ(Sample(t, R"(triage_model_breaker_state{model="local"})"), 0) << t;
  EXPECT_EQ(Sample(t, R"(triage_model_breaker_state{model="sim-standard"})"), 0) << t;
  ASSERT_TRUE(ask("What is 2 + 2?").response);
  ASSERT_TRUE(ask("What is 2 + 2?").response);  // from the cache
  t = metrics->Text();
  EXPECT_EQ(Sample(t, R"(triage_model_breaker_state{model="local"})"), 2) << t;
  EXPECT_EQ(Sample(t, R"(triage_cache_lookups_total{domain="math",result="miss"})"), 2) << t;
  EXPECT_EQ(Sample(t, R"(triage_cache_lookups_total{domain="math",result="hit"})"), 1) << t;
  server.Stop();
}

TEST(Models, BreakerStatesMapToTheGaugesValues) {
  using S = providers::CircuitBreaker::State;
  EXPECT_EQ(metrics::BreakerStateValue(BreakerOf(S::kClosed)), 0);
  EXPECT_EQ(metrics::BreakerStateValue(BreakerOf(S::kHalfOpen)), 1);
  EXPECT_EQ(metrics::BreakerStateValue(BreakerOf(S::kOpen)), 2);
}

TEST(Models, SamplesGetTheSamplingTemperatureAndLogprobsBecomeTheConfidence) {
  // An OpenAI-compatible server that records each body and answers with token log-probabilities.
  boost::asio::io_context io;
  std::vector<nlohmann::json> bodies;
  http::ServerOptions options;
  options.port = 0;
  http::Server server(io, options,
                      [&](http::Request req) -> boost::asio::awaitable<http::Response> {
                        bodies.push_back(nlohmann::json::parse(req.body()));
                        co_return http::JsonResponse(req, http::Status::ok, R"({
  "id": "c1", "choices": [{"index": 0, "finish_reason": "stop",
    "message": {"role": "assistant", "content": "4"},
    "logprobs": {"content": [{"token": "4", "logprob": -0.1}, {"token": ".", "logprob": -0.3}]}}],
  "usage": {"prompt_tokens": 5, "completion_tokens": 2}})");
                      });
  server.Start();
  // A rung of its own (not router.model): the models layer serves every rung's model.
  auto c = LoadConfig(WriteConfig("models_logprobs.toml", R"(
[ladder.standard]
model = "sim-standard"
[ladder.local]
model = "local"
[ladder.reasoning]
model = "sim-reasoning"
queued = true
[models.local]
provider = "openai-compatible"
base_url = "http://127.0.0.1:)" + std::to_string(server.Port()) +
                                                          R"(/v1"
temperature = 0.0
logprobs = true
[cache]
enabled = false
)"));
  Models models(c, nullptr);
  providers::ModelRequest request;
  request.prompt = "What is 2 + 2?";
  auto ask = [&](std::optional<double> temperature) {
    return RunUntilDone(io, models.Call("local", request, std::chrono::steady_clock::now() + 10s,
                                        "math", temperature));
  };
  const auto plain = ask(std::nullopt);
  const auto sampled = ask(0.7);
  ASSERT_TRUE(plain.response && sampled.response);
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0]["temperature"], 0.0);  // the model's own
  EXPECT_EQ(bodies[1]["temperature"], 0.7);  // a sample's
  EXPECT_EQ(bodies[0]["logprobs"], true);
  ASSERT_TRUE(plain.response->confidence.has_value());
  EXPECT_NEAR(*plain.response->confidence, std::exp(-0.2), 1e-12);  // exp(mean of -0.1, -0.3)
  server.Stop();
}

}  // namespace
}  // namespace triage::app
