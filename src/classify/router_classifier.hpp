// The classifier the router runs: the trained model if one is configured and loads, else the
// seed heuristic. The returned function is thread-safe and cheap to copy (it shares the model).
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "classify/heuristic.hpp"

namespace triage::classify {

struct RouterClassifier {
  std::function<Classification(std::string_view task)> classify;
  bool trained = false;  // false: the seed heuristic
  std::string note;      // what was chosen and why (e.g. the load error behind a fallback)
};

// `model_path` empty: the heuristic. Otherwise loads it; a missing, corrupt or truncated file
// falls back to the heuristic with the reason in `note` (log it: routing still works).
// The trained path fills Classification::probabilities, and puts the model's probability, the
// `top_features` strongest features and the heuristic's verdict into reasons for the audit trail.
RouterClassifier MakeRouterClassifier(const std::filesystem::path& model_path,
                                      int top_features = 3);

// Same, with the model path read from [classifier] model in the TOML file at `config_path`
// (config/classifier.toml); a relative model path resolves against the working directory.
RouterClassifier MakeRouterClassifierFromConfig(const std::filesystem::path& config_path,
                                                int top_features = 3);

}  // namespace triage::classify
