// Behaviour of the small verifiers: extraction, math equivalence kinds, step checks, schemas,
// exact/regex match, voting and the command functions.
#include <gtest/gtest.h>

#include <set>

#include "verify/commands.hpp"
#include "verify/extract.hpp"
#include "verify/math_equivalence.hpp"
#include "verify/steps.hpp"
#include "verify/structured.hpp"
#include "verify/verifier.hpp"
#include "verify/vote.hpp"

namespace triage::verify {
namespace {

TEST(Extract, PrefersTheLastBoxWithNestedBraces) {
  auto e = ExtractAnswer("first \\boxed{1} then \\boxed{\\frac{1}{2}} done");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->answer, "\\frac{1}{2}");
  EXPECT_EQ(e->method, ExtractionMethod::kBoxed);
  EXPECT_EQ(std::string("first \\boxed{1} then \\boxed{\\frac{1}{2}} done")
                .substr(e->begin, e->end - e->begin),
            "\\boxed{\\frac{1}{2}}");
}

TEST(Extract, JoinsBoxesSeparatedByAnd) {
  auto e = ExtractAnswer("x = \\boxed{2} and \\boxed{3}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->answer, "2, 3");
}

TEST(Extract, ReadsGsm8kHashes) {
  auto e = ExtractAnswer("She makes 9 * 2 = 18.\n#### 1,018\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->method, ExtractionMethod::kHashes);
  EXPECT_EQ(e->answer, "1018");
}

TEST(Extract, ReadsTheAnswerIsAndFinalAnswer) {
  auto a = ExtractAnswer("We add them. The answer is 42. Done.");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->answer, "42");
  EXPECT_EQ(a->method, ExtractionMethod::kAnswerIs);
  auto first = ExtractAnswer("So the answer is $18, not 20.");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->answer, "18");
  auto f = ExtractAnswer("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->answer, "\\frac{3}{4}");
  EXPECT_EQ(f->method, ExtractionMethod::kFinalAnswer);
}

TEST(Extract, FallsBackToLastLatexThenLastNumber) {
  auto l = ExtractAnswer("so $x = 3$ and then $y = 4$");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->method, ExtractionMethod::kLatexEnv);
  EXPECT_EQ(l->answer, "y = 4");
  auto n = ExtractAnswer("it costs 1,234.5 dollars");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->method, ExtractionMethod::kLastNumber);
  EXPECT_EQ(n->answer, "1234.5");
  std::string prose;
  while (prose.size() < 400) prose += "only words and no digits ";
  EXPECT_FALSE(ExtractAnswer(prose));
}

TEST(Extract, NeverCutsABareFormulaToOneOfItsNumbers) {
  for (const char* bare : {"4, 12, 2", "(x-2)(x+2)", "6 - 5i", "52_8", "2^{10}"}) {
    for (const auto& c : ExtractCandidates(bare))
      EXPECT_NE(c.method, ExtractionMethod::kLastNumber) << bare << " gave " << c.answer;
  }
  // In prose, a number that is part of an expression is not the answer either.
  for (const char* prose : {"so z = 6 - 5i", "thus it is 52_8", "so it is 2^{10}"}) {
    for (const auto& c : ExtractCandidates(prose))
      EXPECT_NE(c.method, ExtractionMethod::kLastNumber) << prose << " gave " << c.answer;
  }
  auto lone = ExtractAnswer("**5**");
  ASSERT_TRUE(lone);
  EXPECT_EQ(lone->answer, "5");
  auto list = ExtractAnswer("The answer is 4, 12, 2.");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->answer, "4, 12, 2");
  EXPECT_TRUE(HasProse("so it is 5"));
  EXPECT_FALSE(HasProse("x = 2 or x = 3"));
  EXPECT_FALSE(HasProse("\\frac{1}{2} \\text{cm}"));
}

MathOptions Bare() {
  MathOptions o;
  o.extract_answer = false;
  return o;
}

