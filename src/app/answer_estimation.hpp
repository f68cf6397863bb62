// The learned answer estimator the service runs (docs/learned_router.md, "In the service"): the
// "after the call" router file `strategy.answer_estimator` names, the id each model under
// [models] has in that file, and the classifier whose tier probabilities it reads. With one, a
// cascade's confidence in an answer is the router's P(this answer is right).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "app/config.hpp"
#include "classify/heuristic.hpp"
#include "route/learned_router.hpp"
#include "store/jobs.hpp"

namespace triage::app {

struct AnswerEstimation {
  std::shared_ptr<const route::LearnedRouter> router;
  // [models] name -> the router's model id: replay_model for a replay model, else model_id,
  // else the name.
  std::map<std::string, std::string> ids;
  std::function<classify::Classification(std::string_view)> classify;

  // The job as the router sees it: its text, the classifier's P(tier), its domain. The
  // result points into `job`, which must outlive it.
  route::RouterTask TaskOf(const store::JobRecord& job) const;
};

// The id a model has in a router file (see AnswerEstimation::ids).
std::string EstimatorId(const ModelConfig& model);

// Nothing when the config names no estimator. Throws ConfigError naming the key and the file
// when the file cannot be used or is a "before" router.
std::shared_ptr<const AnswerEstimation> LoadAnswerEstimation(
    const Config& config, std::function<classify::Classification(std::string_view)> classify);

}  // namespace triage::app
