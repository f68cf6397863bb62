// Grading: the verifier decides recorded responses; p_correct is sampled from hashed draws.
#include "replay/grade.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/draw.hpp"
#include "fixture.hpp"

namespace triage::replay {
namespace {

Item MathItem(std::string gold) {
  Item item;
  item.id = "g/1";
  item.domain = "math";
  item.gold = std::move(gold);
  return item;
}

Outcome Response(std::string text) {
  Outcome o;
  o.item = "g/1";
  o.model = "m";
  o.response = std::move(text);
  return o;
}

Outcome Probability(std::string item, double p) {
  Outcome o;
  o.item = std::move(item);
  o.model = "model (x.1)";
  o.p_correct = p;
  return o;
}

TEST(ReplayGrade, TheVerifierDecidesRecordedResponses) {
  EXPECT_EQ(ExpectedCorrect(MathItem("42"), Response("6 times 7 is 42.\n#### 42")), 1.0);
  EXPECT_EQ(ExpectedCorrect(MathItem("42"), Response("So the answer is 41.")), 0.0);
  EXPECT_EQ(ExpectedCorrect(MathItem("20"), Response("She pays $20.00 in total.")), 1.0);
  EXPECT_EQ(ExpectedCorrect(MathItem("0.5"), Response("Hence $\\boxed{\\frac{1}{2}}$.")), 1.0);
  EXPECT_EQ(ExpectedCorrect(MathItem("18"), Response("I cannot tell.")), 0.0);  // unreadable
  EXPECT_TRUE(GradeResponse(MathItem("42"), "#### 42").Passed());
  EXPECT_EQ(GradeResponse(MathItem("42"), "#### 41").outcome, verify::Outcome::kFailed);
}

TEST(ReplayGrade, ARecordedPCorrectIsTheGradeOfItsResponse) {
  auto o = Response("#### 42");  // the verifier would pass it
  o.p_correct = 0.0;
  EXPECT_EQ(ExpectedCorrect(MathItem("42"), o), 0.0);
  o.p_correct = 0.5;
  EXPECT_EQ(ExpectedCorrect(MathItem("42"), o), 0.5);
}

TEST(ReplayGrade, AResponseWithoutGoldCannotBeGraded) {
  Item item = MathItem("1");
  item.gold.reset();
  EXPECT_THROW(GradeResponse(item, "#### 1"), ReplayError);
  testing::TempSet files(R"j({"id": "g/1", "domain": "math"})j"
                         "\n",
                         R"j({"item": "g/1", "model": "m", "p_correct": 1})j"
                         "\n"
                         R"j({"item": "g/1", "model": "n", "response": "#### 1"})j"
                         "\n");
  const auto set = ReadReplaySet(files.Dir());
  try {
    ExpectedCorrect(set);
    FAIL() << "graded a response without gold";
  } catch (const ReplayError& e) {
    EXPECT_EQ(std::string(e.what()),
              "replay: outcomes.jsonl:2: a response without `p_correct`, and item `g/1` has no "
              "`gold` to grade it against");
  }
}

TEST(ReplayGrade, ExpectedCorrectOfASetFollowsItsOutcomes) {
  testing::TempSet files(R"j({"id": "g/1", "domain": "math", "gold": "7"})j"
                         "\n",
                         R"j({"item": "g/1", "model": "a", "response": "It is 7."})j"
                         "\n"
                         R"j({"item": "g/1", "model": "b", "response": "It is 8."})j"
                         "\n"
                         R"j({"item": "g/1", "model": "c", "p_correct": 0.75})j"
                         "\n");
  EXPECT_EQ(ExpectedCorrect(ReadReplaySet(files.Dir())), (std::vector<double>{1.0, 0.0, 0.75}));
}

TEST(ReplayGrade, DrawsUseTheReplayProvidersKey) {
  EXPECT_EQ(SampleDraw(42, "t/2", "m.1", 3), core::UniformDraw("42\x1ft/2\x1fm.1\x1f"
                                                               "3"));
}

TEST(ReplayGrade, PCorrectDrawsHaveItsFrequency) {
  constexpr int kDraws = 10'000;
  constexpr double p = 0.3;
  int across_samples = 0, across_items = 0;
  for (int k = 0; k < kDraws; ++k) {
    across_samples += SampleCorrect(Probability("i/1", p), p, 7, k);
    across_items += SampleCorrect(Probability("i/" + std::to_string(k), p), p, 7, 0);
  }
  // Five standard deviations of a binomial(10,000, 0.3): about 229.
  const double bound = 5 * std::sqrt(kDraws * p * (1 - p));
  EXPECT_NEAR(across_samples, kDraws * p, bound);
  EXPECT_NEAR(across_items, kDraws * p, bound);
}

TEST(ReplayGrade, SameSeedSameDrawsAnotherSeedOthers) {
  const auto o = Probability("i/1", 0.5);
  int same = 0, differ = 0;
  for (int k = 0; k < 1000; ++k) {
    const bool first = SampleCorrect(o, 0.5, 1, k);
    same += first == SampleCorrect(o, 0.5, 1, k);
    differ += first != SampleCorrect(o, 0.5, 2, k);
  }
  EXPECT_EQ(same, 1000);
  EXPECT_GT(differ, 400);  // independent draws differ half the time
  EXPECT_LT(differ, 600);
}

TEST(ReplayGrade, CertainOutcomesNeedNoDraw) {
  for (int k = 0; k < 100; ++k) {
    EXPECT_TRUE(SampleCorrect(Probability("i/1", 1), 1, 3, k));
    EXPECT_FALSE(SampleCorrect(Probability("i/1", 0), 0, 3, k));
  }
}

TEST(ReplayGrade, EverySampleOfARecordedResponseIsThatResponse) {
  auto o = Response("#### 42");
  o.p_correct = 0.5;  // a fractional grade of the one response
  const bool first = SampleCorrect(o, 0.5, 9, 0);
  int same = 0;
  for (int k = 0; k < 200; ++k) same += SampleCorrect(o, 0.5, 9, k) == first;
  EXPECT_EQ(same, 200);
  // Not so for a p_correct-only outcome: its samples are independent.
  const auto p = Probability("g/1", 0.5);
  int agree = 0;
  for (int k = 0; k < 200; ++k) agree += SampleCorrect(p, 0.5, 9, k) == SampleCorrect(p, 0.5, 9, 0);
  EXPECT_LT(agree, 150);
}

}  // namespace
}  // namespace triage::replay
