// The logic behind `triage classifier train|eval` and `triage classify`, as plain functions the
// CLI wires up and tests call directly. They read files, write reports to `out` and problems to
// `err`, and return a process exit code (0 ok, 1 failure, 2 bad arguments or input).
#pragma once
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "classify/dataset.hpp"
#include "classify/metrics.hpp"
#include "classify/trained_classifier.hpp"
#include "classify/training.hpp"

namespace triage::classify {

inline constexpr char kDefaultConfigPath[] = "config/classifier.toml";
inline constexpr char kDefaultModelPath[] = "models/classifier.bin";

struct TrainOptions {
  std::vector<std::filesystem::path> data;  // JSONL files
  std::filesystem::path out;                // model file to write
  std::filesystem::path config = kDefaultConfigPath;
  Split split = Split::kTrain;  // never train on the held-out items you report
  TrainParams params;
};
int RunTrain(const TrainOptions& options, std::ostream& out, std::ostream& err);

// Figures for one set of items, the trained model and the seed heuristic side by side.
struct EvalFigures {
  ConfusionMatrix model;
  ConfusionMatrix heuristic;
};
struct EvalReport {
  EvalFigures overall;
  std::map<std::string, EvalFigures> by_group;  // per source (LabelRule::group)
};
// `confidence_cut` > 0 evaluates the routing rule "a model probability below the cut routes one
// tier up" (issue 4's optional policy cut) instead of the model's own tier.
EvalReport Evaluate(const std::vector<LabeledItem>& items, const TrainedClassifier& classifier,
                    double confidence_cut = 0.0);

// The tier the confidence cut rule gives: one tier up (at most requires_reasoning) when the
// chosen tier's probability is below `cut`.
core::Tier ApplyConfidenceCut(const Classification& c, double cut);

struct EvalOptions {
  std::vector<std::filesystem::path> data;
  std::filesystem::path model = kDefaultModelPath;
  std::filesystem::path config = kDefaultConfigPath;
  Split split = Split::kHeldOut;
  bool json = false;
  double confidence_cut = 0.0;  // see Evaluate
};
int RunEval(const EvalOptions& options, std::ostream& out, std::ostream& err);

struct ClassifyOptions {
  std::string text;                                 // "-": read the task from standard input
  std::filesystem::path model = kDefaultModelPath;  // empty: the heuristic only
  int top_features = TrainedClassifier::kDefaultTopFeatures;
  bool json = false;
};
int RunClassify(const ClassifyOptions& options, std::ostream& out, std::ostream& err);

}  // namespace triage::classify
