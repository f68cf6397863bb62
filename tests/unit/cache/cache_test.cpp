// The completion cache: key sensitivity to every output-changing parameter, the byte-bounded
// LRU and its TTLs under an injected clock, what is never cached, and coalescing.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "cache/completion_cache.hpp"
#include "cache/key.hpp"

namespace triage::cache {
namespace {
using namespace std::chrono_literals;
namespace net = boost::asio;
using providers::ModelRequest;
using providers::ModelResponse;

ModelRequest Base() {
  ModelRequest r;
  r.messages = {{"system", "Be brief."}, {"user", "What is 2 + 2?"}};
  r.max_tokens = 512;
  r.temperature = 0.0;
  r.job_id = "job-1";
  return r;
}

TEST(CacheKey, ChangingAnyOutputChangingParameterChangesTheKey) {
  const std::vector<std::pair<std::string, std::function<void(ModelRequest&)>>> changes = {
      {"prompt text", [](ModelRequest& r) { r.messages[1].content = "What is 2 + 3?"; }},
      {"system message", [](ModelRequest& r) { r.messages[0].content = "Be verbose."; }},
      {"role", [](ModelRequest& r) { r.messages[0].role = "user"; }},
      {"extra message",
       [](ModelRequest& r) {
         r.messages.push_back({"assistant", "4"});
       }},
      {"prompt without messages",
       [](ModelRequest& r) {
         r.messages.clear();
         r.prompt = "What is 2 + 2?";
       }},
      {"max tokens", [](ModelRequest& r) { r.max_tokens = 513; }},
      {"temperature", [](ModelRequest& r) { r.temperature = 0.7; }},
      {"default temperature", [](ModelRequest& r) { r.temperature.reset(); }},
      {"reasoning effort", [](ModelRequest& r) { r.reasoning_effort = "high"; }},
      {"thinking budget", [](ModelRequest& r) { r.thinking_budget = 1024; }},
      {"response format", [](ModelRequest& r) { r.response_format = R"({"type":"json_object"})"; }},
      {"stop", [](ModelRequest& r) { r.stop = {"\n"}; }},
      {"seed", [](ModelRequest& r) { r.seed = 1; }},
      {"sample", [](ModelRequest& r) { r.sample = 1; }},
      {"logprobs", [](ModelRequest& r) { r.logprobs = true; }},
      {"tools",
       [](ModelRequest& r) { r.tools_json = R"([{"type":"function","function":{"name":"f"}}])"; }},
      {"provider extras", [](ModelRequest& r) { r.extra_json = R"({"top_p":0.9})"; }},
  };
  const auto base = CacheKey("gpt-4o-mini", "openai", Base());
  EXPECT_EQ(base.size(), 64u);
  std::set<std::string> keys = {base};
  for (const auto& [what, change] : changes) {
    auto r = Base();
    change(r);
    const auto key = CacheKey("gpt-4o-mini", "openai", r);
    EXPECT_NE(key, base) << what;
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), changes.size() + 1);  // all distinct from each other too
  EXPECT_NE(CacheKey("gpt-4o", "openai", Base()), base);
  EXPECT_NE(CacheKey("gpt-4o-mini", "openai-compatible", Base()), base);
}

TEST(CacheKey, IgnoresWhoAsksAndJsonSpellingForRealModels) {
  auto a = Base();
  auto b = Base();
  b.job_id = "job-2";
  b.attempt = 3;
  a.response_format = R"({"type":"json_schema","strict":true})";
  b.response_format = R"({ "strict": true, "type": "json_schema" })";
  EXPECT_EQ(CacheKey("m", "openai", a), CacheKey("m", "openai", b));
  // Simulated answers are drawn from the job and attempt: those are part of the key.
  EXPECT_NE(CacheKey("m", "sim", a), CacheKey("m", "sim", b));
}

TEST(CacheKey, TheCanonicalTextIsJsonWithSortedKeys) {
  auto r = Base();
  r.messages[1].content = "quote \" backslash \\ newline \n tab \t bell \a";
  r.sim_hints = {{"difficulty", "hard"}, {"expected_answer", "4"}};
  r.tools_json = R"([{"type":"function"}])";
  for (const char* provider : {"openai", "sim"}) {
    const auto text = CanonicalRequest("m", provider, r);
    const auto doc = nlohmann::ordered_json::parse(text);  // throws on invalid JSON
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc.items()) keys.push_back(k);
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << text;
    EXPECT_EQ(doc["messages"][1]["content"], r.messages[1].content);
  }
}

