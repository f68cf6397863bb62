#include "replay/split.hpp"

namespace triage::replay {

std::optional<classify::Split> ParseReplaySplit(std::string_view name) {
  if (name == "test") return classify::Split::kHeldOut;
  return classify::ParseSplit(name);
}

ReplaySet SelectSplit(const ReplaySet& set, classify::Split split) {
  return SelectItems(set, [split](const Item& item) {
    switch (split) {
      case classify::Split::kAll:
        return true;
      case classify::Split::kHeldOut:
        return classify::IsHeldOut(item.id);
      case classify::Split::kTrain:
        return !classify::IsHeldOut(item.id);
    }
    return false;
  });
}

}  // namespace triage::replay
