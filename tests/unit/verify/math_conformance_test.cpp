// Conformance: Math-Verify's own test cases and the hendrycks is_equiv cases, read from the
// shared data directory. Prints the agreement and every disagreement; asserts the thresholds.
#include <gtest/gtest.h>

#include <iostream>

#include "test_data.hpp"
#include "verify/math_equivalence.hpp"

namespace triage::verify {
namespace {

// Math-Verify's options for a case, from the recorded upstream call.
MathOptions OptionsFor(const nlohmann::json& row) {
  MathOptions o;
  const std::string call = row.value("upstream_call", "");
  bool latex = call.find("'latex'") != std::string::npos;
  bool expr = call.find("'expr'") != std::string::npos;
  if (call.find("match_types") != std::string::npos) {
    o.extract.latex = latex;
    o.extract.expr = expr;
  }
  o.extract.hashes = false;
  o.gold_is_solution =
      true;  // upstream parses (extracts) the gold as well; many golds are solutions
  if (row.contains("precision")) o.precision = row["precision"].get<int>();
  if (row.contains("strict")) o.strict = row["strict"].get<bool>();
  if (row.contains("allow_set_relation_comp"))
    o.allow_set_relation_comp = row["allow_set_relation_comp"].get<bool>();
  return o;
}

TEST(MathConformance, AgreesWithMathVerifyOnItsOwnCases) {
  auto rows = testing::ReadJsonl("verify/math_verify_cases.jsonl");
  ASSERT_EQ(rows.size(), 268u);
  int agree = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    Verdict v =
        VerifyMath(row["gold"].get<std::string>(), row["pred"].get<std::string>(), OptionsFor(row));
    bool expected = row["equivalent"].get<bool>();
    if (v.Passed() == expected) {
      ++agree;
    } else {
      std::cout << "DISAGREE case " << i << " (" << row["from"].get<std::string>()
                << ") expected=" << expected << " got=" << ToString(v.outcome) << ": " << v.reason
                << "\n";
    }
  }
  double share = 100.0 * agree / rows.size();
  std::cout << "math_verify_cases agreement: " << agree << "/" << rows.size() << " = " << share
            << "%\n";
  EXPECT_GE(share, 95.0);
}

TEST(MathConformance, AgreesWithAllHendrycksCases) {
  auto rows = testing::ReadJsonl("verify/hendrycks_equivalence_cases.jsonl");
  ASSERT_EQ(rows.size(), 16u);
  MathOptions o;
  o.extract_answer = false;
  o.ordered_lists = true;  // hendrycks compares normalised strings: order matters
  int agree = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    Verdict v = VerifyMath(row["gold"].get<std::string>(), row["pred"].get<std::string>(), o);
    bool expected = row["equivalent"].get<bool>();
    if (v.Passed() == expected)
      ++agree;
    else
      std::cout << "DISAGREE hendrycks " << i << " expected=" << expected << ": " << v.reason
                << "\n";
  }
  std::cout << "hendrycks agreement: " << agree << "/" << rows.size() << "\n";
  EXPECT_EQ(agree, static_cast<int>(rows.size()));
}

// Every MATH training solution against its own \boxed gold answer: extraction and parsing must
// agree with the data set's answer key (the rest are solutions that box several values).
TEST(MathConformance, MathSolutionsMatchTheirOwnAnswers) {
  auto rows = testing::ReadJsonl("classify/math_train.jsonl");
  MathOptions o;
  int passed = 0;
  for (const auto& row : rows) {
    Verdict v = VerifyMath(row["gold"].get<std::string>(), row["solution"].get<std::string>(), o);
    if (v.Passed())
      ++passed;
    else if (std::getenv("TRIAGE_VERIFY_VERBOSE"))
      std::cout << "MATH " << row["id"].get<std::string>() << ": " << v.reason << "\n";
  }
  std::cout << "MATH train solutions vs their answers: " << passed << "/" << rows.size() << "\n";
  EXPECT_GE(passed * 1000, static_cast<int>(rows.size()) * 995);
}

}  // namespace
}  // namespace triage::verify
