#include "route/policy.hpp"

namespace triage::route {

namespace {

const std::set<core::Tier>& For(
    std::string_view domain, const std::set<core::Tier>& tiers,
    const std::map<std::string, std::set<core::Tier>, std::less<>>& by_domain) {
  const auto it = by_domain.find(domain);
  return it == by_domain.end() ? tiers : it->second;
}

}  // namespace

std::string_view ToString(Route route) {
  switch (route) {
    case Route::kInline:
      return "inline";
    case Route::kVote:
      return "vote";
    case Route::kReasoning:
      return "reasoning";
  }
  return "reasoning";
}

Route Decide(const PolicyOptions& policy, std::string_view domain, core::Tier tier) {
  if (For(domain, policy.inline_tiers, policy.inline_tiers_by_domain).contains(tier))
    return Route::kInline;
  if (For(domain, policy.vote_tiers, policy.vote_tiers_by_domain).contains(tier))
    return Route::kVote;
  return Route::kReasoning;
}

}  // namespace triage::route
