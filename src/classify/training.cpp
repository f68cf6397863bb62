#include "classify/training.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace triage::classify {
namespace {

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

}  // namespace

SparseRow MergeHashed(std::vector<std::pair<uint32_t, float>> hashed) {
  std::sort(hashed.begin(), hashed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  SparseRow row;
  for (size_t i = 0; i < hashed.size();) {
    float v = 0;
    size_t j = i;
    for (; j < hashed.size() && hashed[j].first == hashed[i].first; ++j) v += hashed[j].second;
    row.buckets.push_back(hashed[i].first);
    row.values.push_back(v);
    i = j;
  }
  return row;
}

void SparseExamples::Add(std::vector<std::pair<uint32_t, float>> hashed,
                         std::span<const float> dense_row, std::span<const float> target,
                         float weight) {
  if (dense_row.size() != static_cast<size_t>(dense_count) ||
      target.size() != static_cast<size_t>(classes))
    throw std::invalid_argument("SparseExamples::Add: row shape does not match the set");
  const SparseRow row = MergeHashed(std::move(hashed));
  buckets.insert(buckets.end(), row.buckets.begin(), row.buckets.end());
  values.insert(values.end(), row.values.begin(), row.values.end());
  offsets.push_back(buckets.size());
  dense.insert(dense.end(), dense_row.begin(), dense_row.end());
  targets.insert(targets.end(), target.begin(), target.end());
  weights.push_back(weight);
}

std::vector<std::pair<uint32_t, float>> HashedPairs(const Features& f) {
  std::vector<std::pair<uint32_t, float>> out;
  out.reserve(f.hashed.size());
  for (const auto& h : f.hashed) out.emplace_back(h.bucket, f.kind_scale[static_cast<int>(h.kind)]);
  return out;
}

LinearModel TrainLinear(const SparseExamples& ex, const SgdParams& tp) {
  const size_t n = ex.rows();
  const int kK = ex.classes;
  const int kD = ex.dense_count;
  if (n == 0) throw std::invalid_argument("TrainLinear: no examples");
  if (kK < 2 || kD < 0 || tp.hash_bits < 1 || tp.hash_bits > 24 || ex.dense.size() != n * kD ||
      ex.targets.size() != n * kK || ex.weights.size() != n)
    throw std::invalid_argument("TrainLinear: inconsistent example set or parameters");
  const size_t buckets = size_t{1} << tp.hash_bits;
  for (const uint32_t b : ex.buckets)
    if (b >= buckets) throw std::invalid_argument("TrainLinear: bucket beyond hash_bits");

  LinearModel p;
  p.classes = kK;
  p.hash_bits = tp.hash_bits;
  p.dense_mean.assign(kD, 0.0f);
  p.dense_inv_std.assign(kD, 0.0f);
  p.bias.assign(kK, 0.0f);
  // Standardise dense features with the training set's mean and spread.
  for (int j = 0; j < kD; ++j) {
    double sum = 0, sq = 0;
    for (size_t e = 0; e < n; ++e) sum += ex.dense[e * kD + j];
    const double mean = sum / n;
    for (size_t e = 0; e < n; ++e)
      sq += (ex.dense[e * kD + j] - mean) * (ex.dense[e * kD + j] - mean);
    const double sd = std::sqrt(sq / n);
    p.dense_mean[j] = static_cast<float>(mean);
    p.dense_inv_std[j] = sd > 1e-6 ? static_cast<float>(1.0 / sd) : 0.0f;
  }

  p.hashed_weights.assign(buckets * kK, 0.0f);
  p.dense_weights.assign(size_t{static_cast<size_t>(kD)} * kK, 0.0f);
  std::vector<float> g_hashed(buckets * kK, 0.0f),
      g_dense(size_t{static_cast<size_t>(kD)} * kK, 0.0f);
  std::vector<float> g_bias(kK, 0.0f);
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
  std::vector<float> x(kD), z(kK), g(kK);
  for (int epoch = 0; epoch < tp.epochs; ++epoch) {
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
    for (const size_t e : order) {
      const size_t begin = ex.offsets[e], end = ex.offsets[e + 1];
      std::copy(p.bias.begin(), p.bias.end(), z.begin());
      for (int j = 0; j < kD; ++j) {
        x[j] = (ex.dense[e * kD + j] - p.dense_mean[j]) * p.dense_inv_std[j];
        for (int c = 0; c < kK; ++c) z[c] += x[j] * p.dense_weights[j * kK + c];
      }
      for (size_t k = begin; k < end; ++k) {
        const float* w = &p.hashed_weights[size_t{ex.buckets[k]} * kK];
        for (int c = 0; c < kK; ++c) z[c] += ex.values[k] * w[c];
      }
      const float zmax = *std::max_element(z.begin(), z.end());
      float total = 0;
      for (auto& v : z) total += (v = std::exp(v - zmax));
      const float* target = &ex.targets[e * kK];
      for (int c = 0; c < kK; ++c) g[c] = ex.weights[e] * (z[c] / total - target[c]);

      for (int c = 0; c < kK; ++c) step(p.bias[c], g_bias[c], g[c]);
      for (int j = 0; j < kD; ++j)
        for (int c = 0; c < kK; ++c) {
          float& w = p.dense_weights[j * kK + c];
          step(w, g_dense[j * kK + c], g[c] * x[j] + l2 * w);
        }
      for (size_t k = begin; k < end; ++k) {
        const size_t base = size_t{ex.buckets[k]} * kK;
        for (int c = 0; c < kK; ++c) {
          float& w = p.hashed_weights[base + c];
          step(w, g_hashed[base + c], g[c] * ex.values[k] + l2 * w);
        }
      }
    }
  }
  return p;
}

void LinearLogits(const LinearModel& m, std::span<const uint32_t> buckets,
                  std::span<const float> values, std::span<const float> dense,
                  std::span<float> out) {
  const int kK = m.classes;
  for (int c = 0; c < kK; ++c) out[c] = m.bias[c];
  for (int j = 0; j < m.dense_count(); ++j) {
    const float x = (dense[j] - m.dense_mean[j]) * m.dense_inv_std[j];
    for (int c = 0; c < kK; ++c) out[c] += x * m.dense_weights[j * kK + c];
  }
  for (size_t k = 0; k < buckets.size(); ++k) {
    const float* w = &m.hashed_weights[size_t{buckets[k]} * kK];
    for (int c = 0; c < kK; ++c) out[c] += values[k] * w[c];
  }
}

ModelParams TrainModel(const std::vector<TrainingExample>& examples, const TrainParams& tp,
                       std::string metadata) {
  constexpr int kK = core::kTierCount;
  if (examples.empty()) throw std::invalid_argument("TrainModel: no examples");
  if (auto err = Validate(tp.features); !err.empty()) throw std::invalid_argument(err);
  const size_t n = examples.size();

  std::array<size_t, kK> class_counts{};
  for (const auto& ex : examples) ++class_counts[static_cast<int>(ex.tier)];
  const int present = static_cast<int>(
      std::count_if(class_counts.begin(), class_counts.end(), [](size_t c) { return c > 0; }));
  std::array<float, kK> class_weight{};
  for (int c = 0; c < kK; ++c)
    if (class_counts[c] > 0)
      class_weight[c] = static_cast<float>(
          std::pow(static_cast<double>(n) / (present * class_counts[c]), tp.class_weight_power));

  SparseExamples rows;
  rows.classes = kK;
  rows.dense_count = kDenseCount;
  Features f;
  for (const auto& ex : examples) {
    ExtractFeatures(ex.text, tp.features, f);
    std::array<float, kK> target{};
    target[static_cast<int>(ex.tier)] = 1.0f;
    rows.Add(HashedPairs(f), f.dense, target, class_weight[static_cast<int>(ex.tier)]);
  }
  const LinearModel m =
      TrainLinear(rows, {tp.features.hash_bits, tp.epochs, tp.learning_rate, tp.l2, tp.seed});

  ModelParams p;
  p.features = tp.features;
  p.metadata = std::move(metadata);
  std::copy(m.dense_mean.begin(), m.dense_mean.end(), p.dense_mean.begin());
  std::copy(m.dense_inv_std.begin(), m.dense_inv_std.end(), p.dense_inv_std.begin());
  std::copy(m.bias.begin(), m.bias.end(), p.bias.begin());
  p.dense_weights = m.dense_weights;
  p.hashed_weights = m.hashed_weights;
  return p;
}

}  // namespace triage::classify
