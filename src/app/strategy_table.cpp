#include "app/strategy_table.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <stdexcept>

#include "core/percentile.hpp"
#include "providers/sim.hpp"
#include "route/offline.hpp"
#include "route/record.hpp"
#include "route/verify_checker.hpp"
#include "verify/math_equivalence.hpp"

namespace triage::app {
namespace {

// The demo's workload is arithmetic word problems, submitted as domain "math".
constexpr std::string_view kDomain = "math";

route::Plan PlanOf(const std::string& spec) {
  auto plan = route::ParsePlan(spec);
  if (auto* error = std::get_if<std::string>(&plan))
    throw std::invalid_argument("strategy plan '" + spec + "': " + *error);
  return std::get<route::Plan>(plan);
}

std::string Percent(int part, int whole) {
  return fmt::format("{:.1f}%", 100.0 * part / std::max(1, whole));
}

// "trivial, easy: direct(standard); medium, hard, requires_reasoning: escalate(reasoning)".
std::string DescribeByTier(const Strategy& s) {
  std::vector<std::pair<std::string, std::string>> groups;  // plan, tiers
  for (const auto tier : core::kAllTiers) {
    const auto plan = route::ToString(s.choose(tier).plan);
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == plan; });
    if (it == groups.end())
      groups.push_back({plan, std::string(core::ToString(tier))});
    else
      it->second += ", " + std::string(core::ToString(tier));
  }
  if (groups.size() == 1) return groups.front().first;
  std::string out;
  for (const auto& [plan, tiers] : groups) out += (out.empty() ? "" : "; ") + tiers + ": " + plan;
  return out;
}

// The row's totals from its jobs.
void Tally(StrategyRow& row, const route::Ladder& ladder) {
  std::vector<double> latencies;
  for (const auto& job : row.jobs) {
    ++row.count;
    row.correct += job.correct;
    bool queued = false, escalated = false;
    for (const auto& s : job.progress.samples) {
      row.cost += s.call.cost;
      const auto* rung = ladder.Find(s.rung);
      queued = queued || (rung && rung->queued);
    }
    for (const auto& step : job.progress.trail) {
      const bool last = step.stage + 1 >= static_cast<int>(job.plan.stages.size());
      if (step.outcome != "next" || last) continue;
      escalated = true;
      ++row.reasons[route::ReasonKind(step.reason)];
    }
    row.reached_queued += queued;
    row.escalated += escalated;
    row.unaccepted += !job.plan.stages.empty() && !job.progress.accepted;
    latencies.push_back(static_cast<double>(job.latency_ms) / 1000.0);
  }
  row.p50_s = core::Percentile(latencies, 0.5);
  row.p95_s = core::Percentile(latencies, 0.95);
}

}  // namespace

bool IsCorrect(const Problem& problem, const std::string& answer) {
  return !answer.empty() && verify::VerifyMath(problem.answer, answer).Passed();
}

OfflineModels OfflineModelsOf(const Config& config) {
  return {config.routing.ladder, config.models, config.sim_seed, config.sim_time_scale};
}

