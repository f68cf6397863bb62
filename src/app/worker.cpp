#include "app/worker.hpp"

#include "app/job_json.hpp"
#include "app/models.hpp"
#include "app/plan_run.hpp"

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

void Worker::StopFetching() {
  if (consumer_) consumer_->StopFetching();
}

void Worker::Stop() {
  if (consumer_) consumer_->Stop();
}

std::optional<queue::ConsumerStatus> Worker::Status() const {
  if (!consumer_) return std::nullopt;
  return consumer_->Status();
}

net::awaitable<void> Worker::ReasonMessage(const queue::Message& m) {
  const auto& config = steps_->config;
  const auto parsed = ParseReasoningMessage(m.payload);
  if (!parsed) {
    co_await steps_->DeadLetter(m, "invalid_field", "reasoning message needs {\"id\": uuid}");
    co_return;
  }
  const auto id = *parsed;
  auto lease =
      co_await steps_->TakeLease(id, config.ReasoningLeaseSeconds(),
                                 [id](pqxx::connection& c, int seconds, const std::string& token) {
                                   return store::LeaseForReasoning(c, id, seconds, token);
                                 });
  if (!lease) co_return;  // finished, or held by another worker
  auto job =
      co_await steps_->db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, true); });
  if (!job) co_return;
  if (co_await steps_->ExpireIfLate(*job, *lease)) co_return;

  // The plan resumes where the router handed it off (or starts, for a job sent straight here).
  auto [plan, progress] =
      PlanOf(*steps_, *job, core::ParseTier(job->tier.value_or("")).value_or(core::Tier::kHard));
  steps_->metrics->ReasoningCallsInFlight(1);
  auto run = co_await RunPlan(steps_, *job, *lease, route::Executor::kWorker, std::move(plan),
                              std::move(progress), "reasoning");
  steps_->metrics->ReasoningCallsInFlight(-1);
  co_await steps_->Finish(*job, *lease, CompletionOf(run));
}

}  // namespace triage::app
