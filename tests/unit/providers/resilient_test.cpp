// Retries, backoff, the circuit breaker, fallbacks, concurrency and rate limits, with a fake
// model and a fake clock: backoff is asserted from the recorded sleeps, not by waiting.
#include "providers/resilient.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <deque>
#include <functional>

namespace triage::providers {
namespace {
using namespace std::chrono_literals;
namespace net = boost::asio;

// Time that moves only when someone sleeps.
class FakeTime final : public TimeSource {
 public:
  Clock::time_point Now() const override { return now_; }
  net::awaitable<void> SleepUntil(Clock::time_point when) override {
    if (when > now_) {
      sleeps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(when - now_));
      now_ = when;
    }
    co_return;
  }
  void Advance(std::chrono::milliseconds d) { now_ += d; }
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1000);
};

// Answers from a script of outcomes: an error, or a reply with 100 in / 10 out tokens.
class ScriptedModel final : public ModelClient {
 public:
  using Step = std::function<ModelResponse(const ModelRequest&)>;
  ScriptedModel(std::string name, std::deque<Step> script)
      : name_(std::move(name)), script_(std::move(script)) {
    pricing_ = {1'000'000, 2'000'000, 0};
  }
  const std::string& Name() const override { return name_; }
  const std::string& Provider() const override { return provider_; }
  const Pricing& Prices() const override { return pricing_; }
  net::awaitable<ModelResponse> Complete(ModelRequest request, Deadline) override {
    ++calls;
    attempts_seen.push_back(request.attempt);
    if (script_.empty()) co_return Ok(request);
    auto step = std::move(script_.front());
    script_.pop_front();
    co_return step(request);
  }
  ModelResponse Ok(const ModelRequest&) {
    ModelResponse r;
    r.text = "ok from " + name_;
    r.finish_reason = "stop";
    r.model = name_;
    r.usage.input = 100;
    r.usage.output = 10;
    return r;
  }
  int calls = 0;
  std::vector<int> attempts_seen;

 private:
  std::string name_, provider_ = "fake";
  Pricing pricing_;
  std::deque<Step> script_;
};

ScriptedModel::Step Fail(ErrorKind kind, bool retryable,
                         std::optional<std::chrono::milliseconds> retry_after = {}) {
  return [=](const ModelRequest&) -> ModelResponse {
    throw ModelError("scripted " + std::string(ToString(kind)), retryable, kind, 0, retry_after);
  };
}

ModelPolicy Policy(int attempts = 3) {
  ModelPolicy p;
  p.retry.max_attempts = attempts;
  p.retry.base_delay = 100ms;
  p.retry.max_delay = 1000ms;
  p.retry.jitter = 0;          // exact delays in tests
  p.breaker.min_calls = 1000;  // off unless a test wants it
  return p;
}

CallOutcome RunCall(ModelChain& chain, ModelRequest request = {},
                    Deadline deadline = Deadline::max()) {
  net::io_context io;
  auto f = net::co_spawn(io, chain.Call(std::move(request), deadline), net::use_future);
  io.run();
  return f.get();
}

TEST(Backoff, DoublesUpToTheCapAppliesJitterAndHonoursRetryAfter) {
  RetryPolicy p;
  p.base_delay = 500ms;
  p.max_delay = 4000ms;
  p.jitter = 0.5;
  EXPECT_EQ(BackoffDelay(p, 1, 0.0, {}), 500ms);
  EXPECT_EQ(BackoffDelay(p, 2, 0.0, {}), 1000ms);
  EXPECT_EQ(BackoffDelay(p, 3, 0.0, {}), 2000ms);
  EXPECT_EQ(BackoffDelay(p, 9, 0.0, {}), 4000ms);
  EXPECT_EQ(BackoffDelay(p, 2, 0.999999, {}), 500ms);  // at most half taken off
  EXPECT_EQ(BackoffDelay(p, 1, 0.0, 7000ms), 7000ms);  // the server knows better
  EXPECT_EQ(BackoffDelay(p, 3, 0.0, 10ms), 2000ms);    // but never shortens ours
}

