// Deterministic fuzzing (fixed seeds). Random strings of LaTeX fragments, nearly all garbage,
// get a verdict with a reason and are never verified when unreadable; random well-formed
// expressions are equal to their rewritings and never equal to themselves plus one, whether the
// answer is bare or stated in prose.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "verify/math_equivalence.hpp"
#include "verify/steps.hpp"

namespace triage::verify {
namespace {

TEST(MathFuzz, RandomLatexFragmentsGetAReasonedVerdictAndBrokenOnesNeverPass) {
  const std::vector<std::string> pieces = {"1",
                                           "0",
                                           "23",
                                           ".5",
                                           "x",
                                           "y",
                                           "e",
                                           "i",
                                           "+",
                                           "-",
                                           "*",
                                           "/",
                                           "^",
                                           "_",
                                           "(",
                                           ")",
                                           "[",
                                           "]",
                                           "{",
                                           "}",
                                           "\\{",
                                           "\\}",
                                           ",",
                                           ";",
                                           "=",
                                           "<",
                                           "\\le",
                                           "\\pm",
                                           "\\frac",
                                           "\\sqrt",
                                           "\\sqrt[3]",
                                           "\\pi",
                                           "\\infty",
                                           "\\cup",
                                           "\\in",
                                           "\\text{ and }",
                                           "\\boxed{",
                                           "$",
                                           "\\begin{pmatrix}",
                                           "\\end{pmatrix}",
                                           "&",
                                           "\\\\",
                                           "!",
                                           "|",
                                           ":",
                                           "\\sin",
                                           "\\log_",
                                           "\\sum_{k=0}^{n}",
                                           "%",
                                           "\\left(",
                                           "\\right)",
                                           "\u2212",
                                           "\uff15",
                                           "\xff",
                                           " ",
                                           "\\",
                                           "10^{10}",
                                           "0^0",
                                           "/0"};
  std::mt19937 rng(20261128);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> len(1, 24);
  MathOptions bare;
  bare.extract_answer = false;
  bare.time_budget = std::chrono::seconds(2);  // verdicts from the guards, not a loaded clock
  auto known = [](const Verdict& v) {
    return v.outcome == Outcome::kPassed || v.outcome == Outcome::kFailed ||
           v.outcome == Outcome::kUnparseable;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string a, b;
    for (int k = len(rng); k > 0; --k) a += pieces[pick(rng)];
    for (int k = len(rng); k > 0; --k) b += pieces[pick(rng)];
    SCOPED_TRACE("a='" + a + "' b='" + b + "'");
    Verdict v1 = CompareMathAnswers(a, b, bare);
    Verdict v2 = VerifyMath(a, b);
    for (const Verdict& v : {v1, v2}) {
      EXPECT_TRUE(known(v)) << ToString(v.outcome);
      EXPECT_FALSE(v.reason.empty());
    }
    // A text is never judged different from itself (unreadable, at worst).
    EXPECT_NE(CompareMathAnswers(a, a, bare).outcome, Outcome::kFailed);
    // An unclosed \frac{ makes either side unreadable: unparseable with a reason naming the side,
    // never passed, against a readable other side.
    Verdict broken_answer = CompareMathAnswers("1", b + " \\frac{", bare);
    Verdict broken_gold = CompareMathAnswers(a + " \\frac{", "1", bare);
    EXPECT_EQ(broken_answer.outcome, Outcome::kUnparseable) << broken_answer.reason;
    EXPECT_EQ(broken_gold.outcome, Outcome::kUnparseable) << broken_gold.reason;
    EXPECT_NE(broken_answer.reason.find("answer:"), std::string::npos) << broken_answer.reason;
    EXPECT_NE(broken_gold.reason.find("gold:"), std::string::npos) << broken_gold.reason;
    CheckSteps(a + "=" + b);
  }
}

// A random expression over x with small integers, +, -, products, fractions (denominators
// never zero) and squares, as LaTeX.
std::string RandomExpression(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> digit(1, 9), shape(0, 7);
  int s = depth == 0 ? shape(rng) % 3 : shape(rng);
  switch (s) {
    case 0:
      return std::to_string(digit(rng));
    case 1:
      return "x";
    case 2:
      return std::to_string(digit(rng)) + "x";
    case 3:
      return RandomExpression(rng, depth - 1) + " + " + RandomExpression(rng, depth - 1);
    case 4:
      return RandomExpression(rng, depth - 1) + " - (" + RandomExpression(rng, depth - 1) + ")";
    case 5:
      return "(" + RandomExpression(rng, depth - 1) + ")(" + RandomExpression(rng, depth - 1) + ")";
    case 6:
      return "\\frac{" + RandomExpression(rng, depth - 1) + "}{(" +
             RandomExpression(rng, depth - 1) + ")^2 + 1}";
    default:
      return "(" + RandomExpression(rng, depth - 1) + ")^2";
  }
}

TEST(MathFuzz, RandomExpressionsEqualTheirRewritingsAndNeverThemselvesPlusOne) {
  std::mt19937 rng(7);
  MathOptions bare;
  bare.extract_answer = false;
  bare.time_budget = std::chrono::seconds(2);  // a safety bound; the checks take microseconds
  MathOptions responses = bare;
  responses.extract_answer = true;
  for (int round = 0; round < 400; ++round) {
    std::string e = RandomExpression(rng, 3);
    SCOPED_TRACE("e='" + e + "'");
    const std::string same[] = {"0 + (" + e + ")", "(" + e + ") \\cdot 1",
                                "\\frac{2(" + e + ")}{2}"};
    const std::string different[] = {"(" + e + ") + 1", "(" + e + ") + x"};
    auto check = [&](const std::string& answer, Outcome expected) {
      Verdict bare_verdict = CompareMathAnswers(e, answer, bare);
      EXPECT_EQ(bare_verdict.outcome, expected) << answer << ": " << bare_verdict.reason;
      // The same answer from a model: bare it is read whole, in prose it is found.
      for (const std::string& response :
           {answer, "So we get\n$$" + answer + "$$", "Hence the answer is $" + answer + "$."}) {
        Verdict v = VerifyMath(e, response, responses);
        EXPECT_EQ(v.outcome, expected) << response << ": " << v.reason;
      }
    };
    EXPECT_EQ(CompareMathAnswers(e, e, bare).outcome, Outcome::kPassed);
    for (const auto& answer : same) check(answer, Outcome::kPassed);
    for (const auto& answer : different) check(answer, Outcome::kFailed);
  }
}

}  // namespace
}  // namespace triage::verify
