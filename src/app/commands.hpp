// The subcommands' bodies, apart from main() so tests can call them.
#pragma once
#include <cstdint>
#include <string>

#include <functional>
#include <string_view>

#include "app/config.hpp"
#include "classify/heuristic.hpp"

namespace CLI { class App; }

namespace triage::app {

int RunServe(const Config& config, const std::string& roles);
int RunMigrate(const Config& config);

struct DemoOptions {
  int jobs = 1000;
  double time_scale = 0.05;  // the demo's own default: 15–120 s reasoning becomes 0.75–6 s
  std::uint64_t seed = 7;
};
int RunDemo(Config config, const DemoOptions& options);

// `triage demo-local` (demo_local.cpp): a small workload on a real self-hosted model beside the
// simulated reasoning model, and what the model could and could not do.
inline constexpr const char* kLocalModel = "smollm2";
struct LocalDemoOptions {
  std::string llama_url;     // the server's OpenAI-compatible base URL (http://HOST:PORT/v1)
  int arithmetic_jobs = 8;   // bare one-operation problems ("What is 7 + 5?")
  int jobs = 24;             // the demo's generated word problems (half easy)
  double time_scale = 0.05;  // the simulated reasoning model's latencies, as `triage demo`
  std::uint64_t seed = 7;
};
// The config demo-local runs: model `smollm2` (openai-compatible at `options.llama_url`, unless
// the config defines it) as the standard rung, every tier's plan "cascade(standard) ->
// escalate(reasoning)". Throws ConfigError without a server URL. Pure.
Config LocalModelConfig(Config config, const LocalDemoOptions& options);
int RunDemoLocal(Config config, const LocalDemoOptions& options);

// Creates the Kafka topics the pipeline uses (idempotent).
void EnsurePipelineTopics(const Config& config);

// The router's classifier: the trained model config/classifier.toml names (relative to the
// working directory), or the seed heuristic when it is missing or does not load (logged).
std::function<classify::Classification(std::string_view)> RouterClassifier();

// The classifier and verifier tools (each in its own *_cli.cpp) register here; they run from
// their CLI11 callbacks during parsing.
void AddToolCommands(CLI::App& app);

}  // namespace triage::app
