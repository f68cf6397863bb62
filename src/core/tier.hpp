// Difficulty tiers, from the seed's taxonomy. Ordered: a later tier is harder.
#pragma once
#include <array>
#include <optional>
#include <string_view>

namespace triage::core {

enum class Tier { kTrivial = 0, kEasy, kMedium, kHard, kRequiresReasoning };
inline constexpr int kTierCount = 5;
inline constexpr std::array<Tier, kTierCount> kAllTiers = {
    Tier::kTrivial, Tier::kEasy, Tier::kMedium, Tier::kHard, Tier::kRequiresReasoning};

// Wire names: "trivial", "easy", "medium", "hard", "requires_reasoning".
std::string_view ToString(Tier tier);
std::optional<Tier> ParseTier(std::string_view name);

}  // namespace triage::core
