// What the roles record comes out in the Prometheus text format under the documented names,
// with bounded labels.
#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace triage::metrics {
namespace {

// The value of the sample line that starts with `series` ("name{labels}"), or -1.
double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

TEST(Metrics, JobsModelCallsAndWebhooksUnderTheirNames) {
  Metrics m;
  m.JobAccepted("math", "http");
  m.JobAccepted("math", "http");
  FinishedJob job{"math",
                  "easy",
                  "inline",
                  "completed",
                  "verified",
                  "acme",
                  std::chrono::duration<double>(1.5),
                  3000,
                  {"confidence", "verify failed"},
                  "reasoning"};
  m.JobFinished(job);
  job.escalations = {"confidence"};
  m.JobFinished(job);
  m.ModelCalled({"sim-standard", "ok", std::chrono::duration<double>(0.2), 1000, 0});
  m.ModelCalled({"sim-standard", "timeout", std::chrono::duration<double>(2), 0, 1});
  m.ModelCalled({"sim-standard", "cache_hit", {}, 0, 0});
  m.Webhook("delivered");
  m.ReasoningCallsInFlight(3);
  m.ReasoningCallsInFlight(-1);
  m.BreakerState("sim-reasoning", BreakerStateValue(Breaker::kOpen));
  const auto t = m.Text();
  EXPECT_EQ(Sample(t, R"(triage_jobs_accepted_total{domain="math",source="http"})"), 2);
  EXPECT_EQ(
      Sample(
          t,
          R"(triage_jobs_finished_total{domain="math",route="inline",state="completed",tier="easy"})"),
      2);
  EXPECT_EQ(Sample(t, R"(triage_escalations_total{reason="confidence"})"), 2);
  EXPECT_EQ(Sample(t, R"(triage_escalations_total{reason="verify failed"})"), 1);
  EXPECT_EQ(Sample(t, R"(triage_jobs_answered_total{rung="reasoning"})"), 2);
  EXPECT_EQ(Sample(t, R"(triage_job_duration_seconds_count{route="inline"})"), 2);
  EXPECT_EQ(Sample(t, R"(triage_job_duration_seconds_bucket{route="inline",le="2.5"})"), 2);
  EXPECT_EQ(Sample(t, R"(triage_job_duration_seconds_bucket{route="inline",le="1"})"), 0);
  EXPECT_EQ(Sample(t, R"(triage_job_cost_micro_dollars_total{tenant="acme",tier="easy"})"), 6000);
  EXPECT_EQ(Sample(t, R"(triage_model_calls_total{model="sim-standard",outcome="timeout"})"), 1);
  EXPECT_EQ(Sample(t, R"(triage_model_retries_total{model="sim-standard"})"), 1);
  EXPECT_EQ(Sample(t, R"(triage_model_call_duration_seconds_count{model="sim-standard"})"), 2);
  EXPECT_EQ(Sample(t, R"(triage_model_cost_micro_dollars_total{model="sim-standard"})"), 1000);
  EXPECT_EQ(Sample(t, R"(triage_webhook_deliveries_total{outcome="delivered"})"), 1);
  EXPECT_EQ(Sample(t, "triage_reasoning_calls_in_flight"), 2);
  EXPECT_EQ(Sample(t, R"(triage_model_breaker_state{model="sim-reasoning"})"), 2);
  EXPECT_NE(t.find("# TYPE triage_jobs_finished_total counter"), std::string::npos);
  EXPECT_NE(t.find("# TYPE triage_job_duration_seconds histogram"), std::string::npos);
}

TEST(Metrics, TenantsPastTheCapShareOneLabel) {
  Metrics m(2);
  for (const char* tenant : {"a", "b", "c", "d", "a"})
    m.JobFinished(
        {"math", "easy", "inline", "completed", "verified", tenant, std::nullopt, 10, {}, ""});
  const auto t = m.Text();
  EXPECT_EQ(Sample(t, R"(triage_job_cost_micro_dollars_total{tenant="a",tier="easy"})"), 20);
  EXPECT_EQ(Sample(t, R"(triage_job_cost_micro_dollars_total{tenant="b",tier="easy"})"), 10);
  EXPECT_EQ(Sample(t, R"(triage_job_cost_micro_dollars_total{tenant="other",tier="easy"})"), 20);
  EXPECT_EQ(Sample(t, R"(triage_job_cost_micro_dollars_total{tenant="c",tier="easy"})"), -1);
}

TEST(Metrics, BreakerStatesAreZeroClosedOneHalfOpenTwoOpen) {
  Metrics m;
  m.BreakerState("a", BreakerStateValue(Breaker::kClosed));
  m.BreakerState("b", BreakerStateValue(Breaker::kHalfOpen));
  m.BreakerState("c", BreakerStateValue(Breaker::kOpen));
  m.BreakerState("c", BreakerStateValue(Breaker::kClosed));
  const auto t = m.Text();
  EXPECT_EQ(Sample(t, R"(triage_model_breaker_state{model="a"})"), 0);
  EXPECT_EQ(Sample(t, R"(triage_model_breaker_state{model="b"})"), 1);
  EXPECT_EQ(Sample(t, R"(triage_model_breaker_state{model="c"})"), 0);
  EXPECT_NE(t.find("# TYPE triage_model_breaker_state gauge"), std::string::npos);
}

TEST(Metrics, CacheLookupsByDomainAndResult) {
  Metrics m;
  m.CacheLookup("math", true);
  m.CacheLookup("math", true);
  m.CacheLookup("math", false);
  m.CacheLookup("code", false);
  const auto t = m.Text();
  EXPECT_EQ(Sample(t, R"(triage_cache_lookups_total{domain="math",result="hit"})"), 2);
  EXPECT_EQ(Sample(t, R"(triage_cache_lookups_total{domain="math",result="miss"})"), 1);
  EXPECT_EQ(Sample(t, R"(triage_cache_lookups_total{domain="code",result="miss"})"), 1);
  EXPECT_EQ(Sample(t, R"(triage_cache_lookups_total{domain="code",result="hit"})"), -1);
}

TEST(Metrics, ConsumerLagIsTheLastSampleAndGoesAwayWhenTheConsumerStops) {
  Metrics m;
  m.ConsumerLag("routers", "t.jobs", 40, 3);
  m.ConsumerLag("routers", "t.jobs", 7, 0);
  m.ConsumerLag("workers", "t.reasoning", 2, 1);
  auto t = m.Text();
  EXPECT_EQ(Sample(t, R"(triage_kafka_consumer_lag_messages{group="routers",topic="t.jobs"})"), 7);
  EXPECT_EQ(Sample(t, R"(triage_kafka_paused_partitions{group="routers",topic="t.jobs"})"), 0);
  EXPECT_EQ(Sample(t, R"(triage_kafka_paused_partitions{group="workers",topic="t.reasoning"})"), 1);
  m.ConsumerStopped("routers");
  t = m.Text();
  // Not left at its last value: nobody measures it any more.
  EXPECT_EQ(Sample(t, R"(triage_kafka_consumer_lag_messages{group="routers",topic="t.jobs"})"), -1);
  EXPECT_EQ(Sample(t, R"(triage_kafka_paused_partitions{group="routers",topic="t.jobs"})"), -1);
  EXPECT_EQ(Sample(t, R"(triage_kafka_consumer_lag_messages{group="workers",topic="t.reasoning"})"),
            2);
}

TEST(Metrics, OutboxDepthByWhatTheRowsWaitFor) {
  Metrics m;
  m.OutboxDepth("kafka", 3);
  m.OutboxDepth("webhook", 5);
  m.OutboxDepth("kafka", 0);
  const auto t = m.Text();
  EXPECT_EQ(Sample(t, R"(triage_outbox_depth_rows{waiting_for="kafka"})"), 0);
  EXPECT_EQ(Sample(t, R"(triage_outbox_depth_rows{waiting_for="webhook"})"), 5);
}

}  // namespace
}  // namespace triage::metrics