TEST(MathEquivalence, EveryKindOfAnswer) {
  auto eq = [](const char* g, const char* p) { return CompareMathAnswers(g, p, Bare()).Passed(); };
  EXPECT_TRUE(eq("\\frac{1}{2}", "0.5"));
  EXPECT_TRUE(eq("\\sqrt[3]{8}", "2"));
  EXPECT_TRUE(eq("2\\sqrt{2}", "\\sqrt{8}"));
  EXPECT_TRUE(eq("x^2-1", "(x-1)(x+1)"));
  EXPECT_TRUE(eq("\\sin^2 x + \\cos^2 x", "1"));
  EXPECT_TRUE(eq("1\\,000", "1000"));
  EXPECT_TRUE(eq("50\\%", "50"));
  EXPECT_TRUE(eq("90^\\circ", "90"));
  EXPECT_TRUE(eq("x = 3", "3"));
  EXPECT_TRUE(eq("3.14159", "\\pi"));  // the decimal's own precision decides
  EXPECT_FALSE(eq("3.14", "3.15"));
  EXPECT_TRUE(eq("\\{1, 2\\}", "\\{2, 1\\}"));
  EXPECT_TRUE(eq("2, 3", "3, 2"));
  EXPECT_FALSE(eq("(1, 2)", "(2, 1)"));
  EXPECT_TRUE(eq("[0, 1)", "[0,1)"));
  EXPECT_FALSE(eq("[0, 1]", "[0, 1)"));
  EXPECT_TRUE(eq("(-\\infty, 2] \\cup (3, \\infty)", "(3,\\infty)\\cup(-\\infty,2]"));
  EXPECT_TRUE(eq("\\begin{pmatrix}1 & 2\\\\3 & 4\\end{pmatrix}",
                 "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"));
  EXPECT_TRUE(eq("y = 2x + 1", "2x - y + 1 = 0"));
  EXPECT_TRUE(eq("x > 2", "2 < x"));
  EXPECT_FALSE(eq("x > 2", "x \\ge 2"));
  EXPECT_TRUE(eq("1 \\pm \\sqrt{2}", "1+\\sqrt2, 1-\\sqrt2"));
  EXPECT_TRUE(eq("\\text{Evelyn}", "evelyn"));
  EXPECT_FALSE(eq("1.5", "15"));
  EXPECT_FALSE(eq("(1, 2)", "[1, 2]"));
  EXPECT_TRUE(eq("x_{12}", "x_{12}"));
  EXPECT_FALSE(eq("x_{12} + 1", "x_1 + 1"));
  EXPECT_TRUE(eq("204_5", "54"));
  EXPECT_TRUE(eq("2^{4950}", "4^{2475}"));
  EXPECT_TRUE(eq("\\approx 8.24 \\text{ mph}", "8.24"));
  EXPECT_TRUE(eq("\\frac{1}{7}\\triangle ABC", "\\triangle ABC / 7"));
}

TEST(MathEquivalence, EveryVerdictHasAReason) {
  for (auto [g, p] : {std::pair{"1", "1"}, {"1", "2"}, {"1", "\\frac{1}{0}"}}) {
    Verdict v = CompareMathAnswers(g, p, Bare());
    EXPECT_FALSE(v.reason.empty());
  }
  EXPECT_EQ(CompareMathAnswers("1", "2", Bare()).ToStatus(), core::VerificationStatus::kFailed);
  EXPECT_EQ(CompareMathAnswers("1", "1", Bare()).ToStatus(), core::VerificationStatus::kVerified);
}

// Found by fuzz_steps: offsets were positions in the text after "½" became "(1/2)" and the
// <<...>> annotations were cut out, so they pointed past the claim, or past the response.
TEST(Steps, ClaimOffsetsArePositionsInTheResponseAsWritten) {
  const std::string text = "Take \u00bd + \u00bd = 1 cup. Then <<2*3=6>>6 boxes, and 5 + 5 = 10.";
  const StepReport report = CheckSteps(text);
  ASSERT_EQ(report.claims.size(), 3u) << report.verdict.reason;
  std::set<std::size_t> offsets;
  for (const auto& claim : report.claims) offsets.insert(claim.offset);
  EXPECT_EQ(offsets,
            (std::set<std::size_t>{text.find("\u00bd"), text.find("<<"), text.find("5 + 5")}));
}

