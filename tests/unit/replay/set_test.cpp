// ReadReplaySet on tiny sets written by the test: both outcome kinds, items with and without
// text, the optional fields, and every error naming its file, line and field.
#include "replay/set.hpp"

#include <gtest/gtest.h>

#include "fixture.hpp"

namespace triage::replay {
namespace {
using testing::TempSet;

const char* kItems =
    R"j({"id": "a/1", "source": "test", "domain": "math", "text": "What is 6 times 7?", "gold": "42"})j"
    "\n"
    R"j({"id": "a/2", "domain": "code", "text": null, "difficulty": "hard", "platform": "x", "date_ms": 17, "rated": true, "tags": ["dp"]})j"
    "\n\n"  // a blank line is skipped
    R"j({"id": "a/3", "gold": 18, "difficulty": 3})j"
    "\n";

const char* kOutcomes =
    R"j({"item": "a/1", "model": "m.1 (high)", "response": "#### 42", "upstream_label": true})j"
    "\n"
    R"j({"item": "a/2", "model": "m.1 (high)", "p_correct": 0.25, "runs": 4, "cost_usd": 0.5, "latency_s": 2.5, "input_tokens": 10, "output_tokens": 20})j"
    "\n"
    R"j({"item": "a/1", "model": "B", "response": "41", "p_correct": 0})j"
    "\n"
    R"j({"item": "a/3", "model": "m.1 (high)", "p_correct": 1})j"
    "\n";

std::string ErrorOf(const std::string& items, const std::string& outcomes) {
  TempSet set(items, outcomes);
  try {
    ReadReplaySet(set.Dir());
  } catch (const ReplayError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ReplaySet, ReadsItemsWithAndWithoutTextAndBothOutcomeKinds) {
  TempSet files(kItems, kOutcomes);
  const auto set = ReadReplaySet(files.Dir());
  ASSERT_EQ(set.items.size(), 3u);
  ASSERT_EQ(set.outcomes.size(), 4u);
  EXPECT_EQ(set.models, (std::vector<std::string>{"m.1 (high)", "B"}));  // first seen first

  const Item& a1 = set.items[0];
  EXPECT_EQ(a1.id, "a/1");
  EXPECT_EQ(a1.text, "What is 6 times 7?");
  EXPECT_EQ(a1.domain, "math");
  EXPECT_EQ(a1.gold, "42");
  EXPECT_EQ(a1.difficulty, std::nullopt);
  EXPECT_EQ(a1.labels, (std::map<std::string, std::string, std::less<>>{{"source", "test"}}));

  const Item& a2 = *set.FindItem("a/2");
  EXPECT_EQ(a2.text, std::nullopt);  // null text
  EXPECT_EQ(a2.gold, std::nullopt);
  EXPECT_EQ(a2.difficulty, "hard");
  EXPECT_EQ(a2.labels, (std::map<std::string, std::string, std::less<>>{
                           {"platform", "x"}, {"date_ms", "17"}, {"rated", "true"}}));

  const Item& a3 = *set.FindItem("a/3");
  EXPECT_EQ(a3.text, std::nullopt);  // no text field at all
  EXPECT_EQ(a3.domain, "");
  EXPECT_EQ(a3.gold, "18");  // a number kept as written
  EXPECT_EQ(a3.difficulty, "3");

  const Outcome& r = *set.Find("a/1", "m.1 (high)");
  EXPECT_EQ(r.response, "#### 42");
  EXPECT_EQ(r.p_correct, std::nullopt);
  EXPECT_EQ(r.cost_usd, std::nullopt);
  EXPECT_EQ(r.line, 1u);
  const Outcome& p = *set.Find("a/2", "m.1 (high)");
  EXPECT_EQ(p.response, std::nullopt);
  EXPECT_EQ(p.p_correct, 0.25);
  EXPECT_EQ(p.runs, 4);
  EXPECT_EQ(p.cost_usd, 0.5);
  EXPECT_EQ(p.latency_s, 2.5);
  EXPECT_EQ(p.input_tokens, 10);
  EXPECT_EQ(p.output_tokens, 20);
  const Outcome& both = *set.Find("a/1", "B");
  EXPECT_EQ(both.response, "41");
  EXPECT_EQ(both.p_correct, 0.0);
  EXPECT_EQ(set.Find("a/2", "B"), nullptr);  // not recorded
  EXPECT_EQ(set.FindItem("a/9"), nullptr);
}

TEST(ReplaySet, SelectItemsKeepsTheirOutcomesAndReindexes) {
  TempSet files(kItems, kOutcomes);
  const auto set = ReadReplaySet(files.Dir());
  const auto only = SelectItems(set, [](const Item& i) { return i.id != "a/1"; });
  EXPECT_EQ(only.items.size(), 2u);
  EXPECT_EQ(only.outcomes.size(), 2u);
  EXPECT_EQ(only.models, (std::vector<std::string>{"m.1 (high)"}));  // B answered only a/1
  EXPECT_EQ(only.FindItem("a/1"), nullptr);
  ASSERT_NE(only.Find("a/3", "m.1 (high)"), nullptr);
  EXPECT_EQ(only.Find("a/3", "m.1 (high)")->p_correct, 1.0);
}

TEST(ReplaySet, BadJsonNamesFileAndLine) {
  EXPECT_EQ(ErrorOf(std::string(kItems) + "{\"id\": \"a/4\",\n", kOutcomes)
                .rfind("replay: items.jsonl:5: bad JSON", 0),
            0u);
  EXPECT_EQ(ErrorOf(kItems, "[1, 2]\n"), "replay: outcomes.jsonl:1: not a JSON object");
}

TEST(ReplaySet, MissingOrMistypedFieldsAreNamed) {
  EXPECT_EQ(ErrorOf(R"j({"text": "no id"})j"
                    "\n",
                    kOutcomes),
            "replay: items.jsonl:1: missing field `id`");
  EXPECT_EQ(ErrorOf(R"j({"id": 7})j"
                    "\n",
                    kOutcomes),
            "replay: items.jsonl:1: field `id` must be a string");
  EXPECT_EQ(ErrorOf(kItems, R"j({"model": "m", "p_correct": 1})j"
                            "\n"),
            "replay: outcomes.jsonl:1: missing field `item`");
  EXPECT_EQ(ErrorOf(kItems, R"j({"item": "a/1", "p_correct": 1})j"
                            "\n"),
            "replay: outcomes.jsonl:1: missing field `model`");
  EXPECT_EQ(ErrorOf(kItems, R"j({"item": "a/1", "model": "m", "p_correct": "0.5"})j"
                            "\n"),
            "replay: outcomes.jsonl:1: field `p_correct` must be a number");
  EXPECT_EQ(
      ErrorOf(kItems, R"j({"item": "a/1", "model": "m", "response": "x", "input_tokens": 1.5})j"
                      "\n"),
      "replay: outcomes.jsonl:1: field `input_tokens` must be an integer");
  EXPECT_EQ(ErrorOf(kItems, R"j({"item": "a/1", "model": "m", "response": "x", "cost_usd": -1})j"
                            "\n"),
            "replay: outcomes.jsonl:1: field `cost_usd` is -1, outside [0.0, inf]");
}

TEST(ReplaySet, AnOutcomeNeedsAResponseOrPCorrectWithinZeroAndOne) {
  EXPECT_EQ(ErrorOf(kItems, std::string(kOutcomes) + R"j({"item": "a/3", "model": "B"})j"
                                                     "\n"),
            "replay: outcomes.jsonl:5: needs `response` or `p_correct` (neither is given)");
  EXPECT_EQ(ErrorOf(kItems, R"j({"item": "a/1", "model": "m", "p_correct": 1.5})j"
                            "\n"),
            "replay: outcomes.jsonl:1: field `p_correct` is 1.5, outside [0.0, 1.0]");
  EXPECT_EQ(ErrorOf(kItems, R"j({"item": "a/1", "model": "m", "p_correct": -0.1})j"
                            "\n"),
            "replay: outcomes.jsonl:1: field `p_correct` is -0.1, outside [0.0, 1.0]");
}

TEST(ReplaySet, UnknownItemsAndRepeatsAreErrors) {
  EXPECT_EQ(ErrorOf(kItems, R"j({"item": "a/9", "model": "m", "p_correct": 1})j"
                            "\n"),
            "replay: outcomes.jsonl:1: field `item`: `a/9` is not an id in items.jsonl");
  EXPECT_EQ(ErrorOf(std::string(kItems) + R"j({"id": "a/2"})j"
                                          "\n",
                    kOutcomes),
            "replay: items.jsonl:5: field `id`: `a/2` repeats the item at line 2");
  EXPECT_EQ(
      ErrorOf(kItems, std::string(kOutcomes) + R"j({"item": "a/1", "model": "B", "p_correct": 1})j"
                                               "\n"),
      "replay: outcomes.jsonl:5: a second outcome for item `a/1` and model `B` (the first "
      "is at line 3)");
}

TEST(ReplaySet, EmptyOrMissingFilesAreErrors) {
  EXPECT_NE(ErrorOf("\n", kOutcomes).find("holds no items"), std::string::npos);
  EXPECT_NE(ErrorOf(kItems, "").find("holds no outcomes"), std::string::npos);
  TempSet files(kItems, kOutcomes);
  EXPECT_THROW(ReadReplaySet(files.Dir() / "nowhere"), ReplayError);
}

}  // namespace
}  // namespace triage::replay
