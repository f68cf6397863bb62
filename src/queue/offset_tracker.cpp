#include "queue/offset_tracker.hpp"

#include <algorithm>

namespace triage::queue {

void OffsetTracker::Started(const Partition& p, std::int64_t offset) {
  auto [it, fresh] = partitions_.try_emplace(p);
  auto& s = it->second;
  if (fresh) s.committed = offset;  // where consumption resumed: nothing new to commit yet
  if (s.in_flight.insert(offset).second) ++in_flight_total_;
  s.next = std::max(s.next, offset + 1);
}

std::optional<std::int64_t> OffsetTracker::Finished(const Partition& p, std::int64_t offset) {
  auto it = partitions_.find(p);
  if (it == partitions_.end()) return std::nullopt;
  auto& s = it->second;
  if (s.in_flight.erase(offset) == 0) return std::nullopt;
  --in_flight_total_;
  const std::int64_t committable = s.in_flight.empty() ? s.next : *s.in_flight.begin();
  if (committable <= s.committed) return std::nullopt;
  s.committed = committable;
  return committable;
}

void OffsetTracker::Forget(const Partition& p) {
  auto it = partitions_.find(p);
  if (it == partitions_.end()) return;
  in_flight_total_ -= it->second.in_flight.size();
  partitions_.erase(it);
}

}  // namespace triage::queue
