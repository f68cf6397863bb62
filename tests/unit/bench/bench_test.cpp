// RunBench on a tiny set written here: the figures follow from the set by hand, the report is
// the same byte for byte on a second run, and the JSON equals the golden file beside this test.
#include "bench/bench.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../replay/fixture.hpp"
#include "bench/report.hpp"
#include "replay/profiles.hpp"

namespace triage::bench {
namespace {

// Four items; the cheap model is right on the easy two, the strong one on all four. Pass rates
// of 0 and 1 need no draw, so every figure below is exact.
const char* kItems = R"({"id": "t/1", "domain": "code", "difficulty": "easy"})"
                     "\n"
                     R"({"id": "t/2", "domain": "code", "difficulty": "easy"})"
                     "\n"
                     R"({"id": "t/3", "domain": "code", "difficulty": "hard"})"
                     "\n"
                     R"({"id": "t/4", "domain": "code", "difficulty": "hard"})"
                     "\n";
const char* kOutcomes = R"({"item": "t/1", "model": "cheap", "p_correct": 1})"
                        "\n"
                        R"({"item": "t/2", "model": "cheap", "p_correct": 1})"
                        "\n"
                        R"({"item": "t/3", "model": "cheap", "p_correct": 0})"
                        "\n"
                        R"({"item": "t/4", "model": "cheap", "p_correct": 0})"
                        "\n"
                        R"({"item": "t/1", "model": "strong", "p_correct": 1})"
                        "\n"
                        R"({"item": "t/2", "model": "strong", "p_correct": 1})"
                        "\n"
                        R"({"item": "t/3", "model": "strong", "p_correct": 1})"
                        "\n"
                        R"({"item": "t/4", "model": "strong", "p_correct": 1, "cost_usd": 0.5})"
                        "\n";
// A call: $2 (cheap) or $20 (strong) per 1M tokens, 500 + 500 tokens: $0.002 and $0.02.
const char* kProfiles = R"(
[models.cheap]
input_usd_per_mtok = 2
output_usd_per_mtok = 2
input_tokens = 500
output_tokens = 500
latency_p50_s = 1
[models.strong]
input_usd_per_mtok = 20
output_usd_per_mtok = 20
input_tokens = 500
output_tokens = 500
latency_p50_s = 10
)";

class Bench : public ::testing::Test {
 protected:
  Report Run(BenchOptions options = {}) {
    auto report =
        RunBench(replay::ReadReplaySet(set_.Dir()), replay::ParseProfiles(kProfiles), options);
    report.set = "tiny";  // the temp folder's name
    return report;
  }
  const Row& RowNamed(const Report& r, const std::string& name) {
    for (const auto& row : r.rows)
      if (row.name == name) return row;
    ADD_FAILURE() << "no row " << name;
    return r.rows.front();
  }
  replay::testing::TempSet set_{kItems, kOutcomes};
};

TEST_F(Bench, SingleModelsOracleAndStrategiesFollowFromTheSet) {
  BenchOptions options;
  options.verifier = {1.0, 1.0};  // a perfect stand-in: wrong answers never pass
  const auto r = Run(options);
  EXPECT_EQ(r.cheap, "cheap");
  EXPECT_EQ(r.strong, "strong");
  const auto& cheap = RowNamed(r, "cheap only");
  EXPECT_EQ(cheap.correct, 2);
  EXPECT_NEAR(cheap.cost_usd, 0.008, 1e-12);
  const auto& strong = RowNamed(r, "strong only");
  EXPECT_EQ(strong.correct, 4);
  EXPECT_NEAR(strong.cost_usd, 0.02 * 3 + 0.5, 1e-12);  // t/4's recorded cost replaces the profile
  EXPECT_EQ(strong.p50_s, 10);
  // The cascade keeps the cheap model's two right answers and pays both models on the rest.
  const auto& cascade = RowNamed(r, "verified cascade");
  EXPECT_EQ(cascade.correct, 4);
  EXPECT_EQ(cascade.reached_strong, 2);
  EXPECT_NEAR(cascade.cost_usd, 0.008 + 0.02 + 0.5, 1e-12);
  EXPECT_EQ(cascade.p95_s, 11);  // cheap, then strong
  const auto& label = RowNamed(r, "hybrid by difficulty label");
  EXPECT_EQ(label.correct, 4);
  EXPECT_NEAR(label.cost_usd, 0.004 + 0.52, 1e-12);
  const auto& oracle = RowNamed(r, "oracle: cheapest correct model");
  EXPECT_EQ(oracle.correct, 4);
  EXPECT_NEAR(oracle.cost_usd, 0.004 + 0.52, 1e-12);
  EXPECT_TRUE(AboveHull(r.hull, label.point()));
  // No text: no tier strategy; pass rates: sampling strategies run.
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0], "hybrid by classifier tier: items without text");
  EXPECT_EQ(RowNamed(r, "self-consistency").correct, 4);
}

