#include "verify/verifier.hpp"

#include "verify/steps.hpp"
#include "verify/structured.hpp"

namespace triage::verify {

std::string ExtractCode(const std::string& response) {
  std::size_t best_begin = std::string::npos, best_end = 0;
  std::size_t pos = 0;
  while (true) {
    std::size_t open = response.find("```", pos);
    if (open == std::string::npos) break;
    std::size_t line_end = response.find('\n', open);
    if (line_end == std::string::npos) break;
    std::string lang = response.substr(open + 3, line_end - open - 3);
    std::size_t close = response.find("```", line_end + 1);
    if (close == std::string::npos) close = response.size();  // an unterminated last block
    bool python = lang.empty() || lang.rfind("python", 0) == 0 || lang.rfind("py", 0) == 0;
    if (python) {
      best_begin = line_end + 1;
      best_end = close;
    }
    pos = close + 3;
    if (pos >= response.size()) break;
  }
  if (best_begin == std::string::npos) return response;
  return response.substr(best_begin, best_end - best_begin);
}

Verdict Verify(const VerifyRequest& r) {
  if (r.schema) return ValidateJsonText(r.response, *r.schema);
  if (r.pattern) return RegexMatch(*r.pattern, r.response);
  if (r.expected) return ExactMatch(*r.expected, r.response);
  if (r.tests) return RunPythonTests(ExtractCode(r.response), *r.tests, r.sandbox).verdict;
  if (r.gold) return VerifyMath(*r.gold, r.response, r.math);
  if (r.domain == "math" || r.steps) return CheckSteps(r.response).verdict;
  return {Outcome::kNoClaims, "no reference to verify against for domain '" + r.domain + "'"};
}

}  // namespace triage::verify
