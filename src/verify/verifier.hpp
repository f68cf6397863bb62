// One entry point for the router: verify a model's response to a task with whatever reference
// the task carries (a gold answer, tests, a schema, a pattern). Pure except for the code
// sandbox; thread-safe; never throws. With no usable reference the verdict is kNoClaims
// (core::VerificationStatus::kUnverified), never a guess.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "verify/code_sandbox.hpp"
#include "verify/math_equivalence.hpp"
#include "verify/verdict.hpp"

namespace triage::verify {

struct VerifyRequest {
  std::string domain;                    // "math", "code", "extraction", ... (core::Task::domain)
  std::string response;                  // the model's full text
  std::optional<std::string> gold;       // math: the reference answer (free text or LaTeX)
  std::optional<CodeTests> tests;        // code: tests the program must pass
  std::optional<nlohmann::json> schema;  // structured output: JSON Schema
  std::optional<std::string> pattern;    // the whole response must match (RE2 syntax: verify/pattern.hpp)
  std::optional<std::string> expected;   // the whole response must equal (trimmed)
  bool steps = false;                    // check the worked arithmetic in any domain
  MathOptions math;                      // extraction and comparison options
  SandboxLimits sandbox;
};

// Dispatch: schema, pattern, expected and tests apply in any domain; a gold answer is compared
// mathematically; a math response without gold (or any response when `steps`) gets step checks
// (a wrong step fails it).
Verdict Verify(const VerifyRequest& request);

// The program inside a response: the last ```python / ```py / ``` fenced block, else the text.
std::string ExtractCode(const std::string& response);

}  // namespace triage::verify
