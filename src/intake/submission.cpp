#include "intake/submission.hpp"

#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "core/url.hpp"
#include "core/utf8.hpp"
#include "intake/strict_json.hpp"
#include "verify/spec.hpp"

namespace triage::intake {
namespace {

using nlohmann::json;

Error Fail(std::string code, std::string field, std::string message) {
  return Error{std::move(code), std::move(field), std::move(message)};
}

int Digits(std::string_view s, size_t pos, size_t n, bool& ok) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') {
      ok = false;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// timegm() would move a day the month lacks ("02-31") into the next month: it is refused.
int DaysIn(int year, int month0) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month0 < 0 || month0 > 11) return 0;
  return month0 == 1 && leap ? 29 : kDays[month0];
}

}  // namespace

std::optional<std::int64_t> ParseRfc3339(std::string_view s) {
  bool ok = true;
  std::tm tm{};
  tm.tm_year = Digits(s, 0, 4, ok) - 1900;
  tm.tm_mon = Digits(s, 5, 2, ok) - 1;
  tm.tm_mday = Digits(s, 8, 2, ok);
  tm.tm_hour = Digits(s, 11, 2, ok);
  tm.tm_min = Digits(s, 14, 2, ok);
  tm.tm_sec = Digits(s, 17, 2, ok);
  if (!ok || s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':' || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
      tm.tm_mday > DaysIn(tm.tm_year + 1900, tm.tm_mon) || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  size_t pos = 19;
  std::int64_t millis = 0;
  if (s[pos] == '.') {
    int scale = 100;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
    }
  }
  std::int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    const int hh = Digits(s, pos + 1, 2, ok), mm = Digits(s, pos + 4, 2, ok);
    if (!ok || pos + 6 != s.size() || s[pos + 3] != ':' || hh > 23 || mm > 59) return std::nullopt;
    offset_s = sign * (hh * 3600 + mm * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t seconds = timegm(&tm) - offset_s;
  return seconds * 1000 + millis;
}

std::variant<Submission, Error> ParseSubmission(std::string_view body, const Limits& limits,
                                                std::int64_t now_ms, Source source) {
  if (!core::IsValidUtf8(body)) return Fail("invalid_utf8", "", "body is not valid UTF-8");
  auto parsed = ParseStrictJson(body);
  if (auto* problem = std::get_if<JsonProblem>(&parsed))
    return Fail(problem->code, problem->field, problem->message);
  const json& doc = std::get<json>(parsed);
  if (!doc.is_object()) return Fail("not_an_object", "", "body must be a JSON object");

  Submission s;
  for (const auto& [key, value] : doc.items()) {
    if (key == "task") {
      if (!value.is_string()) return Fail("invalid_field", key, "task must be a string");
      s.task = value.get<std::string>();
    } else if (key == "domain") {
      if (value.is_null()) continue;
      if (!value.is_string()) return Fail("invalid_field", key, "domain must be a string");
      s.domain = value.get<std::string>();
    } else if (key == "callback_url") {
      if (value.is_null()) continue;
      if (!value.is_string() || value.get_ref<const std::string&>().size() > 2048)
        return Fail("invalid_field", key, "callback_url must be an http(s) URL of <= 2048 bytes");
      if (std::string why; !core::ParseUrl(value.get_ref<const std::string&>(), &why))
        return Fail("invalid_field", key, "callback_url is not usable: " + why);
      s.callback_url = value.get<std::string>();
    } else if (key == "idempotency_key") {
      if (value.is_null()) continue;
      if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
          value.get_ref<const std::string&>().size() > 256)
        return Fail("invalid_field", key, "idempotency_key must be a string of 1..256 bytes");
      s.idempotency_key = value.get<std::string>();
    } else if (key == "deadline") {
      if (value.is_null()) continue;
      std::optional<std::int64_t> at;
      if (value.is_number() && value.get<double>() > 0 &&
          value.get<double>() <= static_cast<double>(limits.max_deadline_seconds)) {
        at = now_ms + static_cast<std::int64_t>(value.get<double>() * 1000);
      } else if (value.is_string()) {
        at = ParseRfc3339(value.get<std::string>());
      }
      // An envelope's deadline may have passed while it waited in Kafka (or in the queue the
      // reaper re-sends from): the job is read, and the router expires it, a final state.
      const bool late_allowed = source == Source::kEnvelope;
      if (!at || (*at <= now_ms && !late_allowed) ||
          *at > now_ms + limits.max_deadline_seconds * 1000)
        return Fail("invalid_field", key,
                    "deadline must be a future RFC 3339 time or a positive number of seconds, "
                    "at most " +
                        std::to_string(limits.max_deadline_seconds) + " s away");
      s.deadline_unix_ms = at;
    } else if (key == "metadata") {
      if (value.is_null()) continue;
      if (!value.is_object()) return Fail("invalid_field", key, "metadata must be an object");
      s.metadata_json = value.dump();
      if (s.metadata_json.size() > limits.max_metadata_bytes)
        return Fail("too_large", key,
                    "metadata exceeds " + std::to_string(limits.max_metadata_bytes) + " bytes");
    } else if (key == "verify") {
      if (value.is_null()) continue;
      auto spec = verify::ParseVerifySpec(value, "general");
      if (auto* error = std::get_if<std::string>(&spec)) return Fail("invalid_field", key, *error);
      s.verify_json = value.dump();
      if (s.verify_json->size() > limits.max_task_bytes)
        return Fail("too_large", key,
                    "verify exceeds " + std::to_string(limits.max_task_bytes) + " bytes");
    } else if (key == "max_cost_usd") {
      if (value.is_null()) continue;
      const double usd = value.is_number() ? value.get<double>() : -1;
      if (!(usd >= 0.000001 && usd <= 1000))
        return Fail("invalid_field", key, "max_cost_usd must be a number from 0.000001 to 1000");
      s.max_cost_micros = static_cast<std::int64_t>(std::llround(usd * 1e6));
    } else if (source == Source::kEnvelope && key == "id") {
      if (!value.is_string() || !core::IsUuid(value.get<std::string>()))
        return Fail("invalid_field", key, "id must be a UUID string");
      s.id = value.get<std::string>();
    } else if (source == Source::kEnvelope && key == "tenant") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
          value.get_ref<const std::string&>().size() > 128)
        return Fail("invalid_field", key, "tenant must be a string of 1..128 bytes");
      s.tenant = value.get<std::string>();
    } else if (source == Source::kEnvelope && key == "v") {
      if (value != 1) return Fail("invalid_field", key, "unsupported envelope version");
    } else {
      return Fail("unknown_field", key, "unknown field '" + key + "'");
    }
  }
  if (!doc.contains("task")) return Fail("missing_field", "task", "task is required");
  if (s.task.find_first_not_of(" \t\r\n") == std::string::npos)
    return Fail("invalid_field", "task", "task must not be empty");
  if (s.task.size() > limits.max_task_bytes)
    return Fail("too_large", "task",
                "task exceeds " + std::to_string(limits.max_task_bytes) + " bytes");
  if (!limits.domains.contains(s.domain))
    return Fail("unknown_domain", "domain", "unknown domain '" + s.domain + "'");
  return s;
}

}  // namespace triage::intake
