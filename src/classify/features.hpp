// The trained classifier's inputs: hashed word uni/bigrams and character n-grams of a normalised
// text, plus a few dense hand features. Pure; thread-safe; never throws on any input bytes.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tier.hpp"

namespace triage::classify {

// Only the first kTrainedInputCap bytes of a task are read (cut back to a UTF-8 boundary):
// difficulty shows in a problem's statement, every training text is far shorter, and a 10 MB
// task must still be classified in microseconds. The seed heuristic's own cap is larger.
// The features do not run the seed heuristic: it cost a quarter of the time and added nothing.
inline constexpr size_t kTrainedInputCap = 8 * 1024;

// Which hashed features to extract; stored in the model file so inference matches training.
struct FeatureConfig {
  int hash_bits = 16;      // 2^hash_bits buckets shared by all hashed features
  int char_ngram_min = 4;  // character n-grams of the normalised text, n in [min, max] (1..8)
  int char_ngram_max = 4;
  bool word_bigrams = true;
};

enum class FeatureKind : uint8_t { kWord = 0, kWordBigram = 1, kChar = 2 };
inline constexpr int kFeatureKindCount = 3;

// One occurrence of a hashed feature; offset/length locate it in Features::normalized.
struct HashedFeature {
  uint32_t bucket;
  FeatureKind kind;
  uint32_t offset;
  uint32_t length;
};

// Dense hand features, in this order (names are what explanations print).
inline constexpr std::array<std::string_view, 19> kDenseNames = {
    "log_bytes",      "log_words",          "log_dollar_signs", "log_latex_commands",
    "log_numbers",    "log_longest_number", "log_math_symbols", "log_condition_words",
    "log_step_words", "log_sentences",      "log_questions",    "log_code_markers",
    "log_non_ascii",  "log_newlines",       "truncated",        "has_what",
    "has_how",        "has_find_verb",      "has_proof_word"};
inline constexpr int kDenseCount = static_cast<int>(kDenseNames.size());

struct Features {
  // Lower-cased (ASCII), digits folded to '0', whitespace runs collapsed to one space.
  std::string normalized;
  std::vector<HashedFeature> hashed;  // every occurrence, in text order (duplicates repeat)
  // Each hashed occurrence counts 1/sqrt(occurrences of its kind): long and short texts get
  // comparable scales without deduplicating (which would cost more than the whole dot product).
  std::array<float, kFeatureKindCount> kind_scale{};
  std::array<float, kDenseCount> dense{};  // raw values; the model standardises them
  // A word that may start a proof request (prove, proving, proof, show, verify) occurs.
  bool proof_candidate = false;
};

// Fills `out` (reusing its buffers) from `text`. Requires a valid config (see Validate).
void ExtractFeatures(std::string_view text, const FeatureConfig& config, Features& out);

// The inference fast path: the same features as ExtractFeatures, but each hashed occurrence's
// weight row is added straight into a per-kind sum instead of being stored.
struct FeatureSums {
  std::string normalized;  // scratch
  std::array<std::array<float, core::kTierCount>, kFeatureKindCount> sums{};
  std::array<float, kFeatureKindCount> kind_scale{};
  std::array<float, kDenseCount> dense{};
  bool proof_candidate = false;
};
// `hashed_weights`: kTierCount floats per bucket, 2^config.hash_bits buckets.
void SumFeatures(std::string_view text, const FeatureConfig& config, const float* hashed_weights,
                 FeatureSums& out);

// Empty when the config is usable, else what is wrong.
std::string Validate(const FeatureConfig& config);

// Human-readable name of an occurrence, e.g. "word:prove", "bigram:prove that", "char:\"ove\"".
std::string FeatureName(const Features& features, const HashedFeature& feature);

}  // namespace triage::classify
