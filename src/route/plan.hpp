// A routing plan: the stages a job's strategy runs, in order, over the rungs of a model ladder.
// Written in config as a chain, e.g. for easy math
//   "cascade(standard) -> self_consistency(standard, n=5) -> escalate(reasoning)"
// Stage forms (rung names are the ladder's; thresholds default to the domain's):
//   direct(rung)                          one call; kept unless its verdict fails
//   cascade(rung, confidence=0.8)         kept when it verifies and its confidence reaches 0.8
//   best_of_n(rung, n=4, parallel=true)   up to n samples, the first that verifies wins
//   self_consistency(rung, n=5, share=0.6) n samples grouped by equivalence, the majority wins
//                                         when its vote share reaches 0.6; with
//                                         early_stop=true (the default) samples stop once
//                                         the rest could not change the decision
//   escalate(rung)                        one call on a rung served by the reasoning queue
// Pure: parsing never throws; errors name the stage and what is wrong.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace triage::route {

enum class StageKind { kDirect, kCascade, kBestOfN, kSelfConsistency, kEscalate };
std::string_view ToString(StageKind kind);
std::optional<StageKind> ParseStageKind(std::string_view name);  // the names ToString gives

struct Stage {
  StageKind kind = StageKind::kDirect;
  std::string rung;
  int n = 1;                             // samples: best_of_n, self_consistency
  bool parallel = true;                  // best_of_n: all n at once, or one at a time
  std::optional<double> min_confidence;  // cascade: overrides the domain's threshold
  std::optional<double> min_share;       // self_consistency: overrides the domain's threshold
  // self_consistency: buy only the samples that can still change the decision (the first
  // wave is the votes that could decide it; then one at a time), or all n at once.
  bool early_stop = true;
  bool operator==(const Stage&) const = default;
};

struct Plan {
  std::vector<Stage> stages;
  bool operator==(const Plan&) const = default;
};

// "cascade(standard) -> escalate(reasoning)"; the error says which stage and why.
std::variant<Plan, std::string> ParsePlan(std::string_view spec);
// The canonical spelling, which ParsePlan reads back to the same plan.
std::string ToString(const Plan& plan);

}  // namespace triage::route
