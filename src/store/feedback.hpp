// Feedback on finished jobs (POST /v1/jobs/{id}/feedback) and what `triage tune` reads back: one
// function per transaction, taking a connection (run them through Db). A job takes one
// feedback, once: the same feedback again is a no-op that returns the stored record; a
// different one is refused and the stored one returned (to change it is to rewrite what a tuned
// config was computed from, silently).
#pragma once
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "store/jobs.hpp"

namespace triage::store {

// The longest gold kept (migrations/0005_feedback.sql); the API refuses longer ones.
constexpr std::size_t kMaxGoldBytes = 8192;

// Exactly one of `correct` (the job's answer judged) and `gold` (the right answer).
struct Feedback {
  std::optional<bool> correct;
  std::optional<std::string> gold;
  std::string created_at;  // RFC 3339; set by the store
  // Same content; the time is not compared.
  bool SameAs(const Feedback& other) const {
    return correct == other.correct && gold == other.gold;
  }
};

enum class FeedbackOutcome {
  kStored,    // new
  kSame,      // this very feedback was stored before
  kConflict,  // a different feedback was stored before (`stored` holds it)
  kNotFinal,  // the job is still queued or running (`state` holds it)
  kNoAnswer,  // {"correct": ...} on a job that ended without an answer
  kNotFound,  // no such job for this tenant
};
struct FeedbackResult {
  FeedbackOutcome outcome = FeedbackOutcome::kNotFound;
  std::optional<Feedback> stored;  // what the job's feedback now is (kStored, kSame, kConflict)
  std::optional<core::JobState> state;
};

// Stores `feedback` for the tenant's job when the job is final (completed, failed, expired or
// cancelled). Precondition: exactly one of correct and gold; gold of 1..kMaxGoldBytes bytes.
FeedbackResult AddFeedback(pqxx::connection_base& conn, const std::string& id,
                           const std::string& tenant, const Feedback& feedback);

// A final job with feedback, its attempts (with their answers) and the feedback.
struct JobWithFeedback {
  JobRecord job;
  Feedback feedback;
};

// Jobs created within the last `since_seconds` that have feedback, oldest first; only `domain`'s
// when given. Final jobs no longer change, so each is read on its own.
std::vector<JobWithFeedback> JobsWithFeedback(pqxx::connection_base& conn,
                                              std::int64_t since_seconds,
                                              const std::optional<std::string>& domain);

}  // namespace triage::store
