// The service's metrics, exposed in the Prometheus text format (GET /metrics; docs/metrics.md).
// prometheus-cpp holds the metric model and writes the exposition; our HTTP server serves it.
// What is recorded is value in: the roles hand over what happened (a job's end, a model
// attempt, a webhook delivery) and this decides the names and labels. Label sets stay bounded:
// domains, tiers, routes, states, verdicts, models and reasons come from config or code, and
// tenants past the first `max_tenants` seen share the label "other". Thread-safe.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/money.hpp"

namespace triage::metrics {

struct FinishedJob {
  std::string domain, tier, route, state, verification, tenant;
  std::optional<std::chrono::duration<double>> took;  // acknowledgement to final state
  core::Micros cost = 0;
  std::vector<std::string> escalations;  // the kinds of reason a stage passed the job on for
  std::string answered_by;               // the rung that answered ("" when none)
};

struct ModelAttempt {
  std::string model;
  std::string outcome;  // ok | cache_hit | timeout | rate_limited | ... | cancelled
  std::chrono::duration<double> took{0};
  core::Micros cost = 0;
  int retry = 0;  // 0 for the first call to this model
};

// A user's judgement of a finished job (POST /v1/jobs/{id}/feedback): accuracy by tier, route
// and rung, and cost per correct answer, where the truth arrives later.
struct Judged {
  std::string domain, tier, route, rung;
  bool correct = false;
  core::Micros cost = 0;
};

// What a breaker state is as a gauge value: 0 closed, 1 half-open, 2 open.
enum class Breaker { kClosed = 0, kHalfOpen = 1, kOpen = 2 };
inline int BreakerStateValue(Breaker b) { return static_cast<int>(b); }

class Metrics {
 public:
  explicit Metrics(std::size_t max_tenants = 100);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void JobAccepted(const std::string& domain, const std::string& source);
  void JobFinished(const FinishedJob& job);
  void ModelCalled(const ModelAttempt& attempt);
  // The model's circuit breaker: 0 closed, 1 half-open, 2 open (BreakerStateValue).
  void BreakerState(const std::string& model, int state);
  // One completion-cache lookup (a coalesced wait that got the leader's answer is a hit).
  void CacheLookup(const std::string& domain, bool hit);
  // A consumer's sample of its group's backlog on `topic` (ConsumerSample) and how many of
  // its assigned partitions are paused. A stopped consumer's series are removed
  // (ConsumerStopped), not left at their last value.
  void ConsumerLag(const std::string& group, const std::string& topic, std::int64_t messages,
                   int paused_partitions);
  void ConsumerStopped(const std::string& group);
  // Outbox rows still waiting, by what they wait for ("kafka": the completion event is not
  // published yet; "webhook": not delivered nor given up yet). A row may wait for both.
  void OutboxDepth(const std::string& waiting_for, std::int64_t rows);
  void Webhook(const std::string& outcome);  // delivered | failed | gave_up
  void FeedbackReceived(const Judged& judged);
  void ReasoningCallsInFlight(int delta);

  // The exposition: every family, in the text format (version 0.0.4).
  std::string Text() const;

 private:
  struct Families;
  std::unique_ptr<Families> f_;
};

}  // namespace triage::metrics