TEST(ByteLru, StaysWithinItsBytesEvictingTheLeastRecentlyUsed) {
  const auto now = std::chrono::system_clock::now();
  const std::size_t entry = 1 + 100 + ByteLru::kEntryOverhead;
  ByteLru lru(3 * entry);
  lru.Put("a", std::string(100, 'a'), std::nullopt);
  lru.Put("b", std::string(100, 'b'), std::nullopt);
  lru.Put("c", std::string(100, 'c'), std::nullopt);
  EXPECT_TRUE(lru.Get("a", now));  // a is now the most recent
  lru.Put("d", std::string(100, 'd'), std::nullopt);
  EXPECT_FALSE(lru.Get("b", now));
  EXPECT_TRUE(lru.Get("a", now));
  EXPECT_TRUE(lru.Get("d", now));
  EXPECT_LE(lru.Bytes(), 3 * entry);
  lru.Put("huge", std::string(10 * entry, 'h'), std::nullopt);
  EXPECT_FALSE(lru.Get("huge", now));
  EXPECT_EQ(lru.Size(), 3u);
}

TEST(ByteLru, ExpiredEntriesAreMisses) {
  const auto t0 = std::chrono::system_clock::time_point{} + 1000h;
  ByteLru lru(1 << 20);
  lru.Put("k", "v", t0 + 60s);
  lru.Put("forever", "v", std::nullopt);
  EXPECT_TRUE(lru.Get("k", t0 + 59s));
  EXPECT_FALSE(lru.Get("k", t0 + 60s));
  EXPECT_TRUE(lru.Get("forever", t0 + 100000h));
}

// A model counting upstream calls; each waits `delay` (real time) before answering.
class CountingModel final : public providers::ModelClient {
 public:
  explicit CountingModel(std::chrono::milliseconds delay = 0ms) : delay_(delay) {
    pricing_ = {1'000'000, 1'000'000, 0};
  }
  const std::string& Name() const override { return name_; }
  const std::string& Provider() const override { return provider_; }
  const providers::Pricing& Prices() const override { return pricing_; }
  net::awaitable<ModelResponse> Complete(ModelRequest r, providers::Deadline) override {
    ++calls;
    if (delay_.count() > 0) {
      net::steady_timer t(co_await net::this_coro::executor, delay_);
      co_await t.async_wait(net::use_awaitable);
    }
    if (fail) throw providers::ModelError("upstream down", false, providers::ErrorKind::kServer);
    ModelResponse out;
    out.text = "answer to " + (r.messages.empty() ? r.prompt : r.messages.back().content);
    out.finish_reason = finish_reason;
    out.model = name_;
    out.usage.input = 1000;
    out.usage.output = 1000;
    co_return out;
  }
  std::atomic<int> calls{0};
  bool fail = false;
  std::string finish_reason = "stop";

 private:
  std::chrono::milliseconds delay_;
  std::string name_ = "counted", provider_ = "openai";
  providers::Pricing pricing_;
};

struct Fixture {
  std::shared_ptr<CountingModel> model;
  providers::ModelChain chain;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::time_point{} + 1000h;
  explicit Fixture(std::chrono::milliseconds delay = 0ms)
      : model(std::make_shared<CountingModel>(delay)),
        chain({std::make_shared<providers::GuardedModel>(model, providers::ModelPolicy{})}) {}
  CompletionCache Cache(CacheOptions o = {}, std::shared_ptr<CompletionStore> store = nullptr) {
    return CompletionCache(std::move(o), std::move(store), [this] { return now; });
  }
};

providers::CallOutcome RunCall(CompletionCache& cache, providers::ModelChain& chain, ModelRequest r,
                               std::string domain = "general") {
  net::io_context io;
  auto f = net::co_spawn(
      io, cache.Call(chain, std::move(r), std::chrono::steady_clock::now() + 10s, domain),
      net::use_future);
  io.run();
  return f.get();
}

