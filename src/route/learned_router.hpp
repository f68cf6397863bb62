// The learned router (docs/learned_router.md): per model, the probability that it answers a task
// correctly (kind "before": where a strategy starts), or that one answer it gave is correct
// (kind "after": whether a cascade accepts the answer or escalates). Loaded once from a model
// file written by `triage router train`; Predict is const and safe from any number of threads.
// Pure: no I/O after Load, never throws on any task or answer text.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "route/engine.hpp"
#include "route/router_features.hpp"
#include "route/router_model.hpp"

namespace triage::route {

class LearnedRouter;

// Either a router or, when the file is missing, corrupt, truncated or of another version, a
// message naming the file and the problem.
struct RouterLoadResult {
  std::shared_ptr<const LearnedRouter> router;
  std::string error;
  explicit operator bool() const { return router != nullptr; }
};

class LearnedRouter {
 public:
  explicit LearnedRouter(RouterParams params);
  static RouterLoadResult Load(const std::filesystem::path& path);

  RouterKind kind() const { return params_.features.kind; }
  std::vector<std::string> models() const;  // the model ids it has a predictor for
  bool Has(std::string_view model) const;

  // P(correct) in (0, 1) for `model`, or nullopt when the file has no predictor for it.
  // kBefore ignores `answer`; kAfter reads it (nullptr: an empty response, i.e. no answer).
  std::optional<double> Predict(std::string_view model, const RouterTask& task,
                                const RouterAnswer* answer = nullptr) const;
  // The same from a row BuildRouterRow made with features(): lets a caller that scores many
  // models on one task build the features once.
  std::optional<double> Predict(std::string_view model, const RouterRow& row) const;

  const RouterFeatureConfig& features() const { return params_.features; }
  const RouterParams& params() const { return params_; }

 private:
  RouterParams params_;
};

// The engine's AnswerEstimator over an "after" router, for one task: P(this answer is right).
// `ids` maps the engine's model names to the ids the router's file knows them by; a name not in
// it is looked up as it is. The router, task and ids must outlive it.
class LearnedAnswerEstimator final : public AnswerEstimator {
 public:
  LearnedAnswerEstimator(const LearnedRouter& router, const RouterTask& task,
                         const std::map<std::string, std::string>* ids = nullptr)
      : router_(router), task_(task), ids_(ids) {}
  std::optional<double> Estimate(const std::string& model,
                                 const std::string& response) const override;

 private:
  const LearnedRouter& router_;
  const RouterTask& task_;
  const std::map<std::string, std::string>* ids_;
};

// P(class 1) of a two-class linear model on one row (the trainer's evaluation uses it too).
double PredictCorrect(const classify::LinearModel& model, const RouterRow& row);

}  // namespace triage::route
