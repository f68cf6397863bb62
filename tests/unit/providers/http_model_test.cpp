// The HTTP adapters against a scripted local server: the exact request each sends, how each
// reply is parsed and billed, and every way a provider can answer badly.
#include "providers/http_model.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <fstream>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>

#include "fake_server.hpp"
#include "providers/resilient.hpp"

namespace triage::providers {
namespace {
using nlohmann::json;
using testing::FakeServer;
using testing::Http;
using testing::ReadFixture;
using testing::Reply;
using namespace std::chrono_literals;

constexpr const char* kKey = "sk-test-0123456789-secret";

struct Result {
  std::optional<ModelResponse> response;
  std::optional<ModelError> error;
};

// One io_context for the whole run: pooled sockets belong to it and outlive single calls.
boost::asio::io_context& Io() {
  static boost::asio::io_context io;
  return io;
}

ModelRequest Simple(std::string prompt = "What is 2 + 2?") {
  ModelRequest r;
  r.prompt = std::move(prompt);
  return r;
}

Result Collect(std::future<ModelResponse>& future) {
  Result r;
  try {
    r.response = future.get();
  } catch (const ModelError& e) {
    r.error = e;
  }
  return r;
}

Result Call(HttpModel& model, const ModelRequest& request, std::chrono::milliseconds timeout = 5s) {
  auto& io = Io();
  io.restart();
  auto future =
      boost::asio::co_spawn(io, model.Complete(request, std::chrono::steady_clock::now() + timeout),
                            boost::asio::use_future);
  io.run();
  return Collect(future);
}

// A call to a server that never finishes its answer: only the call's own deadline can end it, so
// no elapsed time needs asserting. The safety bound, a hundred times the deadlines used here,
// only keeps a broken deadline from hanging the run: past it the server is shut down, which ends
// the call with a transport error instead of a timeout.
constexpr auto kSafetyBound = 30s;
Result CallUntilItsDeadline(HttpModel& model, std::unique_ptr<FakeServer>& server,
                            std::chrono::milliseconds timeout) {
  auto& io = Io();
  io.restart();
  auto future = boost::asio::co_spawn(
      io, model.Complete(Simple(), std::chrono::steady_clock::now() + timeout),
      boost::asio::use_future);
  io.run_for(kSafetyBound);
  if (!io.stopped()) {
    ADD_FAILURE() << "the call outlived its " << timeout.count() << " ms deadline by "
                  << kSafetyBound.count() << " s";
    server.reset();
    io.run();
  }
  return Collect(future);
}

HttpModelOptions Options(const FakeServer& server, std::string model, std::string path = "/v1") {
  HttpModelOptions o;
  o.name = "test-model";
  o.model = std::move(model);
  o.base_url = server.BaseUrl() + path;
  o.api_key = kKey;
  return o;
}


TEST(OpenAi, SendsTheDocumentedRequestAndParsesTheReply) {
  FakeServer server(
      [](const auto&, int) { return Http(200, ReadFixture("openai_chat_response.json")); });
  auto pool = std::make_shared<http::ClientPool>();
  auto options = Options(server, "gpt-4o-mini");
  options.pricing = {150'000, 600'000, 75'000};  // $0.15 / $0.60 / $0.075 per 1M
  HttpModel model(Flavor::kOpenAi, options, pool);
  ModelRequest request;
  request.messages = {{"system", "Answer briefly."}, {"user", "What is 2 + 2?"}};
  request.max_tokens = 256;
  request.response_format = R"({"type":"json_object"})";
  request.stop = {"\n\n"};
  request.seed = 7;
  const auto r = Call(model, request);
  ASSERT_TRUE(r.response) << r.error->what();
  const auto seen = server.Requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/v1/chat/completions");
  EXPECT_EQ(seen.headers.at("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(seen.headers.at("content-type"), "application/json");
  EXPECT_EQ(json::parse(seen.body), json::parse(ReadFixture("openai_chat_request.json")));
  EXPECT_EQ(r.response->text, "{\"answer\": 4}");
  EXPECT_EQ(r.response->finish_reason, "stop");
  EXPECT_EQ(r.response->provider_id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
  EXPECT_EQ(r.response->usage.input, 19);
  EXPECT_EQ(r.response->usage.output, 10);
  EXPECT_EQ(r.response->usage.reasoning, 0);
  // 19 × 0.15 + 10 × 0.60 = 8.85 micro-dollars -> 9
  EXPECT_EQ(CostOf(r.response->usage, model.Prices()), 9);
}

TEST(OpenAi, ReasoningModelsGetMaxCompletionTokensEffortAndNoTemperature) {
  FakeServer server(
      [](const auto&, int) { return Http(200, ReadFixture("openai_reasoning_response.json")); });
  auto options = Options(server, "o3-mini");
  options.pricing = {1'100'000, 4'400'000, 550'000};  // o3-mini: $1.10 / $4.40 / $0.55 cached
  HttpModel model(Flavor::kOpenAi, options, std::make_shared<http::ClientPool>());
  ModelRequest request = Simple("Find all primes p such that p^2 + 2 is prime.");
  request.reasoning_effort = "high";
  const auto r = Call(model, request);
  ASSERT_TRUE(r.response) << r.error->what();
  EXPECT_EQ(json::parse(server.Requests().at(0).body),
            json::parse(ReadFixture("openai_reasoning_request.json")));
  const auto& u = r.response->usage;
  EXPECT_EQ(u.input, 2048);
  EXPECT_EQ(u.cached_read, 1024);
  EXPECT_EQ(u.reasoning, 2560);
  EXPECT_EQ(u.output, 440);  // completion_tokens includes the reasoning tokens
  // 1024 fresh × 1.10 + 1024 cached × 0.55 + (440 + 2560) × 4.40 = 1126.4 + 563.2 + 13200
  EXPECT_EQ(CostOf(u, model.Prices()), 14'890);
  // Reasoning priced on its own when configured: 2560 × 8.80 instead of 4.40.
  auto priced = model.Prices();
  priced.reasoning = 8'800'000;
  EXPECT_EQ(CostOf(u, priced), 14'890 + 11'264);
}

TEST(OpenAiCompatible, UsesMaxTokensAnyBaseUrlAndNoKey) {
  FakeServer server(
      [](const auto&, int) { return Http(200, ReadFixture("compat_response.json")); });
  auto options = Options(server, "qwen2.5:7b", "/ollama/v1/");
  options.api_key.clear();
  HttpModel model(Flavor::kOpenAiCompatible, options, std::make_shared<http::ClientPool>());
  ModelRequest request = Simple("Say hi.");
  request.max_tokens = 64;
  request.temperature = 0.2;
  const auto r = Call(model, request);
  ASSERT_TRUE(r.response) << r.error->what();
  const auto seen = server.Requests().at(0);
  EXPECT_EQ(seen.target, "/ollama/v1/chat/completions");
  EXPECT_FALSE(seen.headers.contains("authorization"));
  EXPECT_EQ(json::parse(seen.body), json::parse(ReadFixture("compat_request.json")));
  EXPECT_EQ(r.response->text, "Hi!");
  EXPECT_EQ(model.Provider(), "openai-compatible");
}

TEST(OpenAiCompatible, LogprobsAreAskedForAndOnlyRealOnesBecomeAConfidence) {
  const std::vector<std::pair<std::string, std::optional<double>>> cases = {
      {R"({"content": [{"token": "a", "logprob": -0.5}, {"token": "b", "logprob": -1.5}]})",
       std::exp(-1.0)},
      {R"({"content": [{"token": "a", "logprob": 0.5}]})", std::nullopt},  // not a log-probability
      {R"({"content": []})", std::nullopt},
      {R"({"content": [{"token": "a"}]})", std::nullopt},
      {"null", std::nullopt}};
  for (const auto& [logprobs, expected] : cases) {
    const std::string reply =
        R"({"id": "x", "choices": [{"index": 0, "finish_reason": "stop", "logprobs": )" +
        logprobs + R"(, "message": {"role": "assistant", "content": "ab"}}],
          "usage": {"prompt_tokens": 3, "completion_tokens": 2}})";
    FakeServer server([&](const auto&, int) { return Http(200, reply); });
    auto options = Options(server, "qwen2.5:7b");
    options.api_key.clear();
    HttpModel model(Flavor::kOpenAiCompatible, options, std::make_shared<http::ClientPool>());
    auto request = Simple();
    request.logprobs = true;
    const auto r = Call(model, request);
    ASSERT_TRUE(r.response) << r.error->what();
    EXPECT_EQ(json::parse(server.Requests().at(0).body)["logprobs"], true);
    if (expected) {
      ASSERT_TRUE(r.response->confidence.has_value()) << logprobs;
      EXPECT_NEAR(*r.response->confidence, *expected, 1e-12);
    } else {
      EXPECT_FALSE(r.response->confidence.has_value()) << logprobs;
    }
  }
}

TEST(Anthropic, SendsThinkingAndVersionAndBillsCacheReadsAndWrites) {
  FakeServer server(
      [](const auto&, int) { return Http(200, ReadFixture("anthropic_thinking_response.json")); });
  auto options = Options(server, "claude-sonnet-4-20250514");
  // Sonnet: $3 in, $15 out, $0.30 cache read, $3.75 cache write per 1M.
  options.pricing = {3'000'000, 15'000'000, 300'000, std::nullopt, 3'750'000};
  HttpModel model(Flavor::kAnthropic, options, std::make_shared<http::ClientPool>());
  ModelRequest request;
  request.messages = {{"system", "You are a careful mathematician."},
                      {"user", "Are there infinitely many primes p with p mod 4 = 3?"}};
  request.max_tokens = 8000;
  request.thinking_budget = 10000;
  request.temperature = 0.0;  // dropped: thinking takes no temperature
  request.stop = {"END"};
  const auto r = Call(model, request);
  ASSERT_TRUE(r.response) << r.error->what();
  const auto seen = server.Requests().at(0);
  EXPECT_EQ(seen.target, "/v1/messages");
  EXPECT_EQ(seen.headers.at("x-api-key"), kKey);
  EXPECT_EQ(seen.headers.at("anthropic-version"), "2023-06-01");
  EXPECT_FALSE(seen.headers.contains("authorization"));
  EXPECT_EQ(json::parse(seen.body), json::parse(ReadFixture("anthropic_thinking_request.json")));
  EXPECT_EQ(r.response->text, "Yes. Euclid's argument with 4 p1 ... pk - 1 shows it.");
  EXPECT_EQ(r.response->finish_reason, "stop");
  const auto& u = r.response->usage;
  EXPECT_EQ(u.input, 3050);
  EXPECT_EQ(u.cached_read, 2000);
  EXPECT_EQ(u.cached_write, 1000);
  EXPECT_EQ(u.output, 6000);
  // 50 × 3 + 2000 × 0.30 + 1000 × 3.75 + 6000 × 15 = 150 + 600 + 3750 + 90000
  EXPECT_EQ(CostOf(u, model.Prices()), 94'500);
}

struct BadReply {
  const char* name;
  Reply reply;
  ErrorKind kind;
  bool retryable;
  const char* message_part;
};

class BadReplies : public ::testing::TestWithParam<int> {};

std::vector<BadReply> AllBadReplies() {
  Reply truncated = Http(200, ReadFixture("openai_chat_response.json"));
  truncated.raw.resize(truncated.raw.size() - 200);
  truncated.close_after = true;
  Reply dropped;
  dropped.drop = true;
  Reply missing_usage = Http(
      200,
      R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"4"},"finish_reason":"stop"}]})");
  return {
      {"rate_limited",
       Http(429, ReadFixture("openai_error_429.json"), "application/json", {{"Retry-After", "7"}}),
       ErrorKind::kRateLimited, true, "Rate limit reached for o3-mini"},
      {"bad_request", Http(400, ReadFixture("openai_error_400.json")), ErrorKind::kRequest, false,
       "Unsupported parameter"},
      {"unauthorized",
       Http(401,
            R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}})"),
       ErrorKind::kAuth, false, "Incorrect API key"},
      {"html_502", Http(502, ReadFixture("bad_gateway.html"), "text/html"), ErrorKind::kServer,
       true, "HTML error page: 502 Bad Gateway"},
      {"request_timeout_408", Http(408, "{}"), ErrorKind::kServer, true, "HTTP 408"},
      {"html_200", Http(200, ReadFixture("bad_gateway.html"), "text/html"), ErrorKind::kMalformed,
       true, "HTML page instead of JSON"},
      {"malformed_json", Http(200, R"({"id": "x", "choices": [)"), ErrorKind::kMalformed, true,
       "malformed JSON"},
      {"wrong_shape", Http(200, R"({"id": "x", "choices": []})"), ErrorKind::kMalformed, true,
       "unexpected reply shape"},
      {"missing_usage", missing_usage, ErrorKind::kMissingUsage, false, "without token usage"},
      {"error_object_in_200",
       Http(
           200,
           R"({"error":{"message":"The server had an error while processing your request.","type":"server_error"}})"),
       ErrorKind::kProvider, true, "server had an error"},
      {"truncated_body", truncated, ErrorKind::kTruncated, true, "truncated"},
      {"dropped_connection", dropped, ErrorKind::kTransport, true, "read"},
  };
}

TEST_P(BadReplies, BecomeTypedErrorsKeepingTheProvidersMessageAndNeverTheKey) {
  const auto bad = AllBadReplies().at(GetParam());
  SCOPED_TRACE(bad.name);
  FakeServer server([&](const auto&, int) { return bad.reply; });
  HttpModel model(Flavor::kOpenAi, Options(server, "o3-mini"),
                  std::make_shared<http::ClientPool>());
  const auto r = Call(model, Simple());
  ASSERT_TRUE(r.error) << "parsed: " << r.response->text;
  EXPECT_EQ(r.error->Kind(), bad.kind) << r.error->what();
  EXPECT_EQ(r.error->Retryable(), bad.retryable) << r.error->what();
  EXPECT_NE(std::string(r.error->what()).find(bad.message_part), std::string::npos)
      << r.error->what();
  EXPECT_EQ(std::string(r.error->what()).find(kKey), std::string::npos);
  if (bad.kind == ErrorKind::kRateLimited)
    EXPECT_EQ(r.error->RetryAfter(), std::chrono::milliseconds(7000));
}
INSTANTIATE_TEST_SUITE_P(All, BadReplies, ::testing::Range(0, 12));

TEST(Anthropic, OverloadedAndErrorObjectsAreRetryableWithTheirMessages) {
  FakeServer server([](const auto&, int i) {
    return i == 0 ? Http(529, ReadFixture("anthropic_error_529.json"))
                  : Http(200, ReadFixture("anthropic_error_in_200.json"));
  });
  HttpModel model(Flavor::kAnthropic, Options(server, "claude-sonnet-4-20250514"),
                  std::make_shared<http::ClientPool>());
  const auto first = Call(model, Simple());
  ASSERT_TRUE(first.error);
  EXPECT_EQ(first.error->Kind(), ErrorKind::kServer);
  EXPECT_TRUE(first.error->Retryable());
  EXPECT_NE(std::string(first.error->what()).find("overloaded_error: Overloaded"),
            std::string::npos);
  const auto second = Call(model, Simple());
  ASSERT_TRUE(second.error);
  EXPECT_EQ(second.error->Kind(), ErrorKind::kProvider);
  EXPECT_TRUE(second.error->Retryable());  // api_error: Anthropic's side
  EXPECT_NE(std::string(second.error->what()).find("unexpected error"), std::string::npos);
}

TEST(HttpModel, ASilentServerTimesOutAtTheDeadline) {
  auto server = std::make_unique<FakeServer>([](const auto&, int) {
    Reply r = Http(200, "{}");
    r.delay = 1h;  // never, as far as this test is concerned
    return r;
  });
  HttpModel model(Flavor::kOpenAi, Options(*server, "gpt-4o-mini"),
                  std::make_shared<http::ClientPool>());
  const auto r = CallUntilItsDeadline(model, server, 200ms);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->Kind(), ErrorKind::kTimeout) << r.error->what();
  EXPECT_TRUE(r.error->Retryable());
  EXPECT_NE(std::string(r.error->what()).find("deadline exceeded"), std::string::npos)
      << r.error->what();
}

TEST(HttpModel, ASlowTrickleCannotHoldTheCallPastItsDeadline) {
  auto server = std::make_unique<FakeServer>([](const auto&, int) {
    // A valid reply behind 1 MiB of leading whitespace, one byte every 20 ms: hours to finish,
    // and never idle long enough for a per-read timeout to fire.
    Reply r = Http(200, std::string(1 << 20, ' ') + ReadFixture("openai_chat_response.json"));
    r.trickle_bytes = 1;
    r.trickle_every = 20ms;
    return r;
  });
  HttpModel model(Flavor::kOpenAi, Options(*server, "gpt-4o-mini"),
                  std::make_shared<http::ClientPool>());
  const auto r = CallUntilItsDeadline(model, server, 300ms);
  ASSERT_TRUE(r.error) << "answered: " << r.response->text;
  EXPECT_EQ(r.error->Kind(), ErrorKind::kTimeout) << r.error->what();
}

TEST(HttpModel, ReusesOneConnectionForSequentialCalls) {
  FakeServer server(
      [](const auto&, int) { return Http(200, ReadFixture("openai_chat_response.json")); });
  auto pool = std::make_shared<http::ClientPool>();
  HttpModel model(Flavor::kOpenAi, Options(server, "gpt-4o-mini"), pool);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Call(model, Simple()).response);
  EXPECT_EQ(pool->Opened(), 1u);
  EXPECT_EQ(server.Connections(), 1);
  EXPECT_EQ(server.Requests().size(), 5u);
}

