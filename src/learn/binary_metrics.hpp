// Figures for a probability of success against recorded outcomes: ROC AUC, Brier score, log loss
// and a reliability (calibration) table. A target may be a measured rate in [0, 1] (a pass rate):
// it then counts as that share of a success and the rest of a failure, which is the expectation
// of each figure over draws of the outcome (no sampling seed involved). Pure; thread-safe.
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

namespace triage::learn {

struct Scored {
  double predicted = 0;  // P(success) in [0, 1]
  double target = 0;     // 1 success, 0 failure, or a rate in between
};

struct ReliabilityBin {
  double lower = 0, upper = 0;  // predictions in [lower, upper) ([lower, 1] for the last bin)
  size_t count = 0;
  double mean_predicted = 0;  // 0 when empty
  double observed = 0;        // mean target; 0 when empty
};

struct BinaryReport {
  size_t count = 0;
  double positives = 0;  // sum of targets
  double base_rate = 0;  // positives / count
  // Probability that a random success is scored above a random failure (ties count half);
  // nullopt when there are no successes or no failures.
  std::optional<double> auc;
  double brier = 0;       // mean (predicted - outcome)^2, in expectation over soft targets
  double brier_base = 0;  // the Brier of always predicting base_rate: the bar to beat
  double log_loss = 0;    // mean -log P(outcome), predictions clamped to [1e-6, 1 - 1e-6]
  std::vector<ReliabilityBin> bins;
};

// `bins` equal-width bins over [0, 1] (at least 1). Empty input gives an all-zero report.
BinaryReport EvaluateBinary(const std::vector<Scored>& scored, int bins = 10);

}  // namespace triage::learn
