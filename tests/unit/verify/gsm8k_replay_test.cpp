// Replay: the recorded Mixtral and GPT-4 GSM8K responses, extracted and checked against the
// gold answers with the project's verifier, against the source's own labels (a last-number
// heuristic, known to be wrong on some rows). Every row where we differ is listed below with its
// cause, as in docs/verify.md: a new difference fails the test, and so does a listed one that
// no longer differs.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_data.hpp"
#include "verify/math_equivalence.hpp"
#include "verify/steps.hpp"

namespace triage::verify {
namespace {

constexpr const char* kGpt4 = "gpt-4-1106-preview";
constexpr const char* kMixtral = "mistralai/Mixtral-8x7B-Instruct-v0.1";

struct KnownDifference {
  const char* why;
  bool ours;  // our verdict on these rows (upstream's is the opposite)
  std::vector<int> gpt4, mixtral;
};

const KnownDifference kKnownDifferences[] = {
    {"upstream calls '$20.00' wrong for gold 20 (a string comparison); the answer is right",
     true,
     {44,  58,  137, 151, 152, 195, 227,  256,  258,  261,  272,  358,  405,  430,
      438, 466, 506, 507, 542, 567, 574,  584,  615,  689,  698,  710,  717,  792,
      827, 831, 832, 872, 873, 948, 1083, 1102, 1139, 1193, 1223, 1238, 1241, 1298},
     {542, 615}},
    {"words after the marker ('#### 7 packs and 2 extra glue sticks'): upstream takes the "
     "trailing number, we take the first after '####'; the answer is right",
     true,
     {},
     {856, 1001, 1159, 1218}},
    {"upstream's last number is part of a compound ('3-mile', '32-page', '4-foot', '4-week'); "
     "we skip it and read the answer, which is right",
     true,
     {48, 301, 750, 1133},
     {48}},
    {"upstream ignores sign and decimal point (-15 vs 15, 0.5 vs 5, 0.84 vs 84, 7.8 vs 8); the "
     "answer is wrong",
     false,
     {},
     {164, 191, 460, 1241}},
    {"debatable: '-54' (54 miles west) for a distance of 54; a strict verifier says wrong",
     false,
     {},
     {1269}},
    {"we are wrong: no anchor, and the last number is the 1/3 of '1/3 pound walnuts' where the "
     "answer, $3, came earlier",
     false,
     {659},
     {}},
};

TEST(Gsm8kReplay, AgreesWithUpstreamLabelsExceptOnTheKnownRows) {
  auto items = testing::ReadJsonl("replay/gsm8k/items.jsonl");
  auto outcomes = testing::ReadJsonl("replay/gsm8k/outcomes.jsonl");
  std::map<std::string, std::string> gold;
  for (const auto& it : items) gold[it["id"].get<std::string>()] = it["gold"].get<std::string>();
  MathOptions o;
  struct Tally {
    int rows = 0, agree = 0, ours = 0, theirs = 0, steps_failed_when_correct = 0,
        steps_failed_when_wrong = 0;
  };
  std::map<std::string, Tally> by_model;
  std::set<std::string> differ;
  bool verbose = std::getenv("TRIAGE_VERIFY_VERBOSE") != nullptr;
  for (const auto& row : outcomes) {
    if (!row.contains("response")) continue;
    const std::string model = row["model"].get<std::string>();
    const std::string item = row["item"].get<std::string>();
    const std::string response = row["response"].get<std::string>();
    bool upstream = row["upstream_label"].get<bool>();
    Verdict v = VerifyMath(gold.at(item), response, o);
    Tally& t = by_model[model];
    ++t.rows;
    t.ours += v.Passed();
    t.theirs += upstream;
    if (v.Passed() == upstream) {
      ++t.agree;
    } else {
      differ.insert(model + " " + item + (v.Passed() ? " ours=passed" : " ours=failed"));
      if (verbose)
        std::cout << "DIFFER " << item << " " << model << " ours=" << v.Passed()
                  << " upstream=" << upstream << ": " << v.reason << "\n";
    }
    bool steps_failed = CheckSteps(response).verdict.outcome == Outcome::kFailed;
    if (steps_failed) ++(v.Passed() ? t.steps_failed_when_correct : t.steps_failed_when_wrong);
  }
  for (const auto& [model, t] : by_model) {
    double agreement = 100.0 * t.agree / t.rows;
    std::cout << model << ": rows " << t.rows << ", correct by us " << t.ours << ", by upstream "
              << t.theirs << ", agreement " << t.agree << "/" << t.rows << " = " << agreement
              << "%; step checks flag " << t.steps_failed_when_correct << " of " << t.ours
              << " correct and " << t.steps_failed_when_wrong << " of " << (t.rows - t.ours)
              << " wrong answers\n";
  }
  std::set<std::string> known;
  for (const auto& k : kKnownDifferences) {
    for (const auto& [model, items] : {std::pair{kGpt4, &k.gpt4}, std::pair{kMixtral, &k.mixtral}})
      for (int item : *items)
        known.insert(std::string(model) + " gsm8k/test/" + std::to_string(item) +
                     (k.ours ? " ours=passed" : " ours=failed"));
  }
  for (const auto& d : differ) EXPECT_TRUE(known.count(d)) << "new difference: " << d;
  for (const auto& k : known)
    EXPECT_TRUE(differ.count(k)) << "no longer differs (remove it from the list): " << k;
}

// The reference solutions' own arithmetic (with <<a*b=c>> annotations) checks out except on two
// real slips in the reference: 501 writes "364 / 4 = 273" for 3/4 of 364, 1024 "$32 - $20 = $300".
TEST(Gsm8kReplay, ReferenceSolutionsFailStepChecksOnlyWhereTheyHaveSlips) {
  auto items = testing::ReadJsonl("replay/gsm8k/items.jsonl");
  int rows = 0, failed = 0, passed = 0;
  std::set<std::string> flagged;
  for (const auto& it : items) {
    if (!it.contains("solution")) continue;
    ++rows;
    StepReport r = CheckSteps(it["solution"].get<std::string>());
    if (r.verdict.outcome == Outcome::kFailed) {
      ++failed;
      flagged.insert(it["id"].get<std::string>());
      if (std::getenv("TRIAGE_VERIFY_VERBOSE"))
        std::cout << "STEP " << it["id"].get<std::string>() << ": " << r.verdict.reason << "\n";
    }
    passed += r.verdict.outcome == Outcome::kPassed;
  }
  std::cout << "gsm8k test reference solutions: " << rows << " rows, steps pass " << passed
            << ", flagged " << failed << "\n";
  EXPECT_EQ(flagged, (std::set<std::string>{"gsm8k/test/501", "gsm8k/test/1024"}));
}

}  // namespace
}  // namespace triage::verify
