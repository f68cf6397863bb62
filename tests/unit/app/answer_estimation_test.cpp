// The service's learned answer estimator: what strategy.answer_estimator loads, what it refuses,
// and the ids and task it gives the router.
#include "app/answer_estimation.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace triage::app {
namespace {

const std::filesystem::path kModels = std::filesystem::path(TRIAGE_SOURCE_DIR) / "models";
constexpr const char* kMixtral = "mistralai/Mixtral-8x7B-Instruct-v0.1";

Config WithEstimator(const std::filesystem::path& file) {
  auto config = LoadConfig("");
  config.answer_estimator = file.string();
  return config;
}

std::string LoadError(const Config& config) {
  try {
    LoadAnswerEstimation(config, nullptr);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(AnswerEstimation, NoneConfiguredLoadsNothing) {
  EXPECT_EQ(LoadAnswerEstimation(LoadConfig(""), nullptr), nullptr);
}

TEST(AnswerEstimation, AFileThatCannotBeUsedStopsTheStartNamingKeyAndFile) {
  const auto missing = std::filesystem::path(testing::TempDir()) / "no_such_router.bin";
  const auto error = LoadError(WithEstimator(missing));
  EXPECT_NE(error.find("strategy.answer_estimator"), std::string::npos) << error;
  EXPECT_NE(error.find(missing.string()), std::string::npos) << error;
}

TEST(AnswerEstimation, ABeforeTheCallRouterIsRefused) {
  const auto error = LoadError(WithEstimator(kModels / "router_gsm8k_before.bin"));
  EXPECT_NE(error.find("\"before the call\" router"), std::string::npos) << error;
  EXPECT_NE(error.find("--kind after"), std::string::npos) << error;
}

TEST(AnswerEstimation, ModelsAreKnownByReplayModelThenModelIdThenName) {
  auto config = WithEstimator(kModels / "router_gsm8k_after.bin");
  auto& replayed = config.models["replayed"];
  replayed.name = "replayed";
  replayed.provider = "replay";
  replayed.replay_dir = "somewhere";
  replayed.replay_model = kMixtral;
  auto& hosted = config.models["hosted"];
  hosted.name = "hosted";
  hosted.provider = "openai-compatible";
  hosted.model_id = "gpt-4-1106-preview";
  const auto estimation = LoadAnswerEstimation(config, nullptr);
  ASSERT_NE(estimation, nullptr);
  EXPECT_EQ(estimation->ids.at("replayed"), kMixtral);
  EXPECT_EQ(estimation->ids.at("hosted"), "gpt-4-1106-preview");
  EXPECT_EQ(estimation->ids.at("sim-standard"), "sim-standard");
}

TEST(AnswerEstimation, TheEngineGetsTheRoutersProbabilityUnderTheModelsIdThere) {
  auto config = WithEstimator(kModels / "router_gsm8k_after.bin");
  auto& m = config.models["cheap"];
  m.name = "cheap";
  m.model_id = kMixtral;
  const std::array<double, core::kTierCount> tiers{0.1, 0.6, 0.2, 0.05, 0.05};
  int classified = 0;
  const auto estimation = LoadAnswerEstimation(config, [&](std::string_view) {
    ++classified;
    classify::Classification c;
    c.probabilities = tiers;
    return c;
  });
  ASSERT_NE(estimation, nullptr);
  store::JobRecord job;
  job.task.text = "Tom has 3 apples and buys 4 more. How many apples does he have?";
  job.task.domain = "math";
  const auto task = estimation->TaskOf(job);
  EXPECT_EQ(classified, 1);
  EXPECT_EQ(task.text, job.task.text);
  ASSERT_TRUE(task.tier_probabilities);
  EXPECT_EQ(*task.tier_probabilities, tiers);
  ASSERT_EQ(task.labels.size(), 1u);
  EXPECT_EQ(task.labels[0], (std::pair<std::string, std::string>{"domain", "math"}));

  const route::LearnedAnswerEstimator estimator(*estimation->router, task, &estimation->ids);
  for (const std::string response : {"3 + 4 = 7\n#### 7", "3 + 4 = 8\n#### 8", "I am not sure."}) {
    const route::RouterAnswer answer{response, {}};
    const auto expected = estimation->router->Predict(kMixtral, task, &answer);
    ASSERT_TRUE(expected);
    EXPECT_EQ(estimator.Estimate("cheap", response), expected) << response;
  }
  // The arithmetic slip is judged less likely right than the correct working.
  EXPECT_LT(*estimator.Estimate("cheap", "3 + 4 = 8\n#### 8"),
            *estimator.Estimate("cheap", "3 + 4 = 7\n#### 7"));
  // A model the file does not know gets no estimate: its other confidence sources apply.
  EXPECT_EQ(estimator.Estimate("sim-standard", "#### 7"), std::nullopt);
}

}  // namespace
}  // namespace triage::app
