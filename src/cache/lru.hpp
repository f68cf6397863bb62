// An in-process LRU of completions bounded by bytes (keys + values + a fixed per-entry
// overhead). Entries carry an expiry (none = forever); an expired entry is a miss and is
// dropped. Time is passed in, so tests need no sleeping. Thread-safe.
#pragma once
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace triage::cache {

class ByteLru {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  static constexpr std::size_t kEntryOverhead = 96;
  explicit ByteLru(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  std::optional<std::string> Get(const std::string& key, TimePoint now);
  // Values larger than the whole budget are not kept.
  void Put(const std::string& key, std::string value, std::optional<TimePoint> expires);
  std::size_t Bytes() const;
  std::size_t Size() const;

 private:
  struct Entry {
    std::string key;
    std::string value;
    std::optional<TimePoint> expires;
  };
  void EraseLocked(std::list<Entry>::iterator it);
  static std::size_t Cost(const Entry& e) { return e.key.size() + e.value.size() + kEntryOverhead; }
  mutable std::mutex mutex_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::list<Entry> order_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace triage::cache
