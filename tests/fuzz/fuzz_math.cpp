// The LaTeX normaliser and math parser (verify::VerifyMath and friends). The input is a gold
// answer and a response, split at the first newline. Every verdict has a reason and is one a
// math check can give; an answer that can be read is never "not equivalent" to itself.
#include <string>

#include "fuzz_check.hpp"
#include "verify/math_equivalence.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace triage::verify;
  const auto text = FuzzText(data, size);
  const auto newline = text.find('\n');
  const auto gold = text.substr(0, newline);
  const auto answer = newline == std::string_view::npos ? text : text.substr(newline + 1);
  MathOptions options;
  options.ordered_lists = (size % 2) == 1;
  options.strict = (size % 3) != 0;
  const auto verdict = VerifyMath(gold, answer, options);
  FUZZ_CHECK(!verdict.reason.empty());
  FUZZ_CHECK(verdict.outcome == Outcome::kPassed || verdict.outcome == Outcome::kFailed ||
             verdict.outcome == Outcome::kUnparseable);
  const auto canonical = CanonicalMathAnswer(gold, options);
  if (!canonical.empty()) {
    const auto self = CompareMathAnswers(gold, gold, options);
    FUZZ_CHECK(!self.reason.empty());
    FUZZ_CHECK(self.outcome != Outcome::kFailed);
  }
  (void)ReadMathAnswer(answer, options);
  return 0;
}
