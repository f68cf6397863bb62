#include "route/policy.hpp"

#include <gtest/gtest.h>

namespace triage::route {
using core::Tier;

TEST(Policy, DefaultsAnswerTrivialAndEasyInlineAndQueueTheRest) {
  PolicyOptions p;
  EXPECT_EQ(Decide(p, "math", Tier::kTrivial), Route::kInline);
  EXPECT_EQ(Decide(p, "math", Tier::kEasy), Route::kInline);
  EXPECT_EQ(Decide(p, "math", Tier::kMedium), Route::kReasoning);
  EXPECT_EQ(Decide(p, "math", Tier::kHard), Route::kReasoning);
  EXPECT_EQ(Decide(p, "math", Tier::kRequiresReasoning), Route::kReasoning);
}

TEST(Policy, ADomainOverridesTheDefaultTiers) {
  PolicyOptions p;
  p.inline_tiers_by_domain["writing"] = {Tier::kTrivial, Tier::kEasy, Tier::kMedium, Tier::kHard};
  EXPECT_EQ(Decide(p, "writing", Tier::kHard), Route::kInline);
  EXPECT_EQ(Decide(p, "math", Tier::kHard), Route::kReasoning);
}

}  // namespace triage::route
