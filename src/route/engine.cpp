#include "route/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "route/confidence.hpp"

namespace triage::route {
namespace {

using verify::Outcome;

bool Usable(const Sample& s) {
  return s.call.text && s.verdict.outcome != Outcome::kFailed &&
         s.verdict.outcome != Outcome::kUnparseable && s.verdict.outcome != Outcome::kTimedOut &&
         s.verdict.outcome != Outcome::kCrashed;
}

// Verified beats unchecked beats unreadable beats wrong.
int Rank(const Sample& s) {
  if (!s.call.text) return -1;
  switch (s.verdict.outcome) {
    case Outcome::kPassed:
      return 3;
    case Outcome::kNoClaims:
      return 2;
    case Outcome::kUnparseable:
      return 1;
    default:
      return 0;
  }
}

std::string Fixed(double v, int digits) {
  char out[32];
  std::snprintf(out, sizeof out, "%.*f", digits, v);
  return out;
}

std::string Describe(const Stage& stage) {
  return std::string(ToString(stage.kind)) + " on " + stage.rung;
}

std::string Passed(const Sample& s) {
  return s.verdict.outcome == Outcome::kPassed ? "verified: " + s.verdict.reason
                                               : "unverified: " + s.verdict.reason;
}

// Votes a group needs for the share `share` of n samples.
int VotesFor(int n, double share) { return static_cast<int>(std::ceil(share * n - 1e-9)); }

// Votes that settle a vote of n samples before the rest are taken: a strict majority (no later
// sample can change the winner) that reaches the share (nor its acceptance).
int DecidingVotes(int n, double share) { return std::max(VotesFor(n, share), n / 2 + 1); }

}  // namespace

const Rung* Ladder::Find(std::string_view name) const {
  for (const auto& r : rungs)
    if (r.name == name) return &r;
  return nullptr;
}

std::optional<std::string> ValidatePlan(const Plan& plan, const Ladder& ladder) {
  if (plan.stages.empty()) return "the plan has no stages";
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    const auto& s = plan.stages[i];
    const auto* rung = ladder.Find(s.rung);
    const auto where = "stage " + std::to_string(i + 1) + " (" + Describe(s) + ")";
    if (!rung) return where + ": no rung named '" + s.rung + "' on the ladder";
    if (s.kind == StageKind::kEscalate && !rung->queued)
      return where + ": escalate() needs a rung served by the reasoning queue (queued = true)";
  }
  return std::nullopt;
}

Engine::Engine(Plan plan, Ladder ladder, Thresholds thresholds, const Checker& checker,
               const AnswerEstimator* estimator)
    : plan_(std::move(plan)),
      ladder_(std::move(ladder)),
      thresholds_(thresholds),
      checker_(checker),
      estimator_(estimator) {}

