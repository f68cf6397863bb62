#include "bench/tune.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "core/tier.hpp"
#include "replay/grade.hpp"

namespace triage::bench {
namespace {

constexpr double kZ = 1.96;  // two-sided 95%

bool Answered(const TuneAttempt& a) {
  return a.verdict != "error" && a.verdict != "abandoned" && a.verdict != "in_flight";
}

// Does `answer` agree with `reference` by the project's verifier (the domain's comparison)?
bool Agrees(const TuneJob& job, const std::string& reference, const std::string& answer) {
  replay::Item item;
  item.id = job.id;
  item.domain = job.domain;
  item.gold = reference;
  return replay::GradeResponse(item, answer).Passed();
}

}  // namespace

std::optional<bool> JudgeAttempt(const TuneJob& job, const TuneAttempt& a) {
  if (!a.answer) return std::nullopt;
  const bool answering = job.answered_sample ? a.sample == job.answered_sample
                                             : job.answer && *a.answer == *job.answer;
  if (job.gold) return Agrees(job, *job.gold, *a.answer);
  if (!job.correct) return std::nullopt;
  if (answering) return *job.correct;
  if (!job.answer) return std::nullopt;
  if (*job.correct) return Agrees(job, *job.answer, *a.answer);
  if (Agrees(job, *job.answer, *a.answer)) return false;
  return std::nullopt;
}

namespace {

// The model's first answered call on the job, if any.
const TuneAttempt* FirstAnswer(const TuneJob& job, const std::string& model) {
  for (const auto& a : job.attempts)
    if (a.model == model && Answered(a)) return &a;
  return nullptr;
}

replay::Outcome OutcomeOf(const TuneJob& job, const TuneAttempt& a, bool correct) {
  replay::Outcome o;
  o.item = job.id;
  o.model = a.model;
  o.response = *a.answer;
  o.p_correct = correct ? 1.0 : 0.0;
  o.cost_usd = a.cost_usd;
  o.latency_s = a.latency_s;
  o.confidence = a.confidence;
  if (verify::ParseOutcome(a.verdict)) o.verdict = a.verdict;
  return o;
}

std::string Fixed(double x, int digits) { return fmt::format("{:.{}f}", x, digits); }

double Accuracy(const Row& r) { return r.items ? static_cast<double>(r.correct) / r.items : 0; }

// The rung a plan names for `model`, and its stage: a queued rung's is escalate.
std::string Stage(const TuneOptions& options, const std::string& model) {
  const auto it = options.rungs.find(model);
  if (it == options.rungs.end()) return "direct(" + model + ")";
  return (it->second.second ? "escalate(" : "direct(") + it->second.first + ")";
}

DomainTuning TuneDomain(const std::string& domain, const std::vector<const TuneJob*>& jobs,
                        const TuneOptions& options) {
  DomainTuning t;
  t.domain = domain;
  t.jobs = static_cast<int>(jobs.size());
  // Models by mean cost per answered call: the cheapest is the cascade's first rung, the
  // dearest its last.
  std::map<std::string, std::pair<double, int>> spend;
  for (const auto* job : jobs)
    for (const auto& a : job->attempts)
      if (Answered(a)) spend[a.model].first += a.cost_usd, ++spend[a.model].second;
  if (spend.size() < 2) {
    t.refused = "needs answers of two models to choose between; the jobs hold " +
                std::to_string(spend.size());
    return t;
  }
  std::vector<std::pair<double, std::string>> by_cost;
  for (const auto& [model, s] : spend) by_cost.emplace_back(s.first / s.second, model);
  std::sort(by_cost.begin(), by_cost.end());
  t.cheap = by_cost.front().second;
  t.strong = by_cost.back().second;

  replay::ReplaySet set;
  int strong_right = 0;
  std::vector<const TuneJob*> imputed;
  for (const auto* job : jobs) {
    const auto* cheap = FirstAnswer(*job, t.cheap);
    const auto cheap_correct = cheap ? JudgeAttempt(*job, *cheap) : std::nullopt;
    if (!cheap_correct) continue;  // the decision tuned here is about this answer
    replay::Item item;
    item.id = job->id;
    item.text = job->task;
    item.domain = job->domain;
    set.items.push_back(item);
    set.outcomes.push_back(OutcomeOf(*job, *cheap, *cheap_correct));
    const auto* strong = FirstAnswer(*job, t.strong);
    const auto strong_correct = strong ? JudgeAttempt(*job, *strong) : std::nullopt;
    if (strong_correct) {
      set.outcomes.push_back(OutcomeOf(*job, *strong, *strong_correct));
      ++t.strong_measured;
      strong_right += *strong_correct;
    } else {
      imputed.push_back(job);
    }
  }
  t.used = static_cast<int>(set.items.size());
  if (t.used == 0) {
    t.refused = "no job has " + t.cheap + "'s answer judged by its feedback";
    return t;
  }
  if (t.strong_measured == 0) {
    t.refused = "no job has " + t.strong + "'s answer judged by its feedback: nothing measures it";
    return t;
  }
  // Where the strong model did not answer (the cheap answer was kept), its correctness is a
  // draw at its measured accuracy, at its mean cost and latency.
  t.strong_measured_accuracy = static_cast<double>(strong_right) / t.strong_measured;
  const auto& [strong_spend, strong_calls] = spend.at(t.strong);
  double strong_latency = 0;
  for (const auto* job : jobs)
    for (const auto& a : job->attempts)
      if (a.model == t.strong && Answered(a)) strong_latency += a.latency_s;
  for (const auto* job : imputed) {
    replay::Outcome o;
    o.item = job->id;
    o.model = t.strong;
    o.response = "(not called: drawn at its measured accuracy)";
    o.p_correct = t.strong_measured_accuracy;
    o.cost_usd = strong_spend / strong_calls;
    o.latency_s = strong_latency / strong_calls;
    o.verdict = std::string(verify::ToString(verify::Outcome::kNoClaims));
    set.outcomes.push_back(std::move(o));
  }
  replay::Reindex(set);

  replay::Profiles profiles;
  profiles.origin = "the recorded calls";
  for (const auto& model : set.models) {
    replay::ModelProfile profile;  // every call's cost and latency are recorded
    profile.model = profile.name = model;
    profiles.models.push_back(std::move(profile));
  }
  BenchOptions bench;
  bench.seed = options.seed;
  bench.cheap = t.cheap;
  bench.strong = t.strong;
  const auto single = [&](const std::vector<std::string>& models) {
    return RunSweep(set, profiles, bench,
                    {"only", "model", models,
                     [](const replay::Item&, const std::string& model, const auto& rung) {
                       return "direct(" + rung(model) + ")";
                     }});
  };
  auto singles = single({t.cheap, t.strong});
  singles.points[0].name = t.cheap + " only";
  singles.points[1].name = t.strong + " only";
  t.strong_accuracy = Accuracy(singles.points[1]);
  t.target_accuracy =
      options.target.relative ? options.target.value * t.strong_accuracy : options.target.value;
  const double slack = options.target.relative ? (1 - options.target.value) * t.strong_accuracy
                                               : 1 - options.target.value;
  const auto minimum = MinimumOutcomes(t.target_accuracy, slack);
  if (!options.min_outcomes && !minimum) {
    t.refused = "the target leaves no room for error: no number of outcomes can show it";
    return t;
  }
  t.minimum = options.min_outcomes ? *options.min_outcomes : *minimum;
  if (t.used < t.minimum) {
    t.refused = fmt::format("{} outcomes; at least {} are needed", t.used, t.minimum);
    return t;
  }

  for (int i = 0; i <= 20; ++i) t.thresholds.push_back(Fixed(i * 0.05, 2));
  auto cascade = RunSweep(set, profiles, bench,
                          {"cascade", "min_confidence", t.thresholds,
                           [&](const replay::Item&, const std::string& value, const auto& rung) {
                             return "cascade(" + rung(t.cheap) + ", confidence=" + value +
                                    ") -> direct(" + rung(t.strong) + ")";
                           }});
  t.candidates.push_back(singles.points[0]);
  for (auto& row : cascade.points) t.candidates.push_back(std::move(row));
  t.candidates.push_back(singles.points[1]);
  for (std::size_t i = 0; i < t.candidates.size(); ++i) {
    const auto& c = t.candidates[i];
    if (Accuracy(c) + 1e-12 < t.target_accuracy) continue;
    if (!t.chosen || c.cost_usd < t.candidates[*t.chosen].cost_usd ||
        (c.cost_usd == t.candidates[*t.chosen].cost_usd &&
         c.correct > t.candidates[*t.chosen].correct))
      t.chosen = i;
  }
  if (!t.chosen)
    t.refused = fmt::format("no candidate reaches accuracy {}; {} only reaches {}",
                            Fixed(t.target_accuracy, 4), t.strong, Fixed(t.strong_accuracy, 4));
  return t;
}

}  // namespace

std::variant<Target, std::string> ParseTarget(std::string_view text) {
  std::size_t at = 0;
  const auto skip = [&] {
    while (at < text.size() && text[at] == ' ') ++at;
  };
  const auto expect = [&](std::string_view word) {
    skip();
    if (text.substr(at, word.size()) != word) return false;
    at += word.size();
    return true;
  };
  const auto where = [&] {
    return " at column " + std::to_string(at + 1) + " of '" + std::string(text) + "'";
  };
  if (!expect("accuracy")) return "expected 'accuracy'" + where();
  if (!expect(">=")) return "expected '>='" + where();
  skip();
  const auto start = at;
  while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
  if (at < text.size() && text[at] == '.') {
    ++at;
    const auto fraction = at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
    if (at == fraction) return "expected digits after '.'" + where();
  }
  if (at == start) return "expected a number such as 0.97" + where();
  Target t;
  t.value = std::stod(std::string(text.substr(start, at - start)));
  if (t.value <= 0 || t.value > 1)
    return "the number must be within (0, 1], got " + std::string(text.substr(start, at - start));
  skip();
  if (at < text.size() && text[at] == '*') {
    ++at;
    if (!expect("strong")) return "expected 'strong' after '*'" + where();
    t.relative = true;
  }
  skip();
  if (at != text.size()) return "unexpected '" + std::string(text.substr(at)) + "'" + where();
  return t;
}

std::variant<std::int64_t, std::string> ParseWindow(std::string_view text) {
  const auto bad = [&] {
    return "expected a whole number and d, h, m or s (7d, 12h, 30m, 90s), got '" +
           std::string(text) + "'";
  };
  if (text.size() < 2 || text.size() > 8) return bad();
  std::int64_t n = 0;
  for (const char c : text.substr(0, text.size() - 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad();
    n = n * 10 + (c - '0');
  }
  const std::map<char, std::int64_t> unit = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  const auto u = unit.find(text.back());
  if (u == unit.end()) return bad();
  if (n == 0) return "the window must be longer than 0, got '" + std::string(text) + "'";
  return n * u->second;
}

std::optional<int> MinimumOutcomes(double target, double slack) {
  if (!(slack > 0) || target <= 0 || target >= 1) return std::nullopt;
  return static_cast<int>(std::ceil(kZ * kZ * target * (1 - target) / (slack * slack) - 1e-9));
}

Interval WilsonInterval(int correct, int n) {
  if (n <= 0) return {};
  const double p = static_cast<double>(correct) / n, z2 = kZ * kZ;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = kZ * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::vector<DomainTuning> Tune(const std::vector<TuneJob>& jobs, const TuneOptions& options) {
  std::map<std::string, std::vector<const TuneJob*>> by_domain;
  for (const auto& job : jobs) by_domain[job.domain].push_back(&job);
  std::vector<DomainTuning> out;
  for (const auto& [domain, list] : by_domain) out.push_back(TuneDomain(domain, list, options));
  return out;
}

std::string FormatSnippet(const std::vector<DomainTuning>& domains, const TuneOptions& options) {
  std::string out = "# " + options.header + "\n# target: " + options.target_text + "\n";
  if (domains.empty()) out += "# no job with feedback in the window\n";
  for (const auto& d : domains) {
    out += fmt::format("\n# domain {}: {} jobs with feedback", d.domain, d.jobs);
    if (d.cheap.empty()) {
      out += "\n# not tuned: " + d.refused.value_or("") + "\n";
      continue;
    }
    out += fmt::format("; {} with {}'s answer judged (every figure below is over these)\n", d.used,
                       d.cheap);
    if (d.strong_measured)
      out += fmt::format(
          "#   {}'s answer judged on {} of them (accuracy {}); on the other {} it is drawn at "
          "that accuracy\n",
          d.strong, d.strong_measured, Fixed(d.strong_measured_accuracy, 4),
          d.used - d.strong_measured);
    if (d.minimum)
      out += fmt::format(
          "#   target accuracy {}{}; at least {} outcomes needed{}\n", Fixed(d.target_accuracy, 4),
          options.target.relative ? fmt::format(" = {} x {} only ({})", options.target.value,
                                                d.strong, Fixed(d.strong_accuracy, 4))
                                  : "",
          d.minimum, options.min_outcomes ? " (--min-outcomes)" : "");
    if (d.refused) {
      out += "# not tuned: " + *d.refused + "\n";
      continue;
    }
    out += "#   candidate                          accuracy (95% interval)  $ per correct  to " +
           d.strong + "\n";
    for (std::size_t i = 0; i < d.candidates.size(); ++i) {
      const auto& c = d.candidates[i];
      const auto ci = WilsonInterval(c.correct, c.items);
      const auto name = i == 0 || i + 1 == d.candidates.size()
                            ? c.name
                            : "cascade, min_confidence " + d.thresholds[i - 1];
      out += fmt::format("#   {:<34} {} ({}-{})      {:<14} {}%{}\n", name, Fixed(Accuracy(c), 4),
                         Fixed(ci.low, 3), Fixed(ci.high, 3),
                         c.correct ? Fixed(c.cost_usd / c.correct, 6) : "-",
                         Fixed(100.0 * c.reached_strong / std::max(1, c.items), 1),
                         d.chosen == i ? "  <- chosen" : "");
    }
    const auto& c = d.candidates[*d.chosen];
    out += fmt::format(
        "# expected: accuracy {} over {} outcomes, ${} per correct answer, ${} per job\n",
        Fixed(Accuracy(c), 4), c.items, c.correct ? Fixed(c.cost_usd / c.correct, 6) : "-",
        Fixed(c.cost_usd / std::max(1, c.items), 6));
    if (*d.chosen > 0 && *d.chosen + 1 < d.candidates.size()) {
      out += fmt::format(
          "# (the domain's cascade stages keep an answer at this confidence; its plans are "
          "unchanged)\n[thresholds.{}]\nmin_confidence = {}\n",
          d.domain, d.thresholds[*d.chosen - 1]);
    } else {
      const auto& model = *d.chosen == 0 ? d.cheap : d.strong;
      out +=
          fmt::format("# every tier of the domain on {} alone\n[strategy.{}]\n", model, d.domain);
      for (const auto tier : core::kAllTiers)
        out += fmt::format("{} = \"{}\"\n", core::ToString(tier), Stage(options, model));
    }
  }
  return out;
}

}  // namespace triage::bench
