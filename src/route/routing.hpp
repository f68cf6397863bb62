// What the router runs for a job: the model ladder, a plan per domain x tier, and each domain's
// acceptance thresholds (config: [ladder.<rung>], [strategy], [strategy.<domain>],
// [thresholds.<domain>]). Pure; thread-safe to read.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "core/tier.hpp"
#include "route/engine.hpp"
#include "route/plan.hpp"

namespace triage::route {

struct RoutingOptions {
  Ladder ladder;
  // Plans by "<domain>.<tier>", then "<tier>"; every tier has one ("trivial" ...
  // "requires_reasoning").
  std::map<std::string, Plan, std::less<>> plans;
  // Thresholds by domain; "default" for domains without their own.
  std::map<std::string, Thresholds, std::less<>> thresholds;
  // The temperature of the calls best_of_n and self_consistency sample with.
  double sample_temperature = 0.7;

  const Plan& PlanFor(std::string_view domain, core::Tier tier) const;
  Thresholds ThresholdsFor(std::string_view domain) const;
};

}  // namespace triage::route
