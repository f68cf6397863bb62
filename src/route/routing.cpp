#include "route/routing.hpp"

#include <stdexcept>

namespace triage::route {

const Plan& RoutingOptions::PlanFor(std::string_view domain, core::Tier tier) const {
  const std::string name(core::ToString(tier));
  if (auto it = plans.find(std::string(domain) + "." + name); it != plans.end()) return it->second;
  if (auto it = plans.find(name); it != plans.end()) return it->second;
  throw std::logic_error("no plan for tier " + name);  // config loading fills every tier
}

Thresholds RoutingOptions::ThresholdsFor(std::string_view domain) const {
  if (auto it = thresholds.find(domain); it != thresholds.end()) return it->second;
  if (auto it = thresholds.find("default"); it != thresholds.end()) return it->second;
  return {};
}

}  // namespace triage::route
