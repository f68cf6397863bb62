// The figure issue 4 asks for, checked on every test run: the shipped model beats the seed
// heuristic by at least 20 macro-F1 points on the held-out split, overall and per source (where
// the heuristic leaves 20 points of room).
#include <gtest/gtest.h>

#include "classify/commands.hpp"
#include "test_data.hpp"

namespace triage::classify {
namespace {

constexpr double kRequiredMargin = 0.20;

class ShippedModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto files = testing::ClassifierDataFiles();
    for (const auto& f : files)
      if (!std::filesystem::exists(f)) return;
    auto loaded = TrainedClassifier::Load(testing::SourceDir() / "models/classifier.bin");
    if (!loaded) return;
    auto config = LoadClassifierConfig(testing::SourceDir() / "config/classifier.toml");
    if (!std::holds_alternative<ClassifierConfig>(config)) return;
    auto items = LoadLabeledItems(files, std::get<ClassifierConfig>(config), Split::kHeldOut);
    if (!std::holds_alternative<std::vector<LabeledItem>>(items)) return;
    report_ =
        new EvalReport(Evaluate(std::get<std::vector<LabeledItem>>(items), *loaded.classifier));
  }
  static void TearDownTestSuite() { delete report_; }
  void SetUp() override {
    TRIAGE_REQUIRE_DATA(testing::ClassifierDataFiles());
    ASSERT_TRUE(TrainedClassifier::Load(testing::SourceDir() / "models/classifier.bin"))
        << TrainedClassifier::Load(testing::SourceDir() / "models/classifier.bin").error;
    ASSERT_NE(report_, nullptr) << "could not evaluate the held-out split";
  }
  static EvalReport* report_;
};
EvalReport* ShippedModel::report_ = nullptr;

TEST_F(ShippedModel, HeldOutSplitCoversEverySource) {
  EXPECT_GT(report_->overall.model.Total(), 3000u);
  for (const char* group : {"GSM8K", "MATH", "competition", "HumanEval", "MBPP"})
    EXPECT_EQ(report_->by_group.count(group), 1u) << group;
}

// Overall, both readings of macro-F1 agree on the margin: scikit-learn's default (tiers seen as
// gold or predicted) and the mean over the gold tiers.
TEST_F(ShippedModel, BeatsTheHeuristicByTwentyMacroF1PointsOverall) {
  const auto& o = report_->overall;
  EXPECT_GE(o.model.MacroF1() - o.heuristic.MacroF1(), kRequiredMargin);
  EXPECT_GE(o.model.MacroF1GoldTiers() - o.heuristic.MacroF1GoldTiers(), kRequiredMargin);
}

// Per source, macro-F1 over the source's gold tiers: for the single-tier sources (all but MATH)
// that is the F1 of their one tier. MBPP is one tier (easy) on which the heuristic already scores
// 91.8, so a 20-point margin is out of reach there: the model must reach (nearly) the ceiling
// instead. (scikit-learn's default reading is degenerate on single-tier sources: it charges a
// whole class for any wrong tier predicted even once; docs/classifier.md reports it too.)
TEST_F(ShippedModel, BeatsTheHeuristicByTwentyMacroF1PointsPerSource) {
  for (const auto& [group, f] : report_->by_group) {
    const double model = f.model.MacroF1GoldTiers(), heuristic = f.heuristic.MacroF1GoldTiers();
    if (heuristic > 1.0 - kRequiredMargin)
      EXPECT_GE(model, 0.99) << group;
    else
      EXPECT_GE(model - heuristic, kRequiredMargin)
          << group << ": model " << model << ", heuristic " << heuristic;
  }
  // MATH, the one source with several tiers, passes under scikit-learn's reading as well.
  const auto& math = report_->by_group.at("MATH");
  EXPECT_GE(math.model.MacroF1() - math.heuristic.MacroF1(), kRequiredMargin);
}

}  // namespace
}  // namespace triage::classify
