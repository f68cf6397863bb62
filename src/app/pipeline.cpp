#include "app/pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/except>
#include <random>
#include <spdlog/spdlog.h>

#include "app/models.hpp"
#include "classify/commands.hpp"
#include "core/ids.hpp"
#include "core/utf8.hpp"
#include "intake/submission.hpp"
#include "notify/webhook.hpp"
#include "providers/sim.hpp"
#include "route/policy.hpp"
#include "store/jobs.hpp"

namespace triage::app {
namespace net = boost::asio;
using nlohmann::json;
using core::JobState;

std::optional<Roles> Roles::Parse(std::string_view csv) {
  Roles roles{false, false, false, false};
  size_t start = 0;
  while (start <= csv.size()) {
    const auto end = std::min(csv.find(',', start), csv.size());
    const auto name = csv.substr(start, end - start);
    if (name == "api") roles.api = true;
    else if (name == "router") roles.router = true;
    else if (name == "worker") roles.worker = true;
    else if (name == "notifier") roles.notifier = true;
    else return std::nullopt;
    start = end + 1;
  }
  return roles;
}

std::unique_ptr<providers::ModelClient> MakeModel(const ModelConfig& model, const Config& config) {
  return BuildClient(model, config, std::make_shared<http::ClientPool>());
}

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Rfc3339(std::int64_t unix_ms) {
  const std::time_t seconds = unix_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return out;
}

net::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  net::steady_timer timer(co_await net::this_coro::executor, duration);
  co_await timer.async_wait(net::use_awaitable);
}

// Kafka delivery as an awaitable: resumes on the caller's executor with the error text
// (empty on success).
net::awaitable<std::string> Produce(queue::Producer& producer, const std::string& topic,
                                    const std::string& key, const std::string& payload) {
  co_return co_await net::async_initiate<decltype(net::use_awaitable), void(std::string)>(
      [&](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        producer.Produce(topic, key, payload, [shared](std::string error) {
          auto executor = net::get_associated_executor(*shared);
          net::post(executor, [shared, error = std::move(error)]() mutable {
            (*shared)(std::move(error));
          });
        });
      },
      net::use_awaitable);
}

// Infrastructure trouble (Kafka, a dropped Postgres connection): retried without limit, since
// giving up would lose an acknowledged job.
class TransientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A job lease this process holds: the token its conditional updates name, and when it runs
// out by this process's clock (taken before the lease was granted, so never later than the
// database's own expiry).
struct Lease {
  std::string token;
  std::chrono::steady_clock::time_point expires;
};

// The last "answer is X" in a model's text, else its last line. Verification (its own part)
// takes over extraction for verifiable domains.
std::string ExtractAnswer(const std::string& text) {
  static constexpr std::string_view kMarker = "answer is ";
  auto pos = text.rfind(kMarker);
  std::string answer = pos == std::string::npos ? text.substr(text.rfind('\n') + 1)
                                                : text.substr(pos + kMarker.size());
  while (!answer.empty() && (answer.back() == '.' || std::isspace(static_cast<unsigned char>(
                                                         answer.back()))))
    answer.pop_back();
  return answer;
}

std::map<std::string, std::string> SimHints(const std::string& metadata_json) {
  std::map<std::string, std::string> hints;
  const auto metadata = json::parse(metadata_json, nullptr, false);
  if (!metadata.is_object() || !metadata.contains("sim") || !metadata["sim"].is_object())
    return hints;
  for (const auto& [k, v] : metadata["sim"].items())
    hints[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return hints;
}

// One row per call the resilient, cached layer made: retries, fallbacks and cache hits (cost 0,
// no tokens billed) included.
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
      r.verdict = "error";
    }
    out.push_back(std::move(r));
  }
  return out;
}

