// CLI wiring for `triage bench`: routing strategies on a replay set (bench/bench.hpp). This only
// maps flags to options and writes what the report formats give.
#pragma once
#include <CLI/CLI.hpp>

namespace triage::app {

// Registers the command on `app`. A failing run throws CLI::RuntimeError with exit code 2 after
// printing why.
void AddBenchCommands(CLI::App& app);

}  // namespace triage::app
