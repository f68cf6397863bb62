#include "route/offline.hpp"

#include <algorithm>
#include <stdexcept>

namespace triage::route {

OfflineRun RunOffline(const Engine& engine, const OfflineCall& call, const Budget& budget) {
  OfflineRun run;
  // A plan has at most 64 samples a stage and a handful of stages; the guard only stops a
  // defect from looping for ever.
  for (int step = 0;; ++step) {
    if (step == 1000) {
      run.finish = engine.Degrade(run.progress, "the plan did not end within 1000 steps");
      return run;
    }
    const auto action = engine.Next(run.progress, Executor::kWorker, budget, run.latency_ms);
    if (const auto* finish = std::get_if<Finish>(&action)) {
      run.finish = *finish;
      return run;
    }
    const auto* calls = std::get_if<CallModels>(&action);
    if (!calls) throw std::logic_error("the engine handed off a job run by Executor::kWorker");
    std::vector<CallResult> results;
    std::int64_t slowest = 0;
    for (int i = 0; i < calls->count; ++i) {
      results.push_back(call(*calls, calls->first_sample + i));
      slowest = std::max<std::int64_t>(slowest, results.back().latency.count());
    }
    run.latency_ms += slowest;
    engine.Observe(run.progress, *calls, std::move(results));
  }
}

}  // namespace triage::route
