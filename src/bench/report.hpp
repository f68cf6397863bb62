// The bench report for people and machines: the seed's table (strategy, accuracy, p50/p95
// latency, cost per query, cost per correct answer) with the strong model's shares and the gap
// to the oracle; JSON and CSV of the same figures; an SVG of accuracy against cost with the
// single models, the oracle, their hull and every swept curve. Pure; byte-identical output for
// the same report.
#pragma once
#include <string>

#include "bench/bench.hpp"

namespace triage::bench {

std::string FormatTable(const Report& report);
std::string ToJson(const Report& report);  // indented, keys in a fixed order
std::string ToCsv(const Report& report);   // one line per row and per curve point
std::string ToSvg(const Report& report);

}  // namespace triage::bench
