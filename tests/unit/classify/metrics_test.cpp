#include "classify/metrics.hpp"

#include <gtest/gtest.h>

namespace triage::classify {
namespace {

using core::Tier;

TEST(Metrics, AccuracyAndF1OnAKnownMatrix) {
  ConfusionMatrix m;
  // gold easy: 3 right, 1 called hard; gold hard: 2 right, 2 called easy.
  for (int i = 0; i < 3; ++i) m.Add(Tier::kEasy, Tier::kEasy);
  m.Add(Tier::kEasy, Tier::kHard);
  for (int i = 0; i < 2; ++i) m.Add(Tier::kHard, Tier::kHard);
  for (int i = 0; i < 2; ++i) m.Add(Tier::kHard, Tier::kEasy);
  EXPECT_EQ(m.Total(), 8u);
  EXPECT_DOUBLE_EQ(m.Accuracy(), 5.0 / 8);
  EXPECT_DOUBLE_EQ(*m.F1(Tier::kEasy), 2.0 * 3 / (4 + 5));  // P=3/5, R=3/4
  EXPECT_DOUBLE_EQ(*m.F1(Tier::kHard), 2.0 * 2 / (4 + 3));  // P=2/3, R=2/4
  EXPECT_FALSE(m.F1(Tier::kMedium).has_value());
  EXPECT_DOUBLE_EQ(m.MacroF1(), (6.0 / 9 + 4.0 / 7) / 2);
  EXPECT_DOUBLE_EQ(m.MacroF1GoldTiers(), m.MacroF1());
}

TEST(Metrics, PredictingAnAbsentTierCountsAsZeroInMacroF1Only) {
  ConfusionMatrix m;
  m.Add(Tier::kEasy, Tier::kEasy);
  m.Add(Tier::kEasy, Tier::kTrivial);
  EXPECT_DOUBLE_EQ(*m.F1(Tier::kTrivial), 0.0);
  EXPECT_DOUBLE_EQ(m.MacroF1(), (2.0 / 3 + 0) / 2);  // scikit-learn's default average="macro"
  EXPECT_DOUBLE_EQ(m.MacroF1GoldTiers(), 2.0 / 3);
}

TEST(Metrics, EmptyMatrixIsZero) {
  ConfusionMatrix m;
  EXPECT_EQ(m.Accuracy(), 0.0);
  EXPECT_EQ(m.MacroF1(), 0.0);
}

}  // namespace
}  // namespace triage::classify
