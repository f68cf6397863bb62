// Logistic regression over hashed sparse features plus standardised dense features, trained with
// AdaGrad SGD in pure C++: the one training loop behind the difficulty classifier (TrainModel,
// five tiers) and the learned router (learn/, two classes: wrong, correct).
// Deterministic: the same examples (in the same order) and options give bit-identical parameters
// (single thread, a fixed-order sum, and our own RNG rather than the implementation-defined
// std:: distributions). Pure; safe to call from several threads on distinct inputs.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "classify/features.hpp"
#include "classify/model_file.hpp"
#include "core/tier.hpp"

namespace triage::classify {

// A softmax-linear model: logits = bias + dense_weights * standardised(dense) + hashed part.
struct LinearModel {
  int classes = 0;
  int hash_bits = 0;
  std::vector<float> dense_mean;      // D
  std::vector<float> dense_inv_std;   // D (0 for a constant feature: it then has no effect)
  std::vector<float> bias;            // K
  std::vector<float> dense_weights;   // D * K, row per dense feature
  std::vector<float> hashed_weights;  // 2^hash_bits * K, row per bucket
  int dense_count() const { return static_cast<int>(dense_mean.size()); }
};

// Training rows in compressed sparse form. Each row: hashed buckets (each at most once, values
// already scaled), `dense_count` dense values, a target distribution over `classes` (one-hot for
// hard labels; soft targets such as a measured pass rate are allowed) and an example weight.
struct SparseExamples {
  int classes = 0;
  int dense_count = 0;
  std::vector<size_t> offsets{0};
  std::vector<uint32_t> buckets;
  std::vector<float> values;
  std::vector<float> dense;    // rows * dense_count
  std::vector<float> targets;  // rows * classes
  std::vector<float> weights;  // rows
  size_t rows() const { return offsets.size() - 1; }
  // Appends a row; `hashed` is (bucket, value) occurrences in any order, duplicates summed.
  void Add(std::vector<std::pair<uint32_t, float>> hashed, std::span<const float> dense_row,
           std::span<const float> target, float weight = 1.0f);
};

// Sparse (bucket, value) occurrences merged: each bucket once, in increasing order, its values
// summed. The one merge, shared by training rows and by predictions, so both sum alike.
struct SparseRow {
  std::vector<uint32_t> buckets;
  std::vector<float> values;
};
SparseRow MergeHashed(std::vector<std::pair<uint32_t, float>> hashed);

// Hashed occurrences of `features` as (bucket, per-kind scale) pairs, ready for Add.
std::vector<std::pair<uint32_t, float>> HashedPairs(const Features& features);

struct SgdParams {
  int hash_bits = 16;
  int epochs = 10;
  double learning_rate = 0.05;  // AdaGrad base step
  double l2 = 1e-5;             // L2 penalty on every weight a step touches
  uint64_t seed = 1;            // shuffles the example order each epoch
};

// Trains on `examples` (at least one row; bucket ids below 2^hash_bits). Throws
// std::invalid_argument on an empty or inconsistent set.
LinearModel TrainLinear(const SparseExamples& examples, const SgdParams& params);

// Logits of one row (buckets/values as in SparseExamples) into `out` (model.classes floats).
void LinearLogits(const LinearModel& model, std::span<const uint32_t> buckets,
                  std::span<const float> values, std::span<const float> dense,
                  std::span<float> out);

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

// Trains the difficulty classifier on `examples` (at least one). `metadata` is stored verbatim.
ModelParams TrainModel(const std::vector<TrainingExample>& examples, const TrainParams& params,
                       std::string metadata);

}  // namespace triage::classify
