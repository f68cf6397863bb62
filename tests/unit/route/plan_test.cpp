#include "route/plan.hpp"

#include <gtest/gtest.h>

namespace triage::route {
namespace {

Plan Parsed(std::string_view spec) {
  auto r = ParsePlan(spec);
  EXPECT_TRUE(std::holds_alternative<Plan>(r)) << std::get<std::string>(r);
  return std::holds_alternative<Plan>(r) ? std::get<Plan>(r) : Plan{};
}

std::string ErrorOf(std::string_view spec) {
  auto r = ParsePlan(spec);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "parsed";
}

TEST(Plan, ReadsAChainOfStagesWithTheirOptions) {
  const auto plan = Parsed(
      " cascade(standard, confidence=0.8) -> self_consistency(standard, n=5, share=0.6)"
      " -> best_of_n(frontier, n=3, parallel=false) -> direct(small) -> escalate(reasoning)");
  ASSERT_EQ(plan.stages.size(), 5u);
  EXPECT_EQ(plan.stages[0], (Stage{StageKind::kCascade, "standard", 1, true, 0.8, std::nullopt}));
  EXPECT_EQ(plan.stages[1],
            (Stage{StageKind::kSelfConsistency, "standard", 5, true, std::nullopt, 0.6}));
  EXPECT_EQ(plan.stages[2], (Stage{StageKind::kBestOfN, "frontier", 3, false}));
  EXPECT_EQ(plan.stages[3], (Stage{StageKind::kDirect, "small"}));
  EXPECT_EQ(plan.stages[4], (Stage{StageKind::kEscalate, "reasoning"}));
}

TEST(Plan, SampledStagesHaveDefaultCounts) {
  const auto plan = Parsed("best_of_n(s) -> self_consistency(s)");
  EXPECT_EQ(plan.stages[0].n, 4);
  EXPECT_EQ(plan.stages[1].n, 5);
}

TEST(Plan, WritesTheCanonicalSpellingBackToTheSamePlan) {
  const auto plan = Parsed(
      "cascade(a,confidence=0.75)->self_consistency(b,share=0.5,n=7,early_stop=false)"
      "->best_of_n(c,parallel=false)->self_consistency(d, early_stop=true)->escalate(r)");
  EXPECT_FALSE(plan.stages[1].early_stop);
  EXPECT_TRUE(plan.stages[3].early_stop);
  EXPECT_EQ(ToString(plan),
            "cascade(a, confidence=0.75) -> self_consistency(b, n=7, share=0.5, early_stop=false) "
            "-> best_of_n(c, n=4, parallel=false) -> self_consistency(d, n=5) -> escalate(r)");
  EXPECT_EQ(Parsed(ToString(plan)), plan);
}

TEST(Plan, NamesTheStageAndTheProblemOfABadSpec) {
  EXPECT_EQ(ErrorOf(""), "the plan has no stages");
  EXPECT_EQ(ErrorOf("cascade(standard) -> guess(reasoning)"),
            "stage 2 'guess(reasoning)': unknown stage 'guess' (direct, cascade, best_of_n, "
            "self_consistency, escalate)");
  EXPECT_EQ(ErrorOf("cascade(standard, confidence=1.5)"),
            "stage 1 'cascade(standard, confidence=1.5)': confidence must be a number from 0 to 1");
  EXPECT_EQ(ErrorOf("direct(standard, n=3)"),
            "stage 1 'direct(standard, n=3)': 'n' is not an option of direct");
  EXPECT_EQ(ErrorOf("best_of_n(x, n=0)"),
            "stage 1 'best_of_n(x, n=0)': n must be a whole number from 1 to 64");
  EXPECT_EQ(ErrorOf("direct()"), "stage 1 'direct()': the first argument must be a rung name");
  EXPECT_EQ(ErrorOf("direct standard"), "stage 1 'direct standard': expected kind(rung, ...)");
  EXPECT_EQ(ErrorOf("direct(a) ->"), "stage 2 '': expected kind(rung, ...)");
  EXPECT_EQ(ErrorOf("self_consistency(a, early_stop=1)"),
            "stage 1 'self_consistency(a, early_stop=1)': early_stop must be true or false");
  EXPECT_EQ(ErrorOf("best_of_n(a, early_stop=true)"),
            "stage 1 'best_of_n(a, early_stop=true)': 'early_stop' is not an option of best_of_n");
  EXPECT_EQ(ErrorOf("self_consistency(a, 5)"),
            "stage 1 'self_consistency(a, 5)': expected key=value, got '5'");
}

}  // namespace
}  // namespace triage::route