Action Engine::Next(const Progress& progress, Executor executor, const Budget& budget,
                    std::int64_t now_ms) const {
  if (progress.accepted) {
    const auto& s = progress.samples.at(static_cast<std::size_t>(*progress.accepted));
    return Finish{core::JobState::kCompleted,
                  s.index,
                  s.answer,
                  s.verdict.ToStatus(),
                  false,
                  progress.trail.empty() ? "accepted" : progress.trail.back().reason};
  }
  if (progress.stage >= static_cast<int>(plan_.stages.size())) {
    // A call cut short by its deadline is the seed's case for "the best answer so far, with a
    // caveat": the job is degraded, not merely unaccepted.
    for (auto it = progress.samples.rbegin(); it != progress.samples.rend(); ++it)
      if (it->call.timed_out)
        return Best(progress,
                    "deadline: the call on " + it->rung +
                        " ran out of time; the best answer so "
                        "far is returned",
                    true);
    return Best(progress, "no stage accepted an answer; the best one is returned", false);
  }
  const auto& stage = plan_.stages[static_cast<std::size_t>(progress.stage)];
  const auto& rung = *ladder_.Find(stage.rung);
  if (rung.queued && executor == Executor::kRouter) return HandOff{progress.stage, rung.name};

  const int taken =
      static_cast<int>(std::count_if(progress.samples.begin(), progress.samples.end(),
                                     [&](const Sample& s) { return s.stage == progress.stage; }));
  const bool several =
      stage.kind == StageKind::kBestOfN || stage.kind == StageKind::kSelfConsistency;
  const int wanted = several ? stage.n : 1;
  int count = stage.kind == StageKind::kBestOfN && !stage.parallel ? 1 : wanted - taken;
  if (stage.kind == StageKind::kSelfConsistency && stage.early_stop) {
    // First the votes that could settle it, then one at a time until it is settled.
    const int deciding = DecidingVotes(stage.n, ShareNeeded(stage));
    count = taken < deciding ? deciding - taken : 1;
  }

  const auto where = "stage " + std::to_string(progress.stage + 1) + " (" + Describe(stage) + ")";
  if (budget.deadline_ms && now_ms + rung.expected_latency.count() > *budget.deadline_ms) {
    const auto left = std::max<std::int64_t>(0, *budget.deadline_ms - now_ms);
    return Best(progress,
                "deadline: " + where + " expects " +
                    Fixed(static_cast<double>(rung.expected_latency.count()) / 1000, 1) + " s, " +
                    Fixed(static_cast<double>(left) / 1000, 1) + " s left",
                true);
  }
  if (budget.max_cost && progress.spent + count * rung.expected_cost > *budget.max_cost)
    return Best(progress,
                "budget: " + where + " expects " + core::FormatUsd(count * rung.expected_cost) +
                    ", " +
                    core::FormatUsd(std::max<core::Micros>(0, *budget.max_cost - progress.spent)) +
                    " left of the job's max_cost_usd",
                true);
  return CallModels{progress.stage,
                    rung.name,
                    rung.model,
                    count,
                    static_cast<int>(progress.samples.size()),
                    several && stage.n > 1};
}

void Engine::Observe(Progress& progress, const CallModels& call,
                     std::vector<CallResult> results) const {
  for (std::size_t i = 0; i < results.size(); ++i) {
    Sample s;
    s.stage = call.stage;
    s.index = call.first_sample + static_cast<int>(i);
    s.rung = call.rung;
    s.call = std::move(results[i]);
    progress.spent += s.call.cost;
    if (s.call.text) {
      const auto report = ParseSelfReport(*s.call.text);
      auto checked = checker_.Check(report.text);
      s.answer = std::move(checked.answer);
      s.verdict = std::move(checked.verdict);
      const auto estimate =
          estimator_ ? estimator_->Estimate(s.call.model, report.text) : std::nullopt;
      s.confidence = estimate            ? estimate
                     : s.call.confidence ? s.call.confidence
                     : report.confidence ? report.confidence
                                         : std::optional(thresholds_.default_confidence);
    } else {
      s.verdict = verify::Unparseable("the call failed: " + s.call.error);
    }
    progress.samples.push_back(std::move(s));
  }
  Decide(progress, plan_.stages.at(static_cast<std::size_t>(call.stage)));
}

