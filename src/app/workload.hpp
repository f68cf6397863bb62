// The demo's workload: math problems written by the project's own templates, each with its
// true answer, difficulty and worked steps. Pure and deterministic for a seed.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace triage::app {

struct Problem {
  std::string text;
  std::string answer;      // an integer, as text
  std::string difficulty;  // easy | medium | hard
  std::string kind;        // which template
  // A worked solution, one line each: prose lines, and checkable steps "expression = value"
  // whose arithmetic is exact. The last line is always the step that yields `answer`.
  std::vector<std::string> steps;
};

// Half easy arithmetic word problems, 30% multi-step algebra, 20% competition-style counting:
// the seed document's 5,000 / 3,000 / 2,000 mix.
std::vector<Problem> GenerateWorkload(int count, std::uint64_t seed);

// What a job's metadata carries under "sim" so a simulated model can answer `problem`
// (providers/sim.hpp): {"difficulty", "expected_answer", "steps": [lines]}. A real model
// ignores it.
nlohmann::json SimMetadata(const Problem& problem);
// The same as ModelRequest::sim_hints, converted as the pipeline converts job metadata
// (strings as they are, anything else as JSON text).
std::map<std::string, std::string> SimHints(const Problem& problem);

}  // namespace triage::app
