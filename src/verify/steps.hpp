// Step checks for worked solutions: every arithmetic claim in a response ("9 * 2 = 18",
// "16 - 3 = 13 = 10 + 3", GSM8K's "<<9*2=18>>") is recomputed, without knowing the answer.
// Pure, thread-safe, linear in the input; never throws.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "verify/verdict.hpp"

namespace triage::verify {

struct StepClaim {
  std::string expression;  // left side as written, e.g. "9 * 2"
  std::string claimed;     // right side as written, e.g. "18"
  double computed = 0;     // the left side's value
  bool correct = true;
  bool annotation = false;  // from a GSM8K <<...>> annotation
  std::size_t offset = 0;   // where the claim starts in the response
};

struct StepReport {
  Verdict verdict;  // kPassed, kFailed (the first wrong step in the reason), kNoClaims
  std::vector<StepClaim> claims;
  int wrong = 0;
};

struct StepOptions {
  std::size_t max_claims = 512;  // budget: claims beyond this are not checked
};

StepReport CheckSteps(std::string_view response, const StepOptions& options = {});

}  // namespace triage::verify
