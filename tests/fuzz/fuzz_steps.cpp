// verify::CheckSteps: the verdict always has a reason and agrees with the claims: failed when
// one is wrong, no-claims when there are none, passed otherwise; never past its claim budget.
#include "fuzz_check.hpp"
#include "verify/steps.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace triage::verify;
  const auto text = FuzzText(data, size);
  const StepOptions options{size % 7 == 0 ? std::size_t{2} : std::size_t{512}};
  const auto report = CheckSteps(text, options);
  FUZZ_CHECK(!report.verdict.reason.empty());
  FUZZ_CHECK(report.claims.size() <= options.max_claims);
  int wrong = 0;
  for (const auto& claim : report.claims) {
    FUZZ_CHECK(claim.offset < text.size());
    FUZZ_CHECK(!claim.expression.empty() && !claim.claimed.empty());
    if (!claim.correct) ++wrong;
  }
  FUZZ_CHECK(wrong == report.wrong);
  if (report.claims.empty())
    FUZZ_CHECK(report.verdict.outcome == Outcome::kNoClaims);
  else if (wrong > 0)
    FUZZ_CHECK(report.verdict.outcome == Outcome::kFailed);
  else
    FUZZ_CHECK(report.verdict.outcome == Outcome::kPassed);
  return 0;
}
