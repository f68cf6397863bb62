#include "app/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <map>

namespace triage::app {
namespace {

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

std::string WriteFile(const std::string& name, const std::string& text) {
  const auto path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

void ExpectErrorNaming(const std::string& path, const std::string& key) {
  try {
    LoadConfig(path);
    FAIL() << "expected a ConfigError naming " << key;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST(Config, EmbeddedDefaultsFollowTheSeed) {
  const auto c = LoadConfig("");
  EXPECT_EQ(c.StandardModel().pricing.output, 3'000'000);
  EXPECT_EQ(c.ReasoningModel().pricing.output, 15'000'000);
  EXPECT_DOUBLE_EQ(c.ReasoningModel().profile.accuracy[2], 0.72);
  EXPECT_EQ(c.StandardModel().profile.tokens[1], 800);
  EXPECT_GE(c.ReasoningModel().timeout_seconds, 120);  // minutes, not seconds
  EXPECT_EQ(c.topics().jobs, "triage.jobs");
  EXPECT_EQ(c.topics().dlq, "triage.jobs.dlq");
}

TEST(Config, TheDefaultPlansFollowTheInlineAndVoteTiersOverTheTwoRungLadder) {
  const auto c = LoadConfig("");
  ASSERT_EQ(c.routing.ladder.rungs.size(), 2u);
  const auto* standard = c.routing.ladder.Find("standard");
  const auto* reasoning = c.routing.ladder.Find("reasoning");
  ASSERT_TRUE(standard && reasoning);
  EXPECT_EQ(standard->model, "sim-standard");
  EXPECT_FALSE(standard->queued);
  EXPECT_EQ(standard->expected_cost, 3'000);  // 1,000 output tokens at $3 / 1M
  EXPECT_EQ(standard->expected_latency, std::chrono::milliseconds(1250));  // (0.5 + 2) / 2 s
  EXPECT_EQ(reasoning->model, "sim-reasoning");
  EXPECT_TRUE(reasoning->queued);
  EXPECT_EQ(route::ToString(c.routing.PlanFor("math", core::Tier::kEasy)),
            "cascade(standard) -> escalate(reasoning)");
  EXPECT_EQ(route::ToString(c.routing.PlanFor("math", core::Tier::kMedium)),
            "self_consistency(standard, n=5) -> escalate(reasoning)");
  EXPECT_EQ(route::ToString(c.routing.PlanFor("math", core::Tier::kHard)), "escalate(reasoning)");
}

TEST(Config, ChangingTheSimTimeScaleScalesTheSimulatedRungsExpectedLatency) {
  auto c = LoadConfig("");
  c.SetSimTimeScale(0.1);
  EXPECT_EQ(c.sim_time_scale, 0.1);
  EXPECT_EQ(c.routing.ladder.Find("standard")->expected_latency, std::chrono::milliseconds(125));
  EXPECT_EQ(c.routing.ladder.Find("reasoning")->expected_latency,
            std::chrono::milliseconds(6750));  // (15 + 120) / 2 s at 0.1
}

TEST(Config, ALadderPlansAndThresholdsOfYourOwn) {
  const auto path = WriteFile("routing.toml", R"toml(
[policy.domain.writing]
inline_tiers = ["trivial", "easy", "medium", "hard"]
[ladder.small]
model = "sim-standard"
expected_cost_usd = 0.0001
expected_latency_seconds = 0.2
[ladder.standard]
model = "sim-standard"
[ladder.reasoning]
model = "sim-reasoning"
queued = true
[strategy]
trivial = "direct(small) -> escalate(reasoning)"
easy = "cascade(small, confidence=0.7) -> self_consistency(standard, n=5) -> escalate(reasoning)"
medium = "best_of_n(standard, n=3) -> escalate(reasoning)"
hard = "escalate(reasoning)"
requires_reasoning = "escalate(reasoning)"
[strategy.math]
easy = "direct(standard) -> escalate(reasoning)"
[thresholds.math]
min_confidence = 0.8
[thresholds.writing]
min_confidence = 0.4
min_share = 0.3
)toml");
  const auto c = LoadConfig(path);
  EXPECT_EQ(c.routing.ladder.rungs.size(), 3u);
  EXPECT_EQ(c.routing.ladder.Find("small")->expected_cost, 100);
  EXPECT_EQ(c.routing.ladder.Find("small")->expected_latency, std::chrono::milliseconds(200));
  EXPECT_FALSE(c.routing.ladder.Find("standard")->queued);
  EXPECT_EQ(route::ToString(c.routing.PlanFor("general", core::Tier::kEasy)),
            "cascade(small, confidence=0.7) -> self_consistency(standard, n=5) -> "
            "escalate(reasoning)");
  EXPECT_EQ(route::ToString(c.routing.PlanFor("math", core::Tier::kEasy)),
            "direct(standard) -> escalate(reasoning)");
  EXPECT_EQ(route::ToString(c.routing.PlanFor("math", core::Tier::kMedium)),
            "best_of_n(standard, n=3) -> escalate(reasoning)");
  // writing's inline_tiers make its hard tier start inline with the default cascade.
  EXPECT_EQ(route::ToString(c.routing.PlanFor("writing", core::Tier::kHard)),
            "cascade(standard) -> escalate(reasoning)");
  EXPECT_EQ(c.routing.ThresholdsFor("math").min_confidence, 0.8);
  EXPECT_EQ(c.routing.ThresholdsFor("math").min_share, 0.5);  // from the default
  EXPECT_EQ(c.routing.ThresholdsFor("writing").min_share, 0.3);
  EXPECT_EQ(c.routing.ThresholdsFor("code").min_confidence, 0.0);
}

TEST(Config, ABadPlanOrRungFailsNamingTheKey) {
  ExpectErrorNaming(
      WriteFile("plan1.toml", "[strategy]\neasy = \"cascade(standard) -> guess(x)\"\n"),
      "strategy.easy");
  ExpectErrorNaming(WriteFile("plan2.toml", "[strategy]\nhard = \"escalate(standard)\"\n"),
                    "escalate() needs a rung served by the reasoning queue");
  ExpectErrorNaming(WriteFile("plan3.toml", "[strategy.math]\neasy = \"direct(huge)\"\n"),
                    "strategy.math.easy");
  ExpectErrorNaming(WriteFile("plan4.toml", "[ladder.small]\nmodel = \"gpt-9\"\n"),
                    "ladder.small.model");
  // Rungs of other names leave the default plans without their rungs: say so.
  ExpectErrorNaming(WriteFile("plan5.toml", "[ladder.s]\nmodel = \"sim-standard\"\n"),
                    "give every tier a plan under [strategy]");
  ExpectErrorNaming(WriteFile("plan6.toml", "[thresholds.math]\nmin_share = 2\n"),
                    "thresholds.math");
  ExpectErrorNaming(WriteFile("log1.toml", "[log]\nformat = \"xml\"\n"), "log.format");
  ExpectErrorNaming(WriteFile("log2.toml", "[log]\nlevel = \"loud\"\n"), "log.level");
  ExpectErrorNaming(WriteFile("plan7.toml", "[strategy]\nsample_temperature = 5\n"),
                    "strategy.sample_temperature");
  ExpectErrorNaming(WriteFile("plan8.toml", "[thresholds.math]\nmin_confidense = 0.5\n"),
                    "thresholds.math.min_confidense");
}

// config/triage.toml itself, key by key: config_file_test.cpp.

TEST(Config, FileThenEnvironmentOverride) {
  const auto path =
      WriteFile("cfg1.toml", "[api]\nlisten = \"127.0.0.1:9001\"\n[sim]\ntime_scale = 0.5\n");
  {
    const auto c = LoadConfig(path);
    EXPECT_EQ(c.api.port, 9001);
    EXPECT_DOUBLE_EQ(c.sim_time_scale, 0.5);
  }
  ScopedEnv env("TRIAGE_SIM_TIME_SCALE", "0.25");
  ScopedEnv dsn("TRIAGE_PG_DSN", "host=db.example port=1");
  ScopedEnv tiers("TRIAGE_POLICY_INLINE_TIERS", "trivial, easy, medium");
  const auto c = LoadConfig(path);
  EXPECT_DOUBLE_EQ(c.sim_time_scale, 0.25);
  EXPECT_EQ(c.postgres.dsn, "host=db.example port=1");
  EXPECT_EQ(c.policy.inline_tiers.size(), 3u);
}

TEST(Config, InvalidValuesFailNamingTheKey) {
  ExpectErrorNaming(WriteFile("bad1.toml", "[api]\nlisten = \"nope\"\n"), "api.listen");
  ExpectErrorNaming(WriteFile("bad1a.toml", "[admin]\nlisten = \"127.0.0.1:99999\"\n"),
                    "admin.listen");
  ExpectErrorNaming(WriteFile("bad1b.toml", "[admin]\nlisten = \"127.0.0.1:8080\"\n"),
                    "admin.listen");  // the api's own address
  ExpectErrorNaming(WriteFile("bad1c.toml", "[shutdown]\ndrain_seconds = -1\n"),
                    "shutdown.drain_seconds");
  ExpectErrorNaming(WriteFile("bad2.toml", "[sim]\ntime_scale = -1\n"), "sim.time_scale");
  ExpectErrorNaming(WriteFile("bad2b.toml", "[policy]\nconfidence_cut = 1.5\n"),
                    "policy.confidence_cut");
  ExpectErrorNaming(WriteFile("bad3.toml", "[policy]\ninline_tiers = [\"simple\"]\n"),
                    "policy.inline_tiers");
  ExpectErrorNaming(WriteFile("bad4.toml", "[router]\nmodel = \"gpt-9\"\n"), "router.model");
  ExpectErrorNaming(WriteFile("bad5.toml", "[models.x]\nprovider = \"acme\"\n"),
                    "models.x.provider");
  ExpectErrorNaming(WriteFile("bad6.toml", "[postgres]\npool_size = \"eight\"\n"),
                    "postgres.pool_size");
  ExpectErrorNaming(WriteFile("bad7.toml", "[models.sim-standard.sim]\nhard_accuracy = 1.5\n"),
                    "models.sim-standard.sim.hard_accuracy");
  ExpectErrorNaming(WriteFile("bad8.toml", "[models.sim-standard.sim]\nerror_correlation = 2\n"),
                    "models.sim-standard.sim.error_correlation");
  ExpectErrorNaming(
      WriteFile(
          "bad9.toml",
          "[models.sim-standard.sim]\nsame_job_correlation = 0.2\ncross_model_correlation = 0.3\n"),
      "models.sim-standard.sim.cross_model_correlation");
  ScopedEnv env("TRIAGE_KAFKA_JOBS_PARTITIONS", "many");
  ExpectErrorNaming("", "kafka.jobs_partitions");
}

TEST(Config, SimBehaviourKeysReachTheProfile) {
  const auto path = WriteFile("sim-keys.toml",
                              "[models.sim-standard.sim]\nerror_correlation = 0.9\n"
                              "slip_share = 0.4\nconfidence_wrong = 0.6\n");
  const auto c = LoadConfig(path);
  EXPECT_DOUBLE_EQ(c.StandardModel().profile.error_correlation, 0.9);
  EXPECT_DOUBLE_EQ(c.StandardModel().profile.slip_share, 0.4);
  EXPECT_DOUBLE_EQ(c.StandardModel().profile.confidence_wrong, 0.6);
  EXPECT_DOUBLE_EQ(c.StandardModel().profile.same_job_correlation, 0.5);  // the default
}

TEST(Config, SyntaxErrorsNameTheFileAndLine) {
  const auto path = WriteFile("broken.toml", "[api]\nlisten = \n");
  try {
    LoadConfig(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(Config, WebhookSecretMustBeAStandardWebhooksSecret) {
  {
    ScopedEnv env("TRIAGE_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    EXPECT_TRUE(LoadConfig("").webhook_key.has_value());
  }
  ScopedEnv env("TRIAGE_WEBHOOK_SECRET", "plain-text");
  EXPECT_THROW(LoadConfig(""), ConfigError);
}

// A misspelt variable changes nothing, so it is reported (and warned of at start), with the
// variable it most likely meant; those a key, the secret, a model's key variable or the
// project's scripts read are not.
TEST(Config, TriageVariablesNothingReadsAreReportedWithTheKeyTheyLikelyMisspell) {
  const auto path = WriteFile("unread-env.toml",
                              "[models.hosted]\nprovider = \"openai\"\n"
                              "api_key_env = \"TRIAGE_HOSTED_KEY\"\n");
  ScopedEnv misspelt("TRIAGE_KAFKA_BROKER", "127.0.0.1:1");
  ScopedEnv stray("TRIAGE_NOTHING_OF_OURS_AT_ALL", "1");
  ScopedEnv key("TRIAGE_SIM_TIME_SCALE", "0.5");
  ScopedEnv alias("TRIAGE_PG_DSN", "host=127.0.0.1 port=1");
  ScopedEnv model_key("TRIAGE_HOSTED_KEY", "sk-test");
  ScopedEnv script("TRIAGE_LOCAL_PG_PORT", "1");
  const auto c = LoadConfig(path);
  std::map<std::string, std::string> unread;
  for (const auto& u : c.unread_env) unread[u.name] = u.nearest;
  ASSERT_TRUE(unread.contains("TRIAGE_KAFKA_BROKER"));
  EXPECT_EQ(unread["TRIAGE_KAFKA_BROKER"], "TRIAGE_KAFKA_BROKERS");
  ASSERT_TRUE(unread.contains("TRIAGE_NOTHING_OF_OURS_AT_ALL"));
  EXPECT_EQ(unread["TRIAGE_NOTHING_OF_OURS_AT_ALL"], "");
  for (const char* read : {"TRIAGE_SIM_TIME_SCALE", "TRIAGE_PG_DSN", "TRIAGE_HOSTED_KEY",
                           "TRIAGE_LOCAL_PG_PORT"})
    EXPECT_FALSE(unread.contains(read)) << read;
  EXPECT_NE(c.kafka.brokers, "127.0.0.1:1");  // nothing changed by it
}

}  // namespace
}  // namespace triage::app
