// The demo's strategy table: each strategy (a plan per tier) run through the routing engine
// offline, on the demo's jobs, against the simulated models on a virtual clock; then judged
// against the workload's true answers. Only the judging sees them: the engine checks answers the
// way the service does for a math job without a verify spec (step checks, no gold), and the
// models see the answers only as the sim's hints, as they do live.
//
// Pure and deterministic: the same jobs (ids seed the sim's draws, so the live run's ids give the
// live run's draws), models and seed give the same rows. Throws std::invalid_argument for a plan
// the ladder cannot run or a rung whose model is not simulated.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.hpp"
#include "app/workload.hpp"
#include "core/money.hpp"
#include "core/tier.hpp"
#include "route/engine.hpp"
#include "route/plan.hpp"
#include "route/routing.hpp"

namespace triage::app {

struct OfflineJob {
  std::string id;  // the sim's draws are seeded by it
  Problem problem;
  core::Tier tier;  // as the router classifies the task
};

// What a strategy runs for a job of a tier.
struct StrategyChoice {
  route::Plan plan;
  route::Thresholds thresholds;
};
struct Strategy {
  std::string name;
  std::string description;  // empty: its plan per tier
  std::function<StrategyChoice(core::Tier)> choose;
};

// The ladder and the simulated models behind its rungs.
struct OfflineModels {
  route::Ladder ladder;
  std::map<std::string, ModelConfig> models;
  std::uint64_t sim_seed = 42;
  double time_scale = 1.0;  // latencies as the sim scales them live
};
OfflineModels OfflineModelsOf(const Config& config);

struct JobRun {
  route::Plan plan;          // what ran (an oracle's is empty)
  route::Progress progress;  // every call made, with its cost and latency, and the trail
  route::Finish finish;
  bool correct = false;         // the final answer equals the true one (verify::VerifyMath)
  std::int64_t latency_ms = 0;  // virtual: each step takes its slowest call (calls run at once)
};

struct StrategyRow {
  std::string name;
  std::string description;
  std::vector<JobRun> jobs;  // in the order of the jobs run
  int count = 0;             // jobs
  int correct = 0;
  core::Micros cost = 0;  // the sum of every call's cost
  double p50_s = 0, p95_s = 0;
  int reached_queued = 0;              // jobs with a call on a rung served by the reasoning queue
  int escalated = 0;                   // jobs a stage passed on to a later stage
  std::map<std::string, int> reasons;  // those steps by kind of reason (route::ReasonKind)
  int unaccepted = 0;  // jobs whose plan ran out with no answer accepted (the best is returned)
};

// The demo's judgement of an answer: mathematically equal to the problem's true answer.
bool IsCorrect(const Problem& problem, const std::string& answer);

// Runs `strategy` on every job (Executor::kWorker: every rung is called here, none handed off).
StrategyRow RunStrategy(const std::vector<OfflineJob>& jobs, const Strategy& strategy,
                        const OfflineModels& models);

// Per job, the cheapest call (by its cost) among the calls `sources` made whose answer is right,
// as if it had been the only call; when none is right, the first call the sources made on the
// ladder's top rung. Over the direct rows of each rung this is the oracle "cheapest correct
// rung"; over every row, "cheapest correct call made", which no row can beat on accuracy.
StrategyRow CheapestCorrect(std::string name, const std::vector<OfflineJob>& jobs,
                            const std::vector<const StrategyRow*>& sources,
                            const route::Ladder& ladder);

// The demo's strategies over the ladder's cheapest and top rungs (the default ladder's
// "standard" and "reasoning"): the seed's three (cheapest for all, top for all, hybrid by
// tier), cascade, best-of-N, self-consistency, and triage's default, `routing`'s plans and
// thresholds for `domain`.
std::vector<Strategy> DemoStrategies(const route::RoutingOptions& routing, std::string_view domain);

// The table, one line per row, then each row's plans.
std::string FormatStrategyTable(const std::vector<StrategyRow>& rows, double time_scale);
// `row` against the goal (>= 98% of the top rung for all's accuracy at <= 50% of its cost), its
// share of the accuracy gain from the cheapest rung for all to the top one, and its distance
// from each oracle.
std::string FormatGoal(const StrategyRow& row, const StrategyRow& low_for_all,
                       const StrategyRow& top_for_all,
                       const std::vector<const StrategyRow*>& oracles);

}  // namespace triage::app