// Found by fuzz_extract: a bare LaTeX answer's span ended one past the text, and the learned
// router's answer-position feature (length minus end, unsigned) came out near 1e19.
TEST(Extract, EveryCandidateSpanLiesInsideTheText) {
  const std::string text = "\\frac{10}{9}";
  const auto candidates = ExtractCandidates(text);
  ASSERT_FALSE(candidates.empty());
  EXPECT_EQ(candidates.front().method, ExtractionMethod::kWhole);
  EXPECT_EQ(candidates.front().answer, text);
  for (const auto& c : candidates) {
    EXPECT_LE(c.begin, c.end);
    EXPECT_LE(c.end, text.size()) << c.answer;
  }
}

TEST(Steps, ChecksGsm8kAnnotationsAndInlineArithmetic) {
  StepReport ok = CheckSteps("She sells 9 eggs for 9 * $2 = $<<9*2=18>>18.\n16 - 3 = 13 eggs.");
  EXPECT_EQ(ok.verdict.outcome, Outcome::kPassed) << ok.verdict.reason;
  EXPECT_GE(ok.claims.size(), 3u);
  StepReport bad = CheckSteps("Total is 12 + 15 = <<12+15=28>>28 apples.");
  EXPECT_EQ(bad.verdict.outcome, Outcome::kFailed);
  EXPECT_NE(bad.verdict.reason.find("12+15"), std::string::npos) << bad.verdict.reason;
  StepReport inline_bad = CheckSteps("So 7 x 8 = 54, and we are done.");
  EXPECT_EQ(inline_bad.verdict.outcome, Outcome::kFailed);
  EXPECT_EQ(CheckSteps("10 / 3 = 3.33 per person").verdict.outcome, Outcome::kPassed);
  EXPECT_EQ(CheckSteps("2 + 1/2 = 5/2 = 2.5").verdict.outcome, Outcome::kPassed);
  EXPECT_EQ(CheckSteps("No numbers were harmed.").verdict.outcome, Outcome::kNoClaims);
  EXPECT_EQ(CheckSteps("$10,200 + $255 = $10,455").verdict.outcome, Outcome::kPassed);
}

TEST(Structured, ValidatesTheStructuredOutputSubset) {
  auto schema = nlohmann::json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string", "minLength": 1},
      "age": {"type": "integer", "minimum": 0},
      "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "maxItems": 3},
      "kind": {"enum": ["a", "b"]},
      "nick": {"anyOf": [{"type": "string"}, {"type": "null"}]}
    },
    "required": ["name", "age"],
    "additionalProperties": false,
    "$defs": {"tag": {"type": "string", "pattern": "^[a-z]+$"}}
  })");
  EXPECT_TRUE(
      ValidateJsonText(R"({"name": "Ada", "age": 36, "tags": ["math"], "nick": null})", schema)
          .Passed());
  EXPECT_TRUE(ValidateJsonText("```json\n{\"name\": \"Ada\", \"age\": 1}\n```", schema).Passed());
  Verdict missing = ValidateJsonText(R"({"name": "Ada"})", schema);
  EXPECT_EQ(missing.outcome, Outcome::kFailed);
  EXPECT_NE(missing.reason.find("age"), std::string::npos);
  EXPECT_EQ(ValidateJsonText(R"({"name": "Ada", "age": 1, "x": 1})", schema).outcome,
            Outcome::kFailed);
  EXPECT_EQ(ValidateJsonText(R"({"name": "Ada", "age": 1, "tags": ["UP"]})", schema).outcome,
            Outcome::kFailed);
  EXPECT_EQ(ValidateJsonText(R"({"name": "Ada", "age": 1.5})", schema).outcome, Outcome::kFailed);
  EXPECT_EQ(ValidateJsonText("not json", schema).outcome, Outcome::kUnparseable);
}

TEST(Structured, ExactAndRegexMatch) {
  EXPECT_TRUE(ExactMatch("Paris", "  Paris\n").Passed());
  EXPECT_FALSE(ExactMatch("Paris", "paris").Passed());
  EXPECT_TRUE(ExactMatch("Paris", "paris", {.trim = true, .case_insensitive = true}).Passed());
  EXPECT_TRUE(RegexMatch("[A-Z]{3}-\\d+", "ABC-123").Passed());
  EXPECT_FALSE(RegexMatch("[A-Z]{3}-\\d+", "ABC-123x").Passed());
  EXPECT_EQ(RegexMatch("(", "x").outcome, Outcome::kUnparseable);
}