json AttemptJson(const store::AttemptRecord& a) {
  json out = {{"role", a.role},
              {"model", a.model},
              {"provider", a.provider},
              {"tokens", {{"input", a.usage.input},
                          {"output", a.usage.output},
                          {"reasoning", a.usage.reasoning},
                          {"cached_read", a.usage.cached_read}}},
              {"cost_micros", a.cost_micros},
              {"latency_ms", a.latency_ms},
              {"verdict", a.verdict},
              {"cache_hit", a.cache_hit},
              {"simulated", a.simulated}};
  out["confidence"] = a.confidence ? json(*a.confidence) : json(nullptr);
  if (a.error) out["error"] = *a.error;
  return out;
}

json JobJson(const store::JobRecord& j) {
  json out = {{"id", j.id},
              {"tenant", j.tenant},
              {"state", core::ToString(j.state)},
              {"domain", j.task.domain},
              {"tier", j.tier ? json(*j.tier) : json(nullptr)},
              {"tier_reasons", j.tier_reasons},
              {"route", j.route ? json(*j.route) : json(nullptr)},
              {"answer", j.answer ? json(*j.answer) : json(nullptr)},
              {"verification", j.verification},
              {"error", j.error ? json(*j.error) : json(nullptr)},
              {"cost_micros", j.cost_micros},
              {"cost_usd", core::FormatUsd(j.cost_micros).substr(1)},
              {"created_at", j.created_at},
              {"completed_at", j.completed_at ? json(*j.completed_at) : json(nullptr)},
              {"deadline", j.deadline_unix_ms ? json(Rfc3339(*j.deadline_unix_ms)) : json(nullptr)},
              {"metadata", json::parse(j.metadata_json, nullptr, false)},
              {"result", j.result_json ? json::parse(*j.result_json, nullptr, false) : json(nullptr)}};
  json attempts = json::array();
  for (const auto& a : j.attempts) attempts.push_back(AttemptJson(a));
  out["attempts"] = std::move(attempts);
  return out;
}

// The envelope on `<prefix>.jobs` for a job already stored (from the API or the reaper).
template <class Job>  // store::NewJob or store::JobRecord
std::string EnvelopeFor(const Job& j) {
  json out = {{"v", 1}, {"id", j.id}, {"tenant", j.tenant}, {"task", j.task.text},
              {"domain", j.task.domain}, {"metadata", json::parse(j.metadata_json, nullptr, false)}};
  if (j.callback_url) out["callback_url"] = *j.callback_url;
  if (j.idempotency_key) out["idempotency_key"] = *j.idempotency_key;
  if (j.deadline_unix_ms) out["deadline"] = Rfc3339(*j.deadline_unix_ms);
  return out.dump();
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// JSON built outside coroutines: GCC 12 miscompiles initializer lists inside them.

std::string DeadLetterJson(const queue::Message& m, const std::string& reason,
                           const std::string& message) {
  json letter = {{"reason", reason}, {"message", message},   {"topic", m.topic},
                 {"partition", m.partition}, {"offset", m.offset}, {"key", m.key}};
  if (core::IsValidUtf8(m.payload)) letter["payload"] = m.payload;
  else letter["payload_base64"] = notify::Base64Encode(m.payload);
  return Dump(letter);
}

// The completion event: the outbox payload, the webhook body and the `completed` message.
std::string CompletionEvent(const store::JobRecord& job, const store::Completion& completion,
                            std::int64_t now_ms) {
  core::Micros cost = job.cost_micros;  // attempts before an escalation
  for (const auto& a : completion.attempts) cost += a.cost_micros;
  const auto last = completion.attempts.empty() ? store::AttemptRecord{} : completion.attempts.back();
  json data = {{"id", job.id},
               {"tenant", job.tenant},
               {"state", core::ToString(completion.state)},
               {"domain", job.task.domain},
               {"tier", job.tier ? json(*job.tier) : json(nullptr)},
               {"route", job.route ? json(*job.route) : json(nullptr)},
               {"answer", completion.answer ? json(*completion.answer) : json(nullptr)},
               {"verification", core::ToString(completion.verification)},
               {"error", completion.error ? json(*completion.error) : json(nullptr)},
               {"model", last.model},
               {"simulated", last.simulated},
               {"attempts", job.attempts.size() + completion.attempts.size()},
               {"cost_micros", cost},
               {"metadata", json::parse(job.metadata_json, nullptr, false)}};
  return Dump({{"type", "job." + std::string(core::ToString(completion.state))},
               {"timestamp", Rfc3339(now_ms)},
               {"data", std::move(data)}});
}

std::vector<std::pair<std::string, std::string>> WebhookHeaders(
    const store::OutboxItem& item, std::int64_t timestamp_s, const std::optional<std::string>& key) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/json"},
      {"webhook-id", item.webhook_id},
      {"webhook-timestamp", std::to_string(timestamp_s)}};
  if (key)
    headers.emplace_back("webhook-signature",
                         notify::Sign(*key, item.webhook_id, timestamp_s, item.payload_json));
  return headers;
}

