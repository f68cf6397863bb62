// AUC, Brier, log loss and the reliability table on hand-computed cases.
#include "learn/binary_metrics.hpp"

#include <gtest/gtest.h>

namespace triage::learn {
namespace {

TEST(BinaryMetrics, PerfectRankingHasAucOneAndReversedZero) {
  const std::vector<Scored> good = {{0.9, 1}, {0.8, 1}, {0.2, 0}, {0.1, 0}};
  EXPECT_DOUBLE_EQ(*EvaluateBinary(good).auc, 1.0);
  const std::vector<Scored> bad = {{0.1, 1}, {0.2, 1}, {0.8, 0}, {0.9, 0}};
  EXPECT_DOUBLE_EQ(*EvaluateBinary(bad).auc, 0.0);
}

TEST(BinaryMetrics, TiesCountHalf) {
  const std::vector<Scored> tied = {{0.5, 1}, {0.5, 0}, {0.5, 1}, {0.5, 0}};
  EXPECT_DOUBLE_EQ(*EvaluateBinary(tied).auc, 0.5);
  // Pairs (pos, neg): (0.7,0.3) win, (0.7,0.7) tie, (0.4,0.3) win, (0.4,0.7) loss -> 2.5 / 4.
  const std::vector<Scored> mixed = {{0.7, 1}, {0.4, 1}, {0.3, 0}, {0.7, 0}};
  EXPECT_DOUBLE_EQ(*EvaluateBinary(mixed).auc, 0.625);
}

TEST(BinaryMetrics, NoAucWithoutBothOutcomes) {
  EXPECT_FALSE(EvaluateBinary({{0.3, 1}, {0.6, 1}}).auc.has_value());
  EXPECT_FALSE(EvaluateBinary({}).auc.has_value());
  EXPECT_EQ(EvaluateBinary({}).count, 0u);
}

TEST(BinaryMetrics, BrierAgainstTheBaseRate) {
  const auto r = EvaluateBinary({{1.0, 1}, {0.5, 0}, {0.0, 0}, {0.5, 1}});
  EXPECT_DOUBLE_EQ(r.base_rate, 0.5);
  EXPECT_DOUBLE_EQ(r.brier, (0 + 0.25 + 0 + 0.25) / 4);
  EXPECT_DOUBLE_EQ(r.brier_base, 0.25);
}

// A pass rate t counts as the expectation over draws: E[(p - y)^2] = (p - t)^2 + t (1 - t).
TEST(BinaryMetrics, SoftTargetsAreExpectations) {
  const auto r = EvaluateBinary({{0.5, 0.5}});
  EXPECT_DOUBLE_EQ(r.brier, 0.25);
  EXPECT_DOUBLE_EQ(r.positives, 0.5);
  // Item A (p=0.8, 60% pass) above item B (p=0.2, 10% pass): success-over-failure pairs win.
  const auto two = EvaluateBinary({{0.8, 0.6}, {0.2, 0.1}});
  // wins = pos_A * neg_B + pos_A * neg_A / 2 + pos_B * neg_B / 2
  const double wins = 0.6 * 0.9 + 0.5 * 0.6 * 0.4 + 0.5 * 0.1 * 0.9;
  EXPECT_NEAR(*two.auc, wins / (0.7 * 1.3), 1e-12);
}

TEST(BinaryMetrics, ReliabilityBinsCountMeanAndObserved) {
  const auto r = EvaluateBinary({{0.05, 0}, {0.15, 1}, {0.12, 0}, {0.95, 1}, {1.0, 1}}, 10);
  ASSERT_EQ(r.bins.size(), 10u);
  EXPECT_EQ(r.bins[0].count, 1u);
  EXPECT_EQ(r.bins[1].count, 2u);
  EXPECT_DOUBLE_EQ(r.bins[1].mean_predicted, (0.15 + 0.12) / 2);
  EXPECT_DOUBLE_EQ(r.bins[1].observed, 0.5);
  EXPECT_EQ(r.bins[9].count, 2u);  // 1.0 falls in the last bin
  EXPECT_DOUBLE_EQ(r.bins[9].observed, 1.0);
  EXPECT_EQ(r.bins[5].count, 0u);
}

}  // namespace
}  // namespace triage::learn
