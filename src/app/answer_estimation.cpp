#include "app/answer_estimation.hpp"

#include <spdlog/spdlog.h>

namespace triage::app {

route::RouterTask AnswerEstimation::TaskOf(const store::JobRecord& job) const {
  route::RouterTask task{job.task.text, std::nullopt, {{"domain", job.task.domain}}};
  if (classify && !job.task.text.empty())
    task.tier_probabilities = classify(job.task.text).probabilities;
  return task;
}

std::string EstimatorId(const ModelConfig& model) {
  if (model.provider == "replay" && !model.replay_model.empty()) return model.replay_model;
  return model.model_id.empty() ? model.name : model.model_id;
}

std::shared_ptr<const AnswerEstimation> LoadAnswerEstimation(
    const Config& config, std::function<classify::Classification(std::string_view)> classify) {
  if (config.answer_estimator.empty()) return nullptr;
  constexpr std::string_view kKey = "strategy.answer_estimator";
  auto loaded = route::LearnedRouter::Load(config.answer_estimator);
  if (!loaded) throw ConfigError(std::string(kKey) + ": " + loaded.error);
  if (loaded.router->kind() != route::RouterKind::kAfter)
    throw ConfigError(std::string(kKey) + ": " + config.answer_estimator +
                      " is a \"before the call\" router; the estimator needs one trained with "
                      "`triage router train --kind after`");
  auto estimation = std::make_shared<AnswerEstimation>();
  estimation->router = loaded.router;
  estimation->classify = std::move(classify);
  std::string known, unknown;
  for (const auto& [name, model] : config.models) {
    const auto id = EstimatorId(model);
    estimation->ids.emplace(name, id);
    auto& list = loaded.router->Has(id) ? known : unknown;
    list += (list.empty() ? "" : ", ") + name;
  }
  spdlog::info(
      "answer estimator: {} (models it knows: {}; the others' confidence comes from "
      "log-probabilities or their self-report: {})",
      config.answer_estimator, known.empty() ? "none" : known, unknown.empty() ? "none" : unknown);
  return estimation;
}

}  // namespace triage::app