TEST(Vote, GroupsEquivalentAnswers) {
  std::vector<std::string> responses = {"so \\boxed{\\frac12}", "The answer is 0.5", "#### 3",
                                        "I am not sure", "$\\dfrac{1}{2}$"};
  VoteResult r = MajorityVote(responses);
  ASSERT_TRUE(r.has_winner);
  EXPECT_EQ(r.winner, "\\frac12");
  EXPECT_EQ(r.winner_index, 0u);
  EXPECT_DOUBLE_EQ(r.share, 3.0 / 5.0);
  EXPECT_EQ(r.classes.size(), 2u);
  EXPECT_EQ(r.unreadable, 1u);
  EXPECT_FALSE(MajorityVote({}).has_winner);
}

TEST(Commands, MathCommandPrintsJsonAndExitCodes) {
  CommandOutput ok = MathCommand("1/2", "\\boxed{0.5}", true);
  EXPECT_EQ(ok.exit_code, 0);
  auto j = nlohmann::json::parse(ok.text);
  EXPECT_EQ(j["outcome"], "passed");
  EXPECT_EQ(j["status"], "verified");
  EXPECT_EQ(MathCommand("1/2", "\\boxed{0.6}", false).exit_code, 1);
  EXPECT_EQ(MathCommand("1/2", "", false).exit_code, 2);
  EXPECT_EQ(StepsCommand("3 + 4 = 8", false).exit_code, 1);
  EXPECT_EQ(StepsCommand("3 + 4 = 7", false).exit_code, 0);
  EXPECT_EQ(JsonSchemaCommand(R"({"type":"integer"})", "42", false).exit_code, 0);
  EXPECT_EQ(JsonSchemaCommand(R"({"type":"integer"})", "\"x\"", false).exit_code, 1);
  EXPECT_EQ(JsonSchemaCommand("{not json", "42", false).exit_code, 2);
}

}  // namespace
}  // namespace triage::verify

namespace triage::verify {
namespace {

VerifyRequest Request(std::string domain, std::string response) {
  VerifyRequest r;
  r.domain = std::move(domain);
  r.response = std::move(response);
  return r;
}

TEST(Verifier, DispatchesOnTheReferenceTheTaskCarries) {
  VerifyRequest math = Request("math", "so it is \\boxed{\\frac{3}{4}}");
  math.gold = "0.75";
  EXPECT_EQ(Verify(math).outcome, Outcome::kPassed);
  EXPECT_EQ(Verify(Request("math", "She has 3 + 4 = 8 apples.\n#### 8")).outcome, Outcome::kFailed);
  VerifyRequest json = Request("extraction", "{\"a\": 1}");
  json.schema = nlohmann::json::parse(R"({"type":"object","required":["b"]})");
  EXPECT_EQ(Verify(json).outcome, Outcome::kFailed);
  EXPECT_EQ(Verify(Request("general", "Paris")).ToStatus(), core::VerificationStatus::kUnverified);
  VerifyRequest exact = Request("general", " Paris\n");
  exact.expected = "Paris";
  EXPECT_EQ(Verify(exact).outcome, Outcome::kPassed);
}

TEST(Verifier, ExtractsTheLastPythonBlock) {
  std::string response =
      "Here:\n```text\nnot code\n```\nand\n```python\ndef f():\n    return 1\n```\nDone.";
  EXPECT_EQ(ExtractCode(response), "def f():\n    return 1\n");
  EXPECT_EQ(ExtractCode("def g(): pass"), "def g(): pass");
  VerifyRequest code = Request("code", "```py\ndef sq(x):\n    return x * x\n```");
  code.tests = CodeTests{};
  code.tests->asserts = {"assert sq(3) == 9"};
  EXPECT_EQ(Verify(code).outcome, Outcome::kPassed);
}

}  // namespace
}  // namespace triage::verify
