#include "store/jobs.hpp"

namespace triage::store {
namespace {

const char* OrNull(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

// An optional number as a statement parameter's text (nothing: NULL).
template <class T>
std::optional<std::string> NumberText(const std::optional<T>& v) {
  return v ? std::optional(std::to_string(*v)) : std::nullopt;
}

std::optional<std::string> OptString(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

// A Postgres text[] literal: {"a","b"} with quotes and backslashes escaped.
std::string ToPgArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

constexpr char kUnitSeparator = '\x1f';

std::vector<std::string> SplitUnits(const std::string& joined) {
  std::vector<std::string> out;
  if (joined.empty()) return out;
  size_t start = 0;
  for (size_t pos; (pos = joined.find(kUnitSeparator, start)) != std::string::npos; start = pos + 1)
    out.push_back(joined.substr(start, pos - start));
  out.push_back(joined.substr(start));
  return out;
}

constexpr const char* kJobColumns =
    "id::text, tenant, task, domain, source, state, tier,"
    " coalesce(array_to_string(tier_reasons, E'\\x1f'), ''), route, answer, result::text,"
    " verification, error, callback_url, metadata::text, idempotency_key,"
    " (extract(epoch FROM deadline_at) * 1000)::bigint, cost_micros,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " verify_spec::text, max_cost_micros, strategy_state::text, decision::text, degraded";

JobRecord ReadJob(const pqxx::row& r) {
  JobRecord j;
  j.id = r[0].as<std::string>();
  j.tenant = r[1].as<std::string>();
  j.task.text = r[2].as<std::string>();
  j.task.domain = r[3].as<std::string>();
  j.source = r[4].as<std::string>();
  j.state = core::ParseJobState(r[5].as<std::string>()).value_or(core::JobState::kQueued);
  j.tier = OptString(r[6]);
  j.tier_reasons = SplitUnits(r[7].as<std::string>());
  j.route = OptString(r[8]);
  j.answer = OptString(r[9]);
  j.result_json = OptString(r[10]);
  j.verification = r[11].as<std::string>();
  j.error = OptString(r[12]);
  j.callback_url = OptString(r[13]);
  j.metadata_json = r[14].as<std::string>();
  j.idempotency_key = OptString(r[15]);
  if (!r[16].is_null()) j.deadline_unix_ms = r[16].as<std::int64_t>();
  j.cost_micros = r[17].as<std::int64_t>();
  j.created_at = r[18].as<std::string>();
  j.completed_at = OptString(r[19]);
  j.verify_json = OptString(r[20]);
  if (!r[21].is_null()) j.max_cost_micros = r[21].as<std::int64_t>();
  j.strategy_state_json = OptString(r[22]);
  j.decision_json = OptString(r[23]);
  j.degraded = r[24].as<bool>();
  return j;
}

}  // namespace

namespace {

void SumCost(pqxx::work& tx, const std::string& id) {
  tx.exec_params(
      "UPDATE jobs SET cost_micros = (SELECT coalesce(sum(cost_micros), 0) FROM attempts"
      " WHERE job_id = $1::uuid) WHERE id = $1::uuid",
      id);
}

// The answer as stored: none when empty, dropped (and flagged) when over the bound, so a cut
// answer is never graded as if it were whole.
struct StoredAnswer {
  std::optional<std::string> text;
  bool too_long = false;
};
StoredAnswer StoredAnswerOf(const AttemptRecord& a) {
  if (a.answer_too_long || (a.answer && a.answer->size() > kMaxStoredAnswerBytes))
    return {{}, true};
  if (!a.answer || a.answer->empty()) return {};
  return {a.answer, false};
}

// The response as stored: none when over the bound or holding a NUL (a text column cannot).
std::optional<std::string> StoredResponseOf(const AttemptRecord& a) {
  if (!a.response || a.response->size() > kMaxStoredResponseBytes ||
      a.response->find('\0') != std::string::npos)
    return std::nullopt;
  return a.response;
}

// Appends attempts after any the job already has (an escalated job keeps its inline attempts);
// returns their row ids. The job's cost is the caller's to sum again (SumCost) when it changed.
std::vector<std::int64_t> InsertAttempts(pqxx::work& tx, const std::string& id,
                                         const std::vector<AttemptRecord>& attempts) {
  if (attempts.empty()) return {};
  auto last =
      tx.exec_params("SELECT coalesce(max(seq), 0) FROM attempts WHERE job_id = $1::uuid", id);
  int seq = last[0][0].as<int>();
  std::vector<std::int64_t> ids;
  for (const auto& a : attempts) {
    const auto confidence = NumberText(a.confidence);
    const auto answer = StoredAnswerOf(a);
    auto row = tx.exec_params(
        "INSERT INTO attempts (job_id, seq, role, model, provider, provider_id, tokens_in,"
        " tokens_out, tokens_reasoning, tokens_cached, cost_micros, latency_ms, confidence,"
        " verdict, cache_hit, simulated, error, stage, sample, answer, answer_too_long, response)"
        " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
        " $13::double precision, $14, $15, $16, $17, $18::int, $19::int, $20, $21, $22)"
        " RETURNING id",
        id, ++seq, a.role, a.model, a.provider, a.provider_id, a.usage.input, a.usage.output,
        a.usage.reasoning, a.usage.cached_read, a.cost_micros, a.latency_ms, OrNull(confidence),
        a.verdict, a.cache_hit, a.simulated, OrNull(a.error), OrNull(NumberText(a.stage)),
        OrNull(NumberText(a.sample)), OrNull(answer.text), answer.too_long,
        OrNull(StoredResponseOf(a)));
    ids.push_back(row[0][0].as<std::int64_t>());
  }
  return ids;
}

// Attempts the job's cost includes: inserted, and the cost summed again.
void AddAttempts(pqxx::work& tx, const std::string& id,
                 const std::vector<AttemptRecord>& attempts) {
  if (attempts.empty()) return;
  InsertAttempts(tx, id, attempts);
  SumCost(tx, id);
}

// A new holder's lease: calls a previous holder started and never saw return are abandoned.
void AbandonInFlight(pqxx::work& tx, const std::string& id) {
  tx.exec_params(
      "UPDATE attempts SET verdict = 'abandoned',"
      " error = 'its holder stopped before the call returned'"
      " WHERE job_id = $1::uuid AND verdict = 'in_flight'",
      id);
}

// The calls a holder made for a job cancelled under it: paid for, so recorded.
void RecordPaidAttemptsOfCancelled(pqxx::work& tx, const std::string& id,
                                   const std::vector<AttemptRecord>& attempts) {
  if (attempts.empty()) return;
  const auto state = tx.exec_params("SELECT state FROM jobs WHERE id = $1::uuid", id);
  if (!state.empty() && state[0][0].as<std::string>() == "cancelled") AddAttempts(tx, id, attempts);
}

}  // namespace

InsertResult InsertJob(pqxx::connection_base& conn, const NewJob& job) {
  pqxx::work tx(conn);
  const auto deadline = NumberText(job.deadline_unix_ms);
  const auto max_cost = NumberText(job.max_cost_micros);
  // ON CONFLICT without a target covers both the id and the (tenant, idempotency_key) index.
  auto inserted = tx.exec_params(
      "INSERT INTO jobs (id, tenant, task, domain, source, state, callback_url, metadata,"
      " idempotency_key, deadline_at, verify_spec, max_cost_micros)"
      " VALUES ($1::uuid, $2, $3, $4, $5, 'queued', $6, $7::jsonb, $8,"
      " to_timestamp($9::bigint / 1000.0), $10::jsonb, $11::bigint)"
      " ON CONFLICT DO NOTHING RETURNING id::text",
      job.id, job.tenant, job.task.text, job.task.domain, job.source, OrNull(job.callback_url),
      job.metadata_json, OrNull(job.idempotency_key), OrNull(deadline), OrNull(job.verify_json),
      OrNull(max_cost));
  InsertResult result{job.id, !inserted.empty()};
  if (!result.inserted && job.idempotency_key) {
    auto existing =
        tx.exec_params("SELECT id::text FROM jobs WHERE tenant = $1 AND idempotency_key = $2",
                       job.tenant, *job.idempotency_key);
    if (!existing.empty()) result.id = existing[0][0].as<std::string>();
  }
  tx.commit();
  return result;
}

std::optional<JobRecord> GetJob(pqxx::connection_base& conn, const std::string& id,
                                bool with_attempts) {
  pqxx::read_transaction tx(conn);
  auto rows =
      tx.exec_params(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1::uuid", id);
  if (rows.empty()) return std::nullopt;
  JobRecord job = ReadJob(rows[0]);
  if (with_attempts) {
    auto attempts = tx.exec_params(
        "SELECT role, model, provider, coalesce(provider_id, ''), tokens_in, tokens_out,"
        " tokens_reasoning, tokens_cached, cost_micros, latency_ms, confidence, verdict,"
        " cache_hit, simulated, error, stage, sample, answer, answer_too_long, response"
        " FROM attempts"
        " WHERE job_id = $1::uuid ORDER BY seq",
        id);
    for (const auto& r : attempts) {
      AttemptRecord a;
      a.role = r[0].as<std::string>();
      a.model = r[1].as<std::string>();
      a.provider = r[2].as<std::string>();
      a.provider_id = r[3].as<std::string>();
      a.usage.input = r[4].as<std::int64_t>();
      a.usage.output = r[5].as<std::int64_t>();
      a.usage.reasoning = r[6].as<std::int64_t>();
      a.usage.cached_read = r[7].as<std::int64_t>();
      a.cost_micros = r[8].as<std::int64_t>();
      a.latency_ms = r[9].as<std::int64_t>();
      if (!r[10].is_null()) a.confidence = r[10].as<double>();
      a.verdict = r[11].as<std::string>();
      a.cache_hit = r[12].as<bool>();
      a.simulated = r[13].as<bool>();
      a.error = OptString(r[14]);
      if (!r[15].is_null()) a.stage = r[15].as<int>();
      if (!r[16].is_null()) a.sample = r[16].as<int>();
      a.answer = OptString(r[17]);
      a.answer_too_long = r[18].as<bool>();
      a.response = OptString(r[19]);
      job.attempts.push_back(std::move(a));
    }
  }
  return job;
}

std::optional<std::string> LeaseForInline(pqxx::connection_base& conn, const std::string& id,
                                          const std::string& tier,
                                          const std::vector<std::string>& reasons,
                                          int lease_seconds,
                                          const std::optional<std::string>& token) {
  pqxx::work tx(conn);
  auto rows = tx.exec_params(
      "UPDATE jobs SET state = 'running', tier = $2, tier_reasons = $3::text[], route = 'inline',"
      " lease_token = coalesce($5::uuid, gen_random_uuid()),"
      " lease_until = now() + make_interval(secs => $4), updated_at = now()"
      " WHERE id = $1::uuid AND (state = 'queued' OR (state = 'running' AND route = 'inline'"
      "                                               AND lease_until < now())"
      "                          OR (state = 'running' AND lease_token = $5::uuid))"
      " RETURNING lease_token::text",
      id, tier, ToPgArray(reasons), lease_seconds, OrNull(token));
  if (!rows.empty()) AbandonInFlight(tx, id);
  tx.commit();
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

bool MarkReasoningQueued(pqxx::connection_base& conn, const std::string& id,
                         const std::string& tier, const std::vector<std::string>& reasons) {
  pqxx::work tx(conn);
  auto rows = tx.exec_params(
      "UPDATE jobs SET state = 'reasoning_queued', tier = $2, tier_reasons = $3::text[], resends = "
      "0,"
      " route = 'reasoning', lease_token = NULL, lease_until = NULL, updated_at = now()"
      " WHERE id = $1::uuid AND state = 'queued' RETURNING 1",
      id, tier, ToPgArray(reasons));
  tx.commit();
  return !rows.empty();
}

std::optional<std::string> LeaseForReasoning(pqxx::connection_base& conn, const std::string& id,
                                             int lease_seconds,
                                             const std::optional<std::string>& token) {
  pqxx::work tx(conn);
  auto rows = tx.exec_params(
      "UPDATE jobs SET state = 'running', lease_token = coalesce($3::uuid, gen_random_uuid()),"
      " lease_until = now() + make_interval(secs => $2), updated_at = now()"
      " WHERE id = $1::uuid AND route = 'reasoning' AND (state = 'reasoning_queued'"
      " OR (state = 'running' AND lease_until < now())"
      " OR (state = 'running' AND lease_token = $3::uuid))"
      " RETURNING lease_token::text",
      id, lease_seconds, OrNull(token));
  if (!rows.empty()) AbandonInFlight(tx, id);
  tx.commit();
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

bool CompleteJob(pqxx::connection_base& conn, const std::string& id, const std::string& lease_token,
                 const Completion& c) {
  pqxx::work tx(conn);
  auto updated = tx.exec_params(
      "UPDATE jobs SET state = $3, answer = $4, result = $5::jsonb, verification = $6,"
      " error = $7, decision = $8::jsonb, degraded = $9, strategy_state = NULL,"
      " completed_at = now(), updated_at = now(), lease_token = NULL, lease_until = NULL"
      " WHERE id = $1::uuid AND state = 'running' AND lease_token = $2::uuid"
      " RETURNING callback_url",
      id, lease_token, std::string(core::ToString(c.state)), OrNull(c.answer), c.result_json,
      std::string(core::ToString(c.verification)), OrNull(c.error), OrNull(c.decision_json),
      c.degraded);
  if (updated.empty()) {  // the lease was lost: another holder finishes the job, or
    RecordPaidAttemptsOfCancelled(tx, id, c.attempts);  // the client cancelled it
    tx.commit();
    return false;
  }
  AddAttempts(tx, id, c.attempts);
  const auto callback = OptString(updated[0][0]);
  tx.exec_params(
      "INSERT INTO outbox (job_id, webhook_id, payload, callback_url, webhook_done_at)"
      " VALUES ($1::uuid, $2, $3::jsonb, $4, CASE WHEN $5 THEN NULL ELSE now() END)",
      id, "msg_" + id, c.event_json, OrNull(callback), callback.has_value());
  tx.commit();
  return true;
}

bool EscalateToReasoning(pqxx::connection_base& conn, const std::string& id,
                         const std::string& lease_token, const std::vector<AttemptRecord>& attempts,
                         const std::optional<std::string>& strategy_state_json) {
  pqxx::work tx(conn);
  auto updated = tx.exec_params(
      "UPDATE jobs SET state = 'reasoning_queued', route = 'reasoning', lease_token = NULL,"
      " lease_until = NULL, updated_at = now(), strategy_state = $3::jsonb, resends = 0"
      " WHERE id = $1::uuid AND state = 'running' AND lease_token = $2::uuid RETURNING 1",
      id, lease_token, OrNull(strategy_state_json));
  if (updated.empty()) {
    RecordPaidAttemptsOfCancelled(tx, id, attempts);
    tx.commit();
    return false;
  }
  AddAttempts(tx, id, attempts);
  tx.commit();
  return true;
}

CancelOutcome CancelJob(pqxx::connection_base& conn, const std::string& id,
                        const std::string& tenant, const std::string& event_json) {
  pqxx::work tx(conn);
  auto updated = tx.exec_params(
      "UPDATE jobs SET state = 'cancelled', error = 'cancelled by the client',"
      " completed_at = now(), updated_at = now(), lease_token = NULL, lease_until = NULL,"
      " strategy_state = NULL"
      " WHERE id = $1::uuid AND tenant = $2 AND state IN ('queued', 'running', 'reasoning_queued')"
      " RETURNING callback_url",
      id, tenant);
  if (updated.empty()) {
    const auto found =
        tx.exec_params("SELECT 1 FROM jobs WHERE id = $1::uuid AND tenant = $2", id, tenant);
    return found.empty() ? CancelOutcome::kNotFound : CancelOutcome::kAlreadyFinal;
  }
  // No later lease will come to mark them: a holder still alive overwrites them as it cuts its
  // calls off (FinishAttempts), a dead one leaves them abandoned.
  AbandonInFlight(tx, id);
  const auto callback = OptString(updated[0][0]);
  tx.exec_params(
      "INSERT INTO outbox (job_id, webhook_id, payload, callback_url, webhook_done_at)"
      " VALUES ($1::uuid, $2, $3::jsonb, $4, CASE WHEN $5 THEN NULL ELSE now() END)",
      id, "msg_" + id, event_json, OrNull(callback), callback.has_value());
  tx.commit();
  return CancelOutcome::kCancelled;
}

std::optional<std::vector<std::int64_t>> StartAttempts(pqxx::connection_base& conn,
                                                       const std::string& id,
                                                       const std::string& lease_token,
                                                       const std::vector<AttemptRecord>& calls) {
  pqxx::work tx(conn);
  const auto held = tx.exec_params(
      "SELECT 1 FROM jobs WHERE id = $1::uuid AND state = 'running' AND lease_token = $2::uuid"
      " FOR UPDATE",
      id, lease_token);
  if (held.empty()) return std::nullopt;
  auto ids = InsertAttempts(tx, id, calls);  // at cost 0 until they return
  tx.commit();
  return ids;
}

void FinishAttempts(pqxx::connection_base& conn, const std::string& id,
                    const std::vector<FinishedCall>& calls) {
  pqxx::work tx(conn);
  std::vector<AttemptRecord> more;
  for (const auto& call : calls) {
    const auto& a = call.attempts.front();
    const auto confidence = NumberText(a.confidence);
    const auto answer = StoredAnswerOf(a);
    tx.exec_params(
        "UPDATE attempts SET model = $3, provider = $4, provider_id = $5, tokens_in = $6,"
        " tokens_out = $7, tokens_reasoning = $8, tokens_cached = $9, cost_micros = $10,"
        " latency_ms = $11, confidence = $12::double precision, verdict = $13, cache_hit = $14,"
        " simulated = $15, error = $16, answer = $17, answer_too_long = $18, response = $19"
        " WHERE id = $1 AND job_id = $2::uuid",
        call.attempt_id, id, a.model, a.provider, a.provider_id, a.usage.input, a.usage.output,
        a.usage.reasoning, a.usage.cached_read, a.cost_micros, a.latency_ms, OrNull(confidence),
        a.verdict, a.cache_hit, a.simulated, OrNull(a.error), OrNull(answer.text), answer.too_long,
        OrNull(StoredResponseOf(a)));
    more.insert(more.end(), call.attempts.begin() + 1, call.attempts.end());
  }
  InsertAttempts(tx, id, more);
  SumCost(tx, id);
  tx.commit();
}

bool RenewLease(pqxx::connection_base& conn, const std::string& id, const std::string& lease_token,
                int lease_seconds) {
  pqxx::work tx(conn);
  auto updated = tx.exec_params(
      "UPDATE jobs SET lease_until = now() + make_interval(secs => $3)"
      " WHERE id = $1::uuid AND state = 'running' AND lease_token = $2::uuid RETURNING 1",
      id, lease_token, lease_seconds);
  tx.commit();
  return !updated.empty();
}

bool HoldsLease(pqxx::connection_base& conn, const std::string& id,
                const std::string& lease_token) {
  pqxx::work tx(conn);
  const auto held = tx.exec_params(
      "SELECT 1 FROM jobs WHERE id = $1::uuid AND state = 'running' AND lease_token = $2::uuid", id,
      lease_token);
  tx.commit();
  return !held.empty();
}

std::vector<StuckJob> ClaimStuckJobs(pqxx::connection_base& conn, int grace_seconds, int limit) {
  pqxx::work tx(conn);
  // A job whose lease ran out goes back to the queue it came from (its holder is presumed dead
  // and loses the token). A waiting job is sent again after the grace period, then after twice
  // that, and so on up to 128 times it: a message may have been lost, but most waiting jobs are
  // simply behind a backlog, which should not be flooded with their copies.
  auto rows = tx.exec_params(
      "UPDATE jobs SET updated_at = now(),"
      " state = CASE WHEN state <> 'running' THEN state"
      "              WHEN route = 'reasoning' THEN 'reasoning_queued' ELSE 'queued' END,"
      " resends = CASE WHEN state = 'running' THEN 0 ELSE resends + 1 END,"
      " lease_token = CASE WHEN state = 'running' THEN NULL ELSE lease_token END,"
      " lease_until = CASE WHEN state = 'running' THEN NULL ELSE lease_until END"
      " WHERE id IN (SELECT id FROM jobs"
      "   WHERE (state IN ('queued', 'reasoning_queued') AND updated_at < now() -"
      "          make_interval(secs => $1 * power(2, least(resends, 7))))"
      "      OR (state = 'running' AND lease_until < now())"
      "   ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
      " RETURNING id::text, coalesce(route, 'inline')",
      grace_seconds, limit);
  tx.commit();
  std::vector<StuckJob> out;
  for (const auto& r : rows)
    out.push_back(
        {r[0].as<std::string>(), r[1].as<std::string>() == "reasoning" ? "reasoning" : "jobs"});
  return out;
}

std::vector<OutboxItem> ClaimOutbox(pqxx::connection_base& conn, int limit, int lease_seconds) {
  pqxx::work tx(conn);
  auto rows = tx.exec_params(
      "UPDATE outbox SET lease_until = now() + make_interval(secs => $2),"
      " lease_token = gen_random_uuid()"
      " WHERE id IN (SELECT id FROM outbox"
      "   WHERE (kafka_published_at IS NULL OR webhook_done_at IS NULL)"
      "     AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())"
      "   ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)"
      " RETURNING id, lease_token::text, job_id::text, webhook_id, payload::text, callback_url,"
      " kafka_published_at IS NOT NULL, webhook_done_at IS NOT NULL, webhook_attempts",
      limit, lease_seconds);
  tx.commit();
  std::vector<OutboxItem> out;
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                   r[3].as<std::string>(), r[4].as<std::string>(), OptString(r[5]), r[6].as<bool>(),
                   r[7].as<bool>(), r[8].as<int>()});
  }
  return out;
}

namespace {
// One holder's report: `set` applies to row $1 only while its lease token is still $2.
template <typename... Args>
bool UpdateAsOutboxHolder(pqxx::connection_base& conn, const std::string& set,
                          std::int64_t outbox_id, const std::string& lease_token, Args&&... args) {
  pqxx::work tx(conn);
  const auto result =
      tx.exec_params("UPDATE outbox SET " + set + " WHERE id = $1 AND lease_token = $2::uuid",
                     outbox_id, lease_token, std::forward<Args>(args)...);
  tx.commit();
  return result.affected_rows() == 1;
}
}  // namespace

bool MarkKafkaPublished(pqxx::connection_base& conn, std::int64_t outbox_id,
                        const std::string& lease_token) {
  return UpdateAsOutboxHolder(conn, "kafka_published_at = now()", outbox_id, lease_token);
}

bool MarkWebhookDelivered(pqxx::connection_base& conn, std::int64_t outbox_id,
                          const std::string& lease_token) {
  return UpdateAsOutboxHolder(
      conn,
      "webhook_done_at = now(), webhook_attempts = webhook_attempts + 1, last_error = NULL,"
      " lease_until = NULL, lease_token = NULL",
      outbox_id, lease_token);
}

bool MarkWebhookFailed(pqxx::connection_base& conn, std::int64_t outbox_id,
                       const std::string& lease_token, const std::string& error,
                       std::int64_t retry_in_ms, bool dead) {
  return UpdateAsOutboxHolder(
      conn,
      "webhook_attempts = webhook_attempts + 1, last_error = $3,"
      " webhook_dead = $5, webhook_done_at = CASE WHEN $5 THEN now() ELSE NULL END,"
      " next_attempt_at = now() + make_interval(secs => $4::double precision / 1000),"
      " lease_until = NULL, lease_token = NULL",
      outbox_id, lease_token, error, retry_in_ms, dead);
}

bool RetryOutboxLater(pqxx::connection_base& conn, std::int64_t outbox_id,
                      const std::string& lease_token, std::int64_t retry_in_ms) {
  return UpdateAsOutboxHolder(
      conn,
      "lease_until = NULL, lease_token = NULL,"
      " next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)",
      outbox_id, lease_token, retry_in_ms);
}

OutboxBacklog OutboxDepth(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  // The WHERE is the partial index outbox_pending's predicate: delivered rows are not read.
  const auto row = tx.exec1(
      "SELECT count(*) FILTER (WHERE kafka_published_at IS NULL),"
      " count(*) FILTER (WHERE webhook_done_at IS NULL)"
      " FROM outbox WHERE kafka_published_at IS NULL OR webhook_done_at IS NULL");
  return {row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
}

}  // namespace triage::store
