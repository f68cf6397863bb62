// The engine's Checker over verify/: a response is verified against the job's reference (the
// request's gold, tests, schema, pattern or expected text; nothing to check gives kNoClaims),
// answers are read the way the math verifier reads them, and votes are grouped by mathematical
// equivalence in the math domain ("1/2" and "0.5" agree) and by exact text elsewhere.
// Thread-compatible; Check may run the code sandbox (a child process) for code references.
#pragma once
#include "route/engine.hpp"
#include "verify/verifier.hpp"

namespace triage::route {

class VerifyChecker : public Checker {
 public:
  explicit VerifyChecker(verify::VerifyRequest reference) : reference_(std::move(reference)) {}
  Checked Check(const std::string& response) const override;
  verify::VoteResult Vote(const std::vector<std::string>& responses) const override;

 private:
  bool Math() const { return reference_.domain == "math"; }
  verify::VerifyRequest reference_;
};

}  // namespace triage::route
