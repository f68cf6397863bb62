// Parsing and validation of a job submission: the body of POST /v1/jobs and the envelope on
// the `triage.jobs` topic share one schema. Pure and thread-safe; never throws on bad input.
//
// {
//   "task": "text",                       required, non-empty UTF-8, <= max_task_bytes
//   "domain": "math",                     optional (default "general"), one of the known domains
//   "callback_url": "https://...",        optional http(s) URL, <= 2048 bytes, no user:pass@
//   "idempotency_key": "k",               optional, 1..256 bytes
//   "deadline": "2026-01-01T00:00:00Z",   optional RFC 3339 time, or seconds from now (number);
//                                         in the future, except in an envelope, which may be
//                                         read after it passed (the router expires the job)
//   "metadata": {...},                    optional object, <= max_metadata_bytes serialised
//   "verify": {"kind": "math", ...},      optional: how the answer is checked (verify/spec.hpp),
//                                         <= max_task_bytes serialised
//   "max_cost_usd": 0.05,                 optional cost cap: no stage that would break it starts
//   envelope only:
//   "id": "uuid",                         optional; otherwise derived from the idempotency key or
//                                         the message's Kafka coordinates, so redelivery maps to
//                                         the same job
//   "tenant": "name",                     optional (default "default")
//   "v": 1                                optional schema version
// }
// An optional field given as null is as if it were not given. Unknown fields are rejected, so a misspelt option is an error rather than silently ignored;
// so are repeated keys and NUL characters anywhere in the document (see strict_json.hpp): no
// input is changed on its way in.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

namespace triage::intake {

struct Limits {
  std::size_t max_task_bytes = 256 * 1024;      // `api.max_task_bytes`
  std::size_t max_metadata_bytes = 64 * 1024;   // `api.max_metadata_bytes`
  std::int64_t max_deadline_seconds = 7 * 24 * 3600;
  std::set<std::string, std::less<>> domains = {"general", "math", "code", "extraction",
                                                "writing"};  // `policy.domains`
};

struct Submission {
  std::optional<std::string> id;
  std::string tenant = "default";
  std::string task;
  std::string domain = "general";
  std::optional<std::string> callback_url;
  std::optional<std::string> idempotency_key;
  std::optional<std::int64_t> deadline_unix_ms;
  std::string metadata_json = "{}";
  std::optional<std::string> verify_json;       // the verify object, as JSON text
  std::optional<std::int64_t> max_cost_micros;  // max_cost_usd in micro-dollars
};

struct Error {
  std::string code;     // invalid_json | invalid_utf8 | not_an_object | missing_field |
                        // invalid_field | unknown_field | too_large | unknown_domain
  std::string field;    // the offending field, when there is one
  std::string message;  // for people
};

enum class Source { kHttp, kEnvelope };

std::variant<Submission, Error> ParseSubmission(std::string_view body, const Limits& limits,
                                                std::int64_t now_unix_ms, Source source);

// RFC 3339 ("2026-01-02T03:04:05.678Z", "...+02:00") to Unix milliseconds.
std::optional<std::int64_t> ParseRfc3339(std::string_view text);

}  // namespace triage::intake
