#include "store/feedback.hpp"

namespace triage::store {
namespace {

constexpr const char* kCreatedAt =
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

Feedback ReadFeedback(const pqxx::row& r) {
  Feedback f;
  if (!r[0].is_null()) f.correct = r[0].as<bool>();
  if (!r[1].is_null()) f.gold = r[1].as<std::string>();
  f.created_at = r[2].as<std::string>();
  return f;
}

}  // namespace

FeedbackResult AddFeedback(pqxx::connection_base& conn, const std::string& id,
                           const std::string& tenant, const Feedback& feedback) {
  pqxx::work tx(conn);
  // FOR SHARE: the job cannot be cancelled or completed between the check and the insert.
  const auto job = tx.exec_params(
      "SELECT state, answer IS NOT NULL FROM jobs WHERE id = $1::uuid AND tenant = $2 FOR SHARE",
      id, tenant);
  FeedbackResult result;
  if (job.empty()) return result;
  result.state = core::ParseJobState(job[0][0].as<std::string>());
  if (!result.state || !core::IsFinal(*result.state)) {
    result.outcome = FeedbackOutcome::kNotFinal;
    return result;
  }
  if (feedback.correct && !job[0][1].as<bool>()) {
    result.outcome = FeedbackOutcome::kNoAnswer;
    return result;
  }
  const auto correct = feedback.correct
                           ? std::optional<std::string>(*feedback.correct ? "true" : "false")
                           : std::nullopt;
  const auto inserted = tx.exec_params(
      std::string("INSERT INTO feedback (job_id, correct, gold) VALUES ($1::uuid, $2::boolean, $3)"
                  " ON CONFLICT (job_id) DO NOTHING RETURNING correct, gold, ") +
          kCreatedAt,
      id, correct ? correct->c_str() : nullptr, feedback.gold ? feedback.gold->c_str() : nullptr);
  if (!inserted.empty()) {
    result.outcome = FeedbackOutcome::kStored;
    result.stored = ReadFeedback(inserted[0]);
  } else {
    const auto existing = tx.exec_params(std::string("SELECT correct, gold, ") + kCreatedAt +
                                             " FROM feedback WHERE job_id = $1::uuid",
                                         id);
    result.stored = ReadFeedback(existing.at(0));
    result.outcome =
        result.stored->SameAs(feedback) ? FeedbackOutcome::kSame : FeedbackOutcome::kConflict;
  }
  tx.commit();
  return result;
}

std::vector<JobWithFeedback> JobsWithFeedback(pqxx::connection_base& conn,
                                              std::int64_t since_seconds,
                                              const std::optional<std::string>& domain) {
  std::vector<std::pair<std::string, Feedback>> found;
  {
    pqxx::read_transaction tx(conn);
    const auto rows = tx.exec_params(
        "SELECT f.correct, f.gold,"
        " to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        " j.id::text FROM feedback f JOIN jobs j ON j.id = f.job_id"
        " WHERE j.created_at >= now() - make_interval(secs => $1::double precision)"
        " AND ($2::text IS NULL OR j.domain = $2) ORDER BY j.created_at, j.id",
        since_seconds, domain ? domain->c_str() : nullptr);
    for (const auto& r : rows) found.emplace_back(r[3].as<std::string>(), ReadFeedback(r));
  }
  std::vector<JobWithFeedback> out;
  for (auto& [id, feedback] : found)
    if (auto job = GetJob(conn, id, true)) out.push_back({std::move(*job), std::move(feedback)});
  return out;
}

}  // namespace triage::store