void Engine::Decide(Progress& progress, const Stage& stage) const {
  std::vector<const Sample*> mine;
  for (const auto& s : progress.samples)
    if (s.stage == progress.stage) mine.push_back(&s);
  if (mine.empty()) return;
  Step step{progress.stage, stage.kind, stage.rung, "next", "", std::nullopt, {}};
  for (const auto* s : mine) step.samples.push_back(s->index);
  const auto accept = [&](const Sample& s, std::string reason, std::optional<double> confidence) {
    progress.accepted = s.index;
    step.outcome = "accepted";
    step.reason = std::move(reason);
    step.confidence = confidence;
    progress.trail.push_back(step);
  };
  const auto next = [&](std::string reason, std::optional<double> confidence = std::nullopt) {
    ++progress.stage;
    step.reason = std::move(reason);
    step.confidence = confidence;
    progress.trail.push_back(step);
  };

  switch (stage.kind) {
    case StageKind::kDirect:
    case StageKind::kEscalate:
    case StageKind::kCascade: {
      const auto& s = *mine.back();
      if (!s.call.text) return next("the call failed: " + s.call.error);
      if (!Usable(s))
        return next(std::string(verify::ToString(s.verdict.outcome)) + ": " + s.verdict.reason);
      const double needed = stage.kind != StageKind::kCascade ? 0.0
                            : stage.min_confidence            ? *stage.min_confidence
                                                              : thresholds_.min_confidence;
      if (needed > 0 && *s.confidence < needed)
        return next("confidence " + Fixed(*s.confidence, 2) + " below " + Fixed(needed, 2),
                    s.confidence);
      return accept(s, Passed(s), s.confidence);
    }
    case StageKind::kBestOfN: {
      for (const auto* s : mine)
        if (s->call.text && s->verdict.Passed()) return accept(*s, Passed(*s), s->confidence);
      if (static_cast<int>(mine.size()) < stage.n) return;  // one at a time: ask again
      return next("none of " + std::to_string(mine.size()) + " samples verified");
    }
    case StageKind::kSelfConsistency: {
      const int taken = static_cast<int>(mine.size()), left = stage.n - taken;
      std::vector<std::string> texts;
      for (const auto* s : mine) {
        const auto report = ParseSelfReport(s->call.text.value_or(""));
        texts.push_back(report.text);
      }
      const auto vote = checker_.Vote(texts);
      const double needed = ShareNeeded(stage);
      const int leader =
          vote.has_winner ? static_cast<int>(vote.classes.front().members.size()) : 0;
      // Settled early: the rest of the n samples could change neither the winner nor whether
      // it reaches the share; the decision is the one all n would give.
      const bool won = left > 0 && leader >= DecidingVotes(stage.n, needed);
      const bool lost = left > 0 && leader + left < std::max(1, VotesFor(stage.n, needed));
      if (left > 0 && !(stage.early_stop && (won || lost))) return;
      if (lost)
        return next("vote share cannot reach " + Fixed(needed, 2) + ": the largest group has " +
                        std::to_string(leader) + " of " + std::to_string(taken) + " samples, " +
                        std::to_string(left) + " to come",
                    static_cast<double>(leader) / stage.n);
      if (!vote.has_winner) return next("no readable answer among " + std::to_string(taken));
      const auto& s = *mine.at(vote.winner_index);
      // Early, the share of all n is known only from below: leader / n.
      const double share = won ? static_cast<double>(leader) / stage.n : vote.share;
      if (!Usable(s)) return next("the majority answer fails: " + s.verdict.reason, share);
      if (share < needed)
        return next("vote share " + Fixed(share, 2) + " below " + Fixed(needed, 2), share);
      const auto of = won ? std::to_string(stage.n) + ", settled by " + std::to_string(leader) +
                                " of " + std::to_string(taken) +
                                " samples (share >= " + Fixed(share, 2) + ")"
                          : std::to_string(taken) + " (share " + Fixed(share, 2) + ")";
      return accept(s, "majority of " + of + "; " + Passed(s), share);
    }
  }
}

double Engine::ShareNeeded(const Stage& stage) const {
  return stage.min_share ? *stage.min_share : thresholds_.min_share;
}

Finish Engine::Degrade(const Progress& progress, std::string reason) const {
  return Best(progress, std::move(reason), true);
}

Finish Engine::Best(const Progress& progress, std::string reason, bool degraded) const {
  const Sample* best = nullptr;
  for (const auto& s : progress.samples) {
    if (!s.call.text) continue;
    if (!best || Rank(s) > Rank(*best) || (Rank(s) == Rank(*best) && s.stage > best->stage) ||
        (Rank(s) == Rank(*best) && s.stage == best->stage &&
         s.confidence.value_or(0) > best->confidence.value_or(0)))
      best = &s;
  }
  Finish out;
  out.degraded = degraded;
  out.reason = std::move(reason);
  if (!best) {
    out.state =
        out.reason.starts_with("deadline") ? core::JobState::kExpired : core::JobState::kFailed;
    out.reason += progress.samples.empty() ? "; no model was called" : "; no model answered";
    return out;
  }
  out.sample = best->index;
  out.answer = best->answer;
  out.verification = best->verdict.ToStatus();
  return out;
}

}  // namespace triage::route
