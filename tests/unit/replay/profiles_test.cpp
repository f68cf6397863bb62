// Profiles: the TOML format (model names with dots, spaces and parentheses), its errors, and
// what a call costs and takes with and without recorded figures.
#include "replay/profiles.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "fixture.hpp"

namespace triage::replay {
namespace {

const char* kProfiles = R"j(
# a comment
[models."Claude-3.5-Sonnet"]
name = "Claude 3.5 Sonnet"
role = "standard"
source = "vendor price list"
input_usd_per_mtok = 3
output_usd_per_mtok = 15.0
input_tokens = 200.5
output_tokens = 500
latency_p50_s = 4

[models."o3-mini (high)"]
role = "reasoning"
input_usd_per_mtok = 1.1
output_usd_per_mtok = 4.4
input_tokens = 190
output_tokens = 12000
latency_p50_s = 60
latency_p95_s = 180
)j";

std::string ErrorOf(const std::string& text) {
  try {
    ParseProfiles(text, "p.toml");
  } catch (const ReplayError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ReplayProfiles, ReadsModelsWhoseNamesHoldDotsSpacesAndParentheses) {
  const auto profiles = ParseProfiles(kProfiles, "p.toml");
  ASSERT_EQ(profiles.models.size(), 2u);
  const auto* claude = profiles.Find("Claude-3.5-Sonnet");
  ASSERT_NE(claude, nullptr);
  EXPECT_EQ(claude->name, "Claude 3.5 Sonnet");
  EXPECT_EQ(claude->role, "standard");
  EXPECT_EQ(claude->source, "vendor price list");
  EXPECT_EQ(claude->input_usd_per_mtok, 3.0);  // an integer is a number too
  EXPECT_EQ(claude->output_usd_per_mtok, 15.0);
  EXPECT_EQ(claude->input_tokens, 200.5);
  EXPECT_EQ(claude->output_tokens, 500.0);
  EXPECT_EQ(claude->latency_p50_s, 4.0);
  EXPECT_EQ(claude->latency_p95_s, std::nullopt);
  const auto* o3 = profiles.Find("o3-mini (high)");
  ASSERT_NE(o3, nullptr);
  EXPECT_EQ(o3->name, "o3-mini (high)");  // the display name defaults to the key
  EXPECT_EQ(o3->latency_p95_s, 180.0);
  EXPECT_EQ(profiles.Find("Claude-3"), nullptr);
}

TEST(ReplayProfiles, BadFilesAreErrorsNamingModelKeyAndLine) {
  EXPECT_EQ(ErrorOf("[models.\"a.b\"]\ninput_usd_per_mtok = 1\nprice = 2\n"),
            "replay profiles: p.toml: [models.\"a.b\"] key `price` (line 3): unknown key (known: "
            "name, role, source, input_usd_per_mtok, output_usd_per_mtok, input_tokens, "
            "output_tokens, latency_p50_s, latency_p95_s)");
  EXPECT_EQ(ErrorOf("[models.\"a.b\"]\ninput_tokens = \"many\"\n"),
            "replay profiles: p.toml: [models.\"a.b\"] key `input_tokens` (line 2): must be a "
            "number");
  EXPECT_EQ(ErrorOf("[models.m]\nlatency_p50_s = -1\n"),
            "replay profiles: p.toml: [models.\"m\"] key `latency_p50_s` (line 2): must be a "
            "finite number >= 0");
  EXPECT_EQ(ErrorOf("[models.m]\nlatency_p50_s = 5\nlatency_p95_s = 2\n"),
            "replay profiles: p.toml: [models.\"m\"]: latency_p95_s needs latency_p50_s, and must "
            "not be below it");
  EXPECT_EQ(ErrorOf("seed = 3\n"),
            "replay profiles: p.toml: unknown top-level key `seed` (line 1) (a profile is a table "
            "[models.\"<model name>\"])");
  EXPECT_EQ(ErrorOf("[models]\nm = 3\n"),
            "replay profiles: p.toml: models.\"m\" (line 2) must be a table of the model's "
            "figures");
  EXPECT_EQ(ErrorOf("[models.m\n").rfind("replay profiles: p.toml (line 1): ", 0), 0u);
}

const char* kItems = R"j({"id": "i/1", "gold": "1"})j"
                     "\n"
                     R"j({"id": "i/2", "gold": "2"})j"
                     "\n";

TEST(ReplayProfiles, EveryModelOfTheSetNeedsAProfile) {
  testing::TempSet files(kItems,
                         R"j({"item": "i/1", "model": "Claude-3.5-Sonnet", "p_correct": 1})j"
                         "\n"
                         R"j({"item": "i/1", "model": "GPT-4o", "p_correct": 1})j"
                         "\n");
  const auto set = ReadReplaySet(files.Dir());
  try {
    ProfilesFor(ParseProfiles(kProfiles, "p.toml"), set);
    FAIL() << "a model without a profile was accepted";
  } catch (const ReplayError& e) {
    EXPECT_NE(std::string(e.what()).find("p.toml has no profile for model `GPT-4o`"),
              std::string::npos)
        << e.what();
  }
}

TEST(ReplayProfiles, AMissingFigureIsAnErrorUnlessTheOutcomeRecordsIt) {
  const char* partial =
      "[models.m]\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 2\n"
      "input_tokens = 10\n";  // no output_tokens, no latency
  testing::TempSet recorded(
      kItems,
      R"j({"item": "i/1", "model": "m", "p_correct": 1, "cost_usd": 0.1, "latency_s": 1})j"
      "\n"
      R"j({"item": "i/2", "model": "m", "p_correct": 1, "output_tokens": 3, "latency_s": 2})j"
      "\n");
  EXPECT_NO_THROW(ProfilesFor(ParseProfiles(partial), ReadReplaySet(recorded.Dir())));
  testing::TempSet unrecorded(kItems,
                              R"j({"item": "i/1", "model": "m", "p_correct": 1, "latency_s": 1})j"
                              "\n");
  try {
    ProfilesFor(ParseProfiles(partial, "p.toml"), ReadReplaySet(unrecorded.Dir()));
    FAIL() << "a cost nothing could give was accepted";
  } catch (const ReplayError& e) {
    EXPECT_EQ(std::string(e.what()),
              "replay profiles: outcomes.jsonl:1 (model `m`) records no cost_usd or "
              "output_tokens, and p.toml gives no `output_tokens` for that model");
  }
}

TEST(ReplayProfiles, CostIsTheRecordedCostElsePriceTimesTokens) {
  const auto profiles = ParseProfiles(kProfiles);
  const auto& claude = *profiles.Find("Claude-3.5-Sonnet");
  Outcome o;
  o.item = "i/1";
  o.model = "Claude-3.5-Sonnet";
  o.p_correct = 1;
  // The profile's means: 200.5 x $3 + 500 x $15 per million.
  EXPECT_DOUBLE_EQ(CallCost(claude, o), (200.5 * 3 + 500 * 15) / 1e6);
  o.input_tokens = 1000;  // the outcome's own counts, each where recorded
  EXPECT_DOUBLE_EQ(CallCost(claude, o), (1000 * 3 + 500 * 15) / 1e6);
  o.output_tokens = 0;
  EXPECT_DOUBLE_EQ(CallCost(claude, o), 1000 * 3 / 1e6);
  o.cost_usd = 0.25;  // the real cost replaces the priced profile
  EXPECT_DOUBLE_EQ(CallCost(claude, o), 0.25);
  EXPECT_EQ(TokensOf(claude, o).input, 1000);
  EXPECT_EQ(TokensOf(claude, o).output, 0);
}

TEST(ReplayProfiles, LatencyIsTheRecordedOneElseTheProfilesSpread) {
  const auto profiles = ParseProfiles(kProfiles);
  Outcome o;
  o.item = "i/1";
  o.model = "o3-mini (high)";
  const auto& claude = *profiles.Find("Claude-3.5-Sonnet");
  EXPECT_EQ(CallLatency(claude, o, 1, 0), 4.0);  // p50 alone: every call takes it
  o.latency_s = 0.5;
  EXPECT_EQ(CallLatency(claude, o, 1, 0), 0.5);
  o.latency_s.reset();
  const auto& o3 = *profiles.Find("o3-mini (high)");
  std::vector<double> latencies;
  for (int k = 0; k < 10'000; ++k) {
    latencies.push_back(CallLatency(o3, o, 1, k));
    EXPECT_EQ(latencies.back(), CallLatency(o3, o, 1, k));  // fixed by the key
  }
  EXPECT_NE(CallLatency(o3, o, 1, 0), CallLatency(o3, o, 2, 0));
  std::sort(latencies.begin(), latencies.end());
  EXPECT_NEAR(latencies[5'000], 60, 3);    // the median
  EXPECT_NEAR(latencies[9'500], 180, 12);  // the 95th percentile
}

TEST(ReplayProfiles, LoadsAFileAndNamesAMissingOne) {
  testing::TempSet files(kItems, "");
  std::ofstream(files.Dir() / "p.toml") << kProfiles;
  EXPECT_EQ(LoadProfiles(files.Dir() / "p.toml").models.size(), 2u);
  EXPECT_THROW(LoadProfiles(files.Dir() / "none.toml"), ReplayError);
}

}  // namespace
}  // namespace triage::replay
