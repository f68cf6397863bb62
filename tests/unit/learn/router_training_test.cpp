// The router trainer on planted signals: it learns a word, a label and an answer feature that
// predict correctness; labels unrelated to the features give chance AUC; a seed fixes the bytes.
#include "learn/router_training.hpp"

#include <gtest/gtest.h>

#include "learn/binary_metrics.hpp"
#include "route/learned_router.hpp"

namespace triage::learn {
namespace {

using route::RouterAnswer;
using route::RouterKind;
using route::RouterTask;

// A fixed pseudo-random number in [0, 1) for index i (the tests' own, independent of the code).
double Draw(uint64_t i) {
  uint64_t z = i * 0x9e3779b97f4a7c15ULL + 12345;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<double>((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

constexpr const char* kNouns[] = {"apples", "marbles", "stamps", "coins", "books", "pencils"};
constexpr const char* kNames[] = {"Ann", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus"};

// Task i; every other one (by a draw) mentions a zebra.
std::string TaskText(int i, bool zebra) {
  return std::string(kNames[i % 7]) + " has " + std::to_string(i % 50 + 3) + " " +
         kNouns[(i / 7) % 6] + (zebra ? " and a zebra" : "") + " and buys " +
         std::to_string(i % 13 + 2) + " more. How many " + kNouns[(i / 7) % 6] + " now?";
}
bool HasZebra(int i) { return Draw(1000003 + i) < 0.5; }

route::RouterFeatureConfig Config(RouterKind kind) {
  route::RouterFeatureConfig c;
  c.kind = kind;
  c.text.hash_bits = kRouterHashBits;
  return c;
}

// Examples for items [begin, end): the zebra decides correctness, or a coin does (`shuffled`).
std::vector<RouterExample> ZebraExamples(int begin, int end, bool shuffled,
                                         std::vector<std::string>& texts) {
  const auto config = Config(RouterKind::kBefore);
  std::vector<RouterExample> out;
  for (int i = begin; i < end; ++i) {
    texts.push_back(TaskText(i, HasZebra(i)));
    const bool correct = shuffled ? Draw(i) < 0.5 : !HasZebra(i);
    out.push_back({"cheap",
                   route::BuildRouterRow(config, {texts.back(), std::nullopt, {}}, nullptr),
                   correct ? 1.0 : 0.0});
  }
  return out;
}

BinaryReport Score(const route::RouterParams& params, const std::vector<RouterExample>& test) {
  const route::LearnedRouter router(params);
  std::vector<Scored> scored;
  for (const auto& ex : test) scored.push_back({*router.Predict(ex.model, ex.row), ex.target});
  return EvaluateBinary(scored);
}

TEST(RouterTraining, LearnsAPlantedWord) {
  std::vector<std::string> texts;
  texts.reserve(1600);
  const auto train = ZebraExamples(0, 1000, false, texts);
  const auto test = ZebraExamples(5000, 5600, false, texts);
  const auto params = TrainRouter(train, Config(RouterKind::kBefore), {}, "");
  const auto report = Score(params, test);
  ASSERT_TRUE(report.auc);
  EXPECT_GT(*report.auc, 0.95);
  EXPECT_LT(report.brier, 0.5 * report.brier_base);
}

TEST(RouterTraining, ShuffledLabelsGiveChanceAuc) {
  std::vector<std::string> texts;
  texts.reserve(1600);
  const auto train = ZebraExamples(0, 1000, true, texts);
  const auto test = ZebraExamples(5000, 5600, true, texts);
  const auto report = Score(TrainRouter(train, Config(RouterKind::kBefore), {}, ""), test);
  ASSERT_TRUE(report.auc);
  EXPECT_NEAR(*report.auc, 0.5, 0.08);
}

TEST(RouterTraining, IsDeterministicForASeed) {
  std::vector<std::string> texts;
  texts.reserve(400);
  const auto train = ZebraExamples(0, 400, false, texts);
  const auto config = Config(RouterKind::kBefore);
  const auto a = route::SerializeRouter(TrainRouter(train, config, {}, "m"));
  EXPECT_EQ(a, route::SerializeRouter(TrainRouter(train, config, {}, "m")));
  RouterTrainParams other;
  other.seed = 2;
  EXPECT_NE(a, route::SerializeRouter(TrainRouter(train, config, other, "m")));
}

// Without text, a label and a pass rate (a livecodebench-like set): predictions follow the rate
// of each label value, per model.
TEST(RouterTraining, LearnsPassRatesPerLabelAndModel) {
  auto config = Config(RouterKind::kBefore);
  std::vector<std::vector<std::pair<std::string, std::string>>> labels;
  for (int i = 0; i < 300; ++i) labels.push_back({{"difficulty", i % 3 == 0 ? "hard" : "easy"}});
  config.vocabulary = BuildVocabulary(labels);
  ASSERT_EQ(config.vocabulary, (std::vector<std::string>{"difficulty=easy", "difficulty=hard"}));
  std::vector<RouterExample> train;
  for (int i = 0; i < 300; ++i) {
    const RouterTask task{"", std::nullopt, labels[i]};
    const bool hard = i % 3 == 0;
    train.push_back({"strong", route::BuildRouterRow(config, task, nullptr), hard ? 0.7 : 0.95});
    train.push_back({"weak", route::BuildRouterRow(config, task, nullptr), hard ? 0.1 : 0.6});
  }
  RouterTrainParams params;
  params.epochs = 30;
  params.learning_rate = 0.05;  // a tiny dense problem: the default small step converges slowly
  const route::LearnedRouter router(TrainRouter(train, config, params, ""));
  EXPECT_EQ(router.models(), (std::vector<std::string>{"strong", "weak"}));
  const RouterTask hard{"", std::nullopt, {{"difficulty", "hard"}}};
  const RouterTask easy{"", std::nullopt, {{"difficulty", "easy"}}};
  EXPECT_NEAR(*router.Predict("strong", hard), 0.7, 0.05);
  EXPECT_NEAR(*router.Predict("strong", easy), 0.95, 0.05);
  EXPECT_NEAR(*router.Predict("weak", hard), 0.1, 0.05);
  EXPECT_NEAR(*router.Predict("weak", easy), 0.6, 0.05);
  EXPECT_FALSE(router.Predict("unknown", easy).has_value());
}

// After the call: answers whose arithmetic steps are wrong are the wrong ones.
TEST(RouterTraining, LearnsAFailedStepCheck) {
  const auto config = Config(RouterKind::kAfter);
  std::vector<std::string> texts, answers;
  texts.reserve(1200);
  answers.reserve(1200);
  auto make = [&](int begin, int end) {
    std::vector<RouterExample> out;
    for (int i = begin; i < end; ++i) {
      const int a = i % 50 + 3, b = i % 13 + 2;
      const bool slip = Draw(77 + i) < 0.4;
      texts.push_back(TaskText(i, false));
      answers.push_back("She has " + std::to_string(a) + " + " + std::to_string(b) + " = " +
                        std::to_string(a + b + (slip ? 1 : 0)) + " now.\n#### " +
                        std::to_string(a + b + (slip ? 1 : 0)));
      const RouterAnswer answer{answers.back(), {}};
      out.push_back({"cheap",
                     route::BuildRouterRow(config, {texts.back(), std::nullopt, {}}, &answer),
                     slip ? 0.0 : 1.0});
    }
    return out;
  };
  const auto train = make(0, 600);
  const auto test = make(5000, 5600);
  const auto report = Score(TrainRouter(train, config, {}, ""), test);
  ASSERT_TRUE(report.auc);
  EXPECT_GT(*report.auc, 0.95);
}

TEST(RouterTraining, RejectsNoExamples) {
  EXPECT_THROW(TrainRouter({}, Config(RouterKind::kBefore), {}, ""), std::invalid_argument);
}

TEST(RouterVocabulary, SkipsRareValuesAndPerItemKeys) {
  std::vector<std::vector<std::pair<std::string, std::string>>> labels;
  for (int i = 0; i < 100; ++i)
    labels.push_back({{"platform", i < 4 ? "rare" : "common"}, {"date", std::to_string(i)}});
  EXPECT_EQ(BuildVocabulary(labels), (std::vector<std::string>{"platform=common"}));
}

}  // namespace
}  // namespace triage::learn
