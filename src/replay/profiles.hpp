// Per-model prices, token and latency profiles for a replay set (a TOML file, docs/replay.md):
// what a call costs and how long it takes when the set did not record it. Models are TOML tables
// under [models."<the outcomes' model name>"]; names keep their dots, spaces and parentheses.
// Parsing throws ReplayError naming the file, key and line; the rest is pure. Thread-compatible.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replay/set.hpp"

namespace triage::replay {

struct ModelProfile {
  std::string model;   // the outcomes' `model` (the table's key)
  std::string name;    // display name (default: model)
  std::string role;    // a free label, e.g. "standard" or "reasoning" ("" when not given)
  std::string source;  // where the figures come from, printed with them ("" when not given)
  std::optional<double> input_usd_per_mtok, output_usd_per_mtok;  // price per 1M tokens
  std::optional<double> input_tokens, output_tokens;              // mean tokens per call
  std::optional<double> latency_p50_s;
  std::optional<double> latency_p95_s;  // with it, latencies spread log-normally (>= p50)
};

struct Profiles {
  std::string origin;                // the file (or "<text>"), for messages
  std::vector<ModelProfile> models;  // in file order
  const ModelProfile* Find(std::string_view model) const;
};

Profiles ParseProfiles(std::string_view toml_text, std::string origin = "<text>");
Profiles LoadProfiles(const std::filesystem::path& path);

// The profile of each of set.models, in that order. Throws ReplayError naming the model when a
// model has no profile, or when an outcome needs a figure its profile lacks (a cost needs
// `cost_usd` or both prices and token counts; a latency needs `latency_s` or latency_p50_s).
// Profiles of models the set does not hold are allowed (one file may serve several sets).
std::vector<ModelProfile> ProfilesFor(const Profiles& profiles, const ReplaySet& set);

// Tokens of one call: the outcome's own counts when recorded, else the profile's means.
struct CallTokens {
  double input = 0, output = 0;
};
CallTokens TokensOf(const ModelProfile& profile, const Outcome& outcome);

// US dollars of one call: the outcome's cost_usd when recorded, else price x tokens.
// Precondition: ProfilesFor accepted the profile for this outcome's set.
double CallCost(const ModelProfile& profile, const Outcome& outcome);

// Seconds of one call: the outcome's latency_s when recorded; else latency_p50_s, or with
// latency_p95_s a log-normal draw with that median and 95th percentile, fixed by (seed, item,
// model, sample) through a hash (each sample is its own call).
double CallLatency(const ModelProfile& profile, const Outcome& outcome, std::uint64_t seed,
                   int sample);

}  // namespace triage::replay
