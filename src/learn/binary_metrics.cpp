#include "learn/binary_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace triage::learn {

BinaryReport EvaluateBinary(const std::vector<Scored>& scored, int bins) {
  bins = std::max(bins, 1);
  BinaryReport r;
  r.count = scored.size();
  for (int b = 0; b < bins; ++b)
    r.bins.push_back({static_cast<double>(b) / bins, static_cast<double>(b + 1) / bins});
  if (scored.empty()) return r;

  double negatives = 0;
  for (const auto& s : scored) {
    r.positives += s.target;
    negatives += 1 - s.target;
    // E[(p - y)^2] for y ~ Bernoulli(t) = (p - t)^2 + t (1 - t).
    r.brier += (s.predicted - s.target) * (s.predicted - s.target) + s.target * (1 - s.target);
    const double p = std::clamp(s.predicted, 1e-6, 1 - 1e-6);
    r.log_loss -= s.target * std::log(p) + (1 - s.target) * std::log(1 - p);
    auto& bin = r.bins[std::min(bins - 1, static_cast<int>(s.predicted * bins))];
    ++bin.count;
    bin.mean_predicted += s.predicted;
    bin.observed += s.target;
  }
  const double n = static_cast<double>(r.count);
  r.base_rate = r.positives / n;
  r.brier /= n;
  r.log_loss /= n;
  for (const auto& s : scored)
    r.brier_base += (r.base_rate - s.target) * (r.base_rate - s.target) + s.target * (1 - s.target);
  r.brier_base /= n;
  for (auto& bin : r.bins)
    if (bin.count > 0) {
      bin.mean_predicted /= bin.count;
      bin.observed /= bin.count;
    }

  // AUC by the rank-sum: walk the predictions in increasing order, one group of ties at a time.
  if (r.positives > 0 && negatives > 0) {
    std::vector<Scored> sorted = scored;
    std::sort(sorted.begin(), sorted.end(),
              [](const Scored& a, const Scored& b) { return a.predicted < b.predicted; });
    double below = 0, wins = 0;  // failures scored below the current group; success-over-failure
    for (size_t i = 0; i < sorted.size();) {
      size_t j = i;
      double pos = 0, neg = 0;
      for (; j < sorted.size() && sorted[j].predicted == sorted[i].predicted; ++j) {
        pos += sorted[j].target;
        neg += 1 - sorted[j].target;
      }
      wins += pos * (below + 0.5 * neg);
      below += neg;
      i = j;
    }
    r.auc = wins / (r.positives * negatives);
  }
  return r;
}

}  // namespace triage::learn
