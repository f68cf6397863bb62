// The seed document's rule-based difficulty classifier, rule for rule. Pure and thread-safe.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/tier.hpp"

namespace triage::classify {

struct Classification {
  core::Tier tier = core::Tier::kEasy;
  std::vector<std::string> reasons;  // which rules fired, e.g. "competition:find all"
};

// Input longer than kHeuristicInputCap bytes is cut there: the rules are substring and word
// counts, and a 10 MB task must still be classified in bounded time.
inline constexpr size_t kHeuristicInputCap = 64 * 1024;

Classification ClassifyHeuristic(std::string_view task);

}  // namespace triage::classify
