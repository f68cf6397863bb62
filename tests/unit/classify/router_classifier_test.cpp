// What the router gets: the trained model when it loads, the seed heuristic otherwise.
#include "classify/router_classifier.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_data.hpp"

namespace triage::classify {
namespace {

TEST(RouterClassifier, UsesTheShippedModelFromConfig) {
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(testing::SourceDir());  // the model path is project-relative
  const auto router = MakeRouterClassifierFromConfig("config/classifier.toml");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(router.trained) << router.note;
  const auto c = router.classify("Find all primes $p$ such that $p^2+2$ is prime.");
  ASSERT_TRUE(c.probabilities.has_value());
  ASSERT_GE(c.reasons.size(), 2u);
  EXPECT_EQ(c.reasons.front().rfind("model:p=", 0), 0u);
  EXPECT_EQ(c.reasons.back(), "heuristic:requires_reasoning");
}

TEST(RouterClassifier, FallsBackToTheHeuristicAndSaysWhy) {
  const auto none = MakeRouterClassifier("");
  EXPECT_FALSE(none.trained);
  EXPECT_EQ(none.classify("What is 2+2?").tier, core::Tier::kTrivial);

  const auto path = std::filesystem::temp_directory_path() / "triage_router_corrupt.bin";
  std::ofstream(path) << "TRIAGECM garbage";
  const auto corrupt = MakeRouterClassifier(path);
  EXPECT_FALSE(corrupt.trained);
  EXPECT_NE(corrupt.note.find("truncated"), std::string::npos) << corrupt.note;
  EXPECT_FALSE(corrupt.classify("Prove it").probabilities.has_value());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace triage::classify
