// A model's self-reported confidence: a line "CONFIDENCE: 85" (0-100; "85%", "0.85" and
// "**Confidence:** 85" are read too). Pure; never throws.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace triage::route {

struct SelfReport {
  std::string text;                  // the response with every confidence line removed
  std::optional<double> confidence;  // in [0, 1]; nothing when missing, unreadable or ambiguous
  bool annotated = false;            // a confidence line was there (readable or not)
};

// Lines that say "confidence" and a value are stripped from the text. Their value counts only
// when it is readable and every such line agrees: a missing, garbled or contradictory report
// gives nothing, and the caller applies its configured default.
SelfReport ParseSelfReport(std::string_view response);

}  // namespace triage::route
