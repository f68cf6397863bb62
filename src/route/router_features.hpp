// The learned router's inputs (docs/learned_router.md): one definition of the features, used by
// training (learn/) and by the predictor (learned_router.hpp), so the two never drift apart.
// "before" rows describe a task; "after" rows add the features of one answer to it.
// Pure; thread-safe; never throws on any input text.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "classify/features.hpp"
#include "core/tier.hpp"

namespace triage::route {

enum class RouterKind : uint8_t {
  kBefore = 0,  // P(model correct | task): where to start
  kAfter = 1,   // P(this answer correct | task, answer): accept or escalate
};
std::string_view ToString(RouterKind kind);  // "before", "after"
std::optional<RouterKind> ParseRouterKind(std::string_view name);

// What is known of a task before any call.
struct RouterTask {
  std::string_view text;  // empty when the set records no text (e.g. pass rates only)
  // The difficulty classifier's P(tier); nullopt when no trained classifier ran (e.g. no text).
  std::optional<std::array<double, core::kTierCount>> tier_probabilities;
  // Categorical labels such as ("domain", "math"), ("difficulty", "hard"), ("platform", "x"):
  // each "key=value" in the model's vocabulary becomes a 0/1 feature; others are ignored.
  std::vector<std::pair<std::string, std::string>> labels;
};

// One answer to the task, and (optionally) other samples of the same task for agreement.
struct RouterAnswer {
  std::string_view response;
  std::vector<std::string> other_samples;  // empty: agreement features are 0
};

// How features are laid out; stored in the model file so inference matches training.
struct RouterFeatureConfig {
  RouterKind kind = RouterKind::kBefore;
  classify::FeatureConfig text;         // hashed features of the task text (the classifier's)
  bool answer_text = false;             // after: also hash the answer's words into the same space
  std::vector<std::string> vocabulary;  // "key=value" labels with a 0/1 feature, in order
};

// Dense features, in this order (the label indicators follow them, one per vocabulary entry).
// Task part: has_text, the classifier's hand features, P(tier) per tier, has_tier_probabilities.
// Answer part (after only): see kAnswerDenseNames.
inline constexpr std::array<std::string_view, 31> kAnswerDenseNames = {
    "log_answer_bytes",   "log_length_ratio",    "extracted",         "method_hashes",
    "method_boxed",       "method_final_answer", "method_answer_is",  "method_latex_env",
    "method_last_number", "method_whole",        "answer_tail_share", "answer_integer",
    "answer_decimal",     "answer_fraction",     "answer_negative",   "answer_other_form",
    "log_answer_chars",   "steps_passed",        "steps_failed",      "steps_none",
    "log_step_claims",    "log_wrong_steps",     "wrong_step_share",  "log_hedges",
    "has_hedge",          "self_report_given",   "self_confidence",   "ends_cleanly",
    "log_samples",        "sample_agreement",    "has_samples"};
inline constexpr int kAnswerDenseCount = static_cast<int>(kAnswerDenseNames.size());
inline constexpr int kTaskDenseCount = 1 + classify::kDenseCount + core::kTierCount + 1;

// Number and names of the dense features a config produces.
int DenseCount(const RouterFeatureConfig& config);
std::vector<std::string> DenseNames(const RouterFeatureConfig& config);

struct RouterRow {
  std::vector<std::pair<uint32_t, float>> hashed;  // (bucket, value), duplicates allowed
  std::vector<float> dense;                        // DenseCount(config) values
};

// kAfter reads `answer` (nullptr: an empty response); kBefore ignores it.
RouterRow BuildRouterRow(const RouterFeatureConfig& config, const RouterTask& task,
                         const RouterAnswer* answer);

// "key=value", the vocabulary's spelling of a label.
std::string LabelKey(std::string_view key, std::string_view value);

}  // namespace triage::route
