#include "queue/lag.hpp"

#include <algorithm>

namespace triage::queue {

std::vector<TopicBacklog> BacklogByTopic(const std::vector<std::string>& topics,
                                         const std::vector<PartitionOffsets>& partitions) {
  std::vector<TopicBacklog> out;
  for (const auto& topic : topics) {
    TopicBacklog b{topic, 0, 0};
    for (const auto& p : partitions) {
      if (p.topic != topic) continue;
      const auto from = p.committed >= 0 ? p.committed : p.low;
      b.messages += std::max<std::int64_t>(0, p.high - from);
      b.paused_partitions += p.paused ? 1 : 0;
    }
    out.push_back(b);
  }
  return out;
}

}  // namespace triage::queue