std::string ErrorJson(const intake::Error& e) {
  json body = {{"error", {{"code", e.code}, {"message", e.message}}}};
  if (!e.field.empty()) body["error"]["field"] = e.field;
  return Dump(body);
}

std::string AcceptedJson(const store::InsertResult& inserted) {
  json body = {{"id", inserted.id}, {"duplicate", !inserted.inserted}};
  if (inserted.inserted) body["state"] = "queued";
  return Dump(body);
}

// Outside any coroutine: GCC 12 miscompiles aggregate initialisation inside one.
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
  return job;
}

std::string ResultJson(const providers::ModelResponse& r) {
  return Dump({{"text", r.text}, {"model", r.model}, {"finish_reason", r.finish_reason}});
}

}  // namespace

// What a client is asked to wait before retrying while the database is unreachable.
constexpr int kRetryAfterSeconds = 2;

struct Pipeline::State : std::enable_shared_from_this<State> {
  net::io_context& io;
  const Config& config;
  store::Db& db;
  queue::Producer& producer;
  Classifier classifier;
  Topics topics;
  std::shared_ptr<Models> models;  // every model call goes through its resilient, cached layer
  std::unique_ptr<http::Server> server;
  std::unique_ptr<queue::Consumer> router, worker;
  std::atomic<bool> running{false};
  net::strand<net::io_context::executor_type> notifier_strand;
  std::atomic<std::size_t> notifier_in_flight{0};
  std::shared_ptr<spdlog::logger> log = spdlog::default_logger();

  State(net::io_context& io, const Config& c, store::Db& db, queue::Producer& p, Classifier cl)
      : io(io), config(c), db(db), producer(p), classifier(std::move(cl)),
        topics(c.topics()), models(std::make_shared<Models>(c, &db)),
        notifier_strand(net::make_strand(io)) {}

  // ---- shared steps --------------------------------------------------------------------

  net::awaitable<void> MustProduce(const std::string& topic, const std::string& key,
                                   const std::string& payload) {
    auto error = co_await Produce(producer, topic, key, payload);
    if (!error.empty()) throw TransientError("kafka produce to " + topic + ": " + error);
  }

  net::awaitable<void> DeadLetter(const queue::Message& m, const std::string& reason,
                                  const std::string& message) {
    log->warn("dead-lettering {}/{}@{}: {}: {}", m.topic, m.partition, m.offset, reason, message);
    const auto letter = DeadLetterJson(m, reason, message);
    co_await MustProduce(topics.dlq, m.key, letter);
  }

