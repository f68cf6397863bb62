// Training: learns a separable toy problem, and is bit-for-bit deterministic for a seed.
#include "classify/training.hpp"

#include <gtest/gtest.h>

#include "classify/dataset.hpp"
#include "classify/trained_classifier.hpp"
#include "test_data.hpp"

namespace triage::classify {
namespace {

using core::Tier;

std::vector<std::string> ToyTexts() {
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i) {
    texts.push_back("How many apples does Sam have after buying " + std::to_string(i) + " more?");
    texts.push_back("Let $x^{" + std::to_string(i) +
                    "}$ be a polynomial; find all roots \\frac{a}{b}.");
  }
  return texts;
}

std::vector<TrainingExample> ToyExamples(const std::vector<std::string>& texts) {
  std::vector<TrainingExample> ex;
  for (size_t i = 0; i < texts.size(); ++i)
    ex.push_back({texts[i], i % 2 == 0 ? Tier::kEasy : Tier::kHard});
  return ex;
}

TEST(Training, LearnsASeparableProblem) {
  const auto texts = ToyTexts();
  TrainParams params;
  params.features.hash_bits = 12;
  const TrainedClassifier c(TrainModel(ToyExamples(texts), params, ""));
  EXPECT_EQ(c.Classify("How many pears does Ann have after buying 3 more?").tier, Tier::kEasy);
  EXPECT_EQ(c.Classify("Let $y^{2}$ be a polynomial; find all roots.").tier, Tier::kHard);
}

TEST(Training, IsDeterministicForASeed) {
  const auto texts = ToyTexts();
  TrainParams params;
  params.features.hash_bits = 12;
  const auto a = SerializeModel(TrainModel(ToyExamples(texts), params, "m"));
  const auto b = SerializeModel(TrainModel(ToyExamples(texts), params, "m"));
  EXPECT_EQ(a, b);
  params.seed = 2;
  EXPECT_NE(SerializeModel(TrainModel(ToyExamples(texts), params, "m")), a);
}

// The same property on real data: a 1,000-item subset of the training split, trained twice.
TEST(Training, IsDeterministicOnRealData) {
  const auto files = testing::ClassifierDataFiles();
  TRIAGE_REQUIRE_DATA(files);
  auto config = LoadClassifierConfig(testing::SourceDir() / "config/classifier.toml");
  ASSERT_TRUE(std::holds_alternative<ClassifierConfig>(config)) << std::get<std::string>(config);
  auto items = LoadLabeledItems(files, std::get<ClassifierConfig>(config), Split::kTrain);
  ASSERT_TRUE(std::holds_alternative<std::vector<LabeledItem>>(items));
  std::vector<TrainingExample> ex;
  const auto& all = std::get<std::vector<LabeledItem>>(items);
  for (size_t i = 0; i < all.size() && ex.size() < 1000; i += 13)
    ex.push_back({all[i].text, all[i].tier});
  TrainParams params;
  params.epochs = 3;
  EXPECT_EQ(SerializeModel(TrainModel(ex, params, "")), SerializeModel(TrainModel(ex, params, "")));
}

TEST(Training, RejectsNoExamples) {
  EXPECT_THROW(TrainModel({}, TrainParams{}, ""), std::invalid_argument);
}

}  // namespace
}  // namespace triage::classify
