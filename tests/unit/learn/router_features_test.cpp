// The router's features: the layout matches its names, and each answer signal shows up.
#include "route/router_features.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace triage::route {
namespace {

RouterFeatureConfig After() {
  RouterFeatureConfig c;
  c.kind = RouterKind::kAfter;
  c.text.hash_bits = 10;
  c.vocabulary = {"difficulty=hard"};
  return c;
}

float Feature(const RouterFeatureConfig& c, const RouterRow& row, std::string_view name) {
  const auto names = DenseNames(c);
  const auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return it == names.end() ? -1 : row.dense[it - names.begin()];
}

RouterRow Row(std::string_view response, std::vector<std::string> samples = {}) {
  const RouterAnswer a{response, std::move(samples)};
  return BuildRouterRow(After(), {"How many eggs are left?", std::nullopt, {}}, &a);
}

TEST(RouterFeatures, LayoutMatchesTheNames) {
  for (auto kind : {RouterKind::kBefore, RouterKind::kAfter}) {
    auto c = After();
    c.kind = kind;
    const auto row = BuildRouterRow(c, {"Task", std::nullopt, {{"difficulty", "hard"}}}, nullptr);
    EXPECT_EQ(row.dense.size(), DenseNames(c).size());
    EXPECT_EQ(static_cast<int>(row.dense.size()), DenseCount(c));
    EXPECT_EQ(row.dense.back(), 1.0f);  // the label indicator
  }
}

TEST(RouterFeatures, TierProbabilitiesAndTextPresence) {
  auto c = After();
  c.kind = RouterKind::kBefore;
  const auto none = BuildRouterRow(c, {"", std::nullopt, {}}, nullptr);
  EXPECT_EQ(Feature(c, none, "has_text"), 0.0f);
  EXPECT_TRUE(none.hashed.empty());
  const auto with = BuildRouterRow(
      c, {"Find x.", std::array<double, core::kTierCount>{0, 0, 0.25, 0.75, 0}, {}}, nullptr);
  EXPECT_EQ(Feature(c, with, "p_hard"), 0.75f);
  EXPECT_EQ(Feature(c, with, "has_tier_probabilities"), 1.0f);
  EXPECT_FALSE(with.hashed.empty());
}

TEST(RouterFeatures, StepCheckAndExtraction) {
  const auto c = After();
  const auto wrong = Row("16 - 3 = 12 eggs.\n#### 12");
  EXPECT_EQ(Feature(c, wrong, "answer:steps_failed"), 1.0f);
  EXPECT_EQ(Feature(c, wrong, "answer:method_hashes"), 1.0f);
  EXPECT_EQ(Feature(c, wrong, "answer:answer_integer"), 1.0f);
  EXPECT_EQ(Feature(c, wrong, "answer:ends_cleanly"), 1.0f);
  const auto right = Row("16 - 3 = 13 eggs, so the answer is 6.5");
  EXPECT_EQ(Feature(c, right, "answer:steps_passed"), 1.0f);
  EXPECT_EQ(Feature(c, right, "answer:method_answer_is"), 1.0f);
  EXPECT_EQ(Feature(c, right, "answer:answer_decimal"), 1.0f);
  EXPECT_EQ(Feature(c, right, "answer:ends_cleanly"), 0.0f);
}

TEST(RouterFeatures, HedgesAndSelfReportedConfidence) {
  const auto c = After();
  const auto row = Row("I think it is maybe 5, however unclear.\nCONFIDENCE: 40");
  EXPECT_NEAR(Feature(c, row, "answer:log_hedges"), std::log1p(4.0f), 1e-6);
  EXPECT_EQ(Feature(c, row, "answer:self_report_given"), 1.0f);
  EXPECT_NEAR(Feature(c, row, "answer:self_confidence"), 0.4f, 1e-6);
  EXPECT_EQ(Feature(c, Row("The answer is 5."), "answer:has_hedge"), 0.0f);
}

TEST(RouterFeatures, AgreementBetweenSamples) {
  const auto c = After();
  const auto row =
      Row("The answer is 5.", {"So the answer is 5.", "The answer is 6.", "The answer is 10/2."});
  EXPECT_NEAR(Feature(c, row, "answer:sample_agreement"), 2.0f / 3, 1e-6);
  EXPECT_EQ(Feature(c, row, "answer:has_samples"), 1.0f);
  EXPECT_EQ(Feature(c, Row("The answer is 5."), "answer:sample_agreement"), 0.0f);
}

TEST(RouterFeatures, AnswerWordsOnlyWhenAsked) {
  auto c = After();
  const RouterAnswer a{"some words here", {}};
  const RouterTask t{"Task", std::nullopt, {}};
  const auto plain = BuildRouterRow(c, t, &a);
  c.answer_text = true;
  EXPECT_GT(BuildRouterRow(c, t, &a).hashed.size(), plain.hashed.size());
}

}  // namespace
}  // namespace triage::route
