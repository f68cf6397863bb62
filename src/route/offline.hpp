// Runs one job's plan to its end away from the service: every rung is called in place (nothing
// is handed to a queue), on a virtual clock where a step takes as long as its slowest call (the
// calls of a step run at once). The demo's strategy table and `triage bench` drive the engine
// through this, so the strategies they measure are the service's own code. Pure: `call` is the
// only way out, and the same calls give the same run.
#pragma once
#include <cstdint>
#include <functional>

#include "route/engine.hpp"

namespace triage::route {

struct OfflineRun {
  Progress progress;  // every call made, with its cost and latency, and the trail
  Finish finish;
  std::int64_t latency_ms = 0;  // virtual
};

// Makes one call of `call` (the `sample`-th of the job); a failed call is a CallResult without
// text.
using OfflineCall = std::function<CallResult(const CallModels& call, int sample)>;

// Throws std::logic_error if the engine hands the job off (it cannot, for Executor::kWorker).
OfflineRun RunOffline(const Engine& engine, const OfflineCall& call, const Budget& budget = {});

}  // namespace triage::route
