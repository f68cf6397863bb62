// The subcommands' bodies, apart from main() so tests can call them.
#pragma once
#include <cstdint>
#include <string>

#include "app/config.hpp"

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

// Creates the Kafka topics the pipeline uses (idempotent).
void EnsurePipelineTopics(const Config& config);

// The classifier and verifier tools (each in its own *_cli.cpp) register here; they run from
// their CLI11 callbacks during parsing.
void AddToolCommands(CLI::App& app);

}  // namespace triage::app
