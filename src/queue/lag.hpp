// A consumer's backlog: per topic, the messages of its assigned partitions that its group has
// not committed yet, and how many of those partitions it has paused. Pure.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace triage::queue {

struct PartitionOffsets {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t low = 0, high = 0;  // the broker's watermarks
  std::int64_t committed = -1;     // the group's committed offset; < 0 when it has none
  bool paused = false;
};

struct TopicBacklog {
  std::string topic;
  std::int64_t messages = 0;  // sum of high watermark minus committed offset
  int paused_partitions = 0;
};

// One entry per topic in `topics` (those subscribed: 0 where none of its partitions are
// assigned here), in that order. A partition whose group has committed nothing counts from
// its low watermark (the consumer starts at the earliest offset); a committed offset past the
// high watermark (a truncated topic) counts as nothing behind, never as negative.
std::vector<TopicBacklog> BacklogByTopic(const std::vector<std::string>& topics,
                                         const std::vector<PartitionOffsets>& partitions);

}  // namespace triage::queue
