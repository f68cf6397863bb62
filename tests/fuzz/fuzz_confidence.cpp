// route::ParseSelfReport: a confidence is in [0, 1] and comes only from a confidence line that
// was removed from the text; a response without one keeps its text apart from trailing blanks.
#include <cmath>
#include <string>

#include "fuzz_check.hpp"
#include "route/confidence.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const auto text = FuzzText(data, size);
  const auto report = triage::route::ParseSelfReport(text);
  if (report.confidence) {
    FUZZ_CHECK(report.annotated);
    FUZZ_CHECK(std::isfinite(*report.confidence));
    FUZZ_CHECK(*report.confidence >= 0.0 && *report.confidence <= 1.0);
  }
  FUZZ_CHECK(report.text.size() <= text.size());
  if (!report.annotated) FUZZ_CHECK(text.starts_with(report.text));
  // Stripping is idempotent: the stripped text holds no confidence line any more.
  const auto again = triage::route::ParseSelfReport(report.text);
  FUZZ_CHECK(!again.annotated && again.text == report.text);
  return 0;
}
