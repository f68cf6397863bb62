#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>
#include <set>

namespace triage::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Seconds from 50 ms (an inline answer) to 30 min (a long reasoning call).
Histogram::BucketBoundaries LatencyBuckets() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};
}

}  // namespace

struct Metrics::Families {
  explicit Families(std::size_t max_tenants)
      : registry(std::make_shared<prometheus::Registry>()),
        accepted(BuildCounter()
                     .Name("triage_jobs_accepted_total")
                     .Help("Jobs taken in, by domain and source (http, kafka)")
                     .Register(*registry)),
        finished(BuildCounter()
                     .Name("triage_jobs_finished_total")
                     .Help("Jobs that reached a final state, by domain, tier, route and state")
                     .Register(*registry)),
        verification(BuildCounter()
                         .Name("triage_job_verifications_total")
                         .Help("Final answers by domain and verification status")
                         .Register(*registry)),
        escalations(BuildCounter()
                        .Name("triage_escalations_total")
                        .Help("Stages that passed a job on to the next, by kind of reason")
                        .Register(*registry)),
        answered(BuildCounter()
                     .Name("triage_jobs_answered_total")
                     .Help("Final answers by the ladder rung that gave them")
                     .Register(*registry)),
        job_seconds(BuildHistogram()
                        .Name("triage_job_duration_seconds")
                        .Help("Acknowledgement to final state, by route")
                        .Register(*registry)),
        job_cost(BuildCounter()
                     .Name("triage_job_cost_micro_dollars_total")
                     .Help("What finished jobs cost, by tier and tenant (micro-dollars)")
                     .Register(*registry)),
        calls(BuildCounter()
                  .Name("triage_model_calls_total")
                  .Help("Model calls by model and outcome (ok, cache_hit, or the error kind)")
                  .Register(*registry)),
        retries(BuildCounter()
                    .Name("triage_model_retries_total")
                    .Help("Model calls that were retries of an earlier one, by model")
                    .Register(*registry)),
        call_seconds(BuildHistogram()
                         .Name("triage_model_call_duration_seconds")
                         .Help("One model call, by model (cache hits excluded)")
                         .Register(*registry)),
        call_cost(BuildCounter()
                      .Name("triage_model_cost_micro_dollars_total")
                      .Help("What model calls cost, by model (micro-dollars)")
                      .Register(*registry)),
        breaker(BuildGauge()
                    .Name("triage_model_breaker_state")
                    .Help("The model's circuit breaker: 0 closed, 1 half-open, 2 open")
                    .Register(*registry)),
        cache(BuildCounter()
                  .Name("triage_cache_lookups_total")
                  .Help("Completion-cache lookups by domain and result (hit, miss)")
                  .Register(*registry)),
        lag(BuildGauge()
                .Name("triage_kafka_consumer_lag_messages")
                .Help("Messages of the topic the consumer group has not committed yet (high "
                      "watermark minus committed offset, summed over the assigned partitions)")
                .Register(*registry)),
        paused(BuildGauge()
                   .Name("triage_kafka_paused_partitions")
                   .Help("Assigned partitions the consumer has paused (at max_in_flight)")
                   .Register(*registry)),
        outbox(BuildGauge()
                   .Name("triage_outbox_depth_rows")
                   .Help("Outbox rows still waiting, by what they wait for (kafka, webhook)")
                   .Register(*registry)),
        webhooks(BuildCounter()
                     .Name("triage_webhook_deliveries_total")
                     .Help("Webhook delivery attempts by outcome")
                     .Register(*registry)),
        judged(BuildCounter()
                   .Name("triage_feedback_total")
                   .Help("Finished jobs users judged, by domain, tier, route, answering rung and "
                         "whether the answer was right")
                   .Register(*registry)),
        judged_cost(BuildCounter()
                        .Name("triage_feedback_cost_micro_dollars_total")
                        .Help("What the judged jobs cost, by domain, tier and correctness")
                        .Register(*registry)),
        reasoning(BuildGauge()
                      .Name("triage_reasoning_calls_in_flight")
                      .Help("Jobs a worker is running a reasoning plan for")
                      .Register(*registry)
                      .Add({})),
        max_tenants(max_tenants) {}

  // A tenant's label: itself while few are seen, then "other" for new ones.
  std::string Tenant(const std::string& tenant) {
    std::lock_guard lock(mutex);
    if (tenants.contains(tenant)) return tenant;
    if (tenants.size() >= max_tenants) return "other";
    tenants.insert(tenant);
    return tenant;
  }

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Counter>& accepted;
  prometheus::Family<prometheus::Counter>& finished;
  prometheus::Family<prometheus::Counter>& verification;
  prometheus::Family<prometheus::Counter>& escalations;
  prometheus::Family<prometheus::Counter>& answered;
  prometheus::Family<prometheus::Histogram>& job_seconds;
  prometheus::Family<prometheus::Counter>& job_cost;
  prometheus::Family<prometheus::Counter>& calls;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Histogram>& call_seconds;
  prometheus::Family<prometheus::Counter>& call_cost;
  prometheus::Family<prometheus::Gauge>& breaker;
  prometheus::Family<prometheus::Counter>& cache;
  prometheus::Family<prometheus::Gauge>& lag;
  prometheus::Family<prometheus::Gauge>& paused;
  prometheus::Family<prometheus::Gauge>& outbox;
  prometheus::Family<prometheus::Counter>& webhooks;
  prometheus::Family<prometheus::Counter>& judged;
  prometheus::Family<prometheus::Counter>& judged_cost;
  prometheus::Gauge& reasoning;
  std::size_t max_tenants;
  std::mutex mutex;
  std::set<std::string> tenants;
  // The (group, topic) series each consumer group has set, removed when it stops.
  std::map<std::string, std::set<std::string>> consumer_topics;
};

