#include "bench/bench.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "core/percentile.hpp"
#include "learn/router_commands.hpp"
#include "replay/grade.hpp"
#include "replay/split.hpp"
#include "route/offline.hpp"
#include "route/verify_checker.hpp"

namespace triage::bench {
namespace {

// A p_correct sample's text: no answer was recorded, so the text names the call and its grade
// for the stand-in verifier (and nothing else reads it).
constexpr char kSep = '\x1f';
constexpr std::string_view kStandIn = "\x1fstand-in\x1f";

std::string StandInText(std::string_view item, std::string_view model, int sample, bool correct) {
  return fmt::format("{}{}{}{}{}{}{}{}", kStandIn, item, kSep, model, kSep, sample, kSep,
                     correct ? 1 : 0);
}

// A call whose check the service recorded (an outcome with a `verdict`): the text carries that
// verdict and the recorded answer, and the checker returns them instead of verifying again.
constexpr std::string_view kRecorded = "\x1frecorded\x1f";

std::string RecordedText(std::string_view verdict, std::string_view answer) {
  return fmt::format("{}{}{}{}", kRecorded, verdict, kSep, answer);
}

struct Recorded {
  verify::Outcome outcome;
  std::string answer;
};
std::optional<Recorded> ParseRecorded(std::string_view text) {
  if (!text.starts_with(kRecorded)) return std::nullopt;
  text.remove_prefix(kRecorded.size());
  const auto at = text.find(kSep);
  if (at == std::string_view::npos) return std::nullopt;
  const auto outcome = verify::ParseOutcome(text.substr(0, at));
  if (!outcome) return std::nullopt;
  return Recorded{*outcome, std::string(text.substr(at + 1))};
}

struct StandIn {
  std::string item, model;
  int sample = 0;
  bool correct = false;
};
std::optional<StandIn> ParseStandIn(std::string_view text) {
  if (!text.starts_with(kStandIn)) return std::nullopt;
  text.remove_prefix(kStandIn.size());
  std::vector<std::string_view> parts;
  for (std::size_t at; (at = text.find(kSep)) != std::string_view::npos;) {
    parts.push_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  parts.push_back(text);
  if (parts.size() != 4) return std::nullopt;
  return StandIn{std::string(parts[0]), std::string(parts[1]), std::stoi(std::string(parts[2])),
                 parts[3] == "1"};
}

// The checks the engine may make on one item: the project's verifier without the gold (math:
// step checks) on recorded responses; the stand-in verifier on p_correct samples, whose wrong
// answers all differ (independent draws cannot agree on a wrong answer).
class BenchChecker final : public route::Checker {
 public:
  BenchChecker(const replay::Item& item, const std::map<std::string, double>& false_pass,
               const StandInVerifier& verifier, std::uint64_t seed)
      : real_(Reference(item)), false_pass_(false_pass), verifier_(verifier), seed_(seed) {}

  Checked Check(const std::string& response) const override {
    if (const auto r = ParseRecorded(response))
      return {r->answer, {r->outcome, "recorded: " + std::string(verify::ToString(r->outcome))}};
    const auto s = ParseStandIn(response);
    if (!s) return real_.Check(response);
    const double draw =
        replay::SampleDraw(seed_ ^ 0x5eedf00dULL, s->item, s->model + "#verify", s->sample);
    const bool passes = draw < (s->correct ? verifier_.recall : false_pass_.at(s->model));
    return {AnswerOf(*s), passes ? verify::Pass("stand-in verifier passed it")
                                 : verify::Fail("stand-in verifier failed it")};
  }

  verify::VoteResult Vote(const std::vector<std::string>& responses) const override {
    if (!responses.empty() && ParseRecorded(responses.front())) {
      std::vector<std::string> answers;  // grouped by the verifier's equivalence, as recorded
      for (const auto& r : responses) {
        const auto recorded = ParseRecorded(r);
        answers.push_back(recorded ? recorded->answer : "");
      }
      return real_.Vote(answers);
    }
    if (responses.empty() || !ParseStandIn(responses.front())) return real_.Vote(responses);
    std::vector<std::string> answers;  // a failed call's "" is unreadable
    for (const auto& r : responses) {
      const auto s = ParseStandIn(r);
      answers.push_back(s ? AnswerOf(*s) : "");
    }
    return verify::VoteByText(answers);
  }

 private:
  static verify::VerifyRequest Reference(const replay::Item& item) {
    verify::VerifyRequest r;
    r.domain = item.domain;  // no gold: what the service could check without one
    return r;
  }
  static std::string AnswerOf(const StandIn& s) {
    return s.correct ? "right" : "wrong:" + s.model + "#" + std::to_string(s.sample);
  }

  route::VerifyChecker real_;
  const std::map<std::string, double>& false_pass_;
  StandInVerifier verifier_;
  std::uint64_t seed_;
};

// A rung name for a model name ("o3-mini (high)" -> "o3-mini_high_"), unique on the ladder.
std::string RungName(const std::string& model, const std::set<std::string>& taken) {
  std::string out;
  for (char c : model)
    out +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  for (int i = 2; taken.contains(out); ++i) out = out + "_" + std::to_string(i);
  return out;
}

route::Plan PlanOf(const std::string& spec) {
  auto plan = route::ParsePlan(spec);
  if (auto* error = std::get_if<std::string>(&plan))
    throw std::logic_error("bench plan '" + spec + "': " + *error);
  return std::get<route::Plan>(plan);
}

// Everything one run over the set needs, built once.
struct Context {
  const replay::ReplaySet& set;
  const BenchOptions& options;
  std::vector<replay::ModelProfile> profiles;   // by set.models
  std::vector<double> expected;                 // by set.outcomes
  std::map<std::string, std::string> rung_of;   // model -> rung
  std::map<std::string, std::string> model_of;  // rung -> model
  std::map<std::string, double> false_pass;     // the stand-in verifier's, by model
  route::Ladder ladder;
  std::string strong;
  std::map<std::string, learn::ItemTask> tasks;  // by item id, for the learned router

  route::RouterTask Task(const replay::Item& item) const { return tasks.at(item.id).View(); }

  const replay::ModelProfile& Profile(const std::string& model) const {
    for (std::size_t i = 0; i < set.models.size(); ++i)
      if (set.models[i] == model) return profiles[i];
    throw std::logic_error("no profile for " + model);
  }
};

// One item through the engine; fills the row's tallies.
void RunItem(const Context& cx, const replay::Item& item, const route::Plan& plan, Row& row,
             std::vector<double>& latencies, bool learned_confidence) {
  const BenchChecker checker(item, cx.false_pass, cx.options.verifier, cx.options.seed);
  const auto task = learned_confidence ? cx.Task(item) : route::RouterTask{};
  std::optional<route::LearnedAnswerEstimator> estimator;
  if (learned_confidence) estimator.emplace(*cx.options.after, task);
  const route::Engine engine(plan, cx.ladder, route::Thresholds{0.0, 0.5, 0.5}, checker,
                             estimator ? &*estimator : nullptr);
  std::map<int, bool> correct;  // by sample index
  const auto call = [&](const route::CallModels& c, int sample) {
    const auto& model = cx.model_of.at(c.rung);
    route::CallResult r;
    r.model = model;
    const auto* outcome = cx.set.Find(item.id, model);
    correct[sample] = false;
    if (!outcome) {
      r.error = "the set records no outcome of " + model + " on this item";
      return r;
    }
    const auto index = static_cast<std::size_t>(outcome - cx.set.outcomes.data());
    const bool right = replay::SampleCorrect(*outcome, cx.expected[index], cx.options.seed, sample);
    correct[sample] = right;
    r.text = outcome->verdict    ? RecordedText(*outcome->verdict, outcome->response.value_or(""))
             : outcome->response ? *outcome->response
                                 : StandInText(item.id, model, sample, right);
    r.confidence = outcome->confidence;
    const auto& profile = cx.Profile(model);
    r.cost = static_cast<core::Micros>(std::llround(replay::CallCost(profile, *outcome) * 1e6));
    r.latency = std::chrono::milliseconds(
        std::llround(replay::CallLatency(profile, *outcome, cx.options.seed, sample) * 1000));
    return r;
  };
  const auto run = route::RunOffline(engine, call);
  ++row.items;
  row.correct += run.finish.sample && correct[*run.finish.sample];
  bool strong = false;
  for (const auto& s : run.progress.samples) {
    row.cost_usd += static_cast<double>(s.call.cost) / 1e6;
    ++row.calls;
    strong = strong || cx.model_of.at(s.rung) == cx.strong;
  }
  row.reached_strong += strong;
  latencies.push_back(static_cast<double>(run.latency_ms) / 1000.0);
}

Row RunPlanRow(const Context& cx, std::string name, std::string kind,
               const std::function<std::string(const replay::Item&)>& spec_of,
               bool learned_confidence = false) {
  Row row;
  row.name = std::move(name);
  row.kind = std::move(kind);
  std::vector<double> latencies;
  std::map<std::string, route::Plan> plans;
  for (const auto& item : cx.set.items) {
    const auto spec = spec_of(item);
    auto it = plans.find(spec);
    if (it == plans.end()) it = plans.emplace(spec, PlanOf(spec)).first;
    RunItem(cx, item, it->second, row, latencies, learned_confidence);
  }
  for (const auto& [spec, plan] : plans) row.plan += (row.plan.empty() ? "" : "; ") + spec;
  if (learned_confidence) row.plan += " (confidence: the learned after-the-call estimate)";
  row.p50_s = core::Percentile(latencies, 0.5);
  row.p95_s = core::Percentile(latencies, 0.95);
  return row;
}

// Per item, the cheapest model whose first sample is right, as if it were the only call; when
// none is, the strong model's.
Row Oracle(const Context& cx) {
  Row row;
  row.name = "oracle: cheapest correct model";
  row.kind = "oracle";
  row.plan = "per item the cheapest model whose first sample is right, else the strong model";
  std::vector<double> latencies;
  for (const auto& item : cx.set.items) {
    const replay::Outcome* best = nullptr;
    double best_cost = 0;
    bool right = false;
    for (const auto& model : cx.set.models) {
      const auto* o = cx.set.Find(item.id, model);
      if (!o) continue;
      const auto index = static_cast<std::size_t>(o - cx.set.outcomes.data());
      const bool ok = replay::SampleCorrect(*o, cx.expected[index], cx.options.seed, 0);
      const double cost = replay::CallCost(cx.Profile(model), *o);
      if (ok && (!right || cost < best_cost)) best = o, best_cost = cost, right = true;
      if (!right && model == cx.strong) best = o, best_cost = cost;
    }
    ++row.items;
    if (!best) continue;
    row.correct += right;
    row.cost_usd += best_cost;
    ++row.calls;
    row.reached_strong += best->model == cx.strong;
    latencies.push_back(replay::CallLatency(cx.Profile(best->model), *best, cx.options.seed, 0));
  }
  row.p50_s = core::Percentile(latencies, 0.5);
  row.p95_s = core::Percentile(latencies, 0.95);
  return row;
}

// Difficulty labels in order: the usual names first, others after them by name.
std::vector<std::string> LevelsOf(const replay::ReplaySet& set) {
  static const std::vector<std::string> kKnown = {"trivial", "easy", "medium", "hard", "expert"};
  std::set<std::string> seen;
  for (const auto& item : set.items) seen.insert(*item.difficulty);
  std::vector<std::string> out;
  for (const auto& k : kKnown)
    if (seen.erase(k)) out.push_back(k);
  out.insert(out.end(), seen.begin(), seen.end());
  return out;
}

// The learned router's view of every item (text, tier probabilities, labels), once.
void BuildTasks(Context& cx) {
  if (!cx.tasks.empty()) return;
  for (const auto& item : cx.set.items) {
    std::optional<std::array<double, core::kTierCount>> tiers;
    if (cx.options.classify && item.text && !item.text->empty())
      tiers = cx.options.classify(*item.text).probabilities;
    cx.tasks.emplace(item.id, learn::TaskOf(item, tiers));
  }
}

const char* const kThresholds[] = {"0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"};

// The learned router's strategies: alone (before the call), as a cascade's confidence (after
// it), and both ("predict, then verify, then escalate"); each swept over its threshold, the
// table showing 0.5.
void LearnedStrategies(Context& cx, Report& report, const std::string& C, const std::string& S,
                       const std::string& cheap) {
  const auto& o = cx.options;
  const auto usable = [&](const std::shared_ptr<const route::LearnedRouter>& r, const char* what) {
    if (!r) return false;
    if (r->Has(cheap)) return true;
    report.skipped.push_back(std::string("learned router (") + what +
                             "): the model file has no "
                             "predictor for " +
                             cheap);
    return false;
  };
  const bool before = usable(o.before, "before the call");
  const bool text = std::all_of(cx.set.items.begin(), cx.set.items.end(),
                                [](const auto& i) { return i.text.has_value(); });
  const bool responses =
      std::all_of(cx.set.outcomes.begin(), cx.set.outcomes.end(),
                  [&](const auto& x) { return x.model != cheap || x.response.has_value(); });
  bool after = usable(o.after, "after the call");
  if (after && !responses) {
    report.skipped.push_back(
        "learned router (after the call): the cheap model's answers are not recorded");
    after = false;
  }
  if (!before && !after) return;
  BuildTasks(cx);
  if (report.split != "test")
    report.assumptions.push_back(
        "the learned router's figures are on items it may have trained on; run --split test");
  std::map<std::string, double> p_cheap;
  if (before)
    for (const auto& item : cx.set.items)
      p_cheap[item.id] = o.before->Predict(cheap, cx.Task(item)).value_or(0);
  const auto sweep = [&](std::string strategy, std::string parameter, auto run_at) {
    Curve curve{strategy, std::move(parameter), {}};
    for (const char* t : kThresholds) {
      auto row = run_at(std::string(t));
      row.name = strategy + " (" + t + ")";
      if (std::string_view(t) == "0.5") {
        auto shown = row;
        shown.name = strategy;
        report.rows.push_back(std::move(shown));
      }
      curve.points.push_back(std::move(row));
    }
    report.curves.push_back(std::move(curve));
  };
  if (before)
    sweep("learned router", "P(cheap model right) at which the cheap model answers",
          [&](const std::string& t) {
            const double cut = std::stod(t);
            return RunPlanRow(cx, "", "strategy", [&](const replay::Item& item) {
              return "direct(" + (p_cheap.at(item.id) >= cut ? C : S) + ")";
            });
          });
  if (after)
    sweep("learned cascade", "P(answer right) at which the cheap answer is kept",
          [&](const std::string& t) {
            return RunPlanRow(
                cx, "", "strategy",
                [&](const replay::Item&) {
                  return "cascade(" + C + ", confidence=" + t + ") -> direct(" + S + ")";
                },
                true);
          });
  if (before && after)
    sweep("predict, verify, escalate",
          "P(cheap model right) at which the cheap model is tried (its answer kept at P >= 0.5)",
          [&](const std::string& t) {
            const double cut = std::stod(t);
            return RunPlanRow(
                cx, "", "strategy",
                [&](const replay::Item& item) {
                  return p_cheap.at(item.id) >= cut
                             ? "cascade(" + C + ", confidence=0.5) -> direct(" + S + ")"
                             : "direct(" + S + ")";
                },
                true);
          });
}

// The ladder (a rung per model), the stand-in verifier's rates; true when a stand-in is needed.
bool Prepare(Context& cx) {
  const auto& set = cx.set;
  const auto& options = cx.options;
  std::set<std::string> taken;
  for (const auto& model : set.models) {
    const auto rung = RungName(model, taken);
    taken.insert(rung);
    cx.rung_of[model] = rung;
    cx.model_of[rung] = model;
    cx.ladder.rungs.push_back({rung, model, false, 0, {}});
  }
  for (const auto& name : {options.cheap, options.strong})
    if (!name.empty() && !cx.rung_of.contains(name))
      throw std::invalid_argument("the set has no model '" + name + "'");

  // Each model's accuracy (expected, over the split) sets the stand-in's false-pass rate:
  // precision = r p / (r p + f (1 - p))  =>  f = r p (1 - precision) / (precision (1 - p)).
  const auto& v = options.verifier;
  bool stand_in = false;
  for (const auto& model : set.models) {
    double sum = 0;
    int n = 0;
    for (std::size_t i = 0; i < set.outcomes.size(); ++i)
      if (set.outcomes[i].model == model) sum += cx.expected[i], ++n;
    const double p = n ? sum / n : 0;
    cx.false_pass[model] =
        p >= 1 ? 0.0
               : std::clamp(v.recall * p * (1 - v.precision) / (v.precision * (1 - p)), 0.0, 1.0);
    for (const auto& o : set.outcomes) stand_in = stand_in || (o.model == model && !o.response);
  }
  return stand_in;
}

// "The most correct answers for at most $X": per item, the model a budget buys, from predicted
// P(right) per model and item (the learned router where it knows the model, else each model's
// accuracy by difficulty label on the train split) and expected costs (each model's mean call
// cost on the train split). Items start on their cheapest model; then, best gain per dollar
// first, each item moves up its own frontier of (cost, P) while the budget lasts -- the greedy
// answer to the knapsack's linear relaxation. Nothing here reads the evaluated items' outcomes.
void BudgetPolicy(Context& cx, Report& report, const replay::ReplaySet& train) {
  const auto& o = cx.options;
  if (train.items.empty()) {
    report.skipped.push_back("budget policy: the train split holds no items to learn costs from");
    return;
  }
  std::map<std::string, double> cost;  // expected call cost by model
  std::map<std::string, std::map<std::string, std::pair<double, int>>> by_label;  // model, label
  const auto train_expected = replay::ExpectedCorrect(train);
  for (std::size_t i = 0; i < train.outcomes.size(); ++i) {
    const auto& oc = train.outcomes[i];
    const auto* item = train.FindItem(oc.item);
    auto& [sum, n] = by_label[oc.model][item->difficulty.value_or("")];
    sum += train_expected[i];
    ++n;
  }
  for (const auto& model : cx.set.models) {
    double total = 0;
    int n = 0;
    for (const auto& oc : train.outcomes)
      if (oc.model == model) total += replay::CallCost(cx.Profile(model), oc), ++n;
    if (!n) {
      report.skipped.push_back("budget policy: no train-split outcomes of " + model);
      return;
    }
    cost[model] = total / n;
  }
  const bool learned = o.before != nullptr;
  if (learned) BuildTasks(cx);
  const auto predict = [&](const std::string& model, const replay::Item& item) {
    if (learned && o.before->Has(model)) return o.before->Predict(model, cx.Task(item)).value_or(0);
    const auto& labels = by_label[model];
    auto it = labels.find(item.difficulty.value_or(""));
    if (it == labels.end()) {  // an unseen label: the model's overall rate
      double sum = 0;
      int n = 0;
      for (const auto& [label, sn] : labels) sum += sn.first, n += sn.second;
      return n ? sum / n : 0.0;
    }
    return it->second.first / it->second.second;
  };
  // Each item's frontier: its models by cost with P rising and gains per dollar falling.
  struct Step {
    double slope, dcost;
    std::size_t item;
    int index;  // the frontier vertex it moves the item to
  };
  std::vector<std::vector<std::pair<double, std::string>>> frontier(cx.set.items.size());
  std::vector<Step> steps;
  double base = 0;
  for (std::size_t i = 0; i < cx.set.items.size(); ++i) {
    const auto& item = cx.set.items[i];
    std::vector<Point> points;
    std::map<std::pair<double, double>, std::string> model_at;
    for (const auto& model : cx.set.models) {
      if (!cx.set.Find(item.id, model)) continue;
      const Point p{cost.at(model), predict(model, item)};
      if (model_at.emplace(std::pair{p.cost, p.accuracy}, model).second) points.push_back(p);
    }
    if (points.empty()) continue;
    const auto cheapest =
        *std::min_element(points.begin(), points.end(), [](const Point& a, const Point& b) {
          return a.cost != b.cost ? a.cost < b.cost : a.accuracy > b.accuracy;
        });
    // The hull from the origin, without it: its first vertex may not be the cheapest model, so
    // start from the cheapest and keep the vertices past it.
    auto hull = UpperHull(points);
    std::vector<std::pair<double, std::string>> f = {
        {cheapest.cost, model_at.at({cheapest.cost, cheapest.accuracy})}};
    Point last = cheapest;
    for (const auto& v : hull) {
      if (v.cost <= last.cost || v.accuracy <= last.accuracy) continue;
      steps.push_back({(v.accuracy - last.accuracy) / (v.cost - last.cost), v.cost - last.cost, i,
                       static_cast<int>(f.size())});
      f.push_back({v.cost, model_at.at({v.cost, v.accuracy})});
      last = v;
    }
    base += cheapest.cost;
    frontier[i] = std::move(f);
  }
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    return a.slope != b.slope ? a.slope > b.slope
           : a.item != b.item ? a.item < b.item
                              : a.index < b.index;
  });
  const double strong_total = cost.at(cx.strong) * static_cast<double>(cx.set.items.size());
  Curve curve{"budget policy", "the budget, as a share of the strong model's expected cost", {}};
  for (const double share : {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0}) {
    std::vector<int> at(cx.set.items.size(), 0);
    double left = share * strong_total - base;
    for (const auto& step : steps) {
      if (at[step.item] != step.index - 1 || step.dcost > left) continue;
      at[step.item] = step.index;
      left -= step.dcost;
    }
    std::map<std::string, std::string> chosen;
    for (std::size_t i = 0; i < cx.set.items.size(); ++i)
      if (!frontier[i].empty())
        chosen[cx.set.items[i].id] =
            cx.rung_of.at(frontier[i][static_cast<std::size_t>(at[i])].second);
    auto row = RunPlanRow(
        cx, fmt::format("budget policy (<= {:g}% of strong)", 100 * share), "strategy",
        [&](const replay::Item& item) {
          const auto it = chosen.find(item.id);
          return "direct(" + (it == chosen.end() ? cx.rung_of.at(cx.strong) : it->second) + ")";
        });
    row.plan = fmt::format(
        "per item the model a budget of {:g}% of the strong model's expected cost buys ({})",
        100 * share,
        learned ? "P(right) from the learned router where it knows the model, else accuracy by "
                  "label on the train split"
                : "P(right): accuracy by label on the train split");
    if (share == 0.5) {
      auto shown = row;
      shown.name = "budget policy (<= 50% of strong's cost)";
      report.rows.push_back(std::move(shown));
    }
    curve.points.push_back(std::move(row));
  }
  report.curves.push_back(std::move(curve));
  if (report.split != "test")
    report.assumptions.push_back(
        "the budget policy learns costs and accuracies from the train split; outside --split test "
        "its figures include those items");
}

}  // namespace

