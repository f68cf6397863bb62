// Readiness as the admin listener and the api judge it: pure, from what was gathered.
#include "app/admin.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace triage::app {
namespace {
using nlohmann::json;

queue::ConsumerStatus Joined(std::size_t partitions) { return {true, true, partitions, 0}; }

TEST(Readiness, ReadyWhenTheDatabaseAnswersAndEveryConsumerJoinedItsGroup) {
  const auto r =
      JudgeReadiness({false, std::nullopt, {{"router", Joined(4)}, {"worker", Joined(2)}}});
  EXPECT_TRUE(r.ready);
  const auto body = json::parse(r.json);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_EQ(body["checks"]["router"]["partitions"], 4);
  EXPECT_EQ(body["checks"]["database"], "ok");
}

TEST(Readiness, AConsumerWithoutPartitionsIsReady) {
  // More members than partitions: it takes some over when another member leaves.
  EXPECT_TRUE(JudgeReadiness({false, std::nullopt, {{"worker", Joined(0)}}}).ready);
}

TEST(Readiness, AConsumerStillJoiningItsGroupIsNotReady) {
  const auto r = JudgeReadiness({false, std::nullopt, {{"worker", {true, false, 0, 0}}}});
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(json::parse(r.json)["checks"]["worker"]["status"], "joining");
}

TEST(Readiness, NotReadyOnceShutdownBegins) {
  const auto r = JudgeReadiness({true, std::nullopt, {{"worker", {false, true, 2, 7}}}});
  EXPECT_FALSE(r.ready);
  const auto body = json::parse(r.json);
  EXPECT_EQ(body["status"], "not_ready");
  EXPECT_EQ(body["checks"]["shutdown"], "stopping");
  EXPECT_EQ(body["checks"]["worker"]["status"], "stopped");
  EXPECT_EQ(body["checks"]["worker"]["in_flight"], 7);
}

TEST(Readiness, NotReadyWhileTheDatabaseIsUnavailable) {
  const auto r = JudgeReadiness({false, "unavailable", {}});  // a notifier or api alone
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(json::parse(r.json)["checks"]["database"], "unavailable");
  EXPECT_TRUE(JudgeReadiness({false, std::nullopt, {}}).ready);
}

}  // namespace
}  // namespace triage::app
