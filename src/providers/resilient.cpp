#include "providers/resilient.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>

namespace triage::providers {
namespace net = boost::asio;
using std::chrono::milliseconds;

namespace {

class RealTimeSource final : public TimeSource {
 public:
  Clock::time_point Now() const override { return Clock::now(); }
  net::awaitable<void> SleepUntil(Clock::time_point when) override {
    net::steady_timer timer(co_await net::this_coro::executor, when);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  }
};

milliseconds Since(Clock::time_point start, Clock::time_point now) {
  return std::chrono::duration_cast<milliseconds>(now - start);
}

// Why a reply's text cannot be kept, if it cannot: PostgreSQL text (the attempt, the job's
// answer) and JSON bound for jsonb hold no U+0000, so such a reply could be neither stored nor
// delivered, and changing it would alter the answer unseen.
std::optional<std::string> UnkeepableText(const std::string& text) {
  const auto nul = text.find('\0');
  if (nul == std::string::npos) return std::nullopt;
  return "the reply holds U+0000 (a NUL character) at byte " + std::to_string(nul) +
         ", which cannot be stored: refused";
}

}  // namespace

std::shared_ptr<TimeSource> RealTime() {
  static auto time = std::make_shared<RealTimeSource>();
  return time;
}

milliseconds BackoffDelay(const RetryPolicy& p, int retry, double u,
                          std::optional<milliseconds> retry_after) {
  const int shift = std::clamp(retry - 1, 0, 30);
  const double raw =
      std::min<double>(static_cast<double>(p.base_delay.count()) * std::ldexp(1.0, shift),
                       static_cast<double>(p.max_delay.count()));
  const double jitter = std::clamp(p.jitter, 0.0, 1.0);
  auto delay =
      milliseconds(static_cast<std::int64_t>(raw * (1.0 - jitter * std::clamp(u, 0.0, 1.0))));
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

bool CircuitBreaker::Allow(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now - opened_at_ < options_.cooldown) return false;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return true;
}

void CircuitBreaker::Record(bool success, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == State::kHalfOpen) {
    probe_in_flight_ = false;
    window_.clear();
    failures_ = 0;
    if (success) {
      state_ = State::kClosed;
    } else {
      state_ = State::kOpen;
      opened_at_ = now;
    }
    return;
  }
  if (state_ == State::kOpen) return;  // a call that started before the breaker opened
  window_.push_back(!success);
  failures_ += success ? 0 : 1;
  if (static_cast<int>(window_.size()) > options_.window) {
    failures_ -= window_.front() ? 1 : 0;
    window_.pop_front();
  }
  const int calls = static_cast<int>(window_.size());
  if (calls >= options_.min_calls &&
      static_cast<double>(failures_) >= options_.failure_rate * static_cast<double>(calls)) {
    state_ = State::kOpen;
    opened_at_ = now;
  }
}

void CircuitBreaker::Abandon() {
  std::lock_guard lock(mutex_);
  if (state_ == State::kHalfOpen) probe_in_flight_ = false;
}

CircuitBreaker::State CircuitBreaker::Current() const {
  std::lock_guard lock(mutex_);
  return state_;
}

RateLimiter::RateLimiter(double per_second, int burst) {
  if (per_second > 0) {
    interval_ = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / per_second));
    burst_span_ = interval_ * std::max(0, burst - 1);
  }
}

Clock::time_point RateLimiter::Reserve(Clock::time_point now) {
  if (interval_.count() == 0) return now;
  std::lock_guard lock(mutex_);
  // next_ is when the bucket would be empty; up to `burst` calls may go before it.
  const auto base = std::max(next_, now - burst_span_);
  next_ = base + interval_;
  return std::max(now, base);
}

net::awaitable<bool> AsyncSemaphore::Acquire(Clock::time_point deadline) {
  {
    std::lock_guard lock(mutex_);
    if (available_ > 0 && queue_.empty()) {
      --available_;
      co_return true;
    }
  }
  auto waiter = std::make_shared<Waiter>();
  waiter->timer = std::make_unique<net::steady_timer>(co_await net::this_coro::executor, deadline);
  // Queueing and starting the wait happen under the lock Release() cancels under: the timer is
  // never used by two threads at once and a Release() in between cannot be lost.
  auto wait_token = net::as_tuple(net::use_awaitable);
  co_await net::async_initiate<decltype(wait_token),
                               void(boost::system::error_code)>(
      [this, waiter](auto handler) {
        std::lock_guard lock(mutex_);
        if (available_ > 0 && queue_.empty()) {
          --available_;
          waiter->granted = true;
          auto executor = net::get_associated_executor(handler, waiter->timer->get_executor());
          net::post(executor, [h = std::move(handler)]() mutable { h(boost::system::error_code{}); });
          return;
        }
        queue_.push_back(waiter);
        waiter->timer->async_wait(std::move(handler));
      },
      wait_token);
  std::lock_guard lock(mutex_);
  if (waiter->granted) co_return true;
  std::erase(queue_, waiter);
  co_return false;
}

