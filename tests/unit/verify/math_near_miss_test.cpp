// Near misses: hand-written answers that look like the gold but are wrong (tuples, intervals,
// complex numbers, other bases, polynomials, equations, ordered lists, mixed numbers, units),
// and right answers of the same shapes. Each must get its verdict both from the CLI logic and
// from the library entry point the router calls; a "verified" wrong answer would stop escalation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "verify/commands.hpp"
#include "verify/verifier.hpp"
#include "verify/vote.hpp"

namespace triage::verify {
namespace {

struct NearMiss {
  std::string kind, gold, answer, verdict, why;
  bool prose = false;  // the answer is already a sentence; otherwise it is bare
  MathOptions options;

  std::string Name() const { return kind + ": gold '" + gold + "' answer '" + answer + "'"; }
};

std::vector<NearMiss> LoadCorpus() {
  auto path = std::filesystem::path(TRIAGE_SOURCE_DIR) / "tests/unit/verify/testdata" /
              "math_near_misses.jsonl";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing " + path.string());
  std::vector<NearMiss> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    NearMiss c;
    c.kind = j.at("kind");
    c.gold = j.at("gold");
    c.answer = j.at("answer");
    c.verdict = j.at("verdict");
    c.why = j.at("why");
    c.prose = j.value("prose", false);
    if (j.contains("options")) c.options.ordered_lists = j["options"].value("ordered_lists", false);
    cases.push_back(std::move(c));
  }
  return cases;
}

Verdict ViaRouter(const NearMiss& c, const std::string& response) {
  VerifyRequest r;
  r.domain = "math";
  r.response = response;
  r.gold = c.gold;
  r.math = c.options;
  return Verify(r);
}

TEST(MathNearMisses, CorpusCoversEveryShapeBothWays) {
  auto cases = LoadCorpus();
  std::map<std::string, std::pair<int, int>> by_kind;  // failed, passed
  for (const auto& c : cases) {
    ASSERT_TRUE(c.verdict == "failed" || c.verdict == "passed") << c.Name();
    ASSERT_FALSE(c.why.empty()) << c.Name();
    (c.verdict == "failed" ? by_kind[c.kind].first : by_kind[c.kind].second)++;
  }
  for (const char* kind : {"tuple", "interval", "complex", "base", "polynomial", "equation", "list",
                           "ordered", "mixed", "units"}) {
    EXPECT_GE(by_kind[kind].first, 1) << kind << " has no near miss";
    EXPECT_GE(by_kind[kind].second, 1) << kind << " has no equivalent case";
  }
}

TEST(MathNearMisses, TheCliGivesEachCaseItsVerdict) {
  for (const auto& c : LoadCorpus()) {
    CommandOutput out = MathCommand(c.gold, c.answer, /*json=*/true, c.options);
    auto j = nlohmann::json::parse(out.text);
    EXPECT_EQ(j["outcome"], c.verdict) << c.Name() << " (" << c.why << "): " << j["reason"];
    EXPECT_EQ(out.exit_code, c.verdict == "passed" ? 0 : 1) << c.Name();
  }
}

TEST(MathNearMisses, TheRouterEntryPointGivesEachCaseItsVerdict) {
  for (const auto& c : LoadCorpus()) {
    Verdict v = ViaRouter(c, c.answer);
    EXPECT_EQ(ToString(v.outcome), c.verdict) << c.Name() << " (" << c.why << "): " << v.reason;
    EXPECT_EQ(v.ToStatus(), c.verdict == "passed" ? core::VerificationStatus::kVerified
                                                  : core::VerificationStatus::kFailed)
        << c.Name();
  }
}

// A bare answer stated inside a model's prose (boxed, or after "the answer is") is judged the
// same as the bare answer.
TEST(MathNearMisses, TheSameAnswerInsideProseGetsTheSameVerdict) {
  for (const auto& c : LoadCorpus()) {
    if (c.prose) continue;
    for (const std::string& response :
         {"Working through it, the final answer is $\\boxed{" + c.answer + "}$.",
          "Putting it together.\nThe answer is $" + c.answer + "$."}) {
      Verdict v = ViaRouter(c, response);
      EXPECT_EQ(ToString(v.outcome), c.verdict)
          << c.Name() << " in '" << response << "' (" << c.why << "): " << v.reason;
    }
  }
}

// Voting reads a response as the verifier does: lists that share a last element are not one vote.
TEST(MathNearMisses, VotingKeepsBareListsWhole) {
  VoteResult r = MajorityVote({"4, 12, 2", "4, 12, 2", "7, 3, 2", "(x-2)(x+2)"});
  ASSERT_TRUE(r.has_winner);
  EXPECT_EQ(r.winner, "4, 12, 2");
  EXPECT_EQ(r.classes.size(), 3u);
  EXPECT_DOUBLE_EQ(r.share, 2.0 / 4.0);
  EXPECT_EQ(r.unreadable, 0u);
}

}  // namespace
}  // namespace triage::verify
