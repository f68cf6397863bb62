#include "classify/router_classifier.hpp"

#include <cstdio>

#include "classify/dataset.hpp"
#include "classify/trained_classifier.hpp"

namespace triage::classify {

RouterClassifier MakeRouterClassifier(const std::filesystem::path& model_path, int top_features) {
  if (model_path.empty())
    return {ClassifyHeuristic, false, "no classifier model configured: using the seed heuristic"};
  auto loaded = TrainedClassifier::Load(model_path);
  if (!loaded) return {ClassifyHeuristic, false, loaded.error + "; using the seed heuristic"};
  auto model = loaded.classifier;
  auto classify = [model, top_features](std::string_view task) {
    auto c = model->Classify(task, top_features);
    for (const auto& f : c.top_features) {
      char weight[32];
      std::snprintf(weight, sizeof weight, "%+.2f", f.weight);
      c.reasons.push_back("feature:" + f.name + " " + weight);
    }
    c.reasons.push_back("heuristic:" + std::string(core::ToString(AnalyzeHeuristic(task).tier)));
    return c;
  };
  return {std::move(classify), true,
          "trained classifier " + model_path.string() + " (" + model->params().metadata + ")"};
}

RouterClassifier MakeRouterClassifierFromConfig(const std::filesystem::path& config_path,
                                                int top_features) {
  auto config = LoadClassifierConfig(config_path);
  if (auto* err = std::get_if<std::string>(&config))
    return {ClassifyHeuristic, false, *err + "; using the seed heuristic"};
  return MakeRouterClassifier(std::get<ClassifierConfig>(config).model_path, top_features);
}

}  // namespace triage::classify
