// The fixed held-out split of a replay set: the classifier's own split function
// (classify::IsHeldOut, a hash of the item id), so an item a classifier trained on is never in
// a replay's held-out ("test") split. Pure.
#pragma once
#include <optional>
#include <string_view>

#include "classify/dataset.hpp"
#include "replay/set.hpp"

namespace triage::replay {

// "test" (the held-out split; "heldout" too), "train" or "all".
std::optional<classify::Split> ParseReplaySplit(std::string_view name);

// The items of `split` and their outcomes.
ReplaySet SelectSplit(const ReplaySet& set, classify::Split split);

}  // namespace triage::replay