StrategyRow RunStrategy(const std::vector<OfflineJob>& jobs, const Strategy& strategy,
                        const OfflineModels& models) {
  std::map<std::string, providers::SimOptions> sims;  // by model name
  for (const auto& rung : models.ladder.rungs) {
    const auto it = models.models.find(rung.model);
    if (it == models.models.end() || it->second.provider != "sim")
      throw std::invalid_argument("rung '" + rung.name + "': model '" + rung.model +
                                  "' is not a simulated model; the offline table runs sims only");
    const auto& m = it->second;
    sims[m.name] = {m.name, m.profile, m.pricing, models.sim_seed, models.time_scale};
  }
  verify::VerifyRequest reference;
  reference.domain = std::string(kDomain);  // no gold: step checks, as live
  const route::VerifyChecker checker(reference);

  StrategyRow row;
  row.name = strategy.name;
  row.description = strategy.description.empty() ? DescribeByTier(strategy) : strategy.description;
  for (const auto& job : jobs) {
    const auto choice = strategy.choose(job.tier);
    if (const auto problem = route::ValidatePlan(choice.plan, models.ladder))
      throw std::invalid_argument("strategy '" + strategy.name + "': " + *problem);
    const route::Engine engine(choice.plan, models.ladder, choice.thresholds, checker);
    const auto call = [&](const route::CallModels& call, int sample) {
      const auto& sim = sims.at(call.model);
      providers::ModelRequest request;
      request.prompt = job.problem.text;
      request.job_id = job.id;
      request.sample = sample;
      request.sim_hints = SimHints(job.problem);
      route::CallResult result;
      result.model = call.model;
      try {
        const auto outcome = providers::Simulate(sim, request);
        result.text = outcome.text;
        result.cost = providers::CostOf(outcome.usage, sim.pricing);
        result.latency = outcome.latency;
      } catch (const providers::ModelError& e) {
        result.error = e.what();
      }
      return result;
    };
    auto offline = route::RunOffline(engine, call);
    JobRun run;
    run.plan = choice.plan;
    run.progress = std::move(offline.progress);
    run.finish = std::move(offline.finish);
    run.latency_ms = offline.latency_ms;
    run.correct =
        run.finish.state == core::JobState::kCompleted && IsCorrect(job.problem, run.finish.answer);
    row.jobs.push_back(std::move(run));
  }
  Tally(row, models.ladder);
  return row;
}

StrategyRow CheapestCorrect(std::string name, const std::vector<OfflineJob>& jobs,
                            const std::vector<const StrategyRow*>& sources,
                            const route::Ladder& ladder) {
  if (ladder.rungs.empty()) throw std::invalid_argument("the ladder has no rungs");
  const auto& top = ladder.rungs.back().name;
  StrategyRow row;
  row.name = std::move(name);
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const route::Sample* cheapest = nullptr;
    const route::Sample* fallback = nullptr;
    for (const auto* source : sources) {
      for (const auto& s : source->jobs.at(j).progress.samples) {
        if (!s.call.text) continue;
        if (!fallback && s.rung == top) fallback = &s;
        if (IsCorrect(jobs[j].problem, s.answer) &&
            (!cheapest || s.call.cost < cheapest->call.cost))
          cheapest = &s;
      }
    }
    JobRun run;
    if (const auto* chosen = cheapest ? cheapest : fallback) {
      auto sample = *chosen;
      sample.stage = 0;
      run.progress.samples.push_back(sample);
      run.finish.sample = sample.index;
      run.finish.answer = sample.answer;
      run.latency_ms = sample.call.latency.count();
      run.correct = cheapest != nullptr;
    } else {
      run.finish.state = core::JobState::kFailed;
      run.finish.reason = "no call answered";
    }
    row.jobs.push_back(std::move(run));
  }
  Tally(row, ladder);
  return row;
}

std::vector<Strategy> DemoStrategies(const route::RoutingOptions& routing,
                                     std::string_view domain) {
  if (routing.ladder.rungs.empty()) throw std::invalid_argument("the ladder has no rungs");
  const auto& low = routing.ladder.rungs.front();
  const auto& top = routing.ladder.rungs.back();
  const auto thresholds = routing.ThresholdsFor(domain);
  // The top rung's stage: escalate() where it is served by the reasoning queue.
  const std::string up = (top.queued ? "escalate(" : "direct(") + top.name + ")";
  const auto fixed = [&](std::string spec) {
    return [plan = PlanOf(spec), thresholds](core::Tier) {
      return StrategyChoice{plan, thresholds};
    };
  };
  std::vector<Strategy> out;
  out.push_back({low.name + " for all", "", fixed("direct(" + low.name + ")")});
  out.push_back({top.name + " for all", "", fixed("direct(" + top.name + ")")});
  out.push_back({"hybrid by tier (seed)", "",
                 [direct = PlanOf("direct(" + low.name + ")"), escalate = PlanOf(up),
                  thresholds](core::Tier tier) {
                   const bool easy = tier == core::Tier::kTrivial || tier == core::Tier::kEasy;
                   return StrategyChoice{easy ? direct : escalate, thresholds};
                 }});
  out.push_back({"cascade", "", fixed("cascade(" + low.name + ", confidence=0.8) -> " + up)});
  out.push_back({"best-of-4", "", fixed("best_of_n(" + low.name + ", n=4) -> " + up)});
  out.push_back({"self-consistency", "",
                 fixed("self_consistency(" + low.name + ", n=5, share=0.6) -> " + up)});
  Strategy triage{"triage default", "",
                  [routing, domain = std::string(domain), thresholds](core::Tier tier) {
                    return StrategyChoice{routing.PlanFor(domain, tier), thresholds};
                  }};
  triage.description =
      DescribeByTier(triage) + fmt::format(
                                   " (thresholds.{}: min_confidence {}, min_share {}, "
                                   "default_confidence {})",
                                   domain, thresholds.min_confidence, thresholds.min_share,
                                   thresholds.default_confidence);
  out.push_back(std::move(triage));
  return out;
}

