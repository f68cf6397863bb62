#include "classify/training.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace triage::classify {
namespace {

constexpr int kK = core::kTierCount;

// SplitMix64: tiny, fully specified, so the shuffle is the same on every platform.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (rejection keeps it unbiased).
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = Next();
    while (x >= limit);
    return x % n;
  }

 private:
  uint64_t state_;
};

// Training examples as compressed sparse rows: duplicates merged, each bucket once per row.
struct SparseRows {
  std::vector<size_t> offsets{0};
  std::vector<uint32_t> buckets;
  std::vector<float> values;
  std::vector<std::array<float, kDenseCount>> dense;
};

SparseRows BuildRows(const std::vector<TrainingExample>& examples, const FeatureConfig& config) {
  SparseRows rows;
  Features f;
  std::vector<std::pair<uint32_t, float>> merged;
  for (const auto& ex : examples) {
    ExtractFeatures(ex.text, config, f);
    merged.clear();
    for (const auto& h : f.hashed)
      merged.emplace_back(h.bucket, f.kind_scale[static_cast<int>(h.kind)]);
    std::sort(merged.begin(), merged.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < merged.size();) {
      float v = 0;
      size_t j = i;
      for (; j < merged.size() && merged[j].first == merged[i].first; ++j) v += merged[j].second;
      rows.buckets.push_back(merged[i].first);
      rows.values.push_back(v);
      i = j;
    }
    rows.offsets.push_back(rows.buckets.size());
    rows.dense.push_back(f.dense);
  }
  return rows;
}

}  // namespace

ModelParams TrainModel(const std::vector<TrainingExample>& examples, const TrainParams& tp,
                       std::string metadata) {
  if (examples.empty()) throw std::invalid_argument("TrainModel: no examples");
  if (auto err = Validate(tp.features); !err.empty()) throw std::invalid_argument(err);
  const size_t n = examples.size();
  const SparseRows rows = BuildRows(examples, tp.features);

  ModelParams p;
  p.features = tp.features;
  p.metadata = std::move(metadata);
  // Standardise dense features with the training set's mean and spread.
  for (int j = 0; j < kDenseCount; ++j) {
    double sum = 0, sq = 0;
    for (const auto& d : rows.dense) sum += d[j];
    const double mean = sum / n;
    for (const auto& d : rows.dense) sq += (d[j] - mean) * (d[j] - mean);
    const double sd = std::sqrt(sq / n);
    p.dense_mean[j] = static_cast<float>(mean);
    p.dense_inv_std[j] = sd > 1e-6 ? static_cast<float>(1.0 / sd) : 0.0f;
  }

  std::array<size_t, kK> class_counts{};
  for (const auto& ex : examples) ++class_counts[static_cast<int>(ex.tier)];
  const int present = static_cast<int>(
      std::count_if(class_counts.begin(), class_counts.end(), [](size_t c) { return c > 0; }));
  std::array<float, kK> class_weight{};
  for (int c = 0; c < kK; ++c)
    if (class_counts[c] > 0)
      class_weight[c] = static_cast<float>(
          std::pow(static_cast<double>(n) / (present * class_counts[c]), tp.class_weight_power));

  const size_t buckets = size_t{1} << tp.features.hash_bits;
  p.hashed_weights.assign(buckets * kK, 0.0f);
  p.dense_weights.assign(kDenseCount * kK, 0.0f);
  std::vector<float> g_hashed(buckets * kK, 0.0f), g_dense(kDenseCount * kK, 0.0f);
  std::array<float, kK> g_bias{};
  const auto lr = static_cast<float>(tp.learning_rate);
  const auto l2 = static_cast<float>(tp.l2);
  constexpr float kEps = 1e-6f;
  auto step = [&](float& w, float& g2, float grad) {
    g2 += grad * grad;
    w -= lr * grad / (std::sqrt(g2) + kEps);
  };

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  SplitMix64 rng(tp.seed);
  std::array<float, kDenseCount> x{};
  for (int epoch = 0; epoch < tp.epochs; ++epoch) {
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
    for (const size_t e : order) {
      const size_t begin = rows.offsets[e], end = rows.offsets[e + 1];
      std::array<float, kK> z = p.bias;
      for (int j = 0; j < kDenseCount; ++j) {
        x[j] = (rows.dense[e][j] - p.dense_mean[j]) * p.dense_inv_std[j];
        for (int c = 0; c < kK; ++c) z[c] += x[j] * p.dense_weights[j * kK + c];
      }
      for (size_t k = begin; k < end; ++k) {
        const float* w = &p.hashed_weights[size_t{rows.buckets[k]} * kK];
        for (int c = 0; c < kK; ++c) z[c] += rows.values[k] * w[c];
      }
      const float zmax = *std::max_element(z.begin(), z.end());
      float total = 0;
      for (auto& v : z) total += (v = std::exp(v - zmax));
      const int label = static_cast<int>(examples[e].tier);
      std::array<float, kK> g{};
      for (int c = 0; c < kK; ++c)
        g[c] = class_weight[label] * (z[c] / total - (c == label ? 1.0f : 0.0f));

      for (int c = 0; c < kK; ++c) step(p.bias[c], g_bias[c], g[c]);
      for (int j = 0; j < kDenseCount; ++j)
        for (int c = 0; c < kK; ++c) {
          float& w = p.dense_weights[j * kK + c];
          step(w, g_dense[j * kK + c], g[c] * x[j] + l2 * w);
        }
      for (size_t k = begin; k < end; ++k) {
        const size_t base = size_t{rows.buckets[k]} * kK;
        for (int c = 0; c < kK; ++c) {
          float& w = p.hashed_weights[base + c];
          step(w, g_hashed[base + c], g[c] * rows.values[k] + l2 * w);
        }
      }
    }
  }
  return p;
}

}  // namespace triage::classify
