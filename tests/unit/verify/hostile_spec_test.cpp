// The hostile corpus's verify specs (tests/hostile/): valid to submit, hostile to run. Each
// must end with a verdict and its reason -- a regex that backtracks for ever, a schema that
// refers to itself, a gold answer that is a LaTeX bomb or a tower of powers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "corpus.hpp"
#include "verify/spec.hpp"
#include "verify/verifier.hpp"

namespace triage::verify {
namespace {

TEST(HostileSpecs, EveryOneEndsWithAVerdictAndItsReason) {
  for (const auto& c : hostile::HostileVerifyCases()) {
    auto spec = ParseVerifySpec(nlohmann::json::parse(c.spec), "general");
    ASSERT_TRUE(std::holds_alternative<VerifyRequest>(spec))
        << c.name << ": " << std::get<std::string>(spec);
    auto request = std::get<VerifyRequest>(spec);
    request.response = c.response;
    const auto verdict = Verify(request);
    EXPECT_NE(verdict.outcome, Outcome::kPassed) << c.name << ": " << verdict.reason;
    EXPECT_FALSE(verdict.reason.empty()) << c.name;
  }
}

}  // namespace
}  // namespace triage::verify