Point Row::point() const {
  return {items ? cost_usd / items : 0, items ? static_cast<double>(correct) / items : 0};
}

namespace {

Report RunSplit(const replay::ReplaySet& full, const replay::Profiles& profiles,
                const BenchOptions& options) {
  const auto set = replay::SelectSplit(full, options.split);
  if (set.items.empty()) throw std::invalid_argument("the split holds no items of the set");
  Context cx{
      set, options, replay::ProfilesFor(profiles, set), replay::ExpectedCorrect(set), {}, {}, {},
      {},  {}};
  Report report;
  report.set = full.dir.filename().string();
  report.split = options.split == classify::Split::kHeldOut ? "test"
                 : options.split == classify::Split::kTrain ? "train"
                                                            : "all";
  report.items = static_cast<int>(set.items.size());

  const bool stand_in = Prepare(cx);
  const auto& v = options.verifier;

  // The single models, cheapest first; the strong one is the most accurate (then cheapest).
  std::vector<Row> singles;
  for (const auto& model : set.models) {
    const auto rung = cx.rung_of.at(model);
    singles.push_back(RunPlanRow(cx, cx.Profile(model).name + " only", "single",
                                 [&](const replay::Item&) { return "direct(" + rung + ")"; }));
    singles.back().plan = "direct(" + rung + ")";
    singles.back().model = model;
  }
  std::vector<std::size_t> order(singles.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](auto a, auto b) { return singles[a].cost_usd < singles[b].cost_usd; });
  std::vector<Point> points;
  for (const auto& s : singles) points.push_back(s.point());
  report.hull = UpperHull(points);
  std::size_t strong = order.front();
  for (auto i : order)
    if (singles[i].correct > singles[strong].correct) strong = i;
  cx.strong = options.strong.empty() ? set.models[strong] : options.strong;
  // The cheap model: the cheapest single model on the hull.
  std::string cheap = options.cheap;
  for (auto i : order)
    if (cheap.empty() &&
        std::find(report.hull.begin(), report.hull.end(), singles[i].point()) != report.hull.end())
      cheap = set.models[i];
  if (cheap.empty()) cheap = set.models[order.front()];
  report.cheap = cheap;
  report.strong = cx.strong;
  const auto C = cx.rung_of.at(cheap), S = cx.rung_of.at(cx.strong);
  for (auto i : order) {
    // Tallies of the strong model's reach need cx.strong: count it again for singles.
    singles[i].reached_strong = set.models[i] == cx.strong ? singles[i].items : 0;
    report.rows.push_back(singles[i]);
  }

