// Resilience around ModelClients: per-call deadline, retries with exponential backoff and jitter
// (honouring Retry-After), a circuit breaker per model, a concurrency limit that queues (until
// the deadline) instead of failing, a rate limit, and a fallback chain. Every call made — each
// retry, each fallback — comes back as an AttemptOutcome so the caller records all of them.
// The pure parts (BackoffDelay, CircuitBreaker, RateLimiter) take time as an argument; the
// chain takes a Clock so tests drive backoff without sleeping. All classes are thread-safe.
#pragma once
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "providers/model_client.hpp"

namespace triage::providers {

using Clock = std::chrono::steady_clock;

// Time for the chain: Now() and an awaitable sleep. The real one waits on an asio timer.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual Clock::time_point Now() const = 0;
  virtual boost::asio::awaitable<void> SleepUntil(Clock::time_point when) = 0;
};
std::shared_ptr<TimeSource> RealTime();

struct RetryPolicy {
  int max_attempts = 3;  // calls to one model, the first included
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30000};
  double jitter = 0.5;  // the delay is scaled by a factor drawn from [1 - jitter, 1]
};
// The wait before retry `retry` (1 = the first retry): base × 2^(retry-1), capped at max_delay,
// scaled by (1 - jitter × u) for u in [0, 1); a longer Retry-After wins. Pure.
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry, double u,
                                       std::optional<std::chrono::milliseconds> retry_after);

struct BreakerOptions {
  int window = 20;            // the last N calls judged
  int min_calls = 5;          // fewer calls than this never open the breaker
  double failure_rate = 0.5;  // opens when failures / calls in the window reach this
  std::chrono::milliseconds cooldown{30000};  // open this long, then one probe (half-open)
};

// closed -> open on the failure rate; open -> half-open after the cooldown, letting one probe
// through; the probe's success closes it, its failure opens it again.
class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };
  explicit CircuitBreaker(BreakerOptions options) : options_(options) {}
  bool Allow(Clock::time_point now);
  void Record(bool success, Clock::time_point now);
  // A call Allow() let through was never made (no slot before the deadline): a half-open
  // probe is handed back without judging the model.
  void Abandon();
  State Current() const;

 private:
  BreakerOptions options_;
  mutable std::mutex mutex_;
  State state_ = State::kClosed;
  std::deque<bool> window_;  // true = failure
  int failures_ = 0;
  Clock::time_point opened_at_{};
  bool probe_in_flight_ = false;
};

// A token bucket as a schedule: Reserve() says when the caller may go. rate <= 0: unlimited.
class RateLimiter {
 public:
  RateLimiter(double per_second, int burst);
  Clock::time_point Reserve(Clock::time_point now);

 private:
  std::mutex mutex_;
  std::chrono::nanoseconds interval_{0};
  std::chrono::nanoseconds burst_span_{0};
  Clock::time_point next_{};
};

// Permits for concurrent calls; waiters queue in order. Acquire resumes true with a permit (the
// caller must Release it), or false at the deadline.
class AsyncSemaphore {
 public:
  explicit AsyncSemaphore(std::size_t permits) : available_(permits) {}
  boost::asio::awaitable<bool> Acquire(Clock::time_point deadline);
  void Release();
  std::size_t Waiting() const;

 private:
  struct Waiter {
    std::unique_ptr<boost::asio::steady_timer> timer;
    bool granted = false;
  };
  mutable std::mutex mutex_;
  std::size_t available_;
  std::deque<std::shared_ptr<Waiter>> queue_;
};

struct ModelPolicy {
  RetryPolicy retry;
  BreakerOptions breaker;
  std::chrono::milliseconds timeout{60000};  // each call's own deadline (the call's wins if sooner)
  std::size_t max_concurrency = 0;           // 0: unlimited
  double rate_per_second = 0;                // 0: unlimited
  int rate_burst = 1;
};

// One model with its policy and guards. `provider_slots`, shared by every model of one
// provider (an account's concurrency limit), is taken after the model's own slot.
class GuardedModel {
 public:
  GuardedModel(std::shared_ptr<ModelClient> model, ModelPolicy policy,
               std::shared_ptr<AsyncSemaphore> provider_slots = nullptr);
  ModelClient& Model() const { return *model_; }
  const ModelPolicy& Policy() const { return policy_; }
  CircuitBreaker& Breaker() { return breaker_; }
  RateLimiter& Rate() { return rate_; }
  AsyncSemaphore* Slots() { return slots_.get(); }
  AsyncSemaphore* ProviderSlots() { return provider_slots_.get(); }

 private:
  std::shared_ptr<ModelClient> model_;
  ModelPolicy policy_;
  CircuitBreaker breaker_;
  RateLimiter rate_;
  std::unique_ptr<AsyncSemaphore> slots_;
  std::shared_ptr<AsyncSemaphore> provider_slots_;
};

// One call to one model (or a cache hit), as the attempts table records it.
struct AttemptOutcome {
  std::string model;
  std::string provider;
  std::optional<ModelResponse> response;  // set when the call succeeded
  std::string error;                      // set when it failed
  ErrorKind error_kind = ErrorKind::kOther;
  // A cancelled call's usage, when its provider knows it (the sim); cost_micros prices it.
  std::optional<core::Usage> partial_usage;
  core::Micros cost_micros = 0;
  std::chrono::milliseconds latency{0};
  bool cache_hit = false;
  bool fallback = false;  // made on a model after the first of the chain
  int retry = 0;          // 0 for the first call to this model
};

struct CallOutcome {
  std::optional<ModelResponse> response;  // the answer, when some attempt succeeded
  std::string model;                      // the model that answered (or the last tried)
  std::vector<AttemptOutcome> attempts;   // in order; never empty after Call()
  std::optional<ModelError> error;        // the last error, when no attempt succeeded
};

// Tries each model in order, each with its retries; stops at the first success, at the call's
// deadline, or when the chain is exhausted. Asio cancellation (terminal) of the awaiting
// coroutine stops it at once: the call in progress is cut off and recorded as a kCancelled
// attempt (priced from its partial usage when known), with no retry, no fallback, and nothing
// held against the model's breaker.
class ModelChain {
 public:
  ModelChain(std::vector<std::shared_ptr<GuardedModel>> chain,
             std::shared_ptr<TimeSource> time = RealTime(), std::uint64_t jitter_seed = 0);
  // Never throws ModelError: failures are in the outcome.
  boost::asio::awaitable<CallOutcome> Call(ModelRequest request, Deadline deadline);
  const ModelClient& Primary() const { return chain_.front()->Model(); }
  const std::vector<std::shared_ptr<GuardedModel>>& Models() const { return chain_; }

 private:
  boost::asio::awaitable<CallOutcome> Attempts(ModelRequest request, Deadline deadline);
  double NextJitter();
  std::vector<std::shared_ptr<GuardedModel>> chain_;
  std::shared_ptr<TimeSource> time_;
  std::atomic<std::uint64_t> jitter_state_;
};

}  // namespace triage::providers
