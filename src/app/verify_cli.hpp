// CLI wiring for answer verification: `triage verify --kind math|code|steps|json ...`.
// The logic lives in verify/commands.hpp; this maps flags to options and reads files.
#pragma once
#include <CLI/CLI.hpp>

namespace triage::app {

// Registers `verify` on `app`. A failed or unreadable verification throws CLI::RuntimeError
// with exit code 1 (failed) or 2 (unparseable / bad input), which app.exit() returns.
void AddVerifyCommands(CLI::App& app);

}  // namespace triage::app