  // Assumptions: every figure the set did not record.
  for (const auto& p : cx.profiles)
    report.assumptions.push_back(fmt::format(
        "{} ({}): {}; ${}/${} per 1M tokens in/out, {} in / {} out tokens a call, latency p50 {} s"
        "{}",
        p.name, p.model, p.source.empty() ? "no source given" : p.source,
        p.input_usd_per_mtok.value_or(0), p.output_usd_per_mtok.value_or(0),
        p.input_tokens.value_or(0), p.output_tokens.value_or(0), p.latency_p50_s.value_or(0),
        p.latency_p95_s ? fmt::format(", p95 {} s", *p.latency_p95_s) : ""));
  report.assumptions.push_back(
      "recorded cost_usd, latency_s and token counts replace these where an outcome has them");
  if (stand_in) {
    std::string rates;
    for (const auto& model : set.models)
      rates += fmt::format("{}{} {:.3f}", rates.empty() ? "" : ", ", cx.Profile(model).name,
                           cx.false_pass.at(model));
    report.assumptions.push_back(fmt::format(
        "no answers recorded (p_correct): a stand-in verifier with precision {} and recall {} "
        "checks them (false-pass rate by model: {}); samples are independent draws, so wrong "
        "answers never agree",
        v.precision, v.recall, rates));
  }

