// CLI wiring for the learned router: `triage router train|eval`. The commands' logic lives in
// learn/router_commands.hpp; this only maps flags to options.
#pragma once
#include <CLI/CLI.hpp>

namespace triage::app {

// Registers the subcommands on `app`. A failing command throws CLI::RuntimeError with its exit
// code, which CLI11_PARSE / app.exit() turn into the process exit status.
void AddRouterCommands(CLI::App& app);

}  // namespace triage::app
