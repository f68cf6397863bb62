// The train / eval / classify command functions end to end on small files.
#include "classify/commands.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_data.hpp"

namespace triage::classify {
namespace {

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("triage_classify_commands_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    config_ = dir_ / "classifier.toml";
    std::ofstream(config_) << "[classifier]\nmodel = \"m.bin\"\n"
                              "[[classifier.labels]]\nsource = \"toy\"\nfield = \"label\"\n"
                              "tiers = { \"e\" = \"easy\", \"h\" = \"hard\" }\n";
    data_ = dir_ / "toy.jsonl";
    std::ofstream out(data_);
    for (int i = 0; i < 200; ++i) {
      out << R"({"id": "e)" << i
          << R"(", "source": "toy", "label": "e", "text": "How many apples does Sam have after buying )"
          << i << R"( more?"})"
          << "\n";
      out << R"({"id": "h)" << i << R"(", "source": "toy", "label": "h", "text": "Let $x^{)" << i
          << R"(}$ be a polynomial; find all roots \\frac{a}{b}."})"
          << "\n";
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_, config_, data_;
};

TEST_F(CommandsTest, TrainThenEvalThenClassify) {
  std::ostringstream out, err;
  TrainOptions train;
  train.data = {data_};
  train.out = dir_ / "m.bin";
  train.config = config_;
  train.params.features.hash_bits = 12;
  ASSERT_EQ(RunTrain(train, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("training on"), std::string::npos);

  out.str("");
  EvalOptions eval;
  eval.data = {data_};
  eval.model = train.out;
  eval.config = config_;
  ASSERT_EQ(RunEval(eval, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("overall"), std::string::npos);
  EXPECT_NE(out.str().find("confusion matrix, seed heuristic"), std::string::npos);

  out.str("");
  eval.json = true;
  ASSERT_EQ(RunEval(eval, out, err), 0) << err.str();
  const auto json = out.str();
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find("\"overall\":{\"model\":{\"items\":"), std::string::npos);
  EXPECT_NE(json.find("\"by_source\":{\"toy\":"), std::string::npos);
  EXPECT_NE(json.find("\"macro_f1\":1.0000"), std::string::npos);  // the toy is separable

  out.str("");
  ClassifyOptions one;
  one.text = "Let $y$ be a polynomial; find all roots.";
  one.model = train.out;
  ASSERT_EQ(RunClassify(one, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("tier: hard (trained model)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("p(requires_reasoning)"), std::string::npos);
  EXPECT_NE(out.str().find("heuristic: requires_reasoning [competition:find all]"),
            std::string::npos);

  out.str("");
  one.json = true;
  ASSERT_EQ(RunClassify(one, out, err), 0);
  EXPECT_NE(out.str().find("\"model\":{\"tier\":\"hard\""), std::string::npos) << out.str();
}

TEST(ConfidenceCut, MovesLowConfidenceOneTierUpOnly) {
  Classification c;
  c.tier = core::Tier::kHard;
  c.probabilities = std::array<double, core::kTierCount>{0, 0.1, 0.3, 0.45, 0.15};
  EXPECT_EQ(ApplyConfidenceCut(c, 0.5), core::Tier::kRequiresReasoning);
  EXPECT_EQ(ApplyConfidenceCut(c, 0.4), core::Tier::kHard);
  EXPECT_EQ(ApplyConfidenceCut(c, 0.0), core::Tier::kHard);
  c.tier = core::Tier::kRequiresReasoning;
  EXPECT_EQ(ApplyConfidenceCut(c, 0.9), core::Tier::kRequiresReasoning);  // nothing above
  c.probabilities.reset();  // the heuristic has no probabilities: never moved
  c.tier = core::Tier::kEasy;
  EXPECT_EQ(ApplyConfidenceCut(c, 0.9), core::Tier::kEasy);
}

TEST_F(CommandsTest, HeuristicOnlyClassifyNeedsNoModel) {
  std::ostringstream out, err;
  ClassifyOptions one;
  one.text = "What is 2+2?";
  one.model = "";
  ASSERT_EQ(RunClassify(one, out, err), 0);
  EXPECT_EQ(out.str(), "heuristic: trivial [question:what is]\n");
}

TEST_F(CommandsTest, BadArgumentsExitWithTwoAndSayWhy) {
  std::ostringstream out, err;
  TrainOptions train;
  train.data = {dir_ / "missing.jsonl"};
  train.out = dir_ / "m.bin";
  train.config = config_;
  EXPECT_EQ(RunTrain(train, out, err), 2);
  EXPECT_NE(err.str().find("cannot open data file"), std::string::npos);

  err.str("");
  train.data = {data_};
  train.config = dir_ / "nope.toml";
  EXPECT_EQ(RunTrain(train, out, err), 2);
  EXPECT_NE(err.str().find("cannot open classifier config"), std::string::npos);

  err.str("");
  EvalOptions eval;
  eval.data = {data_};
  eval.model = data_;  // not a model
  eval.config = config_;
  EXPECT_EQ(RunEval(eval, out, err), 2);
  EXPECT_NE(err.str().find("bad magic"), std::string::npos);

  err.str("");
  ClassifyOptions one;
  one.text = "x";
  one.model = dir_ / "absent.bin";
  EXPECT_EQ(RunClassify(one, out, err), 2);
  EXPECT_NE(err.str().find("cannot open classifier model"), std::string::npos);
}

}  // namespace
}  // namespace triage::classify