Metrics::Metrics(std::size_t max_tenants) : f_(std::make_unique<Families>(max_tenants)) {}
Metrics::~Metrics() = default;

void Metrics::JobAccepted(const std::string& domain, const std::string& source) {
  f_->accepted.Add({{"domain", domain}, {"source", source}}).Increment();
}

void Metrics::JobFinished(const FinishedJob& j) {
  const std::string tier = j.tier.empty() ? "none" : j.tier;
  const std::string route = j.route.empty() ? "none" : j.route;
  f_->finished.Add({{"domain", j.domain}, {"tier", tier}, {"route", route}, {"state", j.state}})
      .Increment();
  f_->verification.Add({{"domain", j.domain}, {"status", j.verification}}).Increment();
  for (const auto& reason : j.escalations) f_->escalations.Add({{"reason", reason}}).Increment();
  if (!j.answered_by.empty()) f_->answered.Add({{"rung", j.answered_by}}).Increment();
  if (j.took) f_->job_seconds.Add({{"route", route}}, LatencyBuckets()).Observe(j.took->count());
  f_->job_cost.Add({{"tier", tier}, {"tenant", f_->Tenant(j.tenant)}})
      .Increment(static_cast<double>(j.cost));
}

void Metrics::ModelCalled(const ModelAttempt& a) {
  f_->calls.Add({{"model", a.model}, {"outcome", a.outcome}}).Increment();
  if (a.retry > 0) f_->retries.Add({{"model", a.model}}).Increment();
  if (a.outcome != "cache_hit")
    f_->call_seconds.Add({{"model", a.model}}, LatencyBuckets()).Observe(a.took.count());
  f_->call_cost.Add({{"model", a.model}}).Increment(static_cast<double>(a.cost));
}

void Metrics::BreakerState(const std::string& model, int state) {
  f_->breaker.Add({{"model", model}}).Set(state);
}

void Metrics::CacheLookup(const std::string& domain, bool hit) {
  f_->cache.Add({{"domain", domain}, {"result", hit ? "hit" : "miss"}}).Increment();
}

void Metrics::ConsumerLag(const std::string& group, const std::string& topic, std::int64_t messages,
                          int paused_partitions) {
  {
    std::lock_guard lock(f_->mutex);
    f_->consumer_topics[group].insert(topic);
  }
  const prometheus::Labels labels{{"group", group}, {"topic", topic}};
  f_->lag.Add(labels).Set(static_cast<double>(messages));
  f_->paused.Add(labels).Set(paused_partitions);
}

void Metrics::ConsumerStopped(const std::string& group) {
  std::set<std::string> topics;
  {
    std::lock_guard lock(f_->mutex);
    topics = std::move(f_->consumer_topics[group]);
    f_->consumer_topics.erase(group);
  }
  for (const auto& topic : topics) {
    const prometheus::Labels labels{{"group", group}, {"topic", topic}};
    f_->lag.Remove(&f_->lag.Add(labels));
    f_->paused.Remove(&f_->paused.Add(labels));
  }
}

void Metrics::OutboxDepth(const std::string& waiting_for, std::int64_t rows) {
  f_->outbox.Add({{"waiting_for", waiting_for}}).Set(static_cast<double>(rows));
}

void Metrics::Webhook(const std::string& outcome) {
  f_->webhooks.Add({{"outcome", outcome}}).Increment();
}

void Metrics::FeedbackReceived(const Judged& j) {
  const std::string correct = j.correct ? "true" : "false";
  const std::string tier = j.tier.empty() ? "none" : j.tier;
  f_->judged
      .Add({{"domain", j.domain},
            {"tier", tier},
            {"route", j.route.empty() ? "none" : j.route},
            {"rung", j.rung.empty() ? "none" : j.rung},
            {"correct", correct}})
      .Increment();
  f_->judged_cost.Add({{"domain", j.domain}, {"tier", tier}, {"correct", correct}})
      .Increment(static_cast<double>(j.cost));
}

void Metrics::ReasoningCallsInFlight(int delta) {
  if (delta >= 0)
    f_->reasoning.Increment(delta);
  else
    f_->reasoning.Decrement(-delta);
}

std::string Metrics::Text() const {
  return prometheus::TextSerializer().Serialize(f_->registry->Collect());
}

}  // namespace triage::metrics
