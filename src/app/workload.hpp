// The demo's workload: math problems written by the project's own templates, each with its
// true answer and difficulty. Pure and deterministic for a seed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace triage::app {

struct Problem {
  std::string text;
  std::string answer;      // an integer, as text
  std::string difficulty;  // easy | medium | hard
  std::string kind;        // which template
};

// Half easy arithmetic word problems, 30% multi-step algebra, 20% competition-style counting:
// the seed document's 5,000 / 3,000 / 2,000 mix.
std::vector<Problem> GenerateWorkload(int count, std::uint64_t seed);

}  // namespace triage::app