TEST(CompletionCache, ASecondIdenticalCallIsAFreeHitRecordedAsAnAttempt) {
  Fixture f;
  auto cache = f.Cache();
  const auto first = RunCall(cache, f.chain, Base());
  ASSERT_TRUE(first.response);
  EXPECT_EQ(first.attempts.at(0).cost_micros, 2000);
  EXPECT_FALSE(first.attempts.at(0).cache_hit);
  const auto second = RunCall(cache, f.chain, Base());
  ASSERT_TRUE(second.response);
  EXPECT_EQ(f.model->calls, 1);
  ASSERT_EQ(second.attempts.size(), 1u);
  EXPECT_TRUE(second.attempts[0].cache_hit);
  EXPECT_EQ(second.attempts[0].cost_micros, 0);
  EXPECT_EQ(second.attempts[0].model, "counted");
  EXPECT_EQ(second.response->text, first.response->text);
  EXPECT_EQ(second.response->usage.input, 1000);  // what the original call used, for the record
  auto other = Base();
  other.temperature = 0.5;
  RunCall(cache, f.chain, other);
  EXPECT_EQ(f.model->calls, 2);
}

TEST(CompletionCache, EntriesExpireAfterTheirDomainsTtlAndForeverNeverDoes) {
  Fixture f;
  CacheOptions o;
  o.default_ttl = 3600s;
  o.domain_ttl["math"] = std::nullopt;  // forever
  o.domain_ttl["news"] = 0s;            // never cached
  auto cache = f.Cache(o);
  RunCall(cache, f.chain, Base(), "general");
  auto math = Base();
  math.messages[1].content = "What is 3 + 3?";
  RunCall(cache, f.chain, math, "math");
  f.now += 3599s;
  RunCall(cache, f.chain, Base(), "general");
  EXPECT_EQ(f.model->calls, 2);
  f.now += 1s;
  RunCall(cache, f.chain, Base(), "general");  // expired
  EXPECT_EQ(f.model->calls, 3);
  f.now += 24h * 3650;
  RunCall(cache, f.chain, math, "math");
  EXPECT_EQ(f.model->calls, 3);
  auto news = Base();
  news.messages[1].content = "Headlines?";
  RunCall(cache, f.chain, news, "news");
  RunCall(cache, f.chain, news, "news");
  EXPECT_EQ(f.model->calls, 5);
}

TEST(CompletionCache, NeverStoresErrorsOrTruncatedAnswers) {
  Fixture f;
  auto cache = f.Cache();
  f.model->fail = true;
  EXPECT_FALSE(RunCall(cache, f.chain, Base()).response);
  f.model->fail = false;
  f.model->finish_reason = "length";
  EXPECT_TRUE(RunCall(cache, f.chain, Base()).response);
  f.model->finish_reason = "stop";
  EXPECT_FALSE(RunCall(cache, f.chain, Base()).attempts.at(0).cache_hit);
  EXPECT_TRUE(RunCall(cache, f.chain, Base()).attempts.at(0).cache_hit);
  EXPECT_EQ(f.model->calls, 3);
}

TEST(CompletionCache, CoalescesConcurrentIdenticalRequestsIntoOneUpstreamCall) {
  Fixture f(50ms);
  auto cache = f.Cache();
  net::io_context io;
  std::vector<std::future<providers::CallOutcome>> calls;
  constexpr int kCalls = 64;
  for (int i = 0; i < kCalls; ++i)
    calls.push_back(net::co_spawn(
        io, cache.Call(f.chain, Base(), std::chrono::steady_clock::now() + 10s, "general"),
        net::use_future));
  io.run();
  int hits = 0;
  for (auto& c : calls) {
    const auto out = c.get();
    ASSERT_TRUE(out.response);
    hits += out.attempts.at(0).cache_hit ? 1 : 0;
  }
  EXPECT_EQ(f.model->calls, 1);
  EXPECT_EQ(hits, kCalls - 1);
}

TEST(CompletionCache, WhenTheCoalescedCallFailsEachWaiterTriesItself) {
  Fixture f(20ms);
  f.model->fail = true;
  auto cache = f.Cache();
  net::io_context io;
  auto a = net::co_spawn(
      io, cache.Call(f.chain, Base(), std::chrono::steady_clock::now() + 10s, "general"),
      net::use_future);
  auto b = net::co_spawn(
      io, cache.Call(f.chain, Base(), std::chrono::steady_clock::now() + 10s, "general"),
      net::use_future);
  io.run();
  EXPECT_FALSE(a.get().response);
  EXPECT_FALSE(b.get().response);
  EXPECT_EQ(f.model->calls, 2);
}

