// The routing engine: runs one job's plan (plan.hpp) over a ladder of models and decides, after
// every step, what comes next -- call a rung (once or n times), hand the job to the reasoning
// queue, or finish with an answer. It is pure: no clock, no I/O, no threads. A driver performs
// each Action and hands back what came of it, so the same code runs in the service (router and
// worker roles, real models and clock) and in the offline benchmark (replayed models, virtual
// clock), and a job handed to the queue resumes from its recorded Progress after a crash too.
//
//   Progress p;
//   for (;;) {
//     auto action = engine.Next(p, Executor::kRouter, budget, now_ms);
//     if (auto* call = std::get_if<CallModels>(&action)) engine.Observe(p, *call, Call(*call));
//     else break;  // HandOff (the worker resumes from p) or Finish
//   }
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/job.hpp"
#include "core/money.hpp"
#include "route/plan.hpp"
#include "verify/verdict.hpp"
#include "verify/vote.hpp"

namespace triage::route {

// One rung of the model ladder (`[ladder.<name>]`): the model that answers on it, and what a
// call is expected to cost and take before any call has been measured.
struct Rung {
  std::string name;
  std::string model;
  bool queued = false;  // served by the reasoning queue's workers (long deadlines)
  core::Micros expected_cost = 0;
  std::chrono::milliseconds expected_latency{0};
};

struct Ladder {
  std::vector<Rung> rungs;  // cheapest first
  const Rung* Find(std::string_view name) const;
};

// The domain's acceptance thresholds (`[route.domain.<name>]`); a stage may override them.
struct Thresholds {
  double min_confidence = 0.0;      // cascade: keep an answer at or above this confidence
  double min_share = 0.5;           // self_consistency: keep a majority at or above this share
  double default_confidence = 0.0;  // the confidence of an answer that reports none readable
};

// A job's limits: its deadline (Unix ms, on the driver's clock) and cost cap.
struct Budget {
  std::optional<std::int64_t> deadline_ms;
  std::optional<core::Micros> max_cost;
};

// How answers are checked and compared; implemented over verify/ (verify_checker.hpp) and by
// fakes in tests. Must be thread-compatible: the engine calls it from one thread per job.
class Checker {
 public:
  virtual ~Checker() = default;
  // The answer in a response and its verdict against the job's reference (kNoClaims when the
  // job has nothing to check against).
  struct Checked {
    std::string answer;
    verify::Verdict verdict;
  };
  virtual Checked Check(const std::string& response) const = 0;
  // Responses grouped by the answers' equivalence, largest group first.
  virtual verify::VoteResult Vote(const std::vector<std::string>& responses) const = 0;
};

// How likely one answer is right, as a learned quality estimator predicts it (route/
// learned_router.hpp, kind "after"), for one job: when the engine has one, it is an answer's
// confidence, before log-probabilities and the self-report. Must be thread-compatible.
class AnswerEstimator {
 public:
  virtual ~AnswerEstimator() = default;
  // nullopt: no estimate for this model (the next source of confidence applies).
  virtual std::optional<double> Estimate(const std::string& model,
                                         const std::string& response) const = 0;
};

// One call the driver made, as it came back.
struct CallResult {
  std::string model;
  std::optional<std::string> text;  // nothing: the call failed
  std::string error;                // why it failed
  bool timed_out = false;           // it failed because its deadline passed
  core::Micros cost = 0;
  std::chrono::milliseconds latency{0};
  std::optional<double> confidence;  // from token log-probabilities, when the model gave them
  bool operator==(const CallResult&) const = default;
};

struct Sample {
  int stage = 0;
  int index = 0;  // the job's n-th sample: seeds a simulated model's draw, orders ties
  std::string rung;
  CallResult call;
  std::string answer;  // the checked answer (confidence annotation removed)
  verify::Verdict verdict;
  // The estimator's, else log-probabilities, else self-report, else the default.
  std::optional<double> confidence;
  bool operator==(const Sample&) const = default;
};

// One decision of the trail: what a stage did with the job, and why.
struct Step {
  int stage = 0;
  StageKind kind = StageKind::kDirect;
  std::string rung;
  std::string outcome;  // accepted | next | handed_off | degraded | exhausted
  std::string reason;
  std::optional<double> confidence;  // the deciding confidence or vote share
  std::vector<int> samples;          // the samples the decision looked at
  bool operator==(const Step&) const = default;
};

// Everything the engine knows of a job so far; what the driver stores to resume it.
struct Progress {
  int stage = 0;                // the stage running or next
  std::optional<int> accepted;  // the accepted sample's index, once one is
  std::vector<Sample> samples;
  std::vector<Step> trail;
  core::Micros spent = 0;
  bool operator==(const Progress&) const = default;
};

// Who drives: the router cannot run a rung served by the reasoning queue and hands off.
enum class Executor { kRouter, kWorker };

struct CallModels {
  int stage = 0;
  std::string rung;
  std::string model;
  int count = 1;         // calls to make (in parallel where the model allows)
  int first_sample = 0;  // their sample indexes are first_sample, first_sample + 1, ...
  bool sampled = false;  // several answers are wanted: call with the sampling temperature
};
struct HandOff {
  int stage = 0;
  std::string rung;
};
struct Finish {
  core::JobState state = core::JobState::kCompleted;  // completed | failed | expired
  std::optional<int> sample;                          // the answering sample
  std::string answer;
  core::VerificationStatus verification = core::VerificationStatus::kUnverified;
  bool degraded = false;  // a deadline or cost cap cut the plan short
  std::string reason;     // why the engine stopped where it did
};
using Action = std::variant<CallModels, HandOff, Finish>;

class Engine {
 public:
  // The plan's rungs must be on the ladder (ValidatePlan says which is not).
  Engine(Plan plan, Ladder ladder, Thresholds thresholds, const Checker& checker,
         const AnswerEstimator* estimator = nullptr);
  const Plan& plan() const { return plan_; }

  Action Next(const Progress& progress, Executor executor, const Budget& budget,
              std::int64_t now_ms) const;
  // Records the calls `call` asked for (results in sample order) and decides the stage.
  void Observe(Progress& progress, const CallModels& call, std::vector<CallResult> results) const;
  // The driver's own stops (a job cancelled, a reasoning call out of time): finish with the
  // best answer so far, marked degraded with `reason`.
  Finish Degrade(const Progress& progress, std::string reason) const;

 private:
  Finish Best(const Progress& progress, std::string reason, bool degraded) const;
  void Decide(Progress& progress, const Stage& stage) const;
  double ShareNeeded(const Stage& stage) const;  // self_consistency's, else the domain's

  Plan plan_;
  Ladder ladder_;
  Thresholds thresholds_;
  const Checker& checker_;
  const AnswerEstimator* estimator_;
};

// Every rung the plan names is on the ladder, and escalate() names a queued rung; else why not.
std::optional<std::string> ValidatePlan(const Plan& plan, const Ladder& ladder);

}  // namespace triage::route