std::string FormatStrategyTable(const std::vector<StrategyRow>& rows, double time_scale) {
  std::string out =
      fmt::format("{:<34}{:>9}{:>12}{:>14}{:>8}{:>8}{:>10}{:>11}{:>11}  {}\n", "strategy",
                  "accuracy", "cost", "cost/correct", "p50 s", "p95 s", "reasoning", "escalated",
                  "unaccepted", "escalations by reason (% of jobs)");
  for (const auto& r : rows) {
    std::string reasons;
    for (const auto& [kind, n] : r.reasons)
      reasons += (reasons.empty() ? "" : ", ") + kind + " " + Percent(n, r.count);
    out += fmt::format("{:<34}{:>9}{:>12}{:>14}{:>8.2f}{:>8.2f}{:>10}{:>11}{:>11}  {}\n", r.name,
                       Percent(r.correct, r.count), core::FormatUsd(r.cost),
                       r.correct ? core::FormatUsd(r.cost / r.correct) : "-", r.p50_s, r.p95_s,
                       Percent(r.reached_queued, r.count), Percent(r.escalated, r.count),
                       Percent(r.unaccepted, r.count), reasons);
  }
  out += fmt::format(
      "latencies: the sim's at time scale {} (divide by it for real-time equivalents); offline "
      "rows on a virtual clock (each step takes its slowest call), live rows by wall clock "
      "(queueing included)\n",
      time_scale);
  out += "plans:\n";
  for (const auto& r : rows)
    if (!r.description.empty()) out += fmt::format("  {:<32}{}\n", r.name, r.description);
  return out;
}

std::string FormatGoal(const StrategyRow& row, const StrategyRow& low_for_all,
                       const StrategyRow& top_for_all,
                       const std::vector<const StrategyRow*>& oracles) {
  const auto accuracy = [](const StrategyRow& r) {
    return static_cast<double>(r.correct) / std::max(1, r.count);
  };
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  const double of_accuracy = ratio(accuracy(row), accuracy(top_for_all));
  const double of_gain =
      ratio(accuracy(row) - accuracy(low_for_all), accuracy(top_for_all) - accuracy(low_for_all));
  const double of_cost =
      ratio(static_cast<double>(row.cost), static_cast<double>(top_for_all.cost));
  std::string out = fmt::format(
      "{}: accuracy {:.1f}% = {:.1f}% of {}'s {:.1f}% (goal >= 98%: {}), {:.1f}% of the accuracy "
      "gain over {}; cost {} = {:.1f}% of {}'s {} (goal <= 50%: {})\n",
      row.name, 100 * accuracy(row), 100 * of_accuracy, top_for_all.name,
      100 * accuracy(top_for_all), of_accuracy >= 0.98 ? "met" : "missed", 100 * of_gain,
      low_for_all.name, core::FormatUsd(row.cost), 100 * of_cost, top_for_all.name,
      core::FormatUsd(top_for_all.cost), of_cost <= 0.50 ? "met" : "missed");
  for (const auto* oracle : oracles)
    out += fmt::format("  vs {} ({:.1f}%, {}): {:+.1f} points of accuracy, {:.2f}x its cost\n",
                       oracle->name, 100 * accuracy(*oracle), core::FormatUsd(oracle->cost),
                       100 * (accuracy(row) - accuracy(*oracle)),
                       ratio(static_cast<double>(row.cost), static_cast<double>(oracle->cost)));
  return out;
}

}  // namespace triage::app
