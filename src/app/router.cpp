#include "app/router.hpp"

#include "app/job_json.hpp"
#include "app/models.hpp"
#include "app/plan_run.hpp"
#include "classify/commands.hpp"
#include "core/ids.hpp"
#include "route/record.hpp"

namespace triage::app {
namespace net = boost::asio;
using core::JobState;

namespace {

// The classifier's tier, one harder when its probability is below `policy.confidence_cut`
// (the cut is recorded among the reasons).
classify::Classification Classify(const Classifier& classifier, const std::string& task,
                                  double confidence_cut) {
  auto classification = classifier(task);
  const auto cut_tier = classify::ApplyConfidenceCut(classification, confidence_cut);
  if (cut_tier != classification.tier) {
    classification.reasons.push_back(
        "confidence_cut:" + std::string(core::ToString(classification.tier)) + "->" +
        std::string(core::ToString(cut_tier)));
    classification.tier = cut_tier;
  }
  return classification;
}

}  // namespace

Router::Router(std::shared_ptr<Steps> steps, Classifier classifier)
    : steps_(std::move(steps)), classifier_(std::move(classifier)) {}

void Router::Start() {
  const auto& c = steps_->config;
  consumer_ = steps_->Consume(
      c.router_group, steps_->topics.jobs, c.router_max_in_flight,
      [self = shared_from_this()](const queue::Message& m) { return self->RouteMessage(m); });
}

void Router::StopFetching() {
  if (consumer_) consumer_->StopFetching();
}

void Router::Stop() {
  if (consumer_) consumer_->Stop();
}

std::optional<queue::ConsumerStatus> Router::Status() const {
  if (!consumer_) return std::nullopt;
  return consumer_->Status();
}

// Intake: the envelope parsed, the row stored under an id a redelivery maps to again.
net::awaitable<void> Router::RouteMessage(const queue::Message& m) {
  auto parsed =
      intake::ParseSubmission(m.payload, steps_->config.limits, NowMs(), intake::Source::kEnvelope);
  if (const auto* error = std::get_if<intake::Error>(&parsed)) {
    co_await steps_->DeadLetter(m, error->code, error->message);
    co_return;
  }
  const auto& s = std::get<intake::Submission>(parsed);
  const auto job =
      ToNewJob(s,
               s.id.value_or(core::UuidFromName(m.topic + '/' + std::to_string(m.partition) + '/' +
                                                std::to_string(m.offset))),
               "kafka");
  const auto inserted =
      co_await steps_->db.Run([job](pqxx::connection& c) { return store::InsertJob(c, job); });
  if (inserted.inserted) steps_->metrics->JobAccepted(job.task.domain, "kafka");
  co_await RouteJob(inserted.id);
}

// Classify, route, then queue for reasoning or lease and answer inline.
net::awaitable<void> Router::RouteJob(const std::string& id) {
  const auto& config = steps_->config;
  auto job =
      co_await steps_->db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, false); });
  if (!job) throw std::runtime_error("job " + id + " is not in the database");
  if (core::IsFinal(job->state)) co_return;  // a redelivery of finished work
  if (job->state == JobState::kReasoningQueued) {
    co_await steps_->SendToReasoning(id);  // the hand-off may not have reached Kafka before a crash
    co_return;
  }
  const auto classification = Classify(classifier_, job->task.text, config.policy.confidence_cut);
  const auto tier = std::string(core::ToString(classification.tier));
  auto [plan, progress] = PlanOf(*steps_, *job, classification.tier);
  // A plan that starts on a queued rung goes to the worker before any call.
  const bool starts_queued = config.routing.ladder.Find(plan.stages.front().rung)->queued;
  job->tier = tier;
  job->tier_reasons = classification.reasons;
  job->route = starts_queued ? "reasoning" : "inline";
  const bool late = job->deadline_unix_ms && *job->deadline_unix_ms <= NowMs();
  if (starts_queued && !late) {
    const bool marked =
        co_await steps_->db.Run([id, tier, reasons = classification.reasons](pqxx::connection& c) {
          return store::MarkReasoningQueued(c, id, tier, reasons);
        });
    if (marked) co_await steps_->SendToReasoning(id);
    co_return;
  }
  auto lease = co_await steps_->TakeLease(
      id, config.InlineLeaseSeconds(),
      [id, tier, reasons = classification.reasons](pqxx::connection& c, int seconds,
                                                   const std::string& token) {
        return store::LeaseForInline(c, id, tier, reasons, seconds, token);
      });
  if (!lease) co_return;  // someone else holds it
  if (co_await steps_->ExpireIfLate(*job, *lease)) co_return;
  auto run = co_await RunPlan(steps_, *job, *lease, route::Executor::kRouter, std::move(plan),
                              std::move(progress), "inline");
  if (std::holds_alternative<route::HandOff>(run.end)) {
    co_await Escalate(*job, *lease, std::move(run));
    co_return;
  }
  co_await steps_->Finish(*job, *lease, CompletionOf(run));
}

// The rest of the plan runs on the reasoning queue: the attempts so far and the engine's
// progress are stored with the hand-off, and a worker resumes from them.
net::awaitable<void> Router::Escalate(const store::JobRecord& job, const Lease& lease,
                                      PlanRun run) {
  const bool moved = co_await steps_->AsHolder(
      job.id, lease,
      [id = job.id, token = lease.token,
       state = route::ProgressToJson(run.plan, run.progress)](pqxx::connection& c) {
        return store::EscalateToReasoning(c, id, token, {}, state);  // attempts are in already
      });
  if (moved) co_await steps_->SendToReasoning(job.id);
}

}  // namespace triage::app