  // Strategies.
  const bool text = std::all_of(set.items.begin(), set.items.end(),
                                [](const auto& i) { return i.text && !i.text->empty(); });
  if (options.classify && text) {
    std::map<std::string, core::Tier> tiers;
    for (const auto& item : set.items) tiers[item.id] = options.classify(*item.text).tier;
    Curve curve{"hybrid by classifier tier", "the hardest tier sent to the cheap model", {}};
    for (const auto cut : core::kAllTiers) {
      auto row = RunPlanRow(cx, "hybrid by tier (<= " + std::string(core::ToString(cut)) + ")",
                            "strategy", [&](const replay::Item& item) {
                              return "direct(" + (tiers.at(item.id) <= cut ? C : S) + ")";
                            });
      if (cut == core::Tier::kEasy) {
        row.name = "hybrid by classifier tier";
        report.rows.push_back(row);
      }
      curve.points.push_back(std::move(row));
    }
    report.curves.push_back(std::move(curve));
  } else {
    report.skipped.push_back(text ? "hybrid by classifier tier: no classifier given"
                                  : "hybrid by classifier tier: items without text");
  }
  const bool labelled = std::all_of(set.items.begin(), set.items.end(),
                                    [](const auto& i) { return i.difficulty.has_value(); });
  if (labelled) {
    const auto levels = LevelsOf(set);
    Curve curve{"hybrid by difficulty label", "the hardest label sent to the cheap model", {}};
    for (std::size_t cut = 0; cut < levels.size(); ++cut) {
      auto row =
          RunPlanRow(cx, "hybrid by label (<= " + levels[cut] + ")", "strategy",
                     [&](const replay::Item& item) {
                       const auto at = std::find(levels.begin(), levels.end(), *item.difficulty) -
                                       levels.begin();
                       return "direct(" + (static_cast<std::size_t>(at) <= cut ? C : S) + ")";
                     });
      if (cut == 0) {
        row.name = "hybrid by difficulty label";
        report.rows.push_back(row);
      }
      curve.points.push_back(std::move(row));
    }
    report.curves.push_back(std::move(curve));
  } else {
    report.skipped.push_back("hybrid by difficulty label: items without a difficulty");
  }
  const auto fixed = [](std::string spec) { return [spec](const replay::Item&) { return spec; }; };
  report.rows.push_back(RunPlanRow(cx, "verified cascade", "strategy",
                                   fixed("cascade(" + C + ") -> direct(" + S + ")")));
  // Up the hull: each single model on it, cheapest first, keeps what verifies.
  std::string up;
  for (auto i : order) {
    const auto& m = set.models[i];
    if (m == cx.strong ||
        std::find(report.hull.begin(), report.hull.end(), singles[i].point()) == report.hull.end())
      continue;
    up += "cascade(" + cx.rung_of.at(m) + ") -> ";
  }
  up += "direct(" + S + ")";
  if (up != "cascade(" + C + ") -> direct(" + S + ")")
    report.rows.push_back(RunPlanRow(cx, "verified cascade up the hull", "strategy", fixed(up)));
  const bool sampled = std::any_of(set.outcomes.begin(), set.outcomes.end(),
                                   [&](const auto& o) { return o.model == cheap && !o.response; });
  if (sampled) {
    const auto n = std::to_string(options.samples);
    report.rows.push_back(
        RunPlanRow(cx, "best-of-" + n, "strategy",
                   fixed("best_of_n(" + C + ", n=" + n + ") -> direct(" + S + ")")));
    Curve curve{"self-consistency", "the vote share kept", {}};
    for (const char* share : {"0.2", "0.4", "0.6", "0.8", "1"}) {
      auto row = RunPlanRow(cx, std::string("self-consistency (share ") + share + ")", "strategy",
                            fixed("self_consistency(" + C + ", n=" + n + ", share=" + share +
                                  ") -> direct(" + S + ")"));
      if (std::string_view(share) == "0.6") {
        row.name = "self-consistency";
        report.rows.push_back(row);
      }
      curve.points.push_back(std::move(row));
    }
    report.curves.push_back(std::move(curve));
  } else {
    report.skipped.push_back(
        "best-of-n and self-consistency: the cheap model's outcomes are recorded responses, one "
        "sample each");
  }
  LearnedStrategies(cx, report, C, S, cheap);
  BudgetPolicy(cx, report, replay::SelectSplit(full, classify::Split::kTrain));
  report.rows.push_back(Oracle(cx));
  return report;
}

}  // namespace

