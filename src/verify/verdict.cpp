#include "verify/verdict.hpp"

namespace triage::verify {

core::VerificationStatus Verdict::ToStatus() const {
  switch (outcome) {
    case Outcome::kPassed:
      return core::VerificationStatus::kVerified;
    case Outcome::kFailed:
    case Outcome::kTimedOut:
    case Outcome::kCrashed:
      return core::VerificationStatus::kFailed;
    case Outcome::kUnparseable:
      return core::VerificationStatus::kUnparseable;
    case Outcome::kNoClaims:
      return core::VerificationStatus::kUnverified;
  }
  return core::VerificationStatus::kUnverified;
}

std::string_view ToString(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPassed:
      return "passed";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnparseable:
      return "unparseable";
    case Outcome::kTimedOut:
      return "timed_out";
    case Outcome::kCrashed:
      return "crashed";
    case Outcome::kNoClaims:
      return "no_claims";
  }
  return "unknown";
}

std::optional<Outcome> ParseOutcome(std::string_view name) {
  for (const auto o : {Outcome::kPassed, Outcome::kFailed, Outcome::kUnparseable,
                       Outcome::kTimedOut, Outcome::kCrashed, Outcome::kNoClaims})
    if (ToString(o) == name) return o;
  return std::nullopt;
}

}  // namespace triage::verify
