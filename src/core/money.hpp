// Money in exact integer micro-dollars: sums of many small costs never drift.
#pragma once
#include <cstdint>
#include <string>

namespace triage::core {

using Micros = std::int64_t;

// Cost of `tokens` at `usd_per_million` dollars per 1M tokens, rounded to the nearest micro-dollar.
// usd_per_million is given in micro-dollars per 1M tokens to stay exact: $3 -> 3'000'000.
constexpr Micros CostOfTokens(std::int64_t tokens, Micros micros_per_million) {
  return (tokens * micros_per_million + 500'000) / 1'000'000;
}

// "$0.001234" with six decimals.
std::string FormatUsd(Micros micros);

}  // namespace triage::core
