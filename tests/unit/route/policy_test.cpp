#include "route/policy.hpp"

#include <gtest/gtest.h>

namespace triage::route {
using core::Tier;

TEST(Policy, DefaultsAnswerTrivialAndEasyInlineVoteOnMediumAndQueueTheRest) {
  PolicyOptions p;
  EXPECT_EQ(Decide(p, "math", Tier::kTrivial), Route::kInline);
  EXPECT_EQ(Decide(p, "math", Tier::kEasy), Route::kInline);
  EXPECT_EQ(Decide(p, "math", Tier::kMedium), Route::kVote);
  EXPECT_EQ(Decide(p, "math", Tier::kHard), Route::kReasoning);
  EXPECT_EQ(Decide(p, "math", Tier::kRequiresReasoning), Route::kReasoning);
}

TEST(Policy, ADomainOverridesTheDefaultTiers) {
  PolicyOptions p;
  p.inline_tiers_by_domain["writing"] = {Tier::kTrivial, Tier::kEasy, Tier::kMedium, Tier::kHard};
  EXPECT_EQ(Decide(p, "writing", Tier::kHard), Route::kInline);
  EXPECT_EQ(Decide(p, "math", Tier::kHard), Route::kReasoning);
}

TEST(Policy, InlineTiersComeBeforeVoteTiers) {
  PolicyOptions p;
  p.inline_tiers_by_domain["writing"] = {Tier::kMedium};
  p.vote_tiers_by_domain["code"] = {Tier::kHard};
  EXPECT_EQ(Decide(p, "writing", Tier::kMedium), Route::kInline);
  EXPECT_EQ(Decide(p, "writing", Tier::kEasy), Route::kReasoning);
  EXPECT_EQ(Decide(p, "code", Tier::kHard), Route::kVote);
  EXPECT_EQ(Decide(p, "code", Tier::kMedium), Route::kReasoning);  // code's own list replaces it
}

}  // namespace triage::route
