// The seed document's rule-based difficulty classifier, rule for rule, and the Classification
// every classifier returns. Pure and thread-safe; never throws on any input bytes.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tier.hpp"

namespace triage::classify {

// One input feature's push towards the chosen tier (trained model only).
struct FeatureContribution {
  std::string name;     // e.g. "word:prove", "char:\"ove\"", "hand:latex_commands"
  double weight = 0.0;  // push towards the model's most probable tier: its logit minus the mean
};

struct Classification {
  core::Tier tier = core::Tier::kEasy;
  std::vector<std::string> reasons;  // which rules fired, e.g. "competition:find all"
  // Trained model only: P(tier) indexed by static_cast<int>(Tier), summing to 1.
  std::optional<std::array<double, core::kTierCount>> probabilities;
  std::vector<FeatureContribution> top_features;  // trained model only; strongest first
};

// Input longer than kHeuristicInputCap bytes is cut there: the rules are substring and word
// counts, and a 10 MB task must still be classified in bounded time.
inline constexpr size_t kHeuristicInputCap = 64 * 1024;

Classification ClassifyHeuristic(std::string_view task);

// What the seed's rules see in a text, without building reason strings (the trained model uses
// these as hand features). Same cap as ClassifyHeuristic.
struct HeuristicSignals {
  core::Tier tier = core::Tier::kEasy;
  int conditions = 0;  // seed's \band\b|\bor\b|\bif\b|\bwhen\b|\bgiven\b, case-sensitive
  int steps = 0;       // seed's \bstep\b|\bfirst\b|\bthen\b|\bfinally\b|\bnext\b
  int competition_indicator = -1;  // index of the first competition indicator found, or -1
  int formal_term = -1;            // index of the first formal-proof term found, or -1
  int trivial_phrase = -1;         // index of the first trivial question phrase found, or -1
};
HeuristicSignals AnalyzeHeuristic(std::string_view task);

}  // namespace triage::classify
