#include "queue/lag.hpp"

#include <gtest/gtest.h>

namespace triage::queue {
namespace {

TEST(BacklogByTopic, SumsHighWatermarkMinusCommittedOverTheAssignedPartitions) {
  const auto b = BacklogByTopic(
      {"jobs"},
      {{"jobs", 0, 0, 100, 90, false}, {"jobs", 1, 0, 50, 50, false}, {"jobs", 2, 0, 7, 3, false}});
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].messages, 10 + 0 + 4);
  EXPECT_EQ(b[0].paused_partitions, 0);
}

TEST(BacklogByTopic, NothingCommittedCountsFromTheLowWatermark) {
  const auto b = BacklogByTopic({"jobs"}, {{"jobs", 0, 20, 30, -1001, false}});
  EXPECT_EQ(b[0].messages, 10);
}

TEST(BacklogByTopic, ACommittedOffsetPastTheEndIsNothingBehind) {
  const auto b = BacklogByTopic({"jobs"}, {{"jobs", 0, 0, 5, 9, false}});
  EXPECT_EQ(b[0].messages, 0);
}

TEST(BacklogByTopic, EverySubscribedTopicHasARowAndPausedPartitionsAreCounted) {
  const auto b = BacklogByTopic(
      {"jobs", "reasoning"},
      {{"jobs", 0, 0, 4, 1, true}, {"jobs", 1, 0, 4, 4, true}, {"other", 0, 0, 99, 0, true}});
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].topic, "jobs");
  EXPECT_EQ(b[0].messages, 3);
  EXPECT_EQ(b[0].paused_partitions, 2);
  EXPECT_EQ(b[1].topic, "reasoning");  // none of its partitions here
  EXPECT_EQ(b[1].messages, 0);
  EXPECT_EQ(b[1].paused_partitions, 0);
}

}  // namespace
}  // namespace triage::queue
