// The completion cache's Postgres layer: an answer stored by one process is a hit for the next
// (a fresh Db, LRU and cache), and expiry is judged by the injected clock.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "cache/completion_cache.hpp"
#include "store/db.hpp"
#include "support.hpp"

namespace triage::cache {
namespace {
namespace net = boost::asio;
using namespace std::chrono_literals;

class EchoModel final : public providers::ModelClient {
 public:
  const std::string& Name() const override { return name_; }
  const std::string& Provider() const override { return provider_; }
  const providers::Pricing& Prices() const override { return pricing_; }
  net::awaitable<providers::ModelResponse> Complete(providers::ModelRequest r,
                                                    providers::Deadline) override {
    ++calls;
    providers::ModelResponse out;
    out.text = "echo: " + r.prompt;
    out.finish_reason = "stop";
    out.model = name_;
    out.provider_id = "call-" + std::to_string(calls);
    out.usage.input = 10;
    out.usage.output = 20;
    co_return out;
  }
  int calls = 0;

 private:
  std::string name_ = "echo", provider_ = "openai-compatible";
  providers::Pricing pricing_{1'000'000, 1'000'000, 0};
};

providers::CallOutcome Ask(CompletionCache& cache, providers::ModelChain& chain, std::string prompt,
                           std::string domain) {
  providers::ModelRequest r;
  r.prompt = std::move(prompt);
  net::io_context io;
  auto f = net::co_spawn(io, cache.Call(chain, r, std::chrono::steady_clock::now() + 10s, domain),
                         net::use_future);
  io.run();
  return f.get();
}

TEST(CachePg, AnswersSurviveAProcessRestartAndExpireByDomain) {
  testing::FreshSchema schema;
  auto model = std::make_shared<EchoModel>();
  providers::ModelChain chain(
      {std::make_shared<providers::GuardedModel>(model, providers::ModelPolicy{})});
  auto now = std::chrono::system_clock::now();
  CacheOptions options;
  options.default_ttl = 3600s;
  options.domain_ttl["math"] = std::nullopt;  // forever
  {
    store::Db db({schema.dsn(), 2});
    CompletionCache cache(options, std::make_shared<PgCompletionStore>(db), [&] { return now; });
    EXPECT_FALSE(Ask(cache, chain, "general question", "general").attempts.at(0).cache_hit);
    EXPECT_FALSE(Ask(cache, chain, "math question", "math").attempts.at(0).cache_hit);
  }
  ASSERT_EQ(model->calls, 2);
  // "Restart": a new pool, an empty LRU, a new cache.
  store::Db db({schema.dsn(), 2});
  CompletionCache cache(options, std::make_shared<PgCompletionStore>(db), [&] { return now; });
  const auto hit = Ask(cache, chain, "general question", "general");
  ASSERT_TRUE(hit.response);
  EXPECT_TRUE(hit.attempts.at(0).cache_hit);
  EXPECT_EQ(hit.attempts.at(0).cost_micros, 0);
  EXPECT_EQ(hit.response->text, "echo: general question");
  EXPECT_EQ(hit.response->provider_id, "call-1");
  EXPECT_EQ(model->calls, 2);
  // An hour later the general answer has expired (in the table too); the math one has not.
  now += 3601s;
  CompletionCache later(options, std::make_shared<PgCompletionStore>(db), [&] { return now; });
  EXPECT_FALSE(Ask(later, chain, "general question", "general").attempts.at(0).cache_hit);
  EXPECT_TRUE(Ask(later, chain, "math question", "math").attempts.at(0).cache_hit);
  EXPECT_EQ(model->calls, 3);
}

}  // namespace
}  // namespace triage::cache
