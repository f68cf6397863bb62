// CLI wiring for the difficulty classifier: `triage classifier train|eval` and `triage classify`.
// The commands' logic lives in classify/commands.hpp; this only maps flags to options.
#pragma once
#include <CLI/CLI.hpp>

namespace triage::app {

// Registers the subcommands on `app`. A failing command throws CLI::RuntimeError with its exit
// code, which CLI11_PARSE / app.exit() turn into the process exit status.
void AddClassifierCommands(CLI::App& app);

}  // namespace triage::app
