// `triage bench`: routing strategies replayed on real recorded outcomes (a replay set, docs/
// replay.md). Every strategy is a plan per item run through the routing engine
// (route::RunOffline) on a virtual clock -- the service's own strategy code -- against the
// recorded models; then each final answer is judged by the set's record of it (the project's
// verifier against the item's gold for a recorded response, a seeded draw for a p_correct).
// The engine never sees the gold: it checks answers only as the service could. Where the set
// holds no text to check (pass rates only), the verifier is a stand-in whose precision and
// recall are explicit parameters, printed with the results. Pure and deterministic: the same
// set, profiles and options give the same report, byte for byte once formatted.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/hull.hpp"
#include "classify/dataset.hpp"
#include "classify/heuristic.hpp"
#include "replay/profiles.hpp"
#include "replay/set.hpp"
#include "route/learned_router.hpp"

namespace triage::bench {

// The stand-in verifier for outcomes without a response: it passes a right answer with
// probability `recall` and a wrong one so that `precision` of what it passes is right on each
// model's own answers (its false-pass rate follows from the model's accuracy).
struct StandInVerifier {
  double precision = 0.95;
  double recall = 0.90;
};

struct BenchOptions {
  std::uint64_t seed = 42;  // p_correct draws, latency spreads, the stand-in verifier
  classify::Split split = classify::Split::kAll;
  std::string cheap, strong;  // the outcomes' model names; empty: chosen (see Report)
  StandInVerifier verifier;
  int samples = 5;  // n of best-of-n and self-consistency
  // With the test split: each swept strategy also gets the point whose threshold the train
  // split picks, the cheapest there keeping this share of the strong model's accuracy.
  double keep = 0.95;
  // The difficulty classifier, for the hybrid by tier and the learned router's tier features
  // (items need text); empty: not run.
  std::function<classify::Classification(std::string_view)> classify;
  // The learned router (`triage router train`): before the call, P(model right | task) picks
  // where to start; after it, P(answer right | task, answer) is the cascade's confidence.
  // Null: those strategies are not run. Train them on the train split; report --split test.
  std::shared_ptr<const route::LearnedRouter> before, after;
};

struct Row {
  std::string name;
  std::string kind;   // single | strategy | oracle
  std::string model;  // a single row's model
  std::string plan;   // what ran, in the engine's plan syntax (rungs named after models)
  int items = 0, correct = 0;
  double cost_usd = 0;  // every call's cost
  double p50_s = 0, p95_s = 0;
  int reached_strong = 0;  // items with a call on the strong model
  int calls = 0;
  Point point() const;  // mean cost per item, accuracy
};

struct Curve {
  std::string strategy;   // the rows' common name
  std::string parameter;  // what the sweep moves
  std::vector<Row> points;
};

struct Report {
  std::string set;  // the folder's name
  std::string split;
  int items = 0;
  std::string cheap, strong;             // by name; strong: the most accurate single model
  std::vector<std::string> assumptions;  // every figure not recorded in the set, and why
  std::vector<std::string> skipped;      // strategies the set cannot run, and why
  std::vector<Row> rows;                 // singles by cost, then strategies, then the oracle
  std::vector<Curve> curves;
  std::vector<Point> hull;  // of the single models
};

// Adds to `test`, for each curve `train` also swept, the point whose threshold the train split
// picks -- the cheapest there keeping `keep` of its strong model's accuracy, else the most
// accurate -- as a row "<strategy>, chosen on train": a figure no test item helped choose.
void ChooseOnTrain(Report& test, const Report& train, double keep);

// One strategy over a range of a parameter (`triage tune`): at each value, every item runs the
// plan `plan` gives, through the same runner as RunBench's rows. `rung` names a model's rung on
// the bench's ladder (throws std::invalid_argument for a model the set lacks).
struct Sweep {
  std::string strategy, parameter;
  std::vector<std::string> values;
  std::function<std::string(const replay::Item& item, const std::string& value,
                            const std::function<std::string(const std::string& model)>& rung)>
      plan;
};

// The sweep's curve, a row per value in order (named "<strategy> (<value>)"); reached_strong
// counts calls on options.strong. Throws as RunBench does.
Curve RunSweep(const replay::ReplaySet& set, const replay::Profiles& profiles,
               const BenchOptions& options, const Sweep& sweep);

// Throws replay::ReplayError for a set the profiles cannot price, std::invalid_argument for
// options naming a model the set does not hold or a split with no items.
Report RunBench(const replay::ReplaySet& set, const replay::Profiles& profiles,
                const BenchOptions& options);

}  // namespace triage::bench
