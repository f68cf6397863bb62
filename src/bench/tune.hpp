// `triage tune`'s pure part: production jobs with feedback become a replay set per domain, the
// candidate policies (the cheap model alone, the verified cascade at each confidence threshold,
// the strong model alone) run over it through the bench's runner (RunSweep), and the cheapest
// one that meets the target becomes a TOML config snippet with its figures as comments
// (docs/benchmarks.md, "Tuning from production"). No I/O; deterministic for a seed.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bench/bench.hpp"

namespace triage::bench {

// "accuracy>=F*strong" (F times the strong model's accuracy on the same jobs) or "accuracy>=A"
// (absolute); F and A in (0, 1], spaces allowed around the tokens.
struct Target {
  double value = 1;
  bool relative = false;
};
// The target, or what is wrong with the text (naming the offending part).
std::variant<Target, std::string> ParseTarget(std::string_view text);

// "7d", "12h", "30m", "90s": a positive whole number of days, hours, minutes or seconds, as
// seconds; or what is wrong with the text.
std::variant<std::int64_t, std::string> ParseWindow(std::string_view text);

// The fewest outcomes with which an accuracy near `target` can be told from one `slack` away:
// the 95% interval of a binomial proportion (normal approximation, z = 1.96) must be no wider
// on each side than the slack, so n >= z^2 p (1 - p) / slack^2. The slack is the loss the
// target allows: (1 - F) x the strong model's accuracy for a relative target, 1 - A (the error
// budget) for an absolute one. Nothing when no number of outcomes can do it (slack <= 0).
std::optional<int> MinimumOutcomes(double target, double slack);

// The 95% Wilson score interval of `correct` out of `n`.
struct Interval {
  double low = 0, high = 1;
};
Interval WilsonInterval(int correct, int n);

// One recorded model call of a job (an attempts row).
struct TuneAttempt {
  std::string model;
  std::optional<int> sample;
  std::optional<std::string> answer;    // the checked answer; none when not kept
  std::optional<std::string> response;  // the call's full text; none when not kept
  std::string verdict;                  // passed | failed | ... | error | abandoned
  std::optional<double> confidence;
  double cost_usd = 0, latency_s = 0;
};

// A final job with its feedback: exactly one of `correct` and `gold`.
struct TuneJob {
  std::string id, task, domain;
  std::optional<std::string> answer;   // the job's answer
  std::optional<int> answered_sample;  // the attempt that gave it (decision.answered_by)
  std::optional<bool> correct;
  std::optional<std::string> gold;
  std::vector<TuneAttempt> attempts;  // in order
};

// An attempt's correctness from its job's feedback; nothing when the feedback does not tell. A
// gold grades every answer; {"correct": true} makes the job's answer a gold; {"correct": false}
// says only that the job's answer, and any answer agreeing with it, is wrong.
std::optional<bool> JudgeAttempt(const TuneJob& job, const TuneAttempt& attempt);

struct TuneOptions {
  Target target;
  std::string target_text;          // as given, for the snippet
  std::optional<int> min_outcomes;  // replaces MinimumOutcomes' rule
  std::uint64_t seed = 42;
  // The config's ladder: a model's rung, and whether that rung is queued (its stage escalates).
  std::map<std::string, std::pair<std::string, bool>> rungs;
  std::string header;  // the first comment line (what was read, when)
};

struct DomainTuning {
  std::string domain;
  int jobs = 0;               // with feedback
  int used = 0;               // of them, with the cheap model's answer judged
  std::string cheap, strong;  // by mean cost per call
  int strong_measured = 0;    // used jobs where the strong model's answer was judged
  double strong_measured_accuracy = 0;
  double strong_accuracy = 0, target_accuracy = 0;  // over the used jobs
  int minimum = 0;                                  // outcomes the target needs
  std::optional<std::string> refused;               // why the domain was not tuned
  std::vector<Row> candidates;          // cheap only, the cascade by threshold, strong only
  std::vector<std::string> thresholds;  // the cascade rows' min_confidence, in order
  std::optional<std::size_t> chosen;    // into candidates
};

// Tunes each domain of `jobs` (sorted by name). Throws only on a broken invariant.
std::vector<DomainTuning> Tune(const std::vector<TuneJob>& jobs, const TuneOptions& options);

// The config snippet: per tuned domain `[thresholds.<domain>] min_confidence` or a
// `[strategy.<domain>]` plan, every figure and its count as comments; refused domains as
// comments saying why and how many outcomes are needed.
std::string FormatSnippet(const std::vector<DomainTuning>& domains, const TuneOptions& options);

}  // namespace triage::bench
