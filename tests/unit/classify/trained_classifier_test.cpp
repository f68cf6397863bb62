// The shipped trained classifier on bad input (always a tier, read only to the cap), its
// explanations, and concurrent use.
#include "classify/trained_classifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <thread>

#include "classify/features.hpp"
#include "test_data.hpp"

namespace triage::classify {
namespace {

const TrainedClassifier& Shipped() {
  static const auto loaded =
      TrainedClassifier::Load(testing::SourceDir() / "models/classifier.bin");
  if (!loaded) ADD_FAILURE() << loaded.error;
  return *loaded.classifier;
}

void ExpectWellFormed(const Classification& c) {
  ASSERT_TRUE(c.probabilities.has_value());
  const auto& p = *c.probabilities;
  EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-9);
  for (double v : p) EXPECT_TRUE(v >= 0 && v <= 1);
  EXPECT_EQ(static_cast<int>(c.tier), std::max_element(p.begin(), p.end()) - p.begin());
}

TEST(TrainedClassifier, BadInputStillGetsATier) {
  const std::string emoji = "\U0001F600\U0001F680\U0001F389\U0001F914";
  const std::string only_latex = "$$\\int_0^\\infty \\frac{\\sin x}{x}\\,dx = \\frac{\\pi}{2}$$";
  const std::string invalid_utf8 = "Find \xff\xfe x \xc3 such that \xe2\x82 x^2 = 4 \xf0\x9f";
  const std::string huge(10 * 1024 * 1024, 'q');
  const std::string nul_bytes("a\0b\0c", 5);
  for (const auto* text : {&emoji, &only_latex, &invalid_utf8, &huge, &nul_bytes}) {
    SCOPED_TRACE(std::to_string(text->size()) + " bytes");
    ExpectWellFormed(Shipped().Classify(*text));
  }
  ExpectWellFormed(Shipped().Classify(""));
  ExpectWellFormed(Shipped().Classify("", 0));
}

// How long a 10 MB task takes is bench/classify's business (BM_TrainedClassify10MB); what a test
// can pin down is the reason it is fast: nothing past the cap is read, however much follows.
TEST(TrainedClassifier, ATenMegabyteTaskIsJudgedOnItsFirstCapBytesOnly) {
  std::string head;
  while (head.size() < kTrainedInputCap) head += "Natalia sold 48 clips in April. ";
  head.resize(kTrainedInputCap);
  std::string tail;
  while (tail.size() < 10 * 1024 * 1024)
    tail += "Prove that $p^2 - 1$ is divisible by $24$ for every prime $p > 3$. ";
  const auto huge = Shipped().Classify(head + tail, 0);
  const auto just_over = Shipped().Classify(head + "?", 0);  // truncated too, by one byte
  ExpectWellFormed(huge);
  EXPECT_EQ(huge.tier, just_over.tier);
  EXPECT_EQ(*huge.probabilities, *just_over.probabilities);
  // The tail's text would move the verdict were it read: inside the cap, it does.
  const auto half = Shipped().Classify(
      head.substr(0, kTrainedInputCap / 2) + tail.substr(0, kTrainedInputCap / 2) + "?", 0);
  EXPECT_NE(*half.probabilities, *just_over.probabilities);
}

TEST(TrainedClassifier, FastPathAgreesWithExplainedPath) {
  for (const char* text : {"Natalia sold clips to 48 of her friends in April.",
                           "Find all positive integers $n$ such that $n^2+1$ divides $n!$.",
                           "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n"}) {
    const auto fast = Shipped().Classify(text, 0);
    const auto explained = Shipped().Classify(text);
    EXPECT_EQ(fast.tier, explained.tier);
    for (int c = 0; c < core::kTierCount; ++c)
      EXPECT_NEAR((*fast.probabilities)[c], (*explained.probabilities)[c], 1e-5);
    EXPECT_TRUE(fast.top_features.empty());
  }
}

TEST(TrainedClassifier, ExplainsWithStrongestFeaturesFirst) {
  const auto c =
      Shipped().Classify("Let $a$ and $b$ be positive integers. Find the minimum of $a^2+b^2$.", 4);
  ASSERT_EQ(c.top_features.size(), 4u);
  for (size_t i = 1; i < c.top_features.size(); ++i)
    EXPECT_GE(c.top_features[i - 1].weight, c.top_features[i].weight);
  for (const auto& f : c.top_features) EXPECT_FALSE(f.name.empty());
  ASSERT_FALSE(c.reasons.empty());
  EXPECT_EQ(c.reasons[0].rfind("model:p=", 0), 0u);
}

TEST(TrainedClassifier, SeparatesTheDataSetsClearDifferences) {
  EXPECT_EQ(Shipped()
                .Classify("Tom has 3 apples and buys 5 more. How many apples does he have now?")
                .tier,
            core::Tier::kEasy);
  EXPECT_EQ(Shipped().Classify("Write a python function to reverse a list.").tier,
            core::Tier::kEasy);
}

TEST(TrainedClassifier, RaisesProofRequestsToReasoning) {
  for (const char* text : {"Prove that the square root of 2 is irrational.",
                           "Show that every bounded monotone sequence converges.",
                           "Give a formal proof that this sort is correct.",
                           "Let $n>1$. Show that $n^4+4$ is composite."}) {
    const auto c = Shipped().Classify(text, 0);
    EXPECT_EQ(c.tier, core::Tier::kRequiresReasoning) << text;
    ASSERT_EQ(c.reasons.size(), 2u) << text;
    EXPECT_EQ(c.reasons[1].rfind("rule:proof request", 0), 0u) << c.reasons[1];
  }
  // Whole words, and "show that" / "proof" only as requests: none of these is one.
  for (const char* text : {"How can Tom improve his savings by $5 a week?",
                           "The waterproof jacket costs $40. What is the total?",
                           "Their results show that the colony doubled. How many penguins?",
                           "Let the dough proof for 2 hours. How long does baking take?"})
    EXPECT_EQ(Shipped().Classify(text, 0).reasons.size(), 1u) << text;
}

TEST(TrainedClassifier, IsSafeToShareAcrossThreads) {
  const std::vector<std::string> texts = {
      "What is 2+2?", "Prove that there are infinitely many primes.",
      "Compute $\\sum_{k=1}^{10} k^2$.", "Write a function to sort."};
  std::vector<core::Tier> expected;
  for (const auto& t : texts) expected.push_back(Shipped().Classify(t).tier);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        for (size_t k = 0; k < texts.size(); ++k)
          if (Shipped().Classify(texts[k], i % 2 ? 3 : 0).tier != expected[k]) ++mismatches;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace triage::classify
