// `triage tune`: thresholds from production outcomes. Reads the jobs with feedback created in the
// window from Postgres (postgres.dsn / TRIAGE_PG_DSN), tunes each domain (bench/tune.hpp),
// retrains the learned answer estimator where the outcomes allow (bench/tune_estimator.hpp) and
// writes the config snippet.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "app/config.hpp"

namespace triage::app {

struct TuneFlags {
  std::string since = "7d", target, domain, out;
  std::string estimator_out;  // where a proposed estimator is written; empty: not written
  std::optional<int> min_outcomes;
  std::uint64_t seed = 42;
};

// The snippet goes to flags.out (or `out`); why a domain was not tuned goes to `err` too.
// Returns 0 when at least one domain was tuned or an estimator proposed, 2 for bad flags, 3 when
// nothing could be (too few outcomes, or none reaches the target). Throws on database errors.
int RunTune(const TuneFlags& flags, const Config& config, std::ostream& out, std::ostream& err);

// Registers the command on `app`; the config comes from app's --config.
void AddTuneCommands(CLI::App& app);

}  // namespace triage::app
