// User-supplied regular expressions run in linear time: the patterns that make a backtracking
// engine take hours end at once, and what RE2 cannot run is refused with its reason.
#include "verify/pattern.hpp"

#include <gtest/gtest.h>

#include "verify/spec.hpp"
#include "verify/structured.hpp"
#include "verify/verifier.hpp"

namespace triage::verify {
namespace {

TEST(Pattern, CatastrophicBacktrackingPatternsEndWithAVerdict) {
  // std::regex took 0.6 s at 24 a's and doubles with each one more: 40 would be hours.
  EXPECT_EQ(RegexMatch("(a+)+$", std::string(40, 'a') + "!").outcome, Outcome::kFailed);
  EXPECT_EQ(RegexMatch("((a|aa)*)*b", std::string(5000, 'a')).outcome, Outcome::kFailed);
  EXPECT_EQ(RegexMatch("(a+)+", std::string(60000, 'a')).outcome, Outcome::kPassed);
  EXPECT_EQ(MatchPattern("(x+x+)+y", std::string(30000, 'x'), /*whole=*/false),
            PatternMatch::kDoesNotMatch);
}

TEST(Pattern, WholeOrPartAndTheReasonForWhatCannotRun) {
  EXPECT_EQ(MatchPattern("b+", "abbbc", false), PatternMatch::kMatches);
  EXPECT_EQ(MatchPattern("b+", "abbbc", true), PatternMatch::kDoesNotMatch);
  EXPECT_EQ(PatternError("^\\d{3}-\\d{4}$"), std::nullopt);
  ASSERT_TRUE(PatternError("(a)\\1").has_value());  // a backreference
  ASSERT_TRUE(PatternError("a(?=b)").has_value());  // lookahead
  EXPECT_EQ(MatchPattern("(unclosed", "x", true), PatternMatch::kInvalid);
  const auto spec = ParseVerifySpec(
      nlohmann::json::parse(R"({"kind": "regex", "pattern": "(a)\\1"})"), "general");
  ASSERT_TRUE(std::holds_alternative<std::string>(spec));
  EXPECT_NE(std::get<std::string>(spec).find("no backreferences or lookaround"), std::string::npos)
      << std::get<std::string>(spec);
}

TEST(Pattern, ASchemasPatternKeywordIsLinearToo) {
  const auto schema = nlohmann::json::parse(R"({"type": "string", "pattern": "^(a+)+$"})");
  const auto verdict = ValidateJsonSchema(nlohmann::json(std::string(40, 'a') + "!"), schema);
  EXPECT_EQ(verdict.outcome, Outcome::kFailed) << verdict.reason;
}

}  // namespace
}  // namespace triage::verify
