// Math answer equivalence: LaTeX/plain answers parsed into GiNaC and compared exactly, then by
// numeric probing, then with a decimal tolerance. Sets, tuples, intervals, unions, unordered
// answer lists, matrices, equations and inequalities are understood; every verdict has a reason.
//
// Budget (enforced per call): each extracted answer is at most MathOptions::max_answer_chars
// (longer -> unparseable), nesting at most kMaxNesting, exact powers/factorials with huge
// exponents are refused rather than evaluated, and every stage checks MathOptions::time_budget
// (checked between stages; a single GiNaC step on a size-bounded input is bounded too).
// Never throws. Thread-safe: GiNaC shares global objects with non-atomic reference counts, so
// calls are serialised on an internal mutex (a check costs tens of microseconds).
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "verify/extract.hpp"
#include "verify/verdict.hpp"

namespace triage::verify {

inline constexpr int kMaxNesting = 64;

struct MathOptions {
  int precision = 6;                     // decimals that count when a side is a float literal
  bool strict = true;                    // false: variable names do not matter (f(x) == f(y))
  bool allow_set_relation_comp = false;  // a gold interval may match a predicted inequality
  bool ordered_lists = false;            // "2, 3" != "3, 2" (the hendrycks convention)
  bool extract_answer = true;            // find the answer inside the model's text (prose only)
  // The gold is a worked solution, not an answer (Math-Verify's own test cases, which extract
  // the gold too): read it as a response is read. Never set for a task's reference answer.
  bool gold_is_solution = false;
  ExtractOptions extract;  // which anchors extraction may use
  std::size_t max_answer_chars = 4096;
  std::chrono::microseconds time_budget{std::chrono::milliseconds(100)};
};

// Is `answer` (a model's text, or a bare answer) equivalent to `gold`?
// The gold is a reference answer and is read whole, never extracted (unless gold_is_solution).
// The answer is read whole when it is bare (no prose and no \boxed / "####" marker in it); any
// other text goes through ExtractCandidates.
// kPassed: equivalent; kFailed: both parsed, not equivalent; kUnparseable: an answer could not be
// found or read, or the budget ran out.
Verdict VerifyMath(std::string_view gold, std::string_view answer, const MathOptions& options = {});

// Both sides are bare answers (no extraction). Used by voting to build equivalence classes.
Verdict CompareMathAnswers(std::string_view a, std::string_view b, const MathOptions& options = {});

// The answer a response states, read exactly as VerifyMath reads its `answer` side (whole when
// bare, else the first extraction candidate that parses); nullopt when nothing can be read.
struct MathReading {
  std::string answer;  // the text that was parsed
  ExtractionMethod method = ExtractionMethod::kBare;
  bool text = false;  // read as a word answer ("Evelyn"), not as mathematics
};
std::optional<MathReading> ReadMathAnswer(std::string_view response,
                                          const MathOptions& options = {});

// The answer as the comparator reads it (after normalisation), for people and for voting keys;
// empty when unparseable.
std::string CanonicalMathAnswer(std::string_view answer, const MathOptions& options = {});

}  // namespace triage::verify
