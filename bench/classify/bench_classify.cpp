// Classifier speed: trained model and seed heuristic per 500-character task, and model load.
// Tasks are real problem texts cut to 500 bytes, rotated so the weights are not all in cache.
// Data: $TRIAGE_DATA_DIR (default ../shared/data next to the project); model:
// $TRIAGE_CLASSIFIER_MODEL (default models/classifier.bin in the project).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "classify/dataset.hpp"
#include "classify/heuristic.hpp"
#include "classify/router_classifier.hpp"
#include "classify/trained_classifier.hpp"

namespace {

using triage::classify::TrainedClassifier;

std::filesystem::path DataDir() {
  if (const char* dir = std::getenv("TRIAGE_DATA_DIR")) return dir;
  return std::filesystem::path(TRIAGE_SOURCE_DIR) / ".." / "shared" / "data";
}

std::filesystem::path ModelPath() {
  if (const char* path = std::getenv("TRIAGE_CLASSIFIER_MODEL")) return path;
  return std::filesystem::path(TRIAGE_SOURCE_DIR) / "models" / "classifier.bin";
}

// 500-byte tasks: problem texts padded (by repeating themselves) or cut to exactly 500 bytes.
const std::vector<std::string>& Tasks() {
  static const std::vector<std::string> tasks = [] {
    std::vector<std::string> out;
    const auto dir = DataDir();
    for (const char* file :
         {"classify/math_train.jsonl", "classify/gsm8k_train.jsonl", "classify/competition.jsonl",
          "code/mbpp.jsonl", "code/humaneval.jsonl"}) {
      std::ifstream in(dir / file);
      if (!in) {
        std::cerr << "missing data file " << (dir / file) << " (set TRIAGE_DATA_DIR)\n";
        std::exit(2);
      }
      std::string line;
      for (int n = 0; n < 200 && std::getline(in, line); ++n) {
        auto fields = triage::classify::ParseJsonObjectFields(line);
        auto text = std::get<triage::classify::JsonFields>(fields).at("text");
        std::string task;
        while (task.size() < 500) task += text + " ";
        task.resize(500);
        out.push_back(std::move(task));
      }
    }
    return out;
  }();
  return tasks;
}

const TrainedClassifier& Model() {
  static const auto loaded = [] {
    auto result = TrainedClassifier::Load(ModelPath());
    if (!result) {
      std::cerr << result.error << "\n";
      std::exit(2);
    }
    return result.classifier;
  }();
  return *loaded;
}

void BM_TrainedClassify500(benchmark::State& state) {
  const auto& tasks = Tasks();
  const auto& model = Model();
  const int top = static_cast<int>(state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.Classify(tasks[i], top));
    if (++i == tasks.size()) i = 0;
  }
  state.SetLabel(top ? "with top features" : "tier and probabilities");
}
BENCHMARK(BM_TrainedClassify500)->Arg(0)->Arg(TrainedClassifier::kDefaultTopFeatures);

// What the router runs by default (MakeRouterClassifier): tier, probabilities, 3 strongest
// features and the heuristic's verdict as reasons.
void BM_RouterClassify500(benchmark::State& state) {
  const auto& tasks = Tasks();
  const auto router = triage::classify::MakeRouterClassifier(ModelPath());
  if (!router.trained) state.SkipWithError(router.note.c_str());
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.classify(tasks[i]));
    if (++i == tasks.size()) i = 0;
  }
}
BENCHMARK(BM_RouterClassify500);

void BM_HeuristicClassify500(benchmark::State& state) {
  const auto& tasks = Tasks();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(triage::classify::ClassifyHeuristic(tasks[i]));
    if (++i == tasks.size()) i = 0;
  }
}
BENCHMARK(BM_HeuristicClassify500);

void BM_ModelLoad(benchmark::State& state) {
  const auto path = ModelPath();
  for (auto _ : state) {
    auto result = TrainedClassifier::Load(path);
    if (!result) state.SkipWithError(result.error.c_str());
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_ModelLoad)->Unit(benchmark::kMillisecond);

// A 10 MB task: the input cap keeps it as fast as a short one.
void BM_TrainedClassify10MB(benchmark::State& state) {
  const std::string huge(10 * 1024 * 1024, 'x');
  const auto& model = Model();
  for (auto _ : state) benchmark::DoNotOptimize(model.Classify(huge, 0));
}
BENCHMARK(BM_TrainedClassify10MB);

// The same for the seed heuristic, whose cap is 64 KiB (tests check that nothing past it is read;
// the time is measured here, not asserted there).
void BM_HeuristicClassify10MB(benchmark::State& state) {
  const std::string huge(10 * 1024 * 1024, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(triage::classify::ClassifyHeuristic(huge));
}
BENCHMARK(BM_HeuristicClassify10MB);

}  // namespace

BENCHMARK_MAIN();
