#include "app/notifier.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <random>

#include "app/job_json.hpp"
#include "core/log.hpp"
#include "notify/webhook.hpp"

namespace triage::app {
namespace net = boost::asio;
namespace {
// This part's logger (app/logging.hpp).
spdlog::logger& Log() {
  static const auto log = core::Logger("notifier");
  return *log;
}
}  // namespace

Notifier::Notifier(std::shared_ptr<Steps> steps)
    : steps_(std::move(steps)), strand_(net::make_strand(steps_->io)) {}

void Notifier::Start() { net::co_spawn(strand_, Loop(), net::detached); }

net::awaitable<void> Notifier::Loop() {
  auto self = shared_from_this();
  const auto& config = steps_->config;
  auto next_depth = std::chrono::steady_clock::now();
  while (steps_->running) {
    if (std::chrono::steady_clock::now() >= next_depth) {
      co_await SampleDepth();
      next_depth = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(config.metrics_sample_interval_ms);
    }
    const auto room = config.notify_max_in_flight - in_flight_;
    std::size_t claimed = 0;
    if (room > 0) {
      try {
        const auto lease = config.webhook_timeout_ms / 1000 + 60;
        auto items = co_await steps_->db.Run([room, lease](pqxx::connection& c) {
          return store::ClaimOutbox(c, static_cast<int>(room), lease);
        });
        claimed = items.size();
        for (auto& item : items) {
          ++in_flight_;
          const auto job_id = item.job_id;
          net::co_spawn(strand_, Deliver(std::move(item)), [self, job_id](std::exception_ptr e) {
            --self->in_flight_;
            if (!e) return;
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& ex) {
              Log().warn("job_id={} delivery failed: {}", job_id, ex.what());
            }
          });
        }
      } catch (const std::exception& e) {
        Log().warn("outbox claim failed: {}", e.what());
      }
    }
    if (claimed == 0 || claimed < room)
      co_await Sleep(std::chrono::milliseconds(config.notify_poll_ms));
  }
}

// The outbox's backlog as gauges, once per sample interval rather than per scrape; a failed
// query leaves the last values (the claim beside it reports the outage).
net::awaitable<void> Notifier::SampleDepth() {
  try {
    const auto depth =
        co_await steps_->db.Run([](pqxx::connection& c) { return store::OutboxDepth(c); });
    steps_->metrics->OutboxDepth("kafka", depth.kafka);
    steps_->metrics->OutboxDepth("webhook", depth.webhook);
  } catch (const std::exception& e) {
    steps_->log->debug("outbox depth not sampled: {}", e.what());
  }
}

// Every report to the row names this claim's lease token: when the notifier stalled past its
// lease (paused, starved), the row has moved on to another claim and the report is dropped.
net::awaitable<void> Notifier::Deliver(store::OutboxItem item) {
  auto& s = *steps_;
  const auto report = [&](auto change) -> net::awaitable<void> {
    const bool applied =
        co_await s.db.Run([id = item.id, token = item.lease_token, change](pqxx::connection& c) {
          return change(c, id, token);
        });
    if (!applied)
      Log().warn(
          "job_id={} outbox lease lapsed before this delivery reported; its next holder "
          "decides",
          item.job_id);
    co_return;
  };
  if (!item.kafka_published) {
    const auto error =
        co_await Produce(s.producer, s.topics.completed, item.job_id, item.payload_json);
    if (!error.empty()) {
      Log().warn("job_id={} completion event not published: {}", item.job_id, error);
      co_await report([](pqxx::connection& c, std::int64_t id, const std::string& token) {
        return store::RetryOutboxLater(c, id, token, 2000);
      });
      co_return;
    }
    co_await report([](pqxx::connection& c, std::int64_t id, const std::string& token) {
      return store::MarkKafkaPublished(c, id, token);
    });
  }
  if (item.webhook_done || !item.callback_url) co_return;
  const auto timestamp = NowMs() / 1000;
  http::ClientRequest request;
  request.url = *item.callback_url;
  request.body = item.payload_json;
  request.timeout = std::chrono::milliseconds(s.config.webhook_timeout_ms);
  request.headers = WebhookHeaders(item, timestamp, s.config.webhook_key);
  const auto response = co_await http::Send(std::move(request));
  if (response.status >= 200 && response.status < 300) {
    s.metrics->Webhook("delivered");
    co_await report([](pqxx::connection& c, std::int64_t id, const std::string& token) {
      return store::MarkWebhookDelivered(c, id, token);
    });
    co_return;
  }
  const auto error = response.status ? "HTTP " + std::to_string(response.status) : response.error;
  // A generator of its own, not a thread_local: clang may keep a thread_local's address across
  // the co_awaits above, and this coroutine may have moved to another io thread since.
  std::mt19937 rng{std::random_device{}()};
  auto next = notify::NextRetry(s.config.webhook_retry, item.webhook_attempts + 1,
                                std::uniform_real_distribution<double>(0, 1)(rng));
  // 410 Gone: the receiver asks us to stop (Standard Webhooks).
  const bool dead = !next || response.status == 410;
  if (next && !response.retry_after.empty() &&
      response.retry_after.find_first_not_of("0123456789") == std::string::npos &&
      response.retry_after.size() < 7)
    next = std::max(*next, std::chrono::milliseconds(std::stoll(response.retry_after) * 1000));
  s.metrics->Webhook(dead ? "gave_up" : "failed");
  Log().info("job_id={} webhook attempt {} failed: {}{}", item.job_id, item.webhook_attempts + 1,
             error, dead ? " (giving up)" : "");
  co_await report([error, delay = next ? next->count() : 0, dead](
                      pqxx::connection& c, std::int64_t id, const std::string& token) {
    return store::MarkWebhookFailed(c, id, token, error, delay, dead);
  });
}

}  // namespace triage::app
