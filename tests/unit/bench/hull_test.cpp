#include "bench/hull.hpp"

#include <gtest/gtest.h>

namespace triage::bench {
namespace {

TEST(Hull, KeepsTheUpperConvexChainFromTheOrigin) {
  // (2, 0.5) lies under the segment from (1, 0.6) to (4, 0.9); (5, 0.9) is no more accurate
  // than a cheaper point.
  const auto hull = UpperHull({{4, 0.9}, {2, 0.5}, {1, 0.6}, {5, 0.9}});
  EXPECT_EQ(hull, (std::vector<Point>{{0, 0}, {1, 0.6}, {4, 0.9}}));
}

TEST(Hull, AccuracyBetweenVerticesIsTheMixAndFlatPastTheLast) {
  const std::vector<Point> hull = {{0, 0}, {1, 0.6}, {4, 0.9}};
  EXPECT_DOUBLE_EQ(HullAccuracyAt(hull, 0.5), 0.3);
  EXPECT_DOUBLE_EQ(HullAccuracyAt(hull, 2.5), 0.75);
  EXPECT_DOUBLE_EQ(HullAccuracyAt(hull, 10), 0.9);
  EXPECT_TRUE(AboveHull(hull, {2.5, 0.76}));
  EXPECT_FALSE(AboveHull(hull, {2.5, 0.75}));  // on it is not above it
  EXPECT_FALSE(AboveHull(hull, {1, 0.6}));
}

}  // namespace
}  // namespace triage::bench
