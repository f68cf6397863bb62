#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#if __has_include("app/classifier_cli.hpp")
#include "app/classifier_cli.hpp"
#define TRIAGE_HAS_CLASSIFIER_CLI 1
#endif
#if __has_include("app/verify_cli.hpp")
#include "app/verify_cli.hpp"
#define TRIAGE_HAS_VERIFY_CLI 1
#endif
#if __has_include("app/router_cli.hpp")
#include "app/router_cli.hpp"
#define TRIAGE_HAS_ROUTER_CLI 1
#endif

#include "app/bench_cli.hpp"
#include "app/tune_cli.hpp"

namespace triage::app {

void AddToolCommands(CLI::App& app) {
#ifdef TRIAGE_HAS_CLASSIFIER_CLI
  AddClassifierCommands(app);
#endif
#ifdef TRIAGE_HAS_VERIFY_CLI
  AddVerifyCommands(app);
#endif
#ifdef TRIAGE_HAS_ROUTER_CLI
  AddRouterCommands(app);
#endif
  AddBenchCommands(app);
  AddTuneCommands(app);
}

}  // namespace triage::app