TEST(HttpModel, AConnectionTheServerClosedIsReplacedTransparently) {
  FakeServer server([](const auto&, int) {
    Reply r = Http(200, ReadFixture("openai_chat_response.json"), "application/json",
                   {{"Connection", "close"}});
    r.close_after = true;
    return r;
  });
  auto pool = std::make_shared<http::ClientPool>();
  HttpModel model(Flavor::kOpenAi, Options(server, "gpt-4o-mini"), pool);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Call(model, Simple()).response);
  EXPECT_EQ(server.Connections(), 3);
}

TEST(HttpModel, ACancelledCallClosesItsConnectionAndIsNotRetriedOnAnother) {
  auto& io = Io();
  boost::asio::cancellation_signal cancel;
  FakeServer server([&](const auto&, int index) {
    if (index == 0) return Http(200, ReadFixture("openai_chat_response.json"));
    // The second request has arrived: its caller gives up on it.
    boost::asio::post(io, [&] { cancel.emit(boost::asio::cancellation_type::terminal); });
    Reply r;
    r.wait_for_close = true;
    return r;
  });
  auto pool = std::make_shared<http::ClientPool>();
  HttpModel model(Flavor::kOpenAi, Options(server, "gpt-4o-mini"), pool);
  ASSERT_TRUE(Call(model, Simple()).response);  // leaves its connection in the pool
  io.restart();
  auto future = boost::asio::co_spawn(
      io, model.Complete(Simple(), std::chrono::steady_clock::now() + kSafetyBound),
      boost::asio::bind_cancellation_slot(cancel.slot(), boost::asio::use_future));
  io.run();
  const auto r = Collect(future);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->Kind(), ErrorKind::kCancelled) << r.error->what();
  EXPECT_FALSE(r.error->Retryable());
  EXPECT_FALSE(r.error->PartialUsage());  // a provider cut off says nothing of its bill
  // The server saw the client leave (a real provider stops generating), and no other
  // connection took the request again.
  EXPECT_TRUE(server.WaitForClientClose(kSafetyBound));
  EXPECT_EQ(server.Connections(), 1);
  EXPECT_EQ(server.Requests().size(), 2u);
  EXPECT_EQ(pool->Idle(), 0u);
}

