// The logic behind `triage router train|eval` (docs/learned_router.md), as plain functions the
// CLI wires up and tests call directly. They read a replay set (replay::ReadReplaySet), grade
// its outcomes (replay::ExpectedCorrect: the verifier against gold, or the recorded pass rate),
// write reports to `out` and problems to `err`, and return a process exit code (0 ok,
// 2 bad arguments or input).
#pragma once
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "classify/commands.hpp"
#include "learn/binary_metrics.hpp"
#include "learn/router_training.hpp"
#include "replay/set.hpp"
#include "route/learned_router.hpp"

namespace triage::learn {

// Which items a command sees, all fixed by classify::SplitBucket of the item id, so no figure
// ever sees an item the model was fitted on: "test" is the classifier's held-out split (buckets
// [0, 20)), "train" the rest; "validation" (buckets [20, 40)) and "fit" (the rest of train)
// split train again, for choosing settings without touching the test split.
enum class RouterSplit { kTrain, kFit, kValidation, kTest, kAll };
std::optional<RouterSplit> ParseRouterSplit(std::string_view name);
std::string_view ToString(RouterSplit split);
bool InSplit(std::string_view item_id, RouterSplit split);

// A replay item as the router sees it before any call: text, the classifier's tier
// probabilities (when `classifier` is given and the item has text), and its labels (domain,
// difficulty and every other scalar field; BuildVocabulary keeps the useful ones).
struct ItemTask {
  std::string text;
  std::optional<std::array<double, core::kTierCount>> tier_probabilities;
  std::vector<std::pair<std::string, std::string>> labels;
  route::RouterTask View() const { return {text, tier_probabilities, labels}; }
};
ItemTask TaskOf(const replay::Item& item, const classify::TrainedClassifier* classifier);
// The same with the tier probabilities already computed (nullopt: none).
ItemTask TaskOf(const replay::Item& item,
                std::optional<std::array<double, core::kTierCount>> tier_probabilities);

struct RouterTrainOptions {
  std::filesystem::path data;  // replay set folder
  std::filesystem::path out;   // empty: models/router_<set>_<kind>.bin
  route::RouterKind kind = route::RouterKind::kBefore;
  std::filesystem::path classifier = classify::kDefaultModelPath;  // empty: no tier probabilities
  RouterSplit split = RouterSplit::kTrain;                         // train or fit
  int hash_bits = kRouterHashBits;
  int char_ngram_min = kRouterCharNgramMin, char_ngram_max = kRouterCharNgramMax;
  bool word_bigrams = true;
  bool answer_text = false;  // after: hash the answer's words too
  RouterTrainParams params;
};
int RunRouterTrain(const RouterTrainOptions& options, std::ostream& out, std::ostream& err);

struct ModelFigures {
  std::string model;
  BinaryReport report;
};
// Scores every outcome of `set` whose model the router knows (and, for an "after" router, that
// recorded a response); `expected` is replay::ExpectedCorrect(set). Models the router does not
// know are left out.
std::vector<ModelFigures> EvaluateRouter(const replay::ReplaySet& set,
                                         const std::vector<double>& expected,
                                         const route::LearnedRouter& router,
                                         const classify::TrainedClassifier* classifier, int bins);

struct RouterEvalOptions {
  std::filesystem::path data;
  std::filesystem::path model;
  std::filesystem::path classifier = classify::kDefaultModelPath;
  RouterSplit split = RouterSplit::kTest;
  int bins = 10;
  bool json = false;
};
int RunRouterEval(const RouterEvalOptions& options, std::ostream& out, std::ostream& err);

}  // namespace triage::learn
