#include "app/workload.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "providers/sim.hpp"
#include "verify/extract.hpp"
#include "verify/steps.hpp"

namespace triage::app {

TEST(Workload, IsDeterministicForASeed) {
  const auto a = GenerateWorkload(200, 7), b = GenerateWorkload(200, 7), c = GenerateWorkload(200, 8);
  ASSERT_EQ(a.size(), 200u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text);
    EXPECT_EQ(a[i].answer, b[i].answer);
  }
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i].text == c[i].text;
  EXPECT_LT(same, 20);
}

TEST(Workload, FollowsTheSeedsMixOfDifficulties) {
  std::map<std::string, int> counts;
  for (const auto& p : GenerateWorkload(10000, 1)) ++counts[p.difficulty];
  EXPECT_NEAR(counts["easy"], 5000, 250);
  EXPECT_NEAR(counts["medium"], 3000, 250);
  EXPECT_NEAR(counts["hard"], 2000, 250);
}

// Recomputes answers from the problem text for templates whose arithmetic reads off directly.
TEST(Workload, AnswersAreRight) {
  const std::regex rate(R"(at (\d+) km per hour for (\d+) hours)");
  const std::regex divisors(R"(positive divisors of (\d+)\.)");
  int checked = 0;
  for (const auto& p : GenerateWorkload(2000, 3)) {
    std::smatch m;
    if (std::regex_search(p.text, m, rate)) {
      EXPECT_EQ(p.answer, std::to_string(std::stoll(m[1]) * std::stoll(m[2])));
      ++checked;
    } else if (std::regex_search(p.text, m, divisors)) {
      const long long n = std::stoll(m[1]);
      long long sum = 0;
      for (long long d = 1; d * d <= n; ++d)
        if (n % d == 0) sum += d + (d * d == n ? 0 : n / d);
      EXPECT_EQ(p.answer, std::to_string(sum)) << p.text;
      ++checked;
    }
    EXPECT_FALSE(p.answer.empty());
  }
  EXPECT_GT(checked, 100);
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

// The worked steps are exact arithmetic (the project's step checker passes them) and the last
// one yields the answer, for every template.
TEST(Workload, StepsCheckOutAndTheLastOneYieldsTheAnswer) {
  std::set<std::string> kinds;
  for (const auto& p : GenerateWorkload(3000, 5)) {
    ASSERT_FALSE(p.steps.empty()) << p.text;
    const auto report = verify::CheckSteps(Joined(p.steps));
    EXPECT_EQ(report.verdict.outcome, verify::Outcome::kPassed)
        << p.kind << ": " << report.verdict.reason << "\n"
        << Joined(p.steps);
    const std::string& last = p.steps.back();
    EXPECT_EQ(last.substr(last.rfind(" = ") + 3), p.answer) << last;
    kinds.insert(p.kind);
  }
  EXPECT_EQ(kinds.size(), 11u);  // every template seen
}

TEST(Workload, SimHintsCarryDifficultyAnswerAndStepsAsThePipelinePassesThem) {
  const auto p = GenerateWorkload(1, 9).at(0);
  const auto hints = SimHints(p);
  EXPECT_EQ(hints.at("difficulty"), p.difficulty);
  EXPECT_EQ(hints.at("expected_answer"), p.answer);
  EXPECT_EQ(nlohmann::json::parse(hints.at("steps")).get<std::vector<std::string>>(), p.steps);
  EXPECT_EQ(SimMetadata(p)["steps"].size(), p.steps.size());
}

// The sim answers the demo's problems with text the verifiers read: the extracted answer is the
// one it meant, right exactly when it equals the workload's, and a slip fails the step check.
TEST(Workload, TheSimAnswersItsProblemsInTextTheVerifiersRead) {
  const providers::SimOptions standard{"sim-standard", providers::StandardSimProfile(), {}, 42, 1};
  int slipped = 0, wrong = 0;
  for (const auto& p : GenerateWorkload(2000, 11)) {
    providers::ModelRequest r;
    r.prompt = p.text;
    r.job_id = p.text;
    r.sim_hints = SimHints(p);
    const auto o = providers::Simulate(standard, r);
    const auto extraction = verify::ExtractAnswer(o.text);
    ASSERT_TRUE(extraction) << o.text;
    EXPECT_EQ(extraction->answer, o.answer) << o.text;
    EXPECT_EQ(o.correct, o.answer == p.answer);
    const auto steps = verify::CheckSteps(o.text);
    EXPECT_EQ(steps.verdict.outcome == verify::Outcome::kFailed, o.slipped)
        << steps.verdict.reason << "\n"
        << o.text;
    slipped += o.slipped;
    wrong += !o.correct;
  }
  EXPECT_GT(wrong, 300);
  EXPECT_GT(slipped, 50);
}

}  // namespace triage::app
