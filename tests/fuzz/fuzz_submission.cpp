// intake::ParseSubmission (POST /v1/jobs): a refusal names a known error code and says why; an
// accepted submission holds only what the limits allow. Also intake::ParseRfc3339: a time it
// accepts reads back as the same calendar fields (no "February 31st" moved to March).
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/url.hpp"
#include "core/utf8.hpp"
#include "fuzz_check.hpp"
#include "intake/submission.hpp"

namespace {

constexpr std::int64_t kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

void CheckRfc3339(std::string_view text) {
  const auto ms = triage::intake::ParseRfc3339(text);
  if (!ms || text.size() < 20 || (text.back() != 'Z' && text.back() != 'z')) return;
  const auto field = [&](std::size_t pos, std::size_t n) {
    return std::stoi(std::string(text.substr(pos, n)));
  };
  if (field(17, 2) == 60) return;  // a leap second is read as the next second
  const std::time_t seconds = (*ms >= 0 ? *ms : *ms - 999) / 1000;
  std::tm tm{};
  FUZZ_CHECK(gmtime_r(&seconds, &tm) != nullptr);
  FUZZ_CHECK(tm.tm_year + 1900 == field(0, 4));
  FUZZ_CHECK(tm.tm_mon + 1 == field(5, 2));
  FUZZ_CHECK(tm.tm_mday == field(8, 2));
  FUZZ_CHECK(tm.tm_hour == field(11, 2) && tm.tm_min == field(14, 2) && tm.tm_sec == field(17, 2));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace triage::intake;
  const auto text = FuzzText(data, size);
  CheckRfc3339(text);
  Limits limits;
  limits.max_task_bytes = 4096;
  limits.max_metadata_bytes = 1024;
  const auto parsed = ParseSubmission(text, limits, kNow, Source::kHttp);
  if (const auto* error = std::get_if<Error>(&parsed)) {
    static const std::set<std::string> kCodes = {"invalid_json",  "invalid_utf8",  "not_an_object",
                                                 "missing_field", "invalid_field", "unknown_field",
                                                 "too_large",     "unknown_domain"};
    FUZZ_CHECK(kCodes.contains(error->code));
    FUZZ_CHECK(!error->message.empty());
    return 0;
  }
  const auto& s = std::get<Submission>(parsed);
  FUZZ_CHECK(!s.id && s.tenant == "default");  // envelope-only fields never come over HTTP
  FUZZ_CHECK(!s.task.empty() && s.task.size() <= limits.max_task_bytes);
  FUZZ_CHECK(triage::core::IsValidUtf8(s.task));
  FUZZ_CHECK(limits.domains.contains(s.domain));
  FUZZ_CHECK(s.metadata_json.size() <= limits.max_metadata_bytes);
  FUZZ_CHECK(nlohmann::json::parse(s.metadata_json, nullptr, false).is_object());
  if (s.callback_url) FUZZ_CHECK(triage::core::ParseUrl(*s.callback_url).has_value());
  if (s.idempotency_key)
    FUZZ_CHECK(!s.idempotency_key->empty() && s.idempotency_key->size() <= 256);
  if (s.deadline_unix_ms)
    FUZZ_CHECK(*s.deadline_unix_ms > kNow &&
               *s.deadline_unix_ms <= kNow + limits.max_deadline_seconds * 1000);
  if (s.verify_json)
    FUZZ_CHECK(!nlohmann::json::parse(*s.verify_json, nullptr, false).is_discarded());
  if (s.max_cost_micros) FUZZ_CHECK(*s.max_cost_micros >= 1 && *s.max_cost_micros <= 1'000'000'000);
  return 0;
}
