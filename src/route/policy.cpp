#include "route/policy.hpp"

namespace triage::route {

std::string_view ToString(Route route) { return route == Route::kInline ? "inline" : "reasoning"; }

Route Decide(const PolicyOptions& policy, std::string_view domain, core::Tier tier) {
  const auto it = policy.inline_tiers_by_domain.find(domain);
  const auto& inline_tiers =
      it == policy.inline_tiers_by_domain.end() ? policy.inline_tiers : it->second;
  return inline_tiers.contains(tier) ? Route::kInline : Route::kReasoning;
}

}  // namespace triage::route
