#include "learn/router_training.hpp"

#include <map>
#include <set>
#include <stdexcept>

namespace triage::learn {

std::vector<std::string> BuildVocabulary(
    const std::vector<std::vector<std::pair<std::string, std::string>>>& labels) {
  std::map<std::string, std::map<std::string, size_t>> counts;  // key -> value -> items
  for (const auto& item : labels) {
    std::set<std::pair<std::string, std::string>> seen(item.begin(), item.end());
    for (const auto& [key, value] : seen) ++counts[key][value];
  }
  std::vector<std::string> vocabulary;
  for (const auto& [key, values] : counts) {
    if (values.size() > kMaxLabelValues) continue;
    for (const auto& [value, n] : values)
      if (n >= kMinLabelItems) vocabulary.push_back(route::LabelKey(key, value));
  }
  return vocabulary;  // std::map order: sorted by key, then value
}

route::RouterParams TrainRouter(const std::vector<RouterExample>& examples,
                                const route::RouterFeatureConfig& features,
                                const RouterTrainParams& params, std::string metadata) {
  if (examples.empty()) throw std::invalid_argument("TrainRouter: no examples");
  const classify::SgdParams sgd{features.text.hash_bits, params.epochs, params.learning_rate,
                                params.l2, params.seed};
  const int dense = route::DenseCount(features);
  std::map<std::string, classify::SparseExamples> by_model;
  for (const auto& ex : examples) {
    auto& set = by_model[ex.model];
    if (set.classes == 0) {
      set.classes = 2;
      set.dense_count = dense;
    }
    const float target[2] = {static_cast<float>(1 - ex.target), static_cast<float>(ex.target)};
    set.Add(ex.row.hashed, ex.row.dense, target);
  }
  route::RouterParams out;
  out.features = features;
  out.metadata = std::move(metadata);
  for (const auto& [model, set] : by_model) {
    route::PerModel m;
    m.name = model;
    m.rows = static_cast<uint32_t>(set.rows());
    double positives = 0;
    for (size_t r = 0; r < set.rows(); ++r) positives += set.targets[2 * r + 1];
    m.positive_share = static_cast<float>(positives / set.rows());
    m.linear = classify::TrainLinear(set, sgd);
    out.models.push_back(std::move(m));
  }
  return out;
}

}  // namespace triage::learn
