// Routing policy: which tiers a domain answers inline first, which it votes on first, and which
// go straight to the reasoning queue (the default plans of config's [strategy] follow it), and
// when the classifier is too unsure of a tier to trust it. Pure.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/tier.hpp"

namespace triage::route {

enum class Route { kInline, kVote, kReasoning };
std::string_view ToString(Route route);

struct PolicyOptions {
  // `policy.inline_tiers`: tiers answered inline unless the domain overrides them.
  std::set<core::Tier> inline_tiers = {core::Tier::kTrivial, core::Tier::kEasy};
  // `policy.domain.<name>.inline_tiers`
  std::map<std::string, std::set<core::Tier>, std::less<>> inline_tiers_by_domain;
  // `policy.vote_tiers`: tiers (not answered inline) voted on first -- the seed's
  // self-consistency for medium tasks -- unless the domain overrides them.
  std::set<core::Tier> vote_tiers = {core::Tier::kMedium};
  // `policy.domain.<name>.vote_tiers`
  std::map<std::string, std::set<core::Tier>, std::less<>> vote_tiers_by_domain;
  // `policy.confidence_cut`: when the trained classifier's probability for its tier is below
  // this, the task is routed as one tier harder (0 turns it off; the heuristic has none).
  double confidence_cut = 0.0;
};

Route Decide(const PolicyOptions& policy, std::string_view domain, core::Tier tier);

}  // namespace triage::route
