// `triage tune`'s retraining of the learned answer estimator (strategy.answer_estimator,
// docs/learned_router.md) on production outcomes: one example per answered call whose full
// text was kept and whose correctness the job's feedback tells (JudgeAttempt). It trains on the
// jobs outside the held-out split (classify::IsHeldOut of the job id) and scores the held-out
// ones beside the estimator in service, which it replaces only when it is no worse for every
// model. Pure; deterministic for the same jobs and options.
#pragma once
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/tune.hpp"
#include "core/tier.hpp"
#include "learn/router_training.hpp"
#include "route/learned_router.hpp"

namespace triage::bench {

struct EstimatorTuneOptions {
  // The estimator in service, scored on the same held-out answers; nullptr when none. Its text
  // feature settings are kept; without one, the router's defaults.
  const route::LearnedRouter* current = nullptr;
  // The classifier's P(tier) of a task text, as the service computes it (nullopt: none).
  std::function<std::optional<std::array<double, core::kTierCount>>(std::string_view)> tiers;
  // [models] name -> the id the file keeps its predictor under (app::EstimatorId).
  std::map<std::string, std::string> ids;
  learn::RouterTrainParams params;
  int min_train = 100;  // judged answers of a model on the training jobs
  int min_class = 10;   // right ones and wrong ones, each, on both sides of the split
  std::string metadata;
};

struct EstimatorModelFigures {
  std::string model, id;  // as the service names it; as the file keeps it
  int train = 0, train_right = 0, held_out = 0, held_out_right = 0;
  std::optional<double> auc, current_auc;  // on the held-out answers
  double brier = 0, brier_base = 0;
  std::optional<double> current_brier;
  std::optional<std::string> refused;  // why the model got no predictor
};

struct EstimatorTuning {
  int judged = 0;                             // judged answers
  int without_text = 0;                       // of them, whose full text was not kept (left out)
  std::vector<EstimatorModelFigures> models;  // by service name
  std::optional<route::RouterParams> params;  // the retrained estimator, when it is proposed
  std::optional<std::string> refused;         // why it is not
};

EstimatorTuning RetrainEstimator(const std::vector<TuneJob>& jobs,
                                 const EstimatorTuneOptions& options);

// The snippet's part for the estimator: its figures as comments and, when it is proposed and
// was written to `path`, `[strategy] answer_estimator = "<path>"`.
std::string FormatEstimator(const EstimatorTuning& tuning, const std::string& path);

}  // namespace triage::bench
