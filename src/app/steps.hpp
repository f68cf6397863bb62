// The steps every role is built from: the process's connections (io, config, Postgres, Kafka,
// the models, the log) and what the roles do with them alike — produce or dead-letter a
// message, retry a message's processing, take a lease and make changes only its holder may
// (finish, escalate), build a model request. Shared by the roles through a shared_ptr that
// their coroutines hold, so it outlives every coroutine in flight. Its members are set at
// construction and not changed after, except `running`.
#pragma once
#include <algorithm>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "app/config.hpp"
#include "core/ids.hpp"
#include "intake/submission.hpp"
#include "metrics/metrics.hpp"
#include "providers/model_client.hpp"
#include "queue/kafka.hpp"
#include "route/measured.hpp"
#include "store/db.hpp"
#include "store/jobs.hpp"

namespace spdlog {
class logger;
}

namespace triage::app {

class Models;
struct AnswerEstimation;

std::int64_t NowMs();
boost::asio::awaitable<void> Sleep(std::chrono::milliseconds duration);

// Kafka delivery as an awaitable: resumes on the caller's executor with the error text
// (empty on success).
boost::asio::awaitable<std::string> Produce(queue::Producer& producer, const std::string& topic,
                                            const std::string& key, const std::string& payload);

// A job lease this process holds: the token its conditional updates name, and when it runs
// out by this process's clock (taken before the lease was granted, so never later than the
// database's own expiry).
struct Lease {
  std::string token;
  std::chrono::steady_clock::time_point expires;
};

// One row per call the resilient, cached layer made: retries, fallbacks and cache hits (cost 0,
// no tokens billed) included.
std::vector<store::AttemptRecord> AttemptRecords(const std::string& role,
                                                 const providers::CallOutcome& outcome);

// Outside any coroutine: GCC 12 miscompiles aggregate initialisation inside one.
store::NewJob ToNewJob(const intake::Submission& s, std::string id, std::string source);

// What a role does with one consumed message; it may throw (see Steps::Process).
using MessageStep = std::function<boost::asio::awaitable<void>(const queue::Message&)>;

struct Steps : std::enable_shared_from_this<Steps> {
  Steps(boost::asio::io_context& io, const Config& config, store::Db& db, queue::Producer& producer,
        std::shared_ptr<const AnswerEstimation> estimation = nullptr);

  boost::asio::io_context& io;
  const Config& config;
  store::Db& db;
  queue::Producer& producer;
  Topics topics;
  // What this process saw (GET /metrics); the models layer records every call in it.
  std::shared_ptr<metrics::Metrics> metrics;
  std::shared_ptr<Models> models;  // every model call goes through its resilient, cached layer
  // The ladder with each model's measured cost and latency in place of the configured ones.
  std::shared_ptr<route::MeasuredLadder> ladder;
  // The learned answer estimator (strategy.answer_estimator); nullptr: none configured.
  std::shared_ptr<const AnswerEstimation> estimation;
  std::shared_ptr<spdlog::logger> log;
  std::atomic<bool> running{false};  // the loops (reaper, notifier) run while it is set
  // Answers are checked here, off the io thread: a code check runs the sandbox for seconds.
  boost::asio::thread_pool verify_pool{2};

  // A started consumer of `topic` whose every message runs as its own coroutine through
  // Process(step); its offset is committed once that coroutine ends.
  std::unique_ptr<queue::Consumer> Consume(const std::string& group, const std::string& topic,
                                           std::size_t max_in_flight, MessageStep step);

  // Runs `step` until it succeeds: transient failures forever (with capped backoff), others a
  // few times before the message goes to the dead-letter topic with the reason.
  boost::asio::awaitable<void> Process(queue::Message m, MessageStep step);

  // Produces or throws a transient error (retried by Process).
  boost::asio::awaitable<void> MustProduce(const std::string& topic, const std::string& key,
                                           const std::string& payload);
  boost::asio::awaitable<void> DeadLetter(const queue::Message& m, const std::string& reason,
                                          const std::string& message);
  // Hands the job to the worker on `<prefix>.reasoning`.
  boost::asio::awaitable<void> SendToReasoning(const std::string& id);

  // The request for the job's n-th sample (a simulated model's draw follows the sample).
  providers::ModelRequest RequestFor(const store::JobRecord& job, int sample) const;
  // The call's deadline: the model's timeout, cut short by the job's own deadline.
  static providers::Deadline CallDeadline(const store::JobRecord& job, int timeout_seconds);

  // Runs `fn` on the database, retrying while it is unreachable until `until` (backoff from
  // 200 ms to 5 s); other errors, and an outage that outlasts `until`, are thrown.
  template <class F>
  auto RetryWhileUnavailable(const std::string& id, std::chrono::steady_clock::time_point until,
                             F fn)
      -> boost::asio::awaitable<std::invoke_result_t<F&, pqxx::connection&>> {
    for (int attempt = 1;; ++attempt) {
      const auto backoff = std::chrono::milliseconds(std::min(5000, 100 << std::min(attempt, 6)));
      try {
        co_return co_await db.Run(fn);
      } catch (const std::exception& e) {
        if (!store::IsUnavailable(e) || std::chrono::steady_clock::now() + backoff >= until) throw;
        WarnRetryingAsHolder(id, attempt, e);
      }
      co_await Sleep(backoff);
    }
  }

  // Takes a lease with `take(connection, seconds, token)` (a store::LeaseFor... call) under a
  // token chosen here, so a retry after an in-doubt commit finds the lease it took.
  template <class Take>
  boost::asio::awaitable<std::optional<Lease>> TakeLease(const std::string& id, int seconds,
                                                         Take take) {
    const auto expires = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    auto token = co_await RetryWhileUnavailable(
        id, expires, [seconds, take, token = core::NewUuidV7()](pqxx::connection& c) {
          return take(c, seconds, token);
        });
    if (!token) co_return std::nullopt;
    co_return Lease{std::move(*token), expires};
  }

  // A change only the lease holder may make (complete, escalate). While the database is
  // unreachable the holder keeps trying until its lease runs out, rather than leaving the job
  // `running` for the reaper. Each change is conditional on the lease token, so a retry after a
  // commit that did land (in doubt) changes nothing and returns false.
  template <class F>
  auto AsHolder(const std::string& id, const Lease& lease, F change)
      -> boost::asio::awaitable<std::invoke_result_t<F&, pqxx::connection&>> {
    co_return co_await RetryWhileUnavailable(id, lease.expires, std::move(change));
  }

  // Completes the job (answer, failure or expiry) with its completion event, as lease holder.
  boost::asio::awaitable<void> Finish(const store::JobRecord& job, const Lease& lease,
                                      store::Completion completion);
  // Expires the job if its deadline has passed; true when it did.
  boost::asio::awaitable<bool> ExpireIfLate(const store::JobRecord& job, const Lease& lease);

 private:
  void WarnRetryingAsHolder(const std::string& id, int attempt, const std::exception& e);
};

}  // namespace triage::app
