// The JSON shapes a job takes on the wire: the API's job view and error bodies, the envelope on
// `<prefix>.jobs`, the hand-off on `<prefix>.reasoning`, dead letters, the completion event and
// its webhook headers. Pure functions, so the JSON is built outside coroutines: GCC 12
// miscompiles initializer lists inside them. Invalid UTF-8 is replaced rather than thrown on,
// except in the envelope (EnvelopeFor throws), whose fields intake has already checked.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "intake/submission.hpp"
#include "providers/model_client.hpp"
#include "queue/kafka.hpp"
#include "store/feedback.hpp"
#include "store/jobs.hpp"

namespace triage::app {

// "2024-05-01T12:00:00.000Z" (UTC, milliseconds).
std::string Rfc3339(std::int64_t unix_ms);

// GET /v1/jobs/{id}: the job with its attempts.
std::string JobViewJson(const store::JobRecord& job);
// The 202/200 body of POST /v1/jobs.
std::string AcceptedJson(const store::InsertResult& inserted);
// {"id": ..., "state": "cancelled"}: the answer to DELETE /v1/jobs/{id}.
std::string CancelledJson(const std::string& id);
// The 4xx body for a refused submission.
std::string ErrorJson(const intake::Error& e);

// POST /v1/jobs/{id}/feedback's body, strict JSON: {"correct": true|false} or {"gold": G}, exactly
// one, G a non-empty string of at most store::kMaxGoldBytes (a JSON number is refused: the
// parser would not keep it as written).
std::variant<store::Feedback, intake::Error> ParseFeedback(std::string_view body);
// The feedback stored for a job: {"job_id", "feedback": {"correct"} or {"gold"}, "created_at"}.
std::string FeedbackJson(const std::string& id, const store::Feedback& feedback);
// The 409 for a different feedback on a job that has one: the error, naming the stored feedback
// (under "existing", shaped as FeedbackJson).
std::string FeedbackConflictJson(const std::string& id, const store::Feedback& stored);

// The envelope on `<prefix>.jobs` for a job already stored (from the API or the reaper).
std::string EnvelopeFor(const store::NewJob& job);
std::string EnvelopeFor(const store::JobRecord& job);

// The hand-off on `<prefix>.reasoning`: {"id": uuid}; ParseReasoningMessage gives the id, or
// nothing when the message is not that shape.
std::string ReasoningMessage(const std::string& id);
std::optional<std::string> ParseReasoningMessage(std::string_view payload);

// What goes to `<prefix>.jobs.dlq`: the reason and the original bytes (base64 unless UTF-8).
std::string DeadLetterJson(const queue::Message& m, const std::string& reason,
                           const std::string& message);

// The answering call as the job's `result`: its full text, model and rung.
std::string ResultJson(const std::string& text, const std::string& model, const std::string& rung);

// The completion event: the outbox payload, the webhook body and the `completed` message.
std::string CompletionEvent(const store::JobRecord& job, const store::Completion& completion,
                            std::int64_t now_ms);
// The job.cancelled event of a job cancelled by its client (the attempts so far counted).
std::string CancellationEvent(const store::JobRecord& job, std::int64_t now_ms);

// Standard Webhooks headers; signed when a key is configured.
std::vector<std::pair<std::string, std::string>> WebhookHeaders(
    const store::OutboxItem& item, std::int64_t timestamp_s, const std::optional<std::string>& key);

}  // namespace triage::app