  // Runs `step` until it succeeds: transient failures forever (with capped backoff), others a
  // few times before the message goes to the dead-letter topic with the reason.
  using Step = net::awaitable<void> (State::*)(const queue::Message&);
  net::awaitable<void> Process(queue::Message m, Step step) {
    auto self = shared_from_this();
    for (int attempt = 1;; ++attempt) {
      std::string failure;
      bool transient = false;
      try {
        co_await (this->*step)(m);
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

  net::awaitable<void> SendToReasoning(const std::string& id) {
    const std::string message = "{\"id\":\"" + id + "\"}";  // id is a UUID: no escaping
    co_await MustProduce(topics.reasoning, id, message);
  }

  providers::ModelRequest RequestFor(const store::JobRecord& job, int attempt) {
    providers::ModelRequest r;
    r.prompt = job.task.text;
    r.job_id = job.id;
    r.attempt = attempt;
    r.sim_hints = SimHints(job.metadata_json);
    return r;
  }

  // The call's deadline: the model's timeout, cut short by the job's own deadline.
  static providers::Deadline CallDeadline(const store::JobRecord& job, int timeout_seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    if (job.deadline_unix_ms) {
      const auto left = std::chrono::milliseconds(*job.deadline_unix_ms - NowMs());
      deadline = std::min(deadline, std::chrono::steady_clock::now() + left);
    }
    return deadline;
  }

  // Runs `fn` on the database, retrying while it is unreachable until `until` (backoff from
  // 200 ms to 5 s); other errors, and an outage that outlasts `until`, are thrown.
  template <class F>
  auto RetryWhileUnavailable(const std::string& id, std::chrono::steady_clock::time_point until,
                             F fn) -> net::awaitable<std::invoke_result_t<F&, pqxx::connection&>> {
    for (int attempt = 1;; ++attempt) {
      const auto backoff = std::chrono::milliseconds(std::min(5000, 100 << std::min(attempt, 6)));
      try {
        co_return co_await db.Run(fn);
      } catch (const std::exception& e) {
        if (!store::IsUnavailable(e) || std::chrono::steady_clock::now() + backoff >= until) throw;
        log->warn("job_id={} database unavailable, retrying as lease holder (attempt {}): {}", id,
                  attempt, e.what());
      }
      co_await Sleep(backoff);
    }
  }

  // Takes a lease with `take(connection, seconds, token)` (a store::LeaseFor... call) under a
  // token chosen here, so a retry after an in-doubt commit finds the lease it took.
  template <class Take>
  net::awaitable<std::optional<Lease>> TakeLease(const std::string& id, int seconds, Take take) {
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
  net::awaitable<bool> AsHolder(const std::string& id, const Lease& lease, F change) {
    co_return co_await RetryWhileUnavailable(id, lease.expires, std::move(change));
  }

  net::awaitable<void> Finish(const store::JobRecord& job, const Lease& lease,
                              store::Completion completion) {
    completion.event_json = CompletionEvent(job, completion, NowMs());
    const bool done = co_await AsHolder(
        job.id, lease, [id = job.id, token = lease.token, completion](pqxx::connection& c) {
          return store::CompleteJob(c, id, token, completion);
        });
    if (!done) log->info("job_id={} lease lost before completion; another holder finishes it", job.id);
  }

  net::awaitable<bool> ExpireIfLate(const store::JobRecord& job, const Lease& lease) {
    if (!job.deadline_unix_ms || *job.deadline_unix_ms > NowMs()) co_return false;
    store::Completion c;
    c.state = JobState::kExpired;
    c.error = "deadline passed before an answer";
    co_await Finish(job, lease, std::move(c));
    co_return true;
  }

  // ---- router ------------------------------------------------------------------------

  net::awaitable<void> RouteMessage(const queue::Message& m) {
    auto parsed = intake::ParseSubmission(m.payload, config.limits, NowMs(),
                                          intake::Source::kEnvelope);
    if (const auto* error = std::get_if<intake::Error>(&parsed)) {
      co_await DeadLetter(m, error->code, error->message);
      co_return;
    }
    const auto& s = std::get<intake::Submission>(parsed);
    const auto job = ToNewJob(
        s, s.id.value_or(core::UuidFromName(m.topic + '/' + std::to_string(m.partition) + '/' +
                                            std::to_string(m.offset))),
        "kafka");
    const auto inserted =
        co_await db.Run([job](pqxx::connection& c) { return store::InsertJob(c, job); });
    co_await RouteJob(inserted.id);
  }

  net::awaitable<void> RouteJob(const std::string& id) {
    auto job = co_await db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, false); });
    if (!job) throw std::runtime_error("job " + id + " is not in the database");
    if (core::IsFinal(job->state)) co_return;  // a redelivery of finished work
    if (job->state == JobState::kReasoningQueued) {
      co_await SendToReasoning(id);  // the hand-off may not have reached Kafka before a crash
      co_return;
    }
    auto classification = classifier(job->task.text);
    const auto cut_tier = classify::ApplyConfidenceCut(classification, config.policy.confidence_cut);
    if (cut_tier != classification.tier) {
      classification.reasons.push_back("confidence_cut:" +
                                       std::string(core::ToString(classification.tier)) + "->" +
                                       std::string(core::ToString(cut_tier)));
      classification.tier = cut_tier;
    }
    const auto tier = std::string(core::ToString(classification.tier));
    const auto route = route::Decide(config.policy, job->task.domain, classification.tier);
    job->tier = tier;
    job->tier_reasons = classification.reasons;
    job->route = std::string(route::ToString(route));
    const bool late = job->deadline_unix_ms && *job->deadline_unix_ms <= NowMs();
    if (route == route::Route::kReasoning && !late) {
      const bool marked = co_await db.Run([id, tier, reasons = classification.reasons](
                                              pqxx::connection& c) {
        return store::MarkReasoningQueued(c, id, tier, reasons);
      });
      if (marked) co_await SendToReasoning(id);
      co_return;
    }
    const auto lease = co_await TakeLease(
        id, config.InlineLeaseSeconds(),
        [id, tier, reasons = classification.reasons](pqxx::connection& c, int seconds,
                                                     const std::string& token) {
          return store::LeaseForInline(c, id, tier, reasons, seconds, token);
        });
    if (!lease) co_return;  // someone else holds it
    if (co_await ExpireIfLate(*job, *lease)) co_return;
    co_await AnswerInline(*job, *lease);
  }

  net::awaitable<void> AnswerInline(const store::JobRecord& job, const Lease& lease) {
    const auto outcome = co_await models->Call(
        config.standard_model, RequestFor(job, 0),
        CallDeadline(job, config.StandardModel().timeout_seconds), job.task.domain);
    auto attempts = AttemptRecords("inline", outcome);
    if (!outcome.response) {  // degrade upward: the reasoning model gets the task
      co_await Escalate(job, lease, std::move(attempts));
      co_return;
    }
    const auto& response = *outcome.response;
    if (route::ShouldEscalate(config.policy, response.confidence)) {
      attempts.back().verdict = "low_confidence";
      co_await Escalate(job, lease, std::move(attempts));
      co_return;
    }
    store::Completion c;
    c.answer = ExtractAnswer(response.text);
    c.result_json = ResultJson(response);
    c.attempts = std::move(attempts);
    co_await Finish(job, lease, std::move(c));
  }

  net::awaitable<void> Escalate(const store::JobRecord& job, const Lease& lease,
                                std::vector<store::AttemptRecord> attempts) {
    const bool moved = co_await AsHolder(
        job.id, lease,
        [id = job.id, token = lease.token, attempts = std::move(attempts)](pqxx::connection& c) {
          return store::EscalateToReasoning(c, id, token, attempts);
        });
    if (moved) co_await SendToReasoning(job.id);
  }

  // ---- worker ------------------------------------------------------------------------

  net::awaitable<void> ReasonMessage(const queue::Message& m) {
    const auto doc = json::parse(m.payload, nullptr, false);
    if (!doc.is_object() || !doc.contains("id") || !doc["id"].is_string() ||
        !core::IsUuid(doc["id"].get<std::string>())) {
      co_await DeadLetter(m, "invalid_field", "reasoning message needs {\"id\": uuid}");
      co_return;
    }
    const auto id = doc["id"].get<std::string>();
    const auto lease = co_await TakeLease(
        id, config.ReasoningLeaseSeconds(),
        [id](pqxx::connection& c, int seconds, const std::string& token) {
          return store::LeaseForReasoning(c, id, seconds, token);
        });
    if (!lease) co_return;  // finished, or held by another worker
    auto job = co_await db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, true); });
    if (!job) co_return;
    if (co_await ExpireIfLate(*job, *lease)) co_return;

    store::Completion c;
    const int prior = static_cast<int>(job->attempts.size());
    // Retries (with backoff), fallbacks and the cache live in the model layer
    // (models.<name>.retry_*, fallbacks, [cache]); each call comes back as an attempt.
    const auto outcome = co_await models->Call(
        config.reasoning_model, RequestFor(*job, prior),
        CallDeadline(*job, config.ReasoningModel().timeout_seconds), job->task.domain);
    c.attempts = AttemptRecords("reasoning", outcome);
    if (outcome.response) {
      c.answer = ExtractAnswer(outcome.response->text);
      c.result_json = ResultJson(*outcome.response);
    } else {
      const bool late = job->deadline_unix_ms && *job->deadline_unix_ms <= NowMs();
      c.state = late ? JobState::kExpired : JobState::kFailed;
      c.error = outcome.error ? std::string(outcome.error->what()) : "no model answered";
    }
    co_await Finish(*job, *lease, std::move(c));
  }

  // ---- reaper ------------------------------------------------------------------------

  net::awaitable<void> ReaperLoop() {
    auto self = shared_from_this();
    while (running) {
      co_await Sleep(std::chrono::seconds(config.reaper_interval_seconds));
      try {
        const auto stuck = co_await db.Run([grace = config.reaper_grace_seconds](pqxx::connection& c) {
          return store::ClaimStuckJobs(c, grace, 500);
        });
        for (const auto& s : stuck) {
          log->info("job_id={} re-sent to {} by the reaper", s.id, s.topic_role);
          if (s.topic_role == "reasoning") {
            co_await SendToReasoning(s.id);
            continue;
          }
          auto job = co_await db.Run([id = s.id](pqxx::connection& c) {
            return store::GetJob(c, id, false);
          });
          if (job) co_await MustProduce(topics.jobs, job->id, EnvelopeFor(*job));
        }
      } catch (const std::exception& e) {
        log->warn("reaper pass failed: {}", e.what());
      }
    }
  }

  // ---- notifier ----------------------------------------------------------------------

  net::awaitable<void> NotifierLoop() {
    auto self = shared_from_this();
    while (running) {
      const auto room = config.notify_max_in_flight - notifier_in_flight;
      std::size_t claimed = 0;
      if (room > 0) {
        try {
          const auto lease = config.webhook_timeout_ms / 1000 + 60;
          auto items = co_await db.Run([room, lease](pqxx::connection& c) {
            return store::ClaimOutbox(c, static_cast<int>(room), lease);
          });
          claimed = items.size();
          for (auto& item : items) {
            ++notifier_in_flight;
            net::co_spawn(notifier_strand, Deliver(std::move(item)),
                          [self](std::exception_ptr e) {
                            --self->notifier_in_flight;
                            if (!e) return;
                            try { std::rethrow_exception(e); } catch (const std::exception& ex) {
                              self->log->warn("delivery failed: {}", ex.what());
                            }
                          });
          }
        } catch (const std::exception& e) {
          log->warn("outbox claim failed: {}", e.what());
        }
      }
      if (claimed == 0 || claimed < room) co_await Sleep(std::chrono::milliseconds(config.notify_poll_ms));
    }
  }

  net::awaitable<void> Deliver(store::OutboxItem item) {
    if (!item.kafka_published) {
      const auto error = co_await Produce(producer, topics.completed, item.job_id, item.payload_json);
      if (!error.empty()) {
        log->warn("job_id={} completion event not published: {}", item.job_id, error);
        co_await db.Run([id = item.id](pqxx::connection& c) { store::RetryOutboxLater(c, id, 2000); });
        co_return;
      }
      co_await db.Run([id = item.id](pqxx::connection& c) { store::MarkKafkaPublished(c, id); });
    }
    if (item.webhook_done || !item.callback_url) co_return;
    const auto timestamp = NowMs() / 1000;
    http::ClientRequest request;
    request.url = *item.callback_url;
    request.body = item.payload_json;
    request.timeout = std::chrono::milliseconds(config.webhook_timeout_ms);
    request.headers = WebhookHeaders(item, timestamp, config.webhook_key);
    const auto response = co_await http::Send(std::move(request));
    if (response.status >= 200 && response.status < 300) {
      co_await db.Run([id = item.id](pqxx::connection& c) { store::MarkWebhookDelivered(c, id); });
      co_return;
    }
    const auto error = response.status ? "HTTP " + std::to_string(response.status) : response.error;
    thread_local std::mt19937 rng{std::random_device{}()};
    auto next = notify::NextRetry(config.webhook_retry, item.webhook_attempts + 1,
                                  std::uniform_real_distribution<double>(0, 1)(rng));
    // 410 Gone: the receiver asks us to stop (Standard Webhooks).
    const bool dead = !next || response.status == 410;
    if (next && !response.retry_after.empty() &&
        response.retry_after.find_first_not_of("0123456789") == std::string::npos &&
        response.retry_after.size() < 7)
      next = std::max(*next, std::chrono::milliseconds(std::stoll(response.retry_after) * 1000));
    log->info("job_id={} webhook attempt {} failed: {}{}", item.job_id, item.webhook_attempts + 1,
              error, dead ? " (giving up)" : "");
    co_await db.Run([id = item.id, error, delay = next ? next->count() : 0, dead](pqxx::connection& c) {
      store::MarkWebhookFailed(c, id, error, delay, dead);
    });
  }

  // ---- api ---------------------------------------------------------------------------

  // Every request: while the database is unreachable the answer is 503 with Retry-After (as
  // /readyz reports), never a 500, so clients and load balancers know to come back.
  net::awaitable<http::Response> HandleHttp(http::Request req) {
    std::string unavailable;
    try {
      co_return co_await Serve(req);
    } catch (const std::exception& e) {
      if (!store::IsUnavailable(e)) throw;
      unavailable = e.what();
    }
    log->warn("{} {}: database unavailable: {}", std::string(req.method_string()),
              std::string(req.target()), unavailable);
    auto res = http::ErrorResponse(req, http::Status::service_unavailable, "unavailable",
                                   "the database is unavailable; retry later (an idempotency_key makes a "
                                   "retried submission safe)");
    res.set(boost::beast::http::field::retry_after, std::to_string(kRetryAfterSeconds));
    co_return res;
  }

  net::awaitable<http::Response> Serve(const http::Request& req) {
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    const auto method = req.method();
    using boost::beast::http::verb;
    if (path == "/healthz") co_return http::JsonResponse(req, http::Status::ok, R"({"status":"ok"})");
    if (path == "/readyz") {
      try {
        co_await db.Run([](pqxx::connection& c) { pqxx::nontransaction(c).exec("SELECT 1"); });
        co_return http::JsonResponse(req, http::Status::ok, R"({"status":"ready"})");
      } catch (const std::exception& e) {
        co_return http::ErrorResponse(req, http::Status::service_unavailable, "not_ready",
                                      "database unavailable");
      }
    }
    std::string tenant = "default";
    if (auto it = req.find("x-tenant"); it != req.end()) {
      tenant = std::string(it->value());
      if (tenant.empty() || tenant.size() > 128 || !core::IsValidUtf8(tenant))
        co_return http::ErrorResponse(req, http::Status::bad_request, "invalid_header",
                                      "X-Tenant must be 1..128 bytes of UTF-8");
    }
    if (path == "/v1/jobs") {
      if (method != verb::post)
        co_return http::ErrorResponse(req, http::Status::method_not_allowed, "method_not_allowed",
                                      "use POST");
      co_return co_await Submit(req, tenant);
    }
    constexpr std::string_view kJobPrefix = "/v1/jobs/";
    if (path.starts_with(kJobPrefix)) {
      if (method != verb::get)
        co_return http::ErrorResponse(req, http::Status::method_not_allowed, "method_not_allowed",
                                      "use GET");
      const auto id = path.substr(kJobPrefix.size());
      if (!core::IsUuid(id))
        co_return http::ErrorResponse(req, http::Status::bad_request, "invalid_id",
                                      "job id must be a UUID");
      auto job = co_await db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, true); });
      if (!job || job->tenant != tenant)
        co_return http::ErrorResponse(req, http::Status::not_found, "not_found", "no such job");
      co_return http::JsonResponse(req, http::Status::ok, Dump(JobJson(*job)));
    }
    co_return http::ErrorResponse(req, http::Status::not_found, "not_found", "no such endpoint");
  }

  net::awaitable<http::Response> Submit(const http::Request& req, const std::string& tenant) {
    if (auto it = req.find(boost::beast::http::field::content_type);
        it != req.end() && !it->value().starts_with("application/json"))
      co_return http::ErrorResponse(req, http::Status::unsupported_media_type,
                                    "unsupported_media_type", "send application/json");
    auto parsed = intake::ParseSubmission(req.body(), config.limits, NowMs(), intake::Source::kHttp);
    if (const auto* e = std::get_if<intake::Error>(&parsed)) {
      const auto status = e->code == "too_large"        ? http::Status::payload_too_large
                          : e->code == "unknown_domain" ? http::Status::unprocessable_entity
                                                        : http::Status::bad_request;
      co_return http::JsonResponse(req, status, ErrorJson(*e));
    }
    const auto& s = std::get<intake::Submission>(parsed);
    auto job = ToNewJob(s, core::NewUuidV7(), "http");
    job.tenant = tenant;
    const auto inserted = co_await db.Run([job](pqxx::connection& c) { return store::InsertJob(c, job); });
    if (inserted.inserted) {
      // The row is durable: if this message is lost, the reaper sends the job again.
      producer.Produce(topics.jobs, job.id, EnvelopeFor(job), [id = job.id, log = log](std::string e) {
        if (!e.empty()) log->warn("job_id={} not yet on Kafka ({}); the reaper will resend it", id, e);
      });
    }
    auto res = http::JsonResponse(req, inserted.inserted ? http::Status::accepted : http::Status::ok,
                                  AcceptedJson(inserted));
    res.set(boost::beast::http::field::location, "/v1/jobs/" + inserted.id);
    co_return res;
  }
};

