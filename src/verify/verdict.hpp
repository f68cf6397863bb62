// The verdict every verifier returns: an outcome, and a reason a person can read.
// Value type; no I/O. ToStatus() maps the richer outcome onto core::VerificationStatus.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/job.hpp"

namespace triage::verify {

enum class Outcome {
  kPassed,       // equivalent / all tests passed / schema valid / every step checks out
  kFailed,       // not equivalent / a test or step failed
  kUnparseable,  // no answer could be read (or it exceeded the per-call budget)
  kTimedOut,     // code ran past its wall-clock or CPU limit
  kCrashed,      // code died from a signal or the sandbox could not run it
  kNoClaims,     // step check: the text holds no arithmetic claim to check
};

struct Verdict {
  Outcome outcome = Outcome::kUnparseable;
  std::string reason;

  bool Passed() const { return outcome == Outcome::kPassed; }
  bool operator==(const Verdict&) const = default;
  core::VerificationStatus ToStatus() const;
};

std::string_view ToString(Outcome outcome);
// The outcome ToString names; nothing for any other text.
std::optional<Outcome> ParseOutcome(std::string_view name);
inline Verdict Pass(std::string reason) { return {Outcome::kPassed, std::move(reason)}; }
inline Verdict Fail(std::string reason) { return {Outcome::kFailed, std::move(reason)}; }
inline Verdict Unparseable(std::string reason) {
  return {Outcome::kUnparseable, std::move(reason)};
}

}  // namespace triage::verify
