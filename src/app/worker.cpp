#include "app/worker.hpp"

#include "app/job_json.hpp"
#include "app/models.hpp"

namespace triage::app {
namespace net = boost::asio;
using core::JobState;

Worker::Worker(std::shared_ptr<Steps> steps) : steps_(std::move(steps)) {}

void Worker::Start() {
  const auto& c = steps_->config;
  consumer_ = steps_->Consume(
      c.worker_group, steps_->topics.reasoning, c.worker_max_in_flight,
      [self = shared_from_this()](const queue::Message& m) { return self->ReasonMessage(m); });
}

void Worker::Stop() {
  if (consumer_) consumer_->Stop();
}

net::awaitable<void> Worker::ReasonMessage(const queue::Message& m) {
  const auto& config = steps_->config;
  const auto parsed = ParseReasoningMessage(m.payload);
  if (!parsed) {
    co_await steps_->DeadLetter(m, "invalid_field", "reasoning message needs {\"id\": uuid}");
    co_return;
  }
  const auto id = *parsed;
  const auto lease =
      co_await steps_->TakeLease(id, config.ReasoningLeaseSeconds(),
                                 [id](pqxx::connection& c, int seconds, const std::string& token) {
                                   return store::LeaseForReasoning(c, id, seconds, token);
                                 });
  if (!lease) co_return;  // finished, or held by another worker
  auto job =
      co_await steps_->db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, true); });
  if (!job) co_return;
  if (co_await steps_->ExpireIfLate(*job, *lease)) co_return;

  store::Completion c;
  const int prior = static_cast<int>(job->attempts.size());
  // Retries (with backoff), fallbacks and the cache live in the model layer
  // (models.<name>.retry_*, fallbacks, [cache]); each call comes back as an attempt.
  const auto outcome = co_await steps_->models->Call(
      config.reasoning_model, steps_->RequestFor(*job, prior),
      Steps::CallDeadline(*job, config.ReasoningModel().timeout_seconds), job->task.domain);
  c.attempts = AttemptRecords("reasoning", outcome);
  if (outcome.response) {
    c.answer = ExtractAnswer(outcome.response->text);
    c.result_json = ResultJson(*outcome.response);
  } else {
    const bool late = job->deadline_unix_ms && *job->deadline_unix_ms <= NowMs();
    c.state = late ? JobState::kExpired : JobState::kFailed;
    c.error = outcome.error ? std::string(outcome.error->what()) : "no model answered";
  }
  co_await steps_->Finish(*job, *lease, std::move(c));
}

}  // namespace triage::app
