// triage: the service binary. `triage serve`, `triage migrate`, `triage demo`, `triage
// demo-local`, and the classifier, verifier and learned-router tools.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"

int main(int argc, char** argv) {
  CLI::App app{"triage: sends every LLM task to the cheapest model that gets it right"};
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("-c,--config", config_path, "TOML config file (see config/triage.toml)");

  auto* serve = app.add_subcommand("serve", "run the service roles");
  std::string roles = "api,router,worker,notifier";
  serve->add_option("--roles", roles, "comma-separated subset of api,router,worker,notifier");

  app.add_subcommand("migrate", "apply database migrations");

  auto* demo = app.add_subcommand("demo", "run the main job: 1,000 generated problems end to end");
  triage::app::DemoOptions demo_options;
  demo->add_option("--jobs", demo_options.jobs, "how many problems to submit")
      ->check(CLI::Range(1, 100000));
  demo->add_option("--time-scale", demo_options.time_scale, "multiplies simulated latencies")
      ->check(CLI::Range(0.0001, 100.0));
  demo->add_option("--seed", demo_options.seed, "workload seed");

  auto* demo_local = app.add_subcommand(
      "demo-local", "a small workload on a real local model (llama-server) beside the sim models");
  triage::app::LocalDemoOptions local_options;
  if (const char* url = std::getenv("TRIAGE_LLAMA_URL")) local_options.llama_url = url;
  demo_local->add_option("--llama-url", local_options.llama_url,
                         "the server's OpenAI-compatible base URL (default: TRIAGE_LLAMA_URL)");
  demo_local
      ->add_option("--arithmetic-jobs", local_options.arithmetic_jobs, "bare sums and products")
      ->check(CLI::Range(0, 1000));
  demo_local->add_option("--jobs", local_options.jobs, "generated word problems")
      ->check(CLI::Range(0, 1000));
  demo_local->add_option("--seed", local_options.seed, "workload seed");

  triage::app::AddToolCommands(app);
  CLI11_PARSE(app, argc, argv);
  // TRIAGE_LOG_LEVEL: trace, debug, info (default), warn, error, critical, off.
  if (const char* level = std::getenv("TRIAGE_LOG_LEVEL"))
    spdlog::set_level(spdlog::level::from_str(level));
  if (!serve->parsed() && !demo->parsed() && !demo_local->parsed() &&
      !app.got_subcommand("migrate"))
    return 0;

  try {
    auto config = triage::app::LoadConfig(config_path);
    triage::app::ConfigureLogging(*triage::app::ParseLogFormat(config.log_format));
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    for (const auto& secret : config.secrets) triage::app::RedactInLogs(secret);
    for (const auto& unread : config.unread_env)
      spdlog::warn("environment variable {} is no config key and is ignored{}", unread.name,
                   unread.nearest.empty() ? "" : " (did you mean " + unread.nearest + "?)");
    if (serve->parsed()) return triage::app::RunServe(config, roles);
    if (app.got_subcommand("migrate")) return triage::app::RunMigrate(config);
    if (demo->parsed()) return triage::app::RunDemo(config, demo_options);
    if (demo_local->parsed()) return triage::app::RunDemoLocal(config, local_options);
  } catch (const triage::app::ConfigError& e) {
    spdlog::critical("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
