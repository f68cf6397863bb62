// Job, attempt and outbox repositories: one function per statement or transaction, taking a
// connection (run them through Db). Every state change is conditional on the current state
// (and lease token), so redelivered messages and restarted roles never move a job twice.
// JSON columns travel as JSON text; the store does not interpret them.
#pragma once
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "core/job.hpp"
#include "core/money.hpp"
#include "core/usage.hpp"

namespace triage::store {

struct NewJob {
  std::string id;
  std::string tenant;
  core::Task task;
  std::string source;  // "http" | "kafka"
  std::optional<std::string> callback_url;
  std::optional<std::string> idempotency_key;
  std::optional<std::int64_t> deadline_unix_ms;
  std::string metadata_json = "{}";
  std::optional<std::string> verify_json;  // how the answer is checked (verify/spec.hpp)
  std::optional<core::Micros> max_cost_micros;
};

struct InsertResult {
  std::string id;  // the existing job's id when the idempotency key was seen before
  bool inserted = false;
};

struct AttemptRecord {
  std::string role;  // "inline" | "reasoning"
  std::string model;
  std::string provider;
  std::string provider_id;
  core::Usage usage;
  core::Micros cost_micros = 0;
  std::int64_t latency_ms = 0;
  std::optional<double> confidence;
  std::string verdict = "unverified";
  bool cache_hit = false;
  bool simulated = false;
  std::optional<std::string> error;
  std::optional<int> stage;   // the plan stage the call served
  std::optional<int> sample;  // the job's n-th sample
  // The call's checked answer (what the verifier read), for feedback to grade at tune time.
  // Stored only up to kMaxStoredAnswerBytes: a longer one is dropped and answer_too_long set.
  std::optional<std::string> answer;
  bool answer_too_long = false;
  // The call's full text, for `triage tune` to retrain the answer estimator on; kept only up
  // to kMaxStoredResponseBytes and without U+0000 (migrations/0007_attempt_response.sql).
  std::optional<std::string> response;
};

// The longest attempt answer kept (migrations/0005_feedback.sql).
constexpr std::size_t kMaxStoredAnswerBytes = 8192;
// The longest attempt response kept (migrations/0007_attempt_response.sql).
constexpr std::size_t kMaxStoredResponseBytes = 65536;

struct JobRecord {
  std::string id;
  std::string tenant;
  core::Task task;
  std::string source;
  core::JobState state = core::JobState::kQueued;
  std::optional<std::string> tier;
  std::vector<std::string> tier_reasons;
  std::optional<std::string> route;
  std::optional<std::string> answer;
  std::optional<std::string> result_json;
  std::string verification;
  std::optional<std::string> error;
  std::optional<std::string> callback_url;
  std::string metadata_json;
  std::optional<std::string> idempotency_key;
  std::optional<std::int64_t> deadline_unix_ms;
  core::Micros cost_micros = 0;
  std::string created_at;  // RFC 3339
  std::optional<std::string> completed_at;
  std::optional<std::string> verify_json;
  std::optional<core::Micros> max_cost_micros;
  std::optional<std::string> strategy_state_json;  // the engine's progress, while queued/running
  std::optional<std::string> decision_json;        // the decision trail, once final
  bool degraded = false;
  std::vector<AttemptRecord> attempts;  // filled by GetJob(with_attempts = true)
};

InsertResult InsertJob(pqxx::connection_base& conn, const NewJob& job);
std::optional<JobRecord> GetJob(pqxx::connection_base& conn, const std::string& id,
                                bool with_attempts);

// queued (or running with an expired lease) -> running under a lease token; records the
// routing decision. Returns the token, or nothing when another holder or a final state won.
// With `token` (a UUID the caller chose) taking the lease is idempotent: a retry after a commit
// whose outcome was unknown finds the lease it took instead of losing it; without, one is drawn.
std::optional<std::string> LeaseForInline(pqxx::connection_base& conn, const std::string& id,
                                          const std::string& tier,
                                          const std::vector<std::string>& reasons,
                                          int lease_seconds,
                                          const std::optional<std::string>& token = {});
// queued -> reasoning_queued with the routing decision. False when the job was not queued.
bool MarkReasoningQueued(pqxx::connection_base& conn, const std::string& id,
                         const std::string& tier, const std::vector<std::string>& reasons);
// reasoning_queued (or running with an expired lease) -> running under a lease token (`token`
// as for LeaseForInline).
std::optional<std::string> LeaseForReasoning(pqxx::connection_base& conn, const std::string& id,
                                             int lease_seconds,
                                             const std::optional<std::string>& token = {});

struct Completion {
  core::JobState state = core::JobState::kCompleted;  // completed | failed | expired
  std::optional<std::string> answer;
  std::string result_json = "null";
  core::VerificationStatus verification = core::VerificationStatus::kUnverified;
  std::optional<std::string> error;
  std::vector<AttemptRecord> attempts;
  std::string event_json;                    // the completion event; becomes the outbox payload
  std::optional<std::string> decision_json;  // the decision trail
  bool degraded = false;
  // Attempts of this run written as they happened (StartAttempts / FinishAttempts), not by
  // CompleteJob: counted in the completion event.
  std::size_t recorded_attempts = 0;
  core::Micros recorded_cost = 0;
};

// One transaction: the job's final state and result, its attempts, its outbox row. Applies only
// while `lease_token` still holds the job; returns false otherwise, writing nothing -- except
// the attempts when the job was cancelled meanwhile, since those calls were paid for.
bool CompleteJob(pqxx::connection_base& conn, const std::string& id, const std::string& lease_token,
                 const Completion& completion);

// queued | running | reasoning_queued -> cancelled for the job's own tenant, with its outbox row
// (`event_json`, a job.cancelled event); its in-flight attempt rows become "abandoned". A live
// holder finds its lease gone at its next check, cuts its calls off and records them itself.
enum class CancelOutcome { kCancelled, kAlreadyFinal, kNotFound };
CancelOutcome CancelJob(pqxx::connection_base& conn, const std::string& id,
                        const std::string& tenant, const std::string& event_json);

// running (under `lease_token`) -> reasoning_queued, keeping the inline attempts that led to
// the escalation and the engine's progress for the worker to resume from. False (nothing
// written) when the lease was lost.
bool EscalateToReasoning(pqxx::connection_base& conn, const std::string& id,
                         const std::string& lease_token, const std::vector<AttemptRecord>& attempts,
                         const std::optional<std::string>& strategy_state_json = {});

// Calls the lease holder is about to make: a row each, verdict "in_flight", so a holder that dies
// mid-call leaves a record of what it started (the next holder's lease marks such rows
// "abandoned"). The rows' ids in order, or nothing when the lease is gone: start no call then.
std::optional<std::vector<std::int64_t>> StartAttempts(pqxx::connection_base& conn,
                                                       const std::string& id,
                                                       const std::string& lease_token,
                                                       const std::vector<AttemptRecord>& calls);
// What came of started calls: each started row takes its call's first attempt, and the retries
// and fallbacks after it become rows of their own; the job's cost is summed again. Written
// whatever became of the lease meanwhile: the calls were made and paid for.
struct FinishedCall {
  std::int64_t attempt_id = 0;
  std::vector<AttemptRecord> attempts;  // never empty
};
void FinishAttempts(pqxx::connection_base& conn, const std::string& id,
                    const std::vector<FinishedCall>& calls);

// Extends a lease its holder still has by `lease_seconds` from now (a long call in progress).
// False when the lease is gone: lapsed and taken over, or the job finished or was cancelled.
bool RenewLease(pqxx::connection_base& conn, const std::string& id, const std::string& lease_token,
                int lease_seconds);

// Whether `lease_token` still holds the job (running under it): read only, for a holder that
// checks more often than it renews. False once it was cancelled, finished or taken over.
bool HoldsLease(pqxx::connection_base& conn, const std::string& id, const std::string& lease_token);

// A job to send through Kafka again: a lost produce, a dead lease holder, a lost handoff.
struct StuckJob {
  std::string id;
  std::string topic_role;  // "jobs" | "reasoning"
};
// Finds unfinished jobs that made no progress: waiting ones (queued, reasoning_queued) untouched
// for `grace_seconds` -- twice that after one re-send, four times after two, up to 128 times --
// and running ones whose lease ran out, which go back to their queue (the old holder's token no
// longer completes them). Stamps them for the next scan. Safe to run from several processes.
std::vector<StuckJob> ClaimStuckJobs(pqxx::connection_base& conn, int grace_seconds, int limit);

struct OutboxItem {
  std::int64_t id = 0;
  std::string lease_token;  // this claim's; the reports below name it
  std::string job_id;
  std::string webhook_id;
  std::string payload_json;
  std::optional<std::string> callback_url;
  bool kafka_published = false;
  bool webhook_done = false;
  int webhook_attempts = 0;
};
// Leases up to `limit` due outbox rows for `lease_seconds`, each under a new token; rows leased
// elsewhere are skipped.
std::vector<OutboxItem> ClaimOutbox(pqxx::connection_base& conn, int limit, int lease_seconds);
// A holder's reports. Each applies only while `lease_token` is still the row's: a holder that
// stalled past its lease (and whose row another claimed) gets false and changes nothing.
bool MarkKafkaPublished(pqxx::connection_base& conn, std::int64_t outbox_id,
                        const std::string& lease_token);
bool MarkWebhookDelivered(pqxx::connection_base& conn, std::int64_t outbox_id,
                          const std::string& lease_token);
// A failed delivery: retried after `retry_in_ms`, or given up when `dead`.
bool MarkWebhookFailed(pqxx::connection_base& conn, std::int64_t outbox_id,
                       const std::string& lease_token, const std::string& error,
                       std::int64_t retry_in_ms, bool dead);
// Releases a row's lease so it is due again after `retry_in_ms` (e.g. Kafka was unavailable).
bool RetryOutboxLater(pqxx::connection_base& conn, std::int64_t outbox_id,
                      const std::string& lease_token, std::int64_t retry_in_ms);

// Outbox rows still waiting: for their completion event to be published, and for their webhook
// to be delivered or given up (a row may wait for both). One scan of the pending rows' index.
struct OutboxBacklog {
  std::int64_t kafka = 0, webhook = 0;
};
OutboxBacklog OutboxDepth(pqxx::connection_base& conn);

}  // namespace triage::store