// The chain's clock, starting at the real time (the adapter's socket deadlines are real) and
// advanced by each sleep, which it records instead of waiting.
class RecordedTime final : public TimeSource {
 public:
  Clock::time_point Now() const override { return now_; }
  boost::asio::awaitable<void> SleepUntil(Clock::time_point when) override {
    if (when > now_) {
      sleeps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(when - now_));
      now_ = when;
    }
    co_return;
  }
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  Clock::time_point now_ = Clock::now();
};

TEST(HttpModel, TheChainRetriesA429AfterItsRetryAfterOnTheSameConnection) {
  FakeServer server([](const auto&, int i) {
    if (i == 0)
      return Http(429, ReadFixture("openai_error_429.json"), "application/json",
                  {{"Retry-After", "0.05"}});
    return Http(200, ReadFixture("openai_chat_response.json"));
  });
  auto model = std::make_shared<HttpModel>(Flavor::kOpenAi, Options(server, "gpt-4o-mini"),
                                           std::make_shared<http::ClientPool>());
  ModelPolicy policy;
  policy.retry.base_delay = 1ms;  // so the wait before the retry can only come from Retry-After
  auto time = std::make_shared<RecordedTime>();
  ModelChain chain({std::make_shared<GuardedModel>(model, policy)}, time);
  auto& io = Io();
  io.restart();
  auto f = boost::asio::co_spawn(io, chain.Call(Simple(), time->Now() + 5s),
                                 boost::asio::use_future);
  io.run();
  const auto out = f.get();
  ASSERT_TRUE(out.response);
  ASSERT_EQ(out.attempts.size(), 2u);
  EXPECT_EQ(out.attempts[0].error_kind, ErrorKind::kRateLimited);
  EXPECT_NE(out.attempts[0].error.find("Rate limit reached"), std::string::npos);
  EXPECT_EQ(time->sleeps, std::vector<std::chrono::milliseconds>{50ms});  // Retry-After: 0.05
  EXPECT_EQ(server.Requests().size(), 2u);
  EXPECT_EQ(server.Connections(), 1);
}

