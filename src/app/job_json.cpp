#include "app/job_json.hpp"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "core/utf8.hpp"
#include "intake/strict_json.hpp"
#include "notify/webhook.hpp"

namespace triage::app {
using nlohmann::json;

namespace {

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json AttemptJson(const store::AttemptRecord& a) {
  json out = {{"role", a.role},
              {"model", a.model},
              {"provider", a.provider},
              {"tokens",
               {{"input", a.usage.input},
                {"output", a.usage.output},
                {"reasoning", a.usage.reasoning},
                {"cached_read", a.usage.cached_read}}},
              {"cost_micros", a.cost_micros},
              {"latency_ms", a.latency_ms},
              {"verdict", a.verdict},
              {"cache_hit", a.cache_hit},
              {"simulated", a.simulated}};
  out["confidence"] = a.confidence ? json(*a.confidence) : json(nullptr);
  out["stage"] = a.stage ? json(*a.stage) : json(nullptr);
  out["sample"] = a.sample ? json(*a.sample) : json(nullptr);
  if (a.error) out["error"] = *a.error;
  return out;
}

template <class Job>  // store::NewJob or store::JobRecord
std::string Envelope(const Job& j) {
  json out = {{"v", 1},
              {"id", j.id},
              {"tenant", j.tenant},
              {"task", j.task.text},
              {"domain", j.task.domain},
              {"metadata", json::parse(j.metadata_json, nullptr, false)}};
  if (j.callback_url) out["callback_url"] = *j.callback_url;
  if (j.idempotency_key) out["idempotency_key"] = *j.idempotency_key;
  if (j.deadline_unix_ms) out["deadline"] = Rfc3339(*j.deadline_unix_ms);
  if (j.verify_json) out["verify"] = json::parse(*j.verify_json, nullptr, false);
  if (j.max_cost_micros) out["max_cost_usd"] = static_cast<double>(*j.max_cost_micros) / 1e6;
  return out.dump();
}

}  // namespace

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

std::string JobViewJson(const store::JobRecord& j) {
  json out = {
      {"id", j.id},
      {"tenant", j.tenant},
      {"state", core::ToString(j.state)},
      {"domain", j.task.domain},
      {"tier", j.tier ? json(*j.tier) : json(nullptr)},
      {"tier_reasons", j.tier_reasons},
      {"route", j.route ? json(*j.route) : json(nullptr)},
      {"answer", j.answer ? json(*j.answer) : json(nullptr)},
      {"verification", j.verification},
      {"degraded", j.degraded},
      {"decision", j.decision_json ? json::parse(*j.decision_json, nullptr, false) : json(nullptr)},
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
  return Dump(out);
}

std::string AcceptedJson(const store::InsertResult& inserted) {
  json body = {{"id", inserted.id}, {"duplicate", !inserted.inserted}};
  if (inserted.inserted) body["state"] = "queued";
  return Dump(body);
}

std::string CancelledJson(const std::string& id) {
  return Dump({{"id", id}, {"state", "cancelled"}});
}

std::string ErrorJson(const intake::Error& e) {
  json body = {{"error", {{"code", e.code}, {"message", e.message}}}};
  if (!e.field.empty()) body["error"]["field"] = e.field;
  return Dump(body);
}

std::variant<store::Feedback, intake::Error> ParseFeedback(std::string_view body) {
  using Error = intake::Error;
  if (!core::IsValidUtf8(body)) return Error{"invalid_utf8", "", "body is not valid UTF-8"};
  auto parsed = intake::ParseStrictJson(body);
  if (auto* problem = std::get_if<intake::JsonProblem>(&parsed))
    return Error{problem->code, problem->field, problem->message};
  const json& doc = std::get<json>(parsed);
  if (!doc.is_object()) return Error{"not_an_object", "", "body must be a JSON object"};
  store::Feedback f;
  for (const auto& [key, value] : doc.items()) {
    if (key == "correct") {
      if (!value.is_boolean()) return Error{"invalid_field", key, "correct must be true or false"};
      f.correct = value.get<bool>();
    } else if (key == "gold") {
      // A JSON number would reach us re-printed (4.50 as 4.5): only text is kept as sent.
      if (!value.is_string() || value.get_ref<const std::string&>().empty())
        return Error{"invalid_field", key,
                     "gold must be a non-empty string (a number as text, e.g. \"4.50\")"};
      f.gold = value.get<std::string>();
      if (f.gold->size() > store::kMaxGoldBytes)
        return Error{"too_large", key,
                     "gold must be at most " + std::to_string(store::kMaxGoldBytes) + " bytes"};
    } else {
      return Error{"unknown_field", key, "unknown field '" + key + "': send correct or gold"};
    }
  }
  if (f.correct && f.gold)
    return Error{"invalid_field", "gold", "send either correct or gold, not both"};
  if (!f.correct && !f.gold)
    return Error{"missing_field", "correct", "send {\"correct\": true|false} or {\"gold\": ...}"};
  return f;
}

namespace {
json FeedbackObject(const std::string& id, const store::Feedback& f) {
  json feedback = json::object();
  if (f.correct) feedback["correct"] = *f.correct;
  if (f.gold) feedback["gold"] = *f.gold;
  return {{"job_id", id}, {"feedback", feedback}, {"created_at", f.created_at}};
}
}  // namespace

std::string FeedbackJson(const std::string& id, const store::Feedback& f) {
  return Dump(FeedbackObject(id, f));
}

std::string FeedbackConflictJson(const std::string& id, const store::Feedback& stored) {
  const auto existing = FeedbackObject(id, stored);
  return Dump(
      {{"error",
        {{"code", "feedback_exists"},
         {"message", "the job already has different feedback, " + Dump(existing["feedback"]) +
                         " given at " + stored.created_at + "; feedback is kept as first given"},
         {"existing", existing}}}});
}

std::string EnvelopeFor(const store::NewJob& job) { return Envelope(job); }
std::string EnvelopeFor(const store::JobRecord& job) { return Envelope(job); }

std::string ReasoningMessage(const std::string& id) {
  return "{\"id\":\"" + id + "\"}";  // id is a UUID: no escaping
}

std::optional<std::string> ParseReasoningMessage(std::string_view payload) {
  const auto doc = json::parse(payload, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  const auto id = doc.find("id");
  if (id == doc.end() || !id->is_string() || !core::IsUuid(id->get<std::string>()))
    return std::nullopt;
  return id->get<std::string>();
}

std::string DeadLetterJson(const queue::Message& m, const std::string& reason,
                           const std::string& message) {
  json letter = {{"reason", reason},         {"message", message}, {"topic", m.topic},
                 {"partition", m.partition}, {"offset", m.offset}, {"key", m.key}};
  if (core::IsValidUtf8(m.payload))
    letter["payload"] = m.payload;
  else
    letter["payload_base64"] = notify::Base64Encode(m.payload);
  return Dump(letter);
}

std::string ResultJson(const std::string& text, const std::string& model, const std::string& rung) {
  return Dump({{"text", text}, {"model", model}, {"rung", rung}});
}

std::string CompletionEvent(const store::JobRecord& job, const store::Completion& completion,
                            std::int64_t now_ms) {
  // Attempts before this run (an escalation's), this run's, and any the completion writes.
  core::Micros cost = job.cost_micros + completion.recorded_cost;
  for (const auto& a : completion.attempts) cost += a.cost_micros;
  const auto last =
      completion.attempts.empty() ? store::AttemptRecord{} : completion.attempts.back();
  const auto decision = completion.decision_json
                            ? json::parse(*completion.decision_json, nullptr, false)
                            : json(nullptr);
  // The model that gave the answer (a best-of-n winner need not be the last call).
  const auto model = decision.is_object() && decision["answered_by"].is_object()
                         ? decision["answered_by"].value("model", last.model)
                         : last.model;
  json data = {
      {"id", job.id},
      {"tenant", job.tenant},
      {"state", core::ToString(completion.state)},
      {"domain", job.task.domain},
      {"tier", job.tier ? json(*job.tier) : json(nullptr)},
      {"route", job.route ? json(*job.route) : json(nullptr)},
      {"answer", completion.answer ? json(*completion.answer) : json(nullptr)},
      {"verification", core::ToString(completion.verification)},
      {"degraded", completion.degraded},
      {"decision", decision},
      {"error", completion.error ? json(*completion.error) : json(nullptr)},
      {"model", model},
      {"simulated", last.simulated},
      {"attempts", job.attempts.size() + completion.recorded_attempts + completion.attempts.size()},
      {"cost_micros", cost},
      {"metadata", json::parse(job.metadata_json, nullptr, false)}};
  return Dump({{"type", "job." + std::string(core::ToString(completion.state))},
               {"timestamp", Rfc3339(now_ms)},
               {"data", std::move(data)}});
}

std::vector<std::pair<std::string, std::string>> WebhookHeaders(
    const store::OutboxItem& item, std::int64_t timestamp_s,
    const std::optional<std::string>& key) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/json"},
      {"webhook-id", item.webhook_id},
      {"webhook-timestamp", std::to_string(timestamp_s)}};
  if (key)
    headers.emplace_back("webhook-signature",
                         notify::Sign(*key, item.webhook_id, timestamp_s, item.payload_json));
  return headers;
}

std::string CancellationEvent(const store::JobRecord& job, std::int64_t now_ms) {
  store::Completion c;
  c.state = core::JobState::kCancelled;
  c.error = "cancelled by the client";
  return CompletionEvent(job, c, now_ms);
}

}  // namespace triage::app
