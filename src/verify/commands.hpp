// The logic behind `triage verify ...`: plain functions from inputs to printable output, so the
// CLI wiring (app/verify_cli.cpp) stays thin and the behaviour is unit-tested here.
// File reading happens in the caller; these functions do no I/O except the code sandbox.
#pragma once
#include <string>

#include "verify/code_sandbox.hpp"
#include "verify/math_equivalence.hpp"

namespace triage::verify {

struct CommandOutput {
  int exit_code = 2;  // 0 passed, 1 failed (or timed out / crashed), 2 unparseable / bad input
  std::string text;   // what to print (one line, or a JSON object with --json)
};

CommandOutput MathCommand(const std::string& gold, const std::string& answer, bool json,
                          const MathOptions& options = {});
// `tests` is Python: asserts, or a check(candidate) function when `entry_point` is given.
CommandOutput CodeCommand(const std::string& candidate, const std::string& tests,
                          const std::string& entry_point, bool json,
                          const SandboxLimits& limits = {});
CommandOutput StepsCommand(const std::string& response, bool json);
CommandOutput JsonSchemaCommand(const std::string& schema_text, const std::string& answer,
                                bool json);

}  // namespace triage::verify
