// The completion cache in front of a ModelChain: an in-process LRU (bounded by bytes), then an
// optional persistent layer (Postgres: PgCompletionStore), with a TTL per domain ("forever"
// allowed). Concurrent identical requests are coalesced: one goes upstream, the others wait for
// its answer (if it fails, each then calls on its own). Only complete answers are stored: never
// errors, never a reply cut by max tokens (finish_reason "length"), never an empty one. A hit is
// one attempt with cost 0 and cache_hit = true. Thread-safe.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "cache/lru.hpp"
#include "providers/resilient.hpp"

namespace triage::store {
class Db;
}

namespace triage::cache {

using SystemTime = std::chrono::system_clock::time_point;

// The durable layer. Load returns the stored response JSON unless missing or expired at `now`.
class CompletionStore {
 public:
  virtual ~CompletionStore() = default;
  virtual boost::asio::awaitable<std::optional<std::string>> Load(std::string key,
                                                                  SystemTime now) = 0;
  virtual boost::asio::awaitable<void> Save(std::string key, std::string model,
                                            std::string response_json,
                                            std::optional<SystemTime> expires) = 0;
};

// Table completion_cache (migrations/0002_completion_cache.sql) through store::Db.
class PgCompletionStore final : public CompletionStore {
 public:
  explicit PgCompletionStore(store::Db& db) : db_(db) {}
  boost::asio::awaitable<std::optional<std::string>> Load(std::string key, SystemTime now) override;
  boost::asio::awaitable<void> Save(std::string key, std::string model, std::string response_json,
                                    std::optional<SystemTime> expires) override;

 private:
  store::Db& db_;
};

struct CacheOptions {
  bool enabled = true;                                                       // `cache.enabled`
  std::size_t memory_bytes = 64 << 20;                                       // `cache.memory_bytes`
  std::optional<std::chrono::seconds> default_ttl = std::chrono::hours(24);  // `cache.ttl_seconds`
  // `cache.domain_ttl.<domain>`: seconds, or nothing for "forever".
  std::map<std::string, std::optional<std::chrono::seconds>> domain_ttl;
};

std::string ResponseToJson(const providers::ModelResponse& response);
std::optional<providers::ModelResponse> ResponseFromJson(const std::string& json);
// Whether a response may be stored: complete, non-empty, not cut by the token limit.
bool Cacheable(const providers::ModelResponse& response);

class CompletionCache {
 public:
  using WallClock = std::function<SystemTime()>;
  // Told of every lookup's result with the call's domain (the metrics' hits and misses); a
  // coalesced call that got its leader's answer is a hit, one whose leader failed a miss.
  using LookupObserver = std::function<void(const std::string& domain, bool hit)>;
  CompletionCache(
      CacheOptions options, std::shared_ptr<CompletionStore> store = nullptr,
      WallClock now = [] { return std::chrono::system_clock::now(); },
      LookupObserver on_lookup = nullptr);
  // The chain's answer through the cache; `domain` picks the TTL. Never throws ModelError.
  boost::asio::awaitable<providers::CallOutcome> Call(providers::ModelChain& chain,
                                                      providers::ModelRequest request,
                                                      providers::Deadline deadline,
                                                      std::string domain);
  std::optional<std::chrono::seconds> TtlFor(const std::string& domain) const;
  std::size_t MemoryBytes() const { return lru_.Bytes(); }
  std::uint64_t Hits() const { return hits_; }
  std::uint64_t Misses() const { return misses_; }

 private:
  struct Flight;
  boost::asio::awaitable<std::optional<providers::ModelResponse>> Lookup(const std::string& key);
  void Count(const std::string& domain, bool hit);
  CacheOptions options_;
  std::shared_ptr<CompletionStore> store_;
  WallClock now_;
  LookupObserver on_lookup_;
  ByteLru lru_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;
  std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

}  // namespace triage::cache