void ChooseOnTrain(Report& test, const Report& train, double keep) {
  const auto strong_accuracy = [](const Report& r) {
    for (const auto& row : r.rows)
      if (row.kind == "single" && row.model == r.strong) return row.point().accuracy;
    return 0.0;
  };
  const double needed = keep * strong_accuracy(train);
  std::vector<Row> chosen;
  for (const auto& curve : test.curves) {
    const auto it = std::find_if(train.curves.begin(), train.curves.end(),
                                 [&](const Curve& c) { return c.strategy == curve.strategy; });
    if (it == train.curves.end() || it->points.size() != curve.points.size()) continue;
    std::size_t pick = 0;
    bool met = false;
    for (std::size_t i = 0; i < it->points.size(); ++i) {
      const auto p = it->points[i].point();
      const auto best = it->points[pick].point();
      if (p.accuracy >= needed ? (!met || p.cost < best.cost)
                               : (!met && p.accuracy > best.accuracy))
        pick = i;
      met = met || p.accuracy >= needed;
    }
    auto row = curve.points[pick];
    row.plan = fmt::format(
        "{}; chosen on the train split ({} of {}: {:.1f}% there, {} keeping {:g}% "
        "of its strong model's accuracy)",
        row.plan, row.name, train.items, 100 * it->points[pick].point().accuracy,
        met ? "the cheapest point" : "no point", 100 * keep);
    row.name = curve.strategy + ", chosen on train";
    chosen.push_back(std::move(row));
  }
  const auto oracle = std::find_if(test.rows.begin(), test.rows.end(),
                                   [](const Row& r) { return r.kind == "oracle"; });
  test.rows.insert(oracle, chosen.begin(), chosen.end());
}