TEST(HttpModel, ParsesRetryAfterInSecondsAndAsADate) {
  EXPECT_EQ(ParseRetryAfter("12"), std::chrono::milliseconds(12000));
  EXPECT_EQ(ParseRetryAfter("0.5"), std::chrono::milliseconds(500));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"),
            std::chrono::milliseconds(0));  // past
  EXPECT_FALSE(ParseRetryAfter(""));
  EXPECT_FALSE(ParseRetryAfter("soon"));
}

TEST(ApiKeys, ComeFromTheEnvironmentOrAFileAndErrorsNeverShowThem) {
  ::setenv("TRIAGE_TEST_PROVIDER_KEY", "sk-from-env", 1);
  EXPECT_EQ(LoadApiKey("TRIAGE_TEST_PROVIDER_KEY", "", true), "sk-from-env");
  ::unsetenv("TRIAGE_TEST_PROVIDER_KEY");
  const std::string file = ::testing::TempDir() + "/provider_key";
  { std::ofstream(file) << "sk-from-file\n"; }
  EXPECT_EQ(LoadApiKey("TRIAGE_TEST_PROVIDER_KEY", file, true), "sk-from-file");
  EXPECT_EQ(LoadApiKey("TRIAGE_TEST_PROVIDER_KEY", "", false), "");
  try {
    LoadApiKey("TRIAGE_TEST_PROVIDER_KEY", "", true);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("TRIAGE_TEST_PROVIDER_KEY"), std::string::npos);
  }
}

}  // namespace
}  // namespace triage::providers
