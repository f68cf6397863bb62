// The seed's classify_task_difficulty, rule for rule: hand-picked cases for every rule and edge,
// and a golden file of the held-out data items whose expected tiers and word counts came from
// running the seed's Python function verbatim (CPython 3.11).
#include "classify/heuristic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "classify/dataset.hpp"
#include "test_data.hpp"

namespace triage::classify {
namespace {

using core::Tier;

struct Case {
  const char* text;
  Tier tier;
  int conditions;
  int steps;
};

// Expected values computed by the seed's Python function on the same strings.
const Case kCases[] = {
    {"", Tier::kEasy, 0, 0},
    {"What is 2+2?", Tier::kTrivial, 0, 0},
    {"what IS this", Tier::kTrivial, 0, 0},
    {"List the primes", Tier::kTrivial, 0, 0},
    {"who is he", Tier::kTrivial, 0, 0},
    {"When did it happen", Tier::kTrivial, 0, 0},
    {"when did", Tier::kTrivial, 1, 0},  // "when" counts, but one condition is not enough
    {"Prove it", Tier::kRequiresReasoning, 0, 0},
    {"We must improve the design", Tier::kRequiresReasoning, 0, 0},  // substring "prove"
    {"The AIME asks", Tier::kRequiresReasoning, 0, 0},
    {"claimed", Tier::kRequiresReasoning, 0, 0},  // substring "aime"
    {"FIND ALL x", Tier::kRequiresReasoning, 0, 0},
    {"Show That", Tier::kRequiresReasoning, 0, 0},
    {"for all positive integers n", Tier::kRequiresReasoning, 0, 0},
    {"sum of all", Tier::kRequiresReasoning, 0, 0},
    {"product of all", Tier::kRequiresReasoning, 0, 0},
    {"how many ways", Tier::kRequiresReasoning, 0, 0},
    {"if and only if", Tier::kRequiresReasoning, 3, 0},
    {"the minimum value of f", Tier::kRequiresReasoning, 0, 0},
    {"olympiad", Tier::kRequiresReasoning, 0, 0},
    {"competition", Tier::kRequiresReasoning, 0, 0},
    {"verify correctness", Tier::kRequiresReasoning, 0, 0},
    {"A formal proof", Tier::kRequiresReasoning, 0, 0},
    {"If x and y or z when given", Tier::kHard, 4, 0},
    {"If x and y", Tier::kEasy, 1, 0},  // "If" is not "if": the counts are case-sensitive
    {"and or", Tier::kMedium, 2, 0},
    {"And Or If When Given", Tier::kEasy, 0, 0},
    {"first then finally next", Tier::kHard, 0, 4},
    {"first then", Tier::kMedium, 0, 2},
    {"step by step", Tier::kMedium, 0, 2},
    {"stepwise and", Tier::kEasy, 1, 0},
    {"what is and or", Tier::kMedium, 2, 0},  // counts are checked before the trivial phrases
    {"Given a and b, first find c, then d, and next e, finally f.", Tier::kHard, 2, 4},
    {"a_and_b or c", Tier::kEasy, 1, 0},  // '_' is a word character
    {"\\frac{1}{2} and \\sqrt{2} or", Tier::kMedium, 2, 0},
    // Python's \b is Unicode-aware: letters and digits of any script join words...
    {"caf\u00e9 and tea or milk", Tier::kMedium, 2, 0},
    {"x\u00b2and y", Tier::kEasy, 0, 0},  // superscript two is a digit to Python
    {"\u03b8if \u03c9or", Tier::kEasy, 0, 0},
    {"\u03b1and \u03b2", Tier::kEasy, 0, 0},
    {"\u65e5\u672cand\u4e2d\u56fd", Tier::kEasy, 0, 0},
    {"and\u00e9 or", Tier::kEasy, 1, 0},
    // ...while punctuation, symbols, emoji and combining marks do not.
    {"\u2019and\u2019 or\u2014if", Tier::kMedium, 3, 0},
    {"\U0001F600 and \U0001F600 or", Tier::kMedium, 2, 0},
    {"x\u0301and or", Tier::kMedium, 2, 0},
    // Python lower-cases U+0130 to "i" + U+0307, which breaks "if and only if".
    {"\u0130f and only if", Tier::kMedium, 2, 0},
    {"\u212aaime", Tier::kRequiresReasoning, 0, 0},
};

TEST(Heuristic, MatchesTheSeedOnHandPickedCases) {
  for (const auto& c : kCases) {
    const auto s = AnalyzeHeuristic(c.text);
    EXPECT_EQ(s.tier, c.tier) << c.text;
    EXPECT_EQ(s.conditions, c.conditions) << c.text;
    EXPECT_EQ(s.steps, c.steps) << c.text;
    EXPECT_EQ(ClassifyHeuristic(c.text).tier, c.tier) << c.text;
  }
}

TEST(Heuristic, ReasonNamesTheRuleThatFired) {
  EXPECT_EQ(ClassifyHeuristic("Find all primes p").reasons,
            std::vector<std::string>{"competition:find all"});
  EXPECT_EQ(ClassifyHeuristic("We prove it").reasons, std::vector<std::string>{"formal:prove"});
  EXPECT_EQ(ClassifyHeuristic("What is love?").reasons,
            std::vector<std::string>{"question:what is"});
  EXPECT_EQ(ClassifyHeuristic("x and y or z").reasons,
            std::vector<std::string>{"conditions=2 steps=0"});
  // The first indicator in the seed's list order is reported, like Python's any().
  EXPECT_EQ(ClassifyHeuristic("sum of all, find all").reasons,
            std::vector<std::string>{"competition:find all"});
}

TEST(Heuristic, MatchesTheSeedOnTheHeldOutDataGolden) {
  const auto files = testing::ClassifierDataFiles();
  TRIAGE_REQUIRE_DATA(files);
  std::ifstream golden(testing::SourceDir() / "tests/unit/classify/testdata/heuristic_golden.tsv");
  ASSERT_TRUE(golden) << "missing tests/unit/classify/testdata/heuristic_golden.tsv";
  struct Expected {
    char tier;
    int conditions, steps;
  };
  std::map<std::string, Expected> expected;
  std::string line;
  while (std::getline(golden, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream row(line);
    std::string id;
    Expected e{};
    std::getline(row, id, '\t');
    row >> e.tier >> e.conditions >> e.steps;
    expected[id] = e;
  }
  ASSERT_GT(expected.size(), 3000u);
  const std::string letters = "TEMHR";
  size_t checked = 0;
  for (const auto& file : files) {
    std::ifstream in(file);
    while (std::getline(in, line)) {
      const auto fields = std::get<JsonFields>(ParseJsonObjectFields(line));
      const auto it = expected.find(fields.at("id"));
      if (it == expected.end()) continue;
      const auto s = AnalyzeHeuristic(fields.at("text"));
      ASSERT_EQ(letters[static_cast<int>(s.tier)], it->second.tier) << it->first;
      ASSERT_EQ(s.conditions, it->second.conditions) << it->first;
      ASSERT_EQ(s.steps, it->second.steps) << it->first;
      ++checked;
    }
  }
  EXPECT_EQ(checked, expected.size());
}

TEST(Heuristic, BadInputStillGetsATier) {
  const std::string huge(10 * 1024 * 1024, 'a');
  std::string invalid_utf8 = "and \xff\xfe or \xc3 if \xe2\x82 when";
  EXPECT_EQ(ClassifyHeuristic(huge).tier, Tier::kEasy);
  EXPECT_EQ(AnalyzeHeuristic(invalid_utf8).conditions, 4);  // invalid bytes separate words
  EXPECT_EQ(ClassifyHeuristic("\U0001F600\U0001F680\U0001F389").tier, Tier::kEasy);
  EXPECT_EQ(ClassifyHeuristic("$$\\int_0^1 \\frac{x^2}{\\sqrt{1-x}}\\,dx$$").tier, Tier::kEasy);
}

// How long a 10 MB task takes is bench/classify's business; what a test can pin down is the
// reason it is fast: nothing past the cap is read, however much follows.
TEST(Heuristic, ATenMegabyteTaskIsReadOnlyToTheCap) {
  std::string text;
  while (text.size() < kHeuristicInputCap) text += "and ";  // 4 bytes: exactly cap / 4 words
  ASSERT_EQ(text.size(), kHeuristicInputCap);
  while (text.size() < 10 * 1024 * 1024) text += "find all steps, then prove it; ";
  const auto s = AnalyzeHeuristic(text);
  EXPECT_EQ(s.conditions, static_cast<int>(kHeuristicInputCap / 4));
  EXPECT_EQ(s.steps, 0);
  EXPECT_EQ(s.competition_indicator, -1);  // "find all" is only past the cap
  EXPECT_EQ(s.formal_term, -1);            // so is "prove"
  EXPECT_EQ(s.tier, Tier::kHard);          // four or more condition words
  EXPECT_EQ(ClassifyHeuristic(text).tier, Tier::kHard);
}

TEST(Heuristic, ReadsOnlyUpToTheCap) {
  std::string text(kHeuristicInputCap, 'x');
  text += " find all";
  EXPECT_EQ(ClassifyHeuristic(text).tier, Tier::kEasy);
}

}  // namespace
}  // namespace triage::classify
