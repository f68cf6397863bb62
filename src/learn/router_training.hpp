// Training the learned router (route/learned_router.hpp): one two-class logistic model per
// model id over BuildRouterRow's features, fitted by the classifier's own trainer
// (classify::TrainLinear), with a pass rate as a soft target where one is recorded.
// Deterministic: the same examples in the same order and options give identical bytes.
// Pure; thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "classify/training.hpp"
#include "route/router_model.hpp"

namespace triage::learn {

// One recorded outcome: a model's row (BuildRouterRow with the features being trained) and
// its expected correctness, 1 / 0 or a pass rate.
struct RouterExample {
  std::string model;
  route::RouterRow row;
  double target = 0;
};

// Defaults chosen on the gsm8k set's validation fold (docs/learned_router.md): a replay set has
// about a thousand rows per model, so steps are small and the hashed text features few.
struct RouterTrainParams {
  int epochs = 20;
  double learning_rate = 0.003;  // AdaGrad base step
  double l2 = 1e-4;              // L2 penalty on every weight a step touches
  uint64_t seed = 1;             // shuffles the example order each epoch
};

// The router's default hashed text features: the classifier's word uni- and bigrams in fewer
// buckets, without character n-grams (they only added noise on the validation fold).
inline constexpr int kRouterHashBits = 14;
inline constexpr int kRouterCharNgramMin = 5, kRouterCharNgramMax = 4;  // min = max + 1: none

// A label "key=value" joins the vocabulary when at least kMinLabelItems items carry it and its
// key takes at most kMaxLabelValues values: per-item fields (ids, dates, worked solutions)
// never become features.
inline constexpr size_t kMinLabelItems = 5;
inline constexpr size_t kMaxLabelValues = 64;
// `labels`: each item's labels, one entry per item. Sorted, so the order is reproducible.
std::vector<std::string> BuildVocabulary(
    const std::vector<std::vector<std::pair<std::string, std::string>>>& labels);

// Trains one predictor per distinct model in `examples` (sorted by name); `features` is the
// config the rows were built with. Throws std::invalid_argument on no examples.
route::RouterParams TrainRouter(const std::vector<RouterExample>& examples,
                                const route::RouterFeatureConfig& features,
                                const RouterTrainParams& params, std::string metadata);

}  // namespace triage::learn
