// The routing engine's driver in the service: runs a job's plan as its lease holder. Each
// CallModels the engine asks for becomes that many calls through the model layer, made at once
// (the layer's concurrency limits queue what must wait), each call's attempt row written as it
// starts (a holder that dies mid-call leaves it) and completed as it returns; the
// answers are checked off the io thread (code runs in the sandbox), and the lease is checked
// and renewed while the run lasts: once it is gone (cancelled, taken over, finished elsewhere)
// the calls in flight are cut off (recorded "abandoned") and the run ends, degraded. The run
// ends at a hand-off to the reasoning queue or a finish; the role stores what it returns
// (escalate, or complete).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/steps.hpp"
#include "route/engine.hpp"
#include "route/plan.hpp"
#include "store/jobs.hpp"

namespace triage::app {

struct PlanRun {
  route::Plan plan;
  route::Progress progress;
  std::variant<route::HandOff, route::Finish> end;
  // The attempts this run wrote as its calls started and returned, and their cost.
  std::size_t attempts = 0;
  core::Micros cost = 0;
};

// The plan a job starts with (its domain and tier), or the one it carries with its progress.
std::pair<route::Plan, route::Progress> PlanOf(const Steps& steps, const store::JobRecord& job,
                                               core::Tier tier);

// `role` names the attempts ("inline" | "reasoning"). `lease` is renewed in place.
boost::asio::awaitable<PlanRun> RunPlan(std::shared_ptr<Steps> steps, store::JobRecord job,
                                        Lease& lease, route::Executor executor, route::Plan plan,
                                        route::Progress progress, std::string role);

// The completion a finished run makes: answer, result, verification, decision trail, attempts.
store::Completion CompletionOf(const PlanRun& run);

}  // namespace triage::app
