// Multinomial logistic regression over Features, trained with AdaGrad SGD in pure C++.
// Deterministic: the same examples (in the same order) and options give bit-identical parameters
// (single thread, a fixed-order sum, and our own RNG rather than the implementation-defined
// std:: distributions). Pure; safe to call from several threads on distinct inputs.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "classify/features.hpp"
#include "classify/model_file.hpp"
#include "core/tier.hpp"

namespace triage::classify {

struct TrainingExample {
  std::string_view text;  // must outlive TrainModel
  core::Tier tier;
};

struct TrainParams {
  FeatureConfig features;
  int epochs = 10;
  double learning_rate = 0.05;  // AdaGrad base step
  double l2 = 1e-5;             // L2 penalty on every weight a step touches
  // Example weight = (N / (present tiers * examples of its tier))^power: 1 balances the tiers
  // (what macro-F1 rewards), 0 weighs every example alike.
  double class_weight_power = 1.0;
  uint64_t seed = 1;  // shuffles the example order each epoch
};

// Trains on `examples` (at least one). `metadata` is stored verbatim in the model.
ModelParams TrainModel(const std::vector<TrainingExample>& examples, const TrainParams& params,
                       std::string metadata);

}  // namespace triage::classify
