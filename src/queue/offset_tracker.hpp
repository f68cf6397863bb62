// Which offset of a partition may be committed when messages finish out of order: everything
// below the oldest message still in flight. Pure; not thread-safe (the consumer thread owns it).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace triage::queue {

class OffsetTracker {
 public:
  using Partition = std::pair<std::string, std::int32_t>;  // topic, partition

  void Started(const Partition& p, std::int64_t offset);
  // Returns the new committable offset (the next offset to consume) when it advanced.
  std::optional<std::int64_t> Finished(const Partition& p, std::int64_t offset);
  // Partitions revoked in a rebalance: their in-flight messages no longer count.
  void Forget(const Partition& p);
  std::size_t InFlight() const { return in_flight_total_; }

 private:
  struct State {
    std::set<std::int64_t> in_flight;
    std::int64_t next = -1;       // one past the highest offset started
    std::int64_t committed = -1;  // last value returned
  };
  std::map<Partition, State> partitions_;
  std::size_t in_flight_total_ = 0;
};

}  // namespace triage::queue