TEST(ModelChain, RetriesA429AfterItsRetryAfterAndRecordsEveryAttempt) {
  auto model = std::make_shared<ScriptedModel>(
      "m", std::deque<ScriptedModel::Step>{Fail(ErrorKind::kRateLimited, true, 7000ms),
                                           Fail(ErrorKind::kServer, true)});
  auto time = std::make_shared<FakeTime>();
  ModelChain chain({std::make_shared<GuardedModel>(model, Policy())}, time);
  ModelRequest request;
  request.attempt = 4;  // attempts already recorded for the job
  const auto out = RunCall(chain, request);
  ASSERT_TRUE(out.response);
  ASSERT_EQ(out.attempts.size(), 3u);
  EXPECT_EQ(out.attempts[0].error_kind, ErrorKind::kRateLimited);
  EXPECT_EQ(out.attempts[1].error_kind, ErrorKind::kServer);
  EXPECT_TRUE(out.attempts[2].response);
  EXPECT_EQ(out.attempts[2].retry, 2);
  EXPECT_EQ(out.attempts[2].cost_micros, 120);  // 100 × $1/M + 10 × $2/M = 100 + 20
  EXPECT_EQ(out.attempts[0].cost_micros, 0);
  EXPECT_EQ(time->sleeps, (std::vector<std::chrono::milliseconds>{7000ms, 200ms}));
  EXPECT_EQ(model->attempts_seen, (std::vector<int>{4, 5, 6}));
}

TEST(ModelChain, NeverRetriesOtherClientErrorsButFallsBack) {
  auto primary = std::make_shared<ScriptedModel>(
      "primary", std::deque<ScriptedModel::Step>{Fail(ErrorKind::kRequest, false)});
  auto backup = std::make_shared<ScriptedModel>("backup", std::deque<ScriptedModel::Step>{});
  auto time = std::make_shared<FakeTime>();
  ModelChain chain({std::make_shared<GuardedModel>(primary, Policy()),
                    std::make_shared<GuardedModel>(backup, Policy())},
                   time);
  const auto out = RunCall(chain);
  ASSERT_TRUE(out.response);
  EXPECT_EQ(primary->calls, 1);
  ASSERT_EQ(out.attempts.size(), 2u);
  EXPECT_FALSE(out.attempts[0].fallback);
  EXPECT_TRUE(out.attempts[1].fallback);
  EXPECT_EQ(out.attempts[1].model, "backup");
  EXPECT_EQ(out.model, "backup");
  EXPECT_TRUE(time->sleeps.empty());
}

// PostgreSQL text cannot hold U+0000: such a reply is refused, billed, and never retried.
TEST(ModelChain, RefusesAReplyHoldingANulButBillsItAndFallsBack) {
  auto primary = std::make_shared<ScriptedModel>(
      "primary", std::deque<ScriptedModel::Step>{[](const ModelRequest&) {
        ModelResponse r;
        r.text = std::string("answer: 4\0 trailing", 19);
        r.model = "primary";
        r.usage.input = 100;
        r.usage.output = 10;
        return r;
      }});
  auto backup = std::make_shared<ScriptedModel>("backup", std::deque<ScriptedModel::Step>{});
  ModelChain chain({std::make_shared<GuardedModel>(primary, Policy()),
                    std::make_shared<GuardedModel>(backup, Policy())},
                   std::make_shared<FakeTime>());
  const auto out = RunCall(chain);
  ASSERT_TRUE(out.response);
  EXPECT_EQ(out.response->text, "ok from backup");
  EXPECT_EQ(primary->calls, 1);
  ASSERT_EQ(out.attempts.size(), 2u);
  const auto& refused = out.attempts[0];
  EXPECT_FALSE(refused.response);
  EXPECT_EQ(refused.error_kind, ErrorKind::kMalformed);
  EXPECT_NE(refused.error.find("U+0000"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("byte 9"), std::string::npos) << refused.error;
  EXPECT_EQ(refused.cost_micros, 120);  // 100 in at $1/M + 10 out at $2/M: it was paid for

  ModelChain alone({std::make_shared<GuardedModel>(
                       std::make_shared<ScriptedModel>(
                           "only", std::deque<ScriptedModel::Step>{[](const ModelRequest&) {
                             ModelResponse r;
                             r.text = std::string(1, '\0');
                             return r;
                           }}),
                       Policy())},
                   std::make_shared<FakeTime>());
  const auto none = RunCall(alone);
  EXPECT_FALSE(none.response);
  ASSERT_TRUE(none.error);
  EXPECT_EQ(none.error->Kind(), ErrorKind::kMalformed);
  EXPECT_FALSE(none.error->Retryable());
}

TEST(ModelChain, FallsBackAfterExhaustingRetriesAndReportsTheLastErrorWhenAllFail) {
  auto primary = std::make_shared<ScriptedModel>(
      "primary", std::deque<ScriptedModel::Step>{Fail(ErrorKind::kTimeout, true),
                                                 Fail(ErrorKind::kTransport, true)});
  auto backup = std::make_shared<ScriptedModel>(
      "backup", std::deque<ScriptedModel::Step>{Fail(ErrorKind::kAuth, false)});
  ModelChain chain({std::make_shared<GuardedModel>(primary, Policy(2)),
                    std::make_shared<GuardedModel>(backup, Policy(2))},
                   std::make_shared<FakeTime>());
  const auto out = RunCall(chain);
  EXPECT_FALSE(out.response);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->Kind(), ErrorKind::kAuth);
  EXPECT_EQ(out.attempts.size(), 3u);
}