void AsyncSemaphore::Release() {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) {
    ++available_;
    return;
  }
  auto next = std::move(queue_.front());
  queue_.pop_front();
  next->granted = true;
  next->timer->cancel();  // wakes the waiter, which sees `granted`
}

std::size_t AsyncSemaphore::Waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

GuardedModel::GuardedModel(std::shared_ptr<ModelClient> model, ModelPolicy policy,
                           std::shared_ptr<AsyncSemaphore> provider_slots)
    : model_(std::move(model)),
      policy_(policy),
      breaker_(policy.breaker),
      rate_(policy.rate_per_second, policy.rate_burst),
      provider_slots_(std::move(provider_slots)) {
  if (policy_.max_concurrency > 0)
    slots_ = std::make_unique<AsyncSemaphore>(policy_.max_concurrency);
}

ModelChain::ModelChain(std::vector<std::shared_ptr<GuardedModel>> chain,
                       std::shared_ptr<TimeSource> time, std::uint64_t jitter_seed)
    : chain_(std::move(chain)), time_(std::move(time)), jitter_state_(jitter_seed) {
  if (chain_.empty()) throw std::invalid_argument("a model chain needs at least one model");
}

double ModelChain::NextJitter() {
  // splitmix64: cheap, lock-free and reproducible from the seed.
  std::uint64_t z = jitter_state_.fetch_add(0x9e3779b97f4a7c15ULL) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

namespace {

// Whether the caller cancelled the coroutine this runs in (per-operation cancellation).
net::awaitable<bool> Cancelled() {
  const auto state = co_await net::this_coro::cancellation_state;
  co_return state.cancelled() != net::cancellation_type::none;
}

// A call's concurrency permits, handed back when it ends however it ends.
struct Permits {
  AsyncSemaphore* model = nullptr;
  AsyncSemaphore* provider = nullptr;
  void Release() {
    if (provider) provider->Release();
    if (model) model->Release();
    provider = model = nullptr;
  }
  ~Permits() { Release(); }
};

}  // namespace

net::awaitable<CallOutcome> ModelChain::Call(ModelRequest request, Deadline deadline) {
  // A cancelled call comes back as an outcome, not as the exception Asio would throw from the
  // first co_await after the cancellation: each wait below checks for it instead.
  const bool throws = co_await net::this_coro::throw_if_cancelled();
  co_await net::this_coro::throw_if_cancelled(false);
  auto out = co_await Attempts(std::move(request), deadline);
  co_await net::this_coro::throw_if_cancelled(throws);
  co_return out;
}

net::awaitable<CallOutcome> ModelChain::Attempts(ModelRequest request, Deadline deadline) {
  CallOutcome out;
  const int first_attempt = request.attempt;
  int calls = 0;
  auto fail = [&](GuardedModel& g, ErrorKind kind, std::string message, int retry, bool fallback,
                  milliseconds latency) {
    AttemptOutcome a;
    a.model = g.Model().Name();
    a.provider = g.Model().Provider();
    a.error = message;
    a.error_kind = kind;
    a.latency = latency;
    a.retry = retry;
    a.fallback = fallback;
    out.attempts.push_back(std::move(a));
  };
  // The caller gave up: what this model was doing is abandoned, not judged. A call cut off
  // (`error`: what it threw) is an attempt; a wait for a slot or a retry is one only when no
  // call was made before it (every outcome has an attempt).
  auto cancelled = [&](GuardedModel& g, const std::optional<ModelError>& error, int retry,
                       bool fallback, milliseconds latency) {
    g.Breaker().Abandon();
    const auto e =
        error && error->Kind() == ErrorKind::kCancelled
            ? *error
            : ModelError::Cancelled(
                  g.Model().Name() + ": cancelled" +
                  (error ? " mid-call (" + std::string(error->what()) + ")" : " before the call"));
    out.error = e;
    if (!error && !out.attempts.empty()) return;
    fail(g, ErrorKind::kCancelled, e.what(), retry, fallback, latency);
    auto& a = out.attempts.back();
    a.partial_usage = e.PartialUsage();
    if (a.partial_usage) a.cost_micros = CostOf(*a.partial_usage, g.Model().Prices());
  };
  for (std::size_t index = 0; index < chain_.size(); ++index) {
    auto& g = *chain_[index];
    const bool fallback = index > 0;
    out.model = g.Model().Name();
    for (int retry = 0; retry < std::max(1, g.Policy().retry.max_attempts); ++retry) {
      if (co_await Cancelled()) {
        cancelled(g, std::nullopt, retry, fallback, milliseconds(0));
        co_return out;
      }
      if (time_->Now() >= deadline) {
        const std::string message = g.Model().Name() + ": deadline exceeded";
        if (out.attempts.empty())
          fail(g, ErrorKind::kTimeout, message, retry, fallback, milliseconds(0));
        if (!out.error || out.error->Kind() != ErrorKind::kTimeout)
          out.error = ModelError(message, true, ErrorKind::kTimeout);
        co_return out;
      }
      if (!g.Breaker().Allow(time_->Now())) {
        const std::string message = g.Model().Name() + ": circuit open (recent calls failed)";
        fail(g, ErrorKind::kCircuitOpen, message, retry, fallback, milliseconds(0));
        out.error = ModelError(message, true, ErrorKind::kCircuitOpen);
        break;  // next model
      }
      const auto waited_from = time_->Now();
      const auto go_at = g.Rate().Reserve(waited_from);
      if (go_at >= deadline) {
        g.Breaker().Abandon();
        const std::string message =
            g.Model().Name() + ": rate limit leaves no time before the deadline";
        fail(g, ErrorKind::kTimeout, message, retry, fallback, milliseconds(0));
        out.error = ModelError(message, true, ErrorKind::kTimeout);
        co_return out;
      }
      if (go_at > time_->Now()) co_await time_->SleepUntil(go_at);
      // Each wait below may end by cancellation: checked before the next starts, since an
      // operation started after the cancel would not see it.
      Permits permits;
      bool slot = !co_await Cancelled();
      if (slot && g.Slots()) {
        slot = co_await g.Slots()->Acquire(deadline);
        if (slot) permits.model = g.Slots();
      }
      if (slot && g.ProviderSlots() && !co_await Cancelled()) {
        slot = co_await g.ProviderSlots()->Acquire(deadline);
        if (slot) permits.provider = g.ProviderSlots();
      }
      if (co_await Cancelled()) {
        cancelled(g, std::nullopt, retry, fallback, Since(waited_from, time_->Now()));
        co_return out;
      }
      if (!slot) {
        g.Breaker().Abandon();
        const std::string message = g.Model().Name() + ": deadline passed waiting for a free slot";
        fail(g, ErrorKind::kTimeout, message, retry, fallback, Since(waited_from, time_->Now()));
        out.error = ModelError(message, true, ErrorKind::kTimeout);
        co_return out;
      }
      const auto started = time_->Now();
      const auto call_deadline = std::min(deadline, started + g.Policy().timeout);
      request.attempt = first_attempt + calls++;
      std::optional<ModelError> error;
      try {
        auto response = co_await g.Model().Complete(request, call_deadline);
        permits.Release();
        const auto cost = CostOf(response.usage, g.Model().Prices());
        if (auto unkept = UnkeepableText(response.text)) {
          // Billed but refused; the same request would likely bring it back: a fallback may do.
          g.Breaker().Record(false, time_->Now());
          const std::string message = g.Model().Name() + ": " + *unkept;
          fail(g, ErrorKind::kMalformed, message, retry, fallback, response.latency);
          out.attempts.back().cost_micros = cost;
          out.error = ModelError(message, false, ErrorKind::kMalformed);
          break;
        }
        g.Breaker().Record(true, time_->Now());
        AttemptOutcome a;
        a.model = g.Model().Name();
        a.provider = g.Model().Provider();
        a.cost_micros = cost;
        a.latency = response.latency;
        a.retry = retry;
        a.fallback = fallback;
        a.response = response;
        out.attempts.push_back(std::move(a));
        out.response = std::move(response);
        out.error.reset();
        co_return out;
      } catch (const ModelError& e) {
        error = e;
      } catch (const std::exception& e) {
        error = ModelError(g.Model().Name() + ": " + e.what(), false, ErrorKind::kOther);
      }
      permits.Release();
      // Whatever a cut-off call threw (an aborted read, an aborted wait), it was cancelled.
      if (error->Kind() == ErrorKind::kCancelled || co_await Cancelled()) {
        cancelled(g, error, retry, fallback, Since(started, time_->Now()));
        co_return out;
      }
      // Our own bad requests say nothing about the model's health.
      const bool model_fault =
          error->Kind() != ErrorKind::kRequest && error->Kind() != ErrorKind::kAuth;
      g.Breaker().Record(!model_fault, time_->Now());
      fail(g, error->Kind(), error->what(), retry, fallback, Since(started, time_->Now()));
      out.error = *error;
      if (!error->Retryable()) break;  // a fallback may still take it
      if (retry + 1 >= g.Policy().retry.max_attempts) break;
      const auto delay =
          BackoffDelay(g.Policy().retry, retry + 1, NextJitter(), error->RetryAfter());
      const auto wake = time_->Now() + delay;
      if (wake >= deadline) break;  // no time for this model: a fallback may be quicker
      co_await time_->SleepUntil(wake);
    }
  }
  co_return out;
}

}  // namespace triage::providers