TEST_F(Bench, AStandInThatPassesWrongAnswersCostsAccuracy) {
  BenchOptions options;
  options.verifier = {0.5, 1.0};  // half of what it passes is wrong: every wrong answer passes
  const auto r = Run(options);
  const auto& cascade = RowNamed(r, "verified cascade");
  EXPECT_EQ(cascade.correct, 2);
  EXPECT_EQ(cascade.reached_strong, 0);
  EXPECT_TRUE(std::any_of(r.assumptions.begin(), r.assumptions.end(), [](const auto& a) {
    return a.find("precision 0.5 and recall 1") != std::string::npos;
  }));
}

// The budget policy learns from the train split only; here every item is in it, and a budget
// of three quarters of the strong model's cost buys it for the hard items alone.
TEST_F(Bench, ABudgetBuysTheStrongModelWhereTheTrainSplitSaysItPays) {
  const auto r = Run();
  const Curve* budget = nullptr;
  for (const auto& c : r.curves)
    if (c.strategy == "budget policy") budget = &c;
  ASSERT_NE(budget, nullptr);
  ASSERT_EQ(budget->points.size(), 8u);
  EXPECT_EQ(budget->points.front().correct, 2);  // 5%: the cheap model everywhere
  EXPECT_EQ(budget->points.front().reached_strong, 0);
  const auto& most = budget->points[6];  // 75%
  EXPECT_EQ(most.correct, 4);
  EXPECT_EQ(most.reached_strong, 2);
  EXPECT_NEAR(most.cost_usd, 0.004 + 0.52, 1e-12);
  for (const auto& p : budget->points) EXPECT_LE(p.reached_strong, 2) << p.name;
}

TEST_F(Bench, TheSameInputsGiveTheSameReportAndTheJsonMatchesItsGolden) {
  const auto json = ToJson(Run());
  EXPECT_EQ(json, ToJson(Run()));
  EXPECT_EQ(FormatTable(Run()), FormatTable(Run()));
  EXPECT_EQ(ToSvg(Run()), ToSvg(Run()));
  const auto golden = std::filesystem::path(TRIAGE_SOURCE_DIR) / "tests/unit/bench/tiny.json";
  if (std::getenv("TRIAGE_UPDATE_GOLDEN")) std::ofstream(golden) << json;
  std::ifstream in(golden);
  ASSERT_TRUE(in) << golden;
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(json, expected.str());
}

TEST(ChooseOnTrain, TakesTheTrainSplitsCheapestPointKeepingTheShareAndReportsItsTestTwin) {
  const auto row = [](std::string name, int correct, double cost, std::string kind = "strategy") {
    Row r;
    r.name = std::move(name);
    r.kind = std::move(kind);
    r.items = 10;
    r.correct = correct;
    r.cost_usd = cost;
    return r;
  };
  Report train, test;
  train.strong = test.strong = "s";
  auto strong = row("s only", 10, 10, "single");
  strong.model = "s";
  train.rows = {strong};
  test.rows = {strong, row("oracle", 10, 1, "oracle")};
  // On train, 0.5 is the cheapest point with >= 9 of 10 right; on test it does worse.
  train.curves = {{"x", "t", {row("x (0.3)", 7, 1), row("x (0.5)", 9, 3), row("x (0.7)", 10, 6)}}};
  test.curves = {{"x", "t", {row("x (0.3)", 8, 1), row("x (0.5)", 8, 3), row("x (0.7)", 9, 6)}}};
  ChooseOnTrain(test, train, 0.9);
  ASSERT_EQ(test.rows.size(), 3u);
  EXPECT_EQ(test.rows[1].name, "x, chosen on train");
  EXPECT_EQ(test.rows[1].correct, 8);  // the test split's 0.5 point, not its best
  EXPECT_EQ(test.rows[1].cost_usd, 3);
  EXPECT_EQ(test.rows[2].kind, "oracle");
  // No point keeps the share: the most accurate one.
  Report test2 = test;
  test2.rows = {strong};
  ChooseOnTrain(test2, train, 1.5);
  EXPECT_EQ(test2.rows.back().cost_usd, 6);
}

TEST_F(Bench, OptionsNamingAModelTheSetLacksAreRefused) {
  BenchOptions options;
  options.strong = "gpt-9";
  EXPECT_THROW(
      {
        try {
          Run(options);
        } catch (const std::invalid_argument& e) {
          EXPECT_STREQ(e.what(), "the set has no model 'gpt-9'");
          throw;
        }
      },
      std::invalid_argument);
}

}  // namespace
}  // namespace triage::bench
