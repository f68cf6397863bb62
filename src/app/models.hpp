// The models a running triage calls: every [models.*] entry built as its provider (sim, replay,
// openai, anthropic, openai-compatible) over one shared keep-alive HTTP pool, each behind its
// guards (retries, circuit breaker, concurrency and rate limit), chained to its fallbacks, and
// all behind the completion cache (memory + Postgres when a Db is given). Thread-safe after
// construction; the constructor throws ConfigError (a missing API key, an unreadable replay
// folder) naming the key.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "app/config.hpp"
#include "cache/completion_cache.hpp"
#include "metrics/metrics.hpp"
#include "providers/resilient.hpp"

namespace triage::app {

// One model's client from its config (no guards). Throws ConfigError.
std::unique_ptr<providers::ModelClient> BuildClient(const ModelConfig& model, const Config& config,
                                                    std::shared_ptr<http::ClientPool> pool);
cache::CacheOptions CacheOptionsFrom(const CacheConfig& config);
// A breaker's state as the metrics' gauge reports it.
metrics::Breaker BreakerOf(providers::CircuitBreaker::State state);

class Models {
 public:
  // Every call's attempts are recorded in `metrics` (when given).
  Models(const Config& config, store::Db* db, std::shared_ptr<metrics::Metrics> metrics = nullptr);
  // `name`'s chain through the cache; the model's configured parameters (max tokens,
  // temperature, reasoning effort, thinking budget, log-probabilities) fill the request;
  // `sampling_temperature`, when given, replaces the model's temperature (best-of-N and
  // self-consistency samples must differ). Never throws ModelError. Cancellation (terminal) of
  // the awaiting coroutine cuts the call off: it returns with a cancelled attempt.
  boost::asio::awaitable<providers::CallOutcome> Call(
      std::string name, providers::ModelRequest request, providers::Deadline deadline,
      std::string domain, std::optional<double> sampling_temperature = std::nullopt);
  providers::ModelChain& Chain(const std::string& name) { return *chains_.at(name); }
  cache::CompletionCache& Cache() { return *cache_; }

 private:
  const Config& config_;
  std::shared_ptr<metrics::Metrics> metrics_;
  std::shared_ptr<http::ClientPool> pool_;
  std::map<std::string, std::shared_ptr<providers::GuardedModel>> guarded_;
  std::map<std::string, std::unique_ptr<providers::ModelChain>> chains_;
  std::unique_ptr<cache::CompletionCache> cache_;
};

}  // namespace triage::app
