// `triage router train|eval` end to end on a fixture replay set written to a temp folder, and
// the shipped gsm8k router models on the shared set's held-out split.
#include "learn/router_commands.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace triage::learn {
namespace {

namespace fs = std::filesystem;

fs::path DataDir() {
  if (const char* dir = std::getenv("TRIAGE_DATA_DIR")) return dir;
  return fs::path(TRIAGE_SOURCE_DIR) / ".." / "shared" / "data";
}

class RouterCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("triage_router_commands_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "set");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // 300 items; "hard" ones are solved by the weak model one time in ten, the rest nine in ten.
  void WritePassRateSet() {
    std::ofstream items(dir_ / "set" / "items.jsonl"), outcomes(dir_ / "set" / "outcomes.jsonl");
    for (int i = 0; i < 300; ++i) {
      const bool hard = i % 3 == 0;
      items << R"({"id": "p)" << i << R"(", "domain": "code", "text": null, "difficulty": ")"
            << (hard ? "hard" : "easy") << "\"}\n";
      outcomes << R"({"item": "p)" << i << R"(", "model": "weak", "p_correct": )"
               << (hard ? 0.1 : 0.9) << "}\n";
    }
  }

  fs::path dir_;
};

TEST_F(RouterCommands, TrainsAndEvaluatesOnTheHeldOutSplit) {
  WritePassRateSet();
  RouterTrainOptions train;
  train.data = dir_ / "set";
  train.out = dir_ / "router.bin";
  train.classifier = "";
  train.params.learning_rate = 0.05;
  std::ostringstream out, err;
  ASSERT_EQ(RunRouterTrain(train, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("difficulty=hard"), std::string::npos) << out.str();

  RouterEvalOptions eval;
  eval.data = dir_ / "set";
  eval.model = train.out;
  eval.classifier = "";
  eval.json = true;
  std::ostringstream json;
  ASSERT_EQ(RunRouterEval(eval, json, err), 0) << err.str();
  const auto j = nlohmann::json::parse(json.str());
  EXPECT_EQ(j["split"], "test");
  size_t test_items = 0;
  for (int i = 0; i < 300; ++i) test_items += InSplit("p" + std::to_string(i), RouterSplit::kTest);
  EXPECT_EQ(j["items"], test_items);
  ASSERT_EQ(j["models"].size(), 1u);
  // Difficulty separates 0.9 from 0.1 pass rates: AUC = 0.9 * 0.9 + (0.1 * 0.9 + 0.9 * 0.1) / 2
  // within the split's mix, well above chance.
  EXPECT_GT(j["models"][0]["auc"].get<double>(), 0.75);
  EXPECT_LT(j["models"][0]["brier"].get<double>(), j["models"][0]["brier_base"].get<double>());
}

TEST_F(RouterCommands, SameSeedSameBytes) {
  WritePassRateSet();
  RouterTrainOptions train;
  train.data = dir_ / "set";
  train.classifier = "";
  std::ostringstream out, err;
  train.out = dir_ / "a.bin";
  ASSERT_EQ(RunRouterTrain(train, out, err), 0) << err.str();
  train.out = dir_ / "b.bin";
  ASSERT_EQ(RunRouterTrain(train, out, err), 0) << err.str();
  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(read(dir_ / "a.bin"), read(dir_ / "b.bin"));
}

TEST_F(RouterCommands, RefusesAnAfterModelWithoutResponses) {
  WritePassRateSet();
  RouterTrainOptions train;
  train.data = dir_ / "set";
  train.out = dir_ / "router.bin";
  train.classifier = "";
  train.kind = route::RouterKind::kAfter;
  std::ostringstream out, err;
  EXPECT_EQ(RunRouterTrain(train, out, err), 2);
  EXPECT_NE(err.str().find("needs answer texts"), std::string::npos) << err.str();
  EXPECT_FALSE(fs::exists(train.out));
}

TEST_F(RouterCommands, RefusesToTrainOnTheTestSplit) {
  WritePassRateSet();
  RouterTrainOptions train;
  train.data = dir_ / "set";
  train.split = RouterSplit::kTest;
  std::ostringstream out, err;
  EXPECT_EQ(RunRouterTrain(train, out, err), 2);
  EXPECT_NE(err.str().find("--split must be train or fit"), std::string::npos);
}

TEST_F(RouterCommands, EvalRefusesACorruptModelAndABadSet) {
  WritePassRateSet();
  std::ofstream(dir_ / "bad.bin") << "TRIAGERM garbage";
  RouterEvalOptions eval;
  eval.data = dir_ / "set";
  eval.model = dir_ / "bad.bin";
  eval.classifier = "";
  std::ostringstream out, err;
  EXPECT_EQ(RunRouterEval(eval, out, err), 2);
  EXPECT_NE(err.str().find("refusing router model"), std::string::npos) << err.str();
  RouterTrainOptions train;
  train.data = dir_ / "missing";
  train.classifier = "";
  EXPECT_EQ(RunRouterTrain(train, out, err), 2);
}

TEST(RouterSplits, PartitionTheItems) {
  for (int i = 0; i < 500; ++i) {
    const auto id = "item/" + std::to_string(i);
    EXPECT_NE(InSplit(id, RouterSplit::kTrain), InSplit(id, RouterSplit::kTest));
    EXPECT_EQ(InSplit(id, RouterSplit::kTrain),
              InSplit(id, RouterSplit::kFit) || InSplit(id, RouterSplit::kValidation));
    EXPECT_FALSE(InSplit(id, RouterSplit::kFit) && InSplit(id, RouterSplit::kValidation));
    EXPECT_EQ(InSplit(id, RouterSplit::kTest), classify::IsHeldOut(id));
  }
}

// The shipped default models (docs/benchmarks.md, "Learned router"): on the gsm8k set's
// held-out split, the answer-aware estimator ranks Mixtral's answers well, and the task-only
// one at least above chance. Thresholds sit a little under the measured figures.
TEST(ShippedRouter, PredictsMixtralOnTheGsm8kTestSplit) {
  const auto set = DataDir() / "replay" / "gsm8k";
  ASSERT_TRUE(fs::exists(set / "outcomes.jsonl"))
      << "missing " << set << " (set TRIAGE_DATA_DIR to the shared data directory)";
  const auto source = fs::path(TRIAGE_SOURCE_DIR);
  for (const auto& [kind, min_auc] : {std::pair{"before", 0.58}, std::pair{"after", 0.75}}) {
    RouterEvalOptions eval;
    eval.data = set;
    eval.model = source / "models" / (std::string("router_gsm8k_") + kind + ".bin");
    eval.classifier = source / "models" / "classifier.bin";
    eval.json = true;
    std::ostringstream out, err;
    ASSERT_EQ(RunRouterEval(eval, out, err), 0) << err.str();
    const auto j = nlohmann::json::parse(out.str());
    bool seen = false;
    for (const auto& m : j["models"])
      if (m["model"] == "mistralai/Mixtral-8x7B-Instruct-v0.1") {
        seen = true;
        EXPECT_GE(m["auc"].get<double>(), min_auc) << kind;
        EXPECT_LT(m["brier"].get<double>(), m["brier_base"].get<double>()) << kind;
      }
    EXPECT_TRUE(seen) << kind;
  }
}

}  // namespace
}  // namespace triage::learn
