#include "app/steps.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

#include "app/job_json.hpp"
#include "app/job_metrics.hpp"
#include "app/models.hpp"
#include "core/log.hpp"
#include "route/plan.hpp"
#include "route/record.hpp"

namespace triage::app {
namespace net = boost::asio;
using nlohmann::json;

namespace {

// Infrastructure trouble (Kafka, a dropped Postgres connection): retried without limit, since
// giving up would lose an acknowledged job.
class TransientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::map<std::string, std::string> SimHints(const std::string& metadata_json) {
  std::map<std::string, std::string> hints;
  const auto metadata = json::parse(metadata_json, nullptr, false);
  if (!metadata.is_object() || !metadata.contains("sim") || !metadata["sim"].is_object())
    return hints;
  for (const auto& [k, v] : metadata["sim"].items())
    hints[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return hints;
}

}  // namespace

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

net::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  net::steady_timer timer(co_await net::this_coro::executor, duration);
  co_await timer.async_wait(net::use_awaitable);
}

net::awaitable<std::string> Produce(queue::Producer& producer, const std::string& topic,
                                    const std::string& key, const std::string& payload) {
  co_return co_await net::async_initiate<decltype(net::use_awaitable), void(std::string)>(
      [&](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        producer.Produce(topic, key, payload, [shared](std::string error) {
          auto executor = net::get_associated_executor(*shared);
          net::post(executor,
                    [shared, error = std::move(error)]() mutable { (*shared)(std::move(error)); });
        });
      },
      net::use_awaitable);
}

std::vector<store::AttemptRecord> AttemptRecords(const std::string& role,
                                                 const providers::CallOutcome& outcome) {
  std::vector<store::AttemptRecord> out;
  for (const auto& a : outcome.attempts) {
    store::AttemptRecord r;
    r.role = role;
    r.model = a.model;
    r.provider = a.provider;
    r.cost_micros = a.cost_micros;
    r.latency_ms = a.latency.count();
    r.cache_hit = a.cache_hit;
    if (a.response) {
      r.provider_id = a.response->provider_id;
      if (!a.cache_hit) r.usage = a.response->usage;
      r.confidence = a.response->confidence;
      r.simulated = a.response->simulated;
    } else {
      r.error = a.error;
      // A call its holder cut off (the job was cancelled or taken over): its usage when known.
      const bool cut_off = a.error_kind == providers::ErrorKind::kCancelled;
      r.verdict = cut_off ? "abandoned" : "error";
      if (a.partial_usage) r.usage = *a.partial_usage;
    }
    out.push_back(std::move(r));
  }
  return out;
}

store::NewJob ToNewJob(const intake::Submission& s, std::string id, std::string source) {
  store::NewJob job;
  job.id = std::move(id);
  job.tenant = s.tenant;
  job.task = {s.task, s.domain};
  job.source = std::move(source);
  job.callback_url = s.callback_url;
  job.idempotency_key = s.idempotency_key;
  job.deadline_unix_ms = s.deadline_unix_ms;
  job.metadata_json = s.metadata_json;
  job.verify_json = s.verify_json;
  job.max_cost_micros = s.max_cost_micros;
  return job;
}

Steps::Steps(net::io_context& io, const Config& config, store::Db& db, queue::Producer& producer,
             std::shared_ptr<const AnswerEstimation> estimation)
    : io(io),
      config(config),
      db(db),
      producer(producer),
      topics(config.topics()),
      metrics(std::make_shared<metrics::Metrics>()),
      models(std::make_shared<Models>(config, &db, metrics)),
      ladder(std::make_shared<route::MeasuredLadder>(config.routing.ladder)),
      estimation(std::move(estimation)),
      log(core::Logger("pipeline")) {}

std::unique_ptr<queue::Consumer> Steps::Consume(const std::string& group, const std::string& topic,
                                                std::size_t max_in_flight, MessageStep step) {
  auto self = shared_from_this();
  queue::ConsumerOptions options;
  options.group = group;
  options.topics = {topic};
  options.max_in_flight = max_in_flight;
  options.session_timeout_ms = config.session_timeout_ms;
  options.sample_interval = std::chrono::milliseconds(config.metrics_sample_interval_ms);
  options.on_sample = [group, m = metrics](const std::vector<queue::TopicBacklog>& backlog) {
    for (const auto& b : backlog) m->ConsumerLag(group, b.topic, b.messages, b.paused_partitions);
  };
  options.on_stopped = [group, m = metrics] { m->ConsumerStopped(group); };
  auto consumer = std::make_unique<queue::Consumer>(
      config.kafka, std::move(options),
      [self, step = std::move(step)](queue::Message m, queue::Consumer::Done done) {
        // A strand per message: the coroutines a job starts (its calls, the lease renewal)
        // share timers and cancellation signals, which must not be touched by two io threads
        // at once (docs/architecture.md, "io threads").
        net::co_spawn(net::make_strand(self->io), self->Process(std::move(m), step),
                      [done](std::exception_ptr) { done(); });
      });
  consumer->Start();
  return consumer;
}

net::awaitable<void> Steps::Process(queue::Message m, MessageStep step) {
  auto self = shared_from_this();
  for (int attempt = 1;; ++attempt) {
    std::string failure;
    bool transient = false;
    try {
      co_await step(m);
      co_return;
    } catch (const TransientError& e) {
      failure = e.what();
      transient = true;
    } catch (const std::exception& e) {
      failure = e.what();
      transient = store::IsUnavailable(e);
    }
    log->warn("processing {}/{}@{} failed (attempt {}): {}", m.topic, m.partition, m.offset,
              attempt, failure);
    if (!transient && attempt >= 5) {
      co_await DeadLetter(m, "processing_failed", failure);
      co_return;
    }
    co_await Sleep(std::chrono::milliseconds(std::min(30000, 200 << std::min(attempt, 8))));
  }
}

net::awaitable<void> Steps::MustProduce(const std::string& topic, const std::string& key,
                                        const std::string& payload) {
  auto error = co_await Produce(producer, topic, key, payload);
  if (!error.empty()) throw TransientError("kafka produce to " + topic + ": " + error);
}

net::awaitable<void> Steps::DeadLetter(const queue::Message& m, const std::string& reason,
                                       const std::string& message) {
  log->warn("dead-lettering {}/{}@{}: {}: {}", m.topic, m.partition, m.offset, reason, message);
  const auto letter = DeadLetterJson(m, reason, message);
  co_await MustProduce(topics.dlq, m.key, letter);
}

net::awaitable<void> Steps::SendToReasoning(const std::string& id) {
  const std::string message = ReasoningMessage(id);
  co_await MustProduce(topics.reasoning, id, message);
}

providers::ModelRequest Steps::RequestFor(const store::JobRecord& job, int sample) const {
  providers::ModelRequest r;
  r.prompt = job.task.text;
  r.job_id = job.id;
  r.sample = sample;
  r.sim_hints = SimHints(job.metadata_json);
  return r;
}

providers::Deadline Steps::CallDeadline(const store::JobRecord& job, int timeout_seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  if (job.deadline_unix_ms) {
    const auto left = std::chrono::milliseconds(*job.deadline_unix_ms - NowMs());
    deadline = std::min(deadline, std::chrono::steady_clock::now() + left);
  }
  return deadline;
}

void Steps::WarnRetryingAsHolder(const std::string& id, int attempt, const std::exception& e) {
  log->warn("job_id={} database unavailable, retrying as lease holder (attempt {}): {}", id,
            attempt, e.what());
}

net::awaitable<void> Steps::Finish(const store::JobRecord& job, const Lease& lease,
                                   store::Completion completion) {
  completion.event_json = CompletionEvent(job, completion, NowMs());
  const bool done = co_await AsHolder(
      job.id, lease, [id = job.id, token = lease.token, completion](pqxx::connection& c) {
        return store::CompleteJob(c, id, token, completion);
      });
  if (!done) {
    log->info("job_id={} lease lost before completion; another holder finishes it", job.id);
    co_return;
  }
  metrics->JobFinished(FinishedJobOf(job, completion, NowMs()));
}

net::awaitable<bool> Steps::ExpireIfLate(const store::JobRecord& job, const Lease& lease) {
  if (!job.deadline_unix_ms || *job.deadline_unix_ms > NowMs()) co_return false;
  store::Completion c;
  c.state = core::JobState::kExpired;
  c.error = "deadline passed before an answer";
  co_await Finish(job, lease, std::move(c));
  co_return true;
}

}  // namespace triage::app