Report RunBench(const replay::ReplaySet& full, const replay::Profiles& profiles,
                const BenchOptions& options) {
  auto report = RunSplit(full, profiles, options);
  if (options.split == classify::Split::kHeldOut) {
    auto on_train = options;
    on_train.split = classify::Split::kTrain;
    ChooseOnTrain(report, RunSplit(full, profiles, on_train), options.keep);
  }
  return report;
}

Curve RunSweep(const replay::ReplaySet& full, const replay::Profiles& profiles,
               const BenchOptions& options, const Sweep& sweep) {
  const auto set = replay::SelectSplit(full, options.split);
  if (set.items.empty()) throw std::invalid_argument("the split holds no items of the set");
  Context cx{
      set, options, replay::ProfilesFor(profiles, set), replay::ExpectedCorrect(set), {}, {}, {},
      {},  {}};
  Prepare(cx);
  cx.strong = options.strong;
  const auto rung = [&](const std::string& model) {
    const auto it = cx.rung_of.find(model);
    if (it == cx.rung_of.end()) throw std::invalid_argument("the set has no model '" + model + "'");
    return it->second;
  };
  Curve curve{sweep.strategy, sweep.parameter, {}};
  for (const auto& value : sweep.values) {
    auto row = RunPlanRow(cx, sweep.strategy + " (" + value + ")", "strategy",
                          [&](const replay::Item& item) { return sweep.plan(item, value, rung); });
    curve.points.push_back(std::move(row));
  }
  return curve;
}

}  // namespace triage::bench
