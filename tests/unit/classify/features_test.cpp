// One test per feature family: normalisation, char n-grams, word tokens and bigrams, each dense
// hand feature, scaling, the input cap, and the fast path agreeing with the full one.
#include "classify/features.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "classify/model_file.hpp"

namespace triage::classify {
namespace {

int DenseIndex(std::string_view name) {
  const auto it = std::find(kDenseNames.begin(), kDenseNames.end(), name);
  EXPECT_NE(it, kDenseNames.end()) << name;
  return static_cast<int>(it - kDenseNames.begin());
}

Features Extract(std::string_view text, FeatureConfig config = {}) {
  Features f;
  ExtractFeatures(text, config, f);
  return f;
}

float Dense(std::string_view text, std::string_view name) {
  return Extract(text).dense[DenseIndex(name)];
}

std::vector<std::string> Names(const Features& f, FeatureKind kind) {
  std::vector<std::string> names;
  for (const auto& h : f.hashed)
    if (h.kind == kind) names.push_back(FeatureName(f, h));
  return names;
}

TEST(Features, NormalisesCaseDigitsAndWhitespace) {
  EXPECT_EQ(Extract("Find  X\n\tin 2024!").normalized, "find x in 0000!");
}

TEST(Features, CharNgramsCoverEveryWindow) {
  FeatureConfig config;
  config.char_ngram_min = 3;
  config.char_ngram_max = 4;
  const auto f = Extract("abcde", config);
  const auto chars = Names(f, FeatureKind::kChar);
  // 3-grams abc bcd cde, 4-grams abcd bcde, in order of their last byte.
  EXPECT_EQ(chars, (std::vector<std::string>{"char:\"abc\"", "char:\"bcd\"", "char:\"abcd\"",
                                             "char:\"cde\"", "char:\"bcde\""}));
}

TEST(Features, NoCharNgramsWhenMinExceedsMax) {
  FeatureConfig config;
  config.char_ngram_min = 5;
  config.char_ngram_max = 4;
  EXPECT_TRUE(Names(Extract("abcdefgh", config), FeatureKind::kChar).empty());
}

TEST(Features, WordTokensSplitLettersNumbersLatexAndPunctuation) {
  const auto f = Extract("Let \\frac x=12.");
  EXPECT_EQ(Names(f, FeatureKind::kWord),
            (std::vector<std::string>{"word:let", "word:\\frac", "word:x", "word:=", "word:00",
                                      "word:."}));
  EXPECT_EQ(Names(f, FeatureKind::kWordBigram),
            (std::vector<std::string>{"bigram:let \\frac", "bigram:\\frac x",
                                      "bigram:x=", "bigram:=00", "bigram:00."}));
}

TEST(Features, BigramsCanBeSwitchedOff) {
  FeatureConfig config;
  config.word_bigrams = false;
  EXPECT_TRUE(Names(Extract("a b c", config), FeatureKind::kWordBigram).empty());
}

TEST(Features, EqualTextsHashToEqualBuckets) {
  const auto a = Extract("prove that"), b = Extract("PROVE  that");
  ASSERT_EQ(a.hashed.size(), b.hashed.size());
  for (size_t i = 0; i < a.hashed.size(); ++i) EXPECT_EQ(a.hashed[i].bucket, b.hashed[i].bucket);
}

TEST(Features, BucketsStayInRange) {
  FeatureConfig config;
  config.hash_bits = 10;
  for (const auto& h : Extract("some text with \\latex and 123 numbers", config).hashed)
    EXPECT_LT(h.bucket, 1u << 10);
}

TEST(Features, KindScaleIsInverseSqrtOfOccurrences) {
  const auto f = Extract("a b c d");  // 4 words, 3 bigrams, 4 char 4-grams ("a b ", ...)
  EXPECT_FLOAT_EQ(f.kind_scale[static_cast<int>(FeatureKind::kWord)], 0.5f);
  EXPECT_FLOAT_EQ(f.kind_scale[static_cast<int>(FeatureKind::kWordBigram)], 1 / std::sqrt(3.0f));
  EXPECT_FLOAT_EQ(f.kind_scale[static_cast<int>(FeatureKind::kChar)], 0.5f);
  EXPECT_FLOAT_EQ(Extract("").kind_scale[0], 0.0f);
}

TEST(Features, DenseCountsLengthWordsAndSymbols) {
  EXPECT_FLOAT_EQ(Dense("abcd", "log_bytes"), std::log1p(4.0f));
  EXPECT_FLOAT_EQ(Dense("one two three", "log_words"), std::log1p(3.0f));
  EXPECT_FLOAT_EQ(Dense("$x$ and $y$", "log_dollar_signs"), std::log1p(4.0f));
  EXPECT_FLOAT_EQ(Dense("\\frac{1}{2} \\sqrt 3 \\", "log_latex_commands"), std::log1p(2.0f));
  EXPECT_FLOAT_EQ(Dense("1, 22 and 333", "log_numbers"), std::log1p(3.0f));
  EXPECT_FLOAT_EQ(Dense("1, 22 and 333", "log_longest_number"), std::log1p(3.0f));
  EXPECT_FLOAT_EQ(Dense("a=b+c*d/e^f_g<h>i|j", "log_math_symbols"), std::log1p(9.0f));
  EXPECT_FLOAT_EQ(Dense("One. Two? Three! 3.5", "log_sentences"), std::log1p(3.0f));
  EXPECT_FLOAT_EQ(Dense("Why? Why not?", "log_questions"), std::log1p(2.0f));
  EXPECT_FLOAT_EQ(Dense("a\nb\nc", "log_newlines"), std::log1p(2.0f));
  EXPECT_FLOAT_EQ(Dense("caf\u00e9", "log_non_ascii"), std::log1p(2.0f));
}

TEST(Features, DenseCountsCodeMarkers) {
  EXPECT_FLOAT_EQ(
      Dense("def f(x):\n    \"\"\" >>> f(1)\n    \"\"\"\n    return x", "log_code_markers"),
      std::log1p(3.0f));
  EXPECT_FLOAT_EQ(Dense("Write a function. ```py```", "log_code_markers"), std::log1p(3.0f));
  EXPECT_FLOAT_EQ(Dense("undefined returns", "log_code_markers"), 0.0f);
}

TEST(Features, DenseCountsConditionStepAndQuestionWords) {
  EXPECT_FLOAT_EQ(Dense("x and y Or z, if w", "log_condition_words"), std::log1p(3.0f));
  EXPECT_FLOAT_EQ(Dense("First this, then that, finally next.", "log_step_words"),
                  std::log1p(4.0f));
  EXPECT_FLOAT_EQ(Dense("What is x?", "has_what"), 1.0f);
  EXPECT_FLOAT_EQ(Dense("somewhat", "has_what"), 0.0f);
  EXPECT_FLOAT_EQ(Dense("How many apples?", "has_how"), 1.0f);
  EXPECT_FLOAT_EQ(Dense("Compute 2+2.", "has_find_verb"), 1.0f);
  EXPECT_FLOAT_EQ(Dense("Determine x.", "has_find_verb"), 1.0f);
  EXPECT_FLOAT_EQ(Dense("Show that x > 0.", "has_proof_word"), 1.0f);
  EXPECT_FLOAT_EQ(Dense("We improve it.", "has_proof_word"), 0.0f);
}

TEST(Features, FlagsPossibleProofRequests) {
  EXPECT_TRUE(Extract("Prove it").proof_candidate);
  EXPECT_TRUE(Extract("give a proof").proof_candidate);
  EXPECT_FALSE(Extract("improve and approve").proof_candidate);
}

TEST(Features, InputIsCappedAtAUtf8Boundary) {
  std::string text(kTrainedInputCap - 1, 'a');
  text += "\u00e9\u00e9";  // the cap falls inside the first two-byte character
  const auto f = Extract(text);
  EXPECT_EQ(f.normalized.size(), kTrainedInputCap - 1);
  EXPECT_FLOAT_EQ(f.dense[DenseIndex("truncated")], 1.0f);
  EXPECT_FLOAT_EQ(Dense("short", "truncated"), 0.0f);
}

TEST(Features, FastPathSumsMatchTheFullExtraction) {
  ModelParams p;
  p.features = FeatureConfig{};
  const size_t buckets = size_t{1} << p.features.hash_bits;
  p.hashed_weights.resize(buckets * core::kTierCount);
  for (size_t i = 0; i < p.hashed_weights.size(); ++i)
    p.hashed_weights[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  p.dense_weights.assign(kDenseCount * core::kTierCount, 0.1f);
  p.dense_inv_std.fill(1.0f);
  const std::string text =
      "Let $f(x) = x^2$. Find all real x such that f(x) = 4, and then prove it.";
  Features f;
  ExtractFeatures(text, p.features, f);
  FeatureSums s;
  SumFeatures(text, p.features, p.hashed_weights.data(), s);
  EXPECT_EQ(f.dense, s.dense);
  EXPECT_EQ(f.kind_scale, s.kind_scale);
  const auto a = ComputeLogits(p, f), b = ComputeLogits(p, s);
  for (int c = 0; c < core::kTierCount; ++c) EXPECT_NEAR(a[c], b[c], 1e-4f);
}

TEST(Features, ValidateRejectsBadConfigs) {
  EXPECT_EQ(Validate(FeatureConfig{}), "");
  EXPECT_NE(Validate(FeatureConfig{.hash_bits = 30}), "");
  EXPECT_NE(Validate(FeatureConfig{.char_ngram_min = 0}), "");
  EXPECT_NE(Validate(FeatureConfig{.char_ngram_min = 3, .char_ngram_max = 9}), "");
}

}  // namespace
}  // namespace triage::classify
