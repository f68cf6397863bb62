// Deterministic fuzzing: random strings of LaTeX fragments never crash or hang the verifier, and
// every verdict has a reason. A fixed seed keeps it reproducible.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "verify/math_equivalence.hpp"
#include "verify/steps.hpp"

namespace triage::verify {
namespace {

TEST(MathFuzz, RandomLatexFragmentsAlwaysGetAVerdict) {
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
  for (int round = 0; round < 3000; ++round) {
    std::string a, b;
    for (int k = len(rng); k > 0; --k) a += pieces[pick(rng)];
    for (int k = len(rng); k > 0; --k) b += pieces[pick(rng)];
    Verdict v1 = CompareMathAnswers(a, b, bare);
    Verdict v2 = VerifyMath(a, b);
    ASSERT_FALSE(v1.reason.empty()) << a << " | " << b;
    ASSERT_FALSE(v2.reason.empty()) << a << " | " << b;
    CheckSteps(a + "=" + b);
  }
}

}  // namespace
}  // namespace triage::verify