TEST(CompletionCache, TellsItsObserverEveryLookupsResultWithTheDomain) {
  Fixture f(20ms);
  std::mutex mutex;
  std::map<std::pair<std::string, bool>, int> seen;
  CompletionCache cache(
      {}, nullptr, [&] { return f.now; },
      [&](const std::string& domain, bool hit) {
        std::lock_guard lock(mutex);
        ++seen[{domain, hit}];
      });
  RunCall(cache, f.chain, Base(), "math");  // miss
  RunCall(cache, f.chain, Base(), "math");  // hit
  auto other = Base();
  other.messages[1].content = "Something else?";
  // Three at once: the leader misses, the two coalesced behind it get its answer (hits).
  net::io_context io;
  std::vector<std::future<providers::CallOutcome>> calls;
  for (int i = 0; i < 3; ++i)
    calls.push_back(net::co_spawn(
        io, cache.Call(f.chain, other, std::chrono::steady_clock::now() + 10s, "code"),
        net::use_future));
  io.run();
  for (auto& c : calls) ASSERT_TRUE(c.get().response);
  EXPECT_EQ((seen[{"math", false}]), 1);
  EXPECT_EQ((seen[{"math", true}]), 1);
  EXPECT_EQ((seen[{"code", false}]), 1);
  EXPECT_EQ((seen[{"code", true}]), 2);
  EXPECT_EQ(cache.Hits(), 3u);
  EXPECT_EQ(cache.Misses(), 2u);
  // A failed leader: the waiter behind it tries itself, a miss.
  f.model->fail = true;
  auto failing = Base();
  failing.messages[1].content = "Fails?";
  net::io_context io2;
  auto a = net::co_spawn(
      io2, cache.Call(f.chain, failing, std::chrono::steady_clock::now() + 10s, "writing"),
      net::use_future);
  auto b = net::co_spawn(
      io2, cache.Call(f.chain, failing, std::chrono::steady_clock::now() + 10s, "writing"),
      net::use_future);
  io2.run();
  EXPECT_FALSE(a.get().response);
  EXPECT_FALSE(b.get().response);
  EXPECT_EQ((seen[{"writing", false}]), 2);
  EXPECT_EQ((seen[{"writing", true}]), 0);
}

// The durable layer as a map, for the unit tests (Postgres: tests/integration/cache_pgtest.cpp).
class MapStore final : public CompletionStore {
 public:
  net::awaitable<std::optional<std::string>> Load(std::string key, SystemTime now) override {
    auto it = rows.find(key);
    if (it == rows.end() || (it->second.second && *it->second.second <= now))
      co_return std::nullopt;
    co_return it->second.first;
  }
  net::awaitable<void> Save(std::string key, std::string, std::string json,
                            std::optional<SystemTime> expires) override {
    rows[key] = {json, expires};
    co_return;
  }
  std::map<std::string, std::pair<std::string, std::optional<SystemTime>>> rows;
};

TEST(CompletionCache, AFreshProcessFindsAnswersInTheDurableLayer) {
  Fixture f;
  auto store = std::make_shared<MapStore>();
  {
    auto cache = f.Cache({}, store);
    RunCall(cache, f.chain, Base());
  }
  EXPECT_EQ(store->rows.size(), 1u);
  auto restarted = f.Cache({}, store);
  EXPECT_TRUE(RunCall(restarted, f.chain, Base()).attempts.at(0).cache_hit);
  EXPECT_EQ(f.model->calls, 1);
}

TEST(CompletionCache, ResponsesRoundTripThroughJson) {
  ModelResponse r;
  r.text = "x \"quoted\" \n";
  r.finish_reason = "stop";
  r.usage = {1, 2, 3, 4, 5};
  r.model = "m";
  r.provider_id = "id";
  r.confidence = 0.25;
  const auto back = ResponseFromJson(ResponseToJson(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->text, r.text);
  EXPECT_EQ(back->usage.cached_write, 5);
  EXPECT_EQ(back->confidence, 0.25);
  EXPECT_FALSE(ResponseFromJson("not json"));
}

}  // namespace
}  // namespace triage::cache
