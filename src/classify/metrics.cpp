#include "classify/metrics.hpp"

namespace triage::classify {
namespace {
constexpr int kK = core::kTierCount;
}  // namespace

void ConfusionMatrix::Add(core::Tier gold, core::Tier predicted) {
  ++counts[static_cast<int>(gold)][static_cast<int>(predicted)];
}

size_t ConfusionMatrix::Total() const {
  size_t total = 0;
  for (const auto& row : counts)
    for (auto v : row) total += v;
  return total;
}

double ConfusionMatrix::Accuracy() const {
  const auto total = Total();
  if (total == 0) return 0.0;
  size_t right = 0;
  for (int c = 0; c < kK; ++c) right += counts[c][c];
  return static_cast<double>(right) / total;
}

std::optional<double> ConfusionMatrix::F1(core::Tier tier) const {
  const int t = static_cast<int>(tier);
  size_t gold = 0, predicted = 0;
  for (int c = 0; c < kK; ++c) {
    gold += counts[t][c];
    predicted += counts[c][t];
  }
  if (gold == 0 && predicted == 0) return std::nullopt;
  // F1 = 2TP / (gold + predicted): equal to 2PR/(P+R) and defined (0) when TP = 0.
  return 2.0 * counts[t][t] / static_cast<double>(gold + predicted);
}

double ConfusionMatrix::MacroF1() const {
  double sum = 0;
  int n = 0;
  for (auto tier : core::kAllTiers)
    if (auto f1 = F1(tier)) {
      sum += *f1;
      ++n;
    }
  return n ? sum / n : 0.0;
}

double ConfusionMatrix::MacroF1GoldTiers() const {
  double sum = 0;
  int n = 0;
  for (auto tier : core::kAllTiers) {
    size_t gold = 0;
    for (auto v : counts[static_cast<int>(tier)]) gold += v;
    if (gold == 0) continue;
    sum += *F1(tier);
    ++n;
  }
  return n ? sum / n : 0.0;
}

}  // namespace triage::classify