Pipeline::Pipeline(net::io_context& io, const Config& config, store::Db& db,
                   queue::Producer& producer, Classifier classifier)
    : state_(std::make_shared<State>(io, config, db, producer, std::move(classifier))) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Start(const Roles& roles) {
  auto s = state_;
  s->running = true;
  const auto& c = s->config;
  // Each message runs as its own coroutine; `done` lets the consumer commit its offset.
  auto on_message = [s](State::Step step) {
    return [s, step](queue::Message m, queue::Consumer::Done done) {
      net::co_spawn(s->io, s->Process(std::move(m), step), [done](std::exception_ptr) { done(); });
    };
  };
  if (roles.router) {
    s->router = std::make_unique<queue::Consumer>(
        c.kafka,
        queue::ConsumerOptions{c.router_group, {s->topics.jobs}, c.router_max_in_flight,
                               c.session_timeout_ms},
        on_message(&State::RouteMessage));
    s->router->Start();
    net::co_spawn(s->io, s->ReaperLoop(), net::detached);
  }
  if (roles.worker) {
    s->worker = std::make_unique<queue::Consumer>(
        c.kafka,
        queue::ConsumerOptions{c.worker_group, {s->topics.reasoning}, c.worker_max_in_flight,
                               c.session_timeout_ms},
        on_message(&State::ReasonMessage));
    s->worker->Start();
  }
  if (roles.notifier) net::co_spawn(s->notifier_strand, s->NotifierLoop(), net::detached);
  if (roles.api) {
    s->server = std::make_unique<http::Server>(
        s->io, c.api, [s](http::Request r) { return s->HandleHttp(std::move(r)); });
    s->server->Start();
  }
}

void Pipeline::Stop() {
  auto& s = *state_;
  s.running = false;
  if (s.server) s.server->Stop();
  if (s.router) s.router->Stop();
  if (s.worker) s.worker->Stop();
}

unsigned short Pipeline::ApiPort() const { return state_->server ? state_->server->Port() : 0; }

net::awaitable<http::Response> Pipeline::HandleHttp(http::Request request) {
  return state_->HandleHttp(std::move(request));
}

}  // namespace triage::app
