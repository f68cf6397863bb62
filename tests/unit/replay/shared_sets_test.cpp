// The shared replay sets read by path (counts as their README states), with the profile files
// shipped under bench/, and their held-out split.
#include <gtest/gtest.h>

#include <numeric>

#include "fixture.hpp"
#include "replay/grade.hpp"
#include "replay/profiles.hpp"
#include "replay/split.hpp"

namespace triage::replay {
namespace {

ReplaySet Shared(const std::string& name) {
  return ReadReplaySet(testing::DataDir() / "replay" / name);
}

Profiles Shipped(const std::string& name) {
  return LoadProfiles(std::filesystem::path(TRIAGE_SOURCE_DIR) / "bench" / (name + ".toml"));
}

TEST(SharedReplaySets, Gsm8kHasTwoModelsOnEveryItemGradedByOurVerifier) {
  const auto set = Shared("gsm8k");
  EXPECT_EQ(set.items.size(), 1319u);
  EXPECT_EQ(set.outcomes.size(), 2638u);
  EXPECT_EQ(set.models, (std::vector<std::string>{"mistralai/Mixtral-8x7B-Instruct-v0.1",
                                                  "gpt-4-1106-preview"}));
  EXPECT_EQ(ProfilesFor(Shipped("gsm8k"), set).size(), 2u);
  // Every outcome is a response: the verifier grades each 1 or 0. The counts are the ones
  // Gsm8kReplay (tests/unit/verify) prints as "correct by us".
  const auto expected = ExpectedCorrect(set);
  std::map<std::string, int> correct;
  for (std::size_t i = 0; i < set.outcomes.size(); ++i) {
    EXPECT_TRUE(expected[i] == 0 || expected[i] == 1);
    correct[set.outcomes[i].model] += expected[i] == 1;
  }
  // (upstream's labels say 1130 and 842; docs/verify.md lists every row where we differ.)
  EXPECT_EQ(correct["gpt-4-1106-preview"], 1175);
  EXPECT_EQ(correct["mistralai/Mixtral-8x7B-Instruct-v0.1"], 844);
}

TEST(SharedReplaySets, LiveCodeBenchHasSixteenModelsAndNoText) {
  const auto set = Shared("livecodebench");
  EXPECT_EQ(set.items.size(), 1055u);
  EXPECT_EQ(set.models.size(), 16u);
  EXPECT_EQ(set.outcomes.size(), 1055u * 16);
  for (const auto& item : set.items) {
    EXPECT_FALSE(item.text.has_value());
    ASSERT_TRUE(item.difficulty.has_value());
    EXPECT_TRUE(*item.difficulty == "easy" || *item.difficulty == "medium" ||
                *item.difficulty == "hard");
    EXPECT_TRUE(item.labels.contains("platform"));
  }
  const auto profiles = ProfilesFor(Shipped("livecodebench"), set);
  ASSERT_EQ(profiles.size(), 16u);
  const int reasoning = std::count_if(profiles.begin(), profiles.end(),
                                      [](const ModelProfile& p) { return p.role == "reasoning"; });
  EXPECT_EQ(reasoning, 10);  // 6 standard, 10 reasoning
  for (const auto& o : set.outcomes) ASSERT_TRUE(o.p_correct.has_value());
}

TEST(SharedReplaySets, Aime2025HasSixteenModelsOverFourRuns) {
  const auto set = Shared("aime2025");
  EXPECT_EQ(set.items.size(), 15u);
  EXPECT_EQ(set.models.size(), 16u);
  EXPECT_EQ(set.outcomes.size(), 240u);
  for (const auto& o : set.outcomes) EXPECT_EQ(o.runs, 4);
  const auto profiles = ProfilesFor(Shipped("aime2025"), set);
  ASSERT_EQ(profiles.size(), 16u);
  // o3-mini (high) at MathArena's published figures: 189.67 in, 12,046.85 out at $1.10 / $4.40.
  const auto* o3 = set.Find("aime_2025_I/1", "o3-mini (high)");
  ASSERT_NE(o3, nullptr);
  EXPECT_NEAR(CallCost(profiles[0], *o3), (189.67 * 1.1 + 12046.85 * 4.4) / 1e6, 1e-9);
  // MathArena's accuracy for it is 80%: the mean p_correct.
  const auto expected = ExpectedCorrect(set);
  double sum = 0;
  int n = 0;
  for (std::size_t i = 0; i < set.outcomes.size(); ++i)
    if (set.outcomes[i].model == "o3-mini (high)") sum += expected[i], ++n;
  EXPECT_NEAR(sum / n, 0.80, 1e-9);
}

TEST(SharedReplaySets, TheTestSplitIsTheClassifiersHeldOutSplit) {
  EXPECT_EQ(ParseReplaySplit("test"), classify::Split::kHeldOut);
  EXPECT_EQ(ParseReplaySplit("train"), classify::Split::kTrain);
  EXPECT_EQ(ParseReplaySplit("all"), classify::Split::kAll);
  EXPECT_EQ(ParseReplaySplit("dev"), std::nullopt);
  const auto set = Shared("gsm8k");
  const auto test = SelectSplit(set, classify::Split::kHeldOut);
  const auto train = SelectSplit(set, classify::Split::kTrain);
  EXPECT_EQ(test.items.size() + train.items.size(), set.items.size());
  EXPECT_EQ(test.outcomes.size(), 2 * test.items.size());
  for (const auto& item : test.items) EXPECT_TRUE(classify::IsHeldOut(item.id)) << item.id;
  for (const auto& item : train.items) EXPECT_FALSE(classify::IsHeldOut(item.id)) << item.id;
  // About kHeldOutPercent (20%) of the items.
  EXPECT_NEAR(static_cast<double>(test.items.size()) / set.items.size(), 0.20, 0.04);
  EXPECT_EQ(SelectSplit(set, classify::Split::kAll).items.size(), set.items.size());
}

}  // namespace
}  // namespace triage::replay
