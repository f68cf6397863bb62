#include "route/measured.hpp"

#include <gtest/gtest.h>

namespace triage::route {
namespace {

using std::chrono::milliseconds;

Ladder Configured() {
  return {{{"standard", "m-standard", false, 1'000, milliseconds(2'000)},
           {"reasoning", "m-reasoning", true, 50'000, milliseconds(60'000)}}};
}

TEST(MeasuredLadder, KeepsTheConfiguredExpectationsUntilAModelIsMeasured) {
  MeasuredLadder ladder(Configured());
  EXPECT_EQ(ladder.Current().Find("standard")->expected_latency, milliseconds(2'000));
  ladder.Record("m-standard", 1'500, milliseconds(800));
  const auto now = ladder.Current();
  EXPECT_EQ(now.Find("standard")->expected_latency, milliseconds(800));  // the first call
  EXPECT_EQ(now.Find("standard")->expected_cost, 1'500);
  EXPECT_EQ(now.Find("reasoning")->expected_latency, milliseconds(60'000));  // not measured
}

TEST(MeasuredLadder, FollowsTheCallsWithAWeightedMean) {
  MeasuredLadder ladder(Configured(), 0.5);
  ladder.Record("m-reasoning", 40'000, milliseconds(30'000));
  ladder.Record("m-reasoning", 60'000, milliseconds(90'000));  // 30 + 0.5 * (90 - 30)
  ladder.Record("m-reasoning", 20'000, milliseconds(20'000));  // 60 + 0.5 * (20 - 60)
  const auto current = ladder.Current();  // kept: a pointer into the temporary dangled (ASan)
  const auto* rung = current.Find("reasoning");
  EXPECT_EQ(rung->expected_latency, milliseconds(40'000));
  EXPECT_EQ(rung->expected_cost, 35'000);  // 40 -> 50 -> 35 thousand
}

}  // namespace
}  // namespace triage::route
