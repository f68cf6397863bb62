// The trained difficulty classifier: a model file loaded once, then Classify from any number of
// threads (const, no shared mutable state; per-thread scratch buffers).
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "classify/heuristic.hpp"
#include "classify/model_file.hpp"

namespace triage::classify {

class TrainedClassifier;

// Either a classifier or, when the file is missing, corrupt, truncated or of another version,
// a message naming the file and the problem.
struct ModelLoadResult {
  std::shared_ptr<const TrainedClassifier> classifier;
  std::string error;
  explicit operator bool() const { return classifier != nullptr; }
};

class TrainedClassifier {
 public:
  static constexpr int kDefaultTopFeatures = 5;

  explicit TrainedClassifier(ModelParams params);

  // Reads and validates `path`. Never throws for a bad file.
  static ModelLoadResult Load(const std::filesystem::path& path);

  // Tier = the most probable tier, except that a proof request ("prove", "formal proof", a
  // sentence starting "show that", ...) is raised to requires_reasoning (reasons then say
  // "rule:proof request"; see trained_classifier.cpp). Probabilities are always the model's;
  // reasons name the model's probability; top_features holds up to `top_features` strongest
  // contributions. Any input bytes are accepted; only the first kTrainedInputCap bytes are read.
  Classification Classify(std::string_view text, int top_features = kDefaultTopFeatures) const;

  const ModelParams& params() const { return params_; }

 private:
  ModelParams params_;
};

}  // namespace triage::classify
