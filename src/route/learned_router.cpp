#include "route/learned_router.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

namespace triage::route {

LearnedRouter::LearnedRouter(RouterParams params) : params_(std::move(params)) {}

RouterLoadResult LearnedRouter::Load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {nullptr, "cannot open router model " + path.string()};
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return {nullptr, "cannot read router model " + path.string()};
  auto parsed = ParseRouter(bytes);
  if (auto* err = std::get_if<std::string>(&parsed))
    return {nullptr, "refusing router model " + path.string() + ": " + *err};
  return {std::make_shared<const LearnedRouter>(std::move(std::get<RouterParams>(parsed))), {}};
}

std::vector<std::string> LearnedRouter::models() const {
  std::vector<std::string> names;
  for (const auto& m : params_.models) names.push_back(m.name);
  return names;
}

bool LearnedRouter::Has(std::string_view model) const {
  return std::any_of(params_.models.begin(), params_.models.end(),
                     [&](const PerModel& m) { return m.name == model; });
}

double PredictCorrect(const classify::LinearModel& model, const RouterRow& row) {
  // Merged exactly as training rows are, so a prediction equals the trained logit.
  const auto sparse = classify::MergeHashed(row.hashed);
  float z[2];
  classify::LinearLogits(model, sparse.buckets, sparse.values, row.dense, z);
  return 1.0 / (1.0 + std::exp(static_cast<double>(z[0]) - static_cast<double>(z[1])));
}

std::optional<double> LearnedRouter::Predict(std::string_view model, const RouterRow& row) const {
  for (const auto& m : params_.models)
    if (m.name == model) return PredictCorrect(m.linear, row);
  return std::nullopt;
}

std::optional<double> LearnedRouter::Predict(std::string_view model, const RouterTask& task,
                                             const RouterAnswer* answer) const {
  if (!Has(model)) return std::nullopt;
  return Predict(model, BuildRouterRow(params_.features, task, answer));
}

std::optional<double> LearnedAnswerEstimator::Estimate(const std::string& model,
                                                       const std::string& response) const {
  std::string_view id = model;
  if (ids_)
    if (const auto it = ids_->find(model); it != ids_->end()) id = it->second;
  const RouterAnswer answer{response, {}};
  return router_.Predict(id, task_, &answer);
}

}  // namespace triage::route
