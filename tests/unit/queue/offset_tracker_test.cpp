#include "queue/offset_tracker.hpp"

#include <gtest/gtest.h>

namespace triage::queue {

const OffsetTracker::Partition kP{"jobs", 0};

TEST(OffsetTracker, CommitsOnlyBelowTheOldestUnfinishedMessage) {
  OffsetTracker t;
  for (int o = 10; o < 14; ++o) t.Started(kP, o);
  EXPECT_EQ(t.Finished(kP, 12), std::nullopt);  // 10 and 11 still running
  EXPECT_EQ(t.Finished(kP, 11), std::nullopt);
  EXPECT_EQ(t.Finished(kP, 10), 13);            // 10..12 done: resume at 13
  EXPECT_EQ(t.Finished(kP, 13), 14);
  EXPECT_EQ(t.InFlight(), 0u);
}

TEST(OffsetTracker, PartitionsAreIndependent) {
  OffsetTracker t;
  const OffsetTracker::Partition other{"jobs", 1};
  t.Started(kP, 0);
  t.Started(other, 5);
  EXPECT_EQ(t.Finished(other, 5), 6);
  EXPECT_EQ(t.InFlight(), 1u);
  EXPECT_EQ(t.Finished(kP, 0), 1);
}

TEST(OffsetTracker, ForgetsRevokedPartitionsAndIgnoresTheirLateCompletions) {
  OffsetTracker t;
  t.Started(kP, 0);
  t.Started(kP, 1);
  t.Forget(kP);
  EXPECT_EQ(t.InFlight(), 0u);
  EXPECT_EQ(t.Finished(kP, 0), std::nullopt);
}

TEST(OffsetTracker, IgnoresUnknownAndRepeatedCompletions) {
  OffsetTracker t;
  t.Started(kP, 3);
  EXPECT_EQ(t.Finished(kP, 7), std::nullopt);
  EXPECT_EQ(t.Finished(kP, 3), 4);
  EXPECT_EQ(t.Finished(kP, 3), std::nullopt);
}

TEST(OffsetTracker, NeverMovesBackwards) {
  OffsetTracker t;
  t.Started(kP, 5);
  EXPECT_EQ(t.Finished(kP, 5), 6);
  t.Started(kP, 2);  // a redelivery after a rebalance
  EXPECT_EQ(t.Finished(kP, 2), std::nullopt);
}

}  // namespace triage::queue