TEST(ModelChain, StopsAtTheDeadlineInsteadOfSleepingPastIt) {
  auto model = std::make_shared<ScriptedModel>(
      "m", std::deque<ScriptedModel::Step>{Fail(ErrorKind::kRateLimited, true, 60'000ms)});
  auto time = std::make_shared<FakeTime>();
  ModelChain chain({std::make_shared<GuardedModel>(model, Policy())}, time);
  const auto out = RunCall(chain, {}, time->Now() + 10s);
  EXPECT_FALSE(out.response);
  EXPECT_EQ(model->calls, 1);
  EXPECT_TRUE(time->sleeps.empty());
}

TEST(CircuitBreaker, OpensOnTheFailureRateHalfOpensAfterTheCooldownAndCloses) {
  BreakerOptions o;
  o.window = 10;
  o.min_calls = 4;
  o.failure_rate = 0.5;
  o.cooldown = 30s;
  CircuitBreaker b(o);
  const auto t0 = Clock::time_point{} + 1h;
  b.Record(true, t0);
  b.Record(true, t0);
  b.Record(false, t0);
  EXPECT_EQ(b.Current(), CircuitBreaker::State::kClosed);  // 3 calls: below min_calls
  b.Record(false, t0);                                     // 2 of 4 failed
  EXPECT_EQ(b.Current(), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(b.Allow(t0 + 29s));
  EXPECT_TRUE(b.Allow(t0 + 30s));   // the probe
  EXPECT_FALSE(b.Allow(t0 + 30s));  // only one
  b.Record(false, t0 + 31s);
  EXPECT_EQ(b.Current(), CircuitBreaker::State::kOpen);
  EXPECT_TRUE(b.Allow(t0 + 61s));
  b.Record(true, t0 + 62s);
  EXPECT_EQ(b.Current(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(b.Allow(t0 + 62s));
}

TEST(ModelChain, AnOpenBreakerSendsCallsStraightToTheFallback) {
  auto primary = std::make_shared<ScriptedModel>(
      "primary", std::deque<ScriptedModel::Step>{Fail(ErrorKind::kServer, true),
                                                 Fail(ErrorKind::kServer, true)});
  auto backup = std::make_shared<ScriptedModel>("backup", std::deque<ScriptedModel::Step>{});
  auto policy = Policy(1);
  policy.breaker.min_calls = 2;
  policy.breaker.failure_rate = 1.0;
  auto time = std::make_shared<FakeTime>();
  ModelChain chain({std::make_shared<GuardedModel>(primary, policy),
                    std::make_shared<GuardedModel>(backup, Policy())},
                   time);
  RunCall(chain);
  RunCall(chain);  // second failure opens the breaker
  const auto out = RunCall(chain);
  ASSERT_TRUE(out.response);
  EXPECT_EQ(primary->calls, 2);
  EXPECT_EQ(out.attempts.front().error_kind, ErrorKind::kCircuitOpen);
  EXPECT_EQ(out.model, "backup");
}

TEST(RateLimiter, LetsABurstThroughThenSpacesCalls) {
  RateLimiter limiter(10.0, 2);  // 10/s, bursts of 2
  const auto t0 = Clock::time_point{} + 1h;
  EXPECT_EQ(limiter.Reserve(t0), t0);
  EXPECT_EQ(limiter.Reserve(t0), t0);
  EXPECT_EQ(limiter.Reserve(t0), t0 + 100ms);
  EXPECT_EQ(limiter.Reserve(t0), t0 + 200ms);
  RateLimiter unlimited(0, 1);
  EXPECT_EQ(unlimited.Reserve(t0), t0);
}

// Holds each call until the test lets it go, counting how many are inside at once.
class GateModel final : public ModelClient {
 public:
  const std::string& Name() const override { return name_; }
  const std::string& Provider() const override { return name_; }
  const Pricing& Prices() const override { return pricing_; }
  net::awaitable<ModelResponse> Complete(ModelRequest, Deadline) override {
    max_inside = std::max(max_inside, ++inside);
    if (shared_inside) *shared_max = std::max(*shared_max, ++*shared_inside);
    net::steady_timer t(co_await net::this_coro::executor, 5ms);
    co_await t.async_wait(net::use_awaitable);
    --inside;
    if (shared_inside) --*shared_inside;
    ModelResponse r;
    r.text = "ok";
    r.model = name_;
    co_return r;
  }
  int inside = 0, max_inside = 0;
  int* shared_inside = nullptr;  // counts across several models when set
  int* shared_max = nullptr;

 private:
  std::string name_ = "gate";
  Pricing pricing_;
};

TEST(ModelChain, AConcurrencyLimitQueuesCallsInsteadOfFailingThem) {
  auto model = std::make_shared<GateModel>();
  auto policy = Policy();
  policy.max_concurrency = 2;
  ModelChain chain({std::make_shared<GuardedModel>(model, policy)});
  net::io_context io;
  std::vector<std::future<CallOutcome>> calls;
  for (int i = 0; i < 10; ++i)
    calls.push_back(net::co_spawn(io, chain.Call({}, Clock::now() + 10s), net::use_future));
  io.run();
  for (auto& c : calls) EXPECT_TRUE(c.get().response);
  EXPECT_EQ(model->max_inside, 2);
}

TEST(ModelChain, AProviderLimitIsSharedByItsModels) {
  auto a = std::make_shared<GateModel>();
  auto b = std::make_shared<GateModel>();
  int inside = 0, max_inside = 0;
  a->shared_inside = b->shared_inside = &inside;
  a->shared_max = b->shared_max = &max_inside;
  auto provider = std::make_shared<AsyncSemaphore>(1);
  ModelChain first({std::make_shared<GuardedModel>(a, Policy(), provider)});
  ModelChain second({std::make_shared<GuardedModel>(b, Policy(), provider)});
  net::io_context io;
  std::vector<std::future<CallOutcome>> calls;
  for (int i = 0; i < 4; ++i) {
    calls.push_back(net::co_spawn(io, first.Call({}, Clock::now() + 10s), net::use_future));
    calls.push_back(net::co_spawn(io, second.Call({}, Clock::now() + 10s), net::use_future));
  }
  io.run();
  for (auto& c : calls) EXPECT_TRUE(c.get().response);
  EXPECT_EQ(max_inside, 1);  // never both models at once
  EXPECT_EQ(a->max_inside, 1);
}

TEST(ModelChain, AQueuedCallGivesUpAtItsDeadline) {
  auto model = std::make_shared<GateModel>();
  auto policy = Policy();
  policy.max_concurrency = 1;
  ModelChain chain({std::make_shared<GuardedModel>(model, policy)});
  net::io_context io;
  auto first = net::co_spawn(io, chain.Call({}, Clock::now() + 10s), net::use_future);
  auto second = net::co_spawn(io, chain.Call({}, Clock::now() + 1ms), net::use_future);
  io.run();
  EXPECT_TRUE(first.get().response);
  const auto late = second.get();
  EXPECT_FALSE(late.response);
  EXPECT_EQ(late.error->Kind(), ErrorKind::kTimeout);
}

// Waits an hour for its answer: only cancellation ends it.
class HangingModel final : public ModelClient {
 public:
  const std::string& Name() const override { return name_; }
  const std::string& Provider() const override { return name_; }
  const Pricing& Prices() const override { return pricing_; }
  net::awaitable<ModelResponse> Complete(ModelRequest, Deadline) override {
    ++calls;
    net::steady_timer t(co_await net::this_coro::executor, 1h);
    co_await t.async_wait(net::use_awaitable);
    co_return ModelResponse{};
  }
  int calls = 0;

 private:
  std::string name_ = "hanging";
  Pricing pricing_;
};

// Runs `chain.Call` until the posted cancel, which runs once the call waits.
CallOutcome CancelledCall(net::io_context& io, ModelChain& chain) {
  net::cancellation_signal cancel;
  auto call = net::co_spawn(io, chain.Call({}, Clock::now() + 1h),
                            net::bind_cancellation_slot(cancel.slot(), net::use_future));
  net::post(io, [&] { cancel.emit(net::cancellation_type::terminal); });
  io.run();
  return call.get();
}

TEST(ModelChain, ACancelledCallEndsAsOneCancelledAttemptWithoutRetryFallbackOrBlame) {
  auto hanging = std::make_shared<HangingModel>();
  auto backup = std::make_shared<ScriptedModel>("backup", std::deque<ScriptedModel::Step>{});
  auto policy = Policy();
  policy.breaker.min_calls = 1;  // one failure held against it would open the breaker
  auto guarded = std::make_shared<GuardedModel>(hanging, policy);
  ModelChain chain({guarded, std::make_shared<GuardedModel>(backup, Policy())});
  net::io_context io;
  const auto out = CancelledCall(io, chain);
  EXPECT_FALSE(out.response);
  ASSERT_EQ(out.attempts.size(), 1u);
  EXPECT_EQ(out.attempts[0].error_kind, ErrorKind::kCancelled) << out.attempts[0].error;
  EXPECT_EQ(out.attempts[0].model, "hanging");
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->Kind(), ErrorKind::kCancelled);
  EXPECT_EQ(hanging->calls, 1);
  EXPECT_EQ(backup->calls, 0);
  EXPECT_EQ(guarded->Breaker().Current(), CircuitBreaker::State::kClosed);
}

TEST(ModelChain, ACallCancelledWhileQueuedForASlotGivesUpItsPlace) {
  auto model = std::make_shared<GateModel>();
  auto policy = Policy();
  policy.max_concurrency = 1;
  auto guarded = std::make_shared<GuardedModel>(model, policy);
  ModelChain chain({guarded});
  net::io_context io;
  auto first = net::co_spawn(io, chain.Call({}, Clock::now() + 10s), net::use_future);
  const auto queued = CancelledCall(io, chain);  // waits behind `first`
  EXPECT_TRUE(first.get().response);
  EXPECT_FALSE(queued.response);
  ASSERT_EQ(queued.attempts.size(), 1u);
  EXPECT_EQ(queued.attempts[0].error_kind, ErrorKind::kCancelled) << queued.attempts[0].error;
  EXPECT_EQ(guarded->Slots()->Waiting(), 0u);
  // Its slot is free again: the next call goes straight through.
  io.restart();
  auto next = net::co_spawn(io, chain.Call({}, Clock::now() + 10s), net::use_future);
  io.run();
  EXPECT_TRUE(next.get().response);
  EXPECT_EQ(model->max_inside, 1);
}

}  // namespace
}  // namespace triage::providers
