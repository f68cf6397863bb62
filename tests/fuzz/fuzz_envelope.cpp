// The Kafka envelope on `<prefix>.jobs` as the router reads it (intake::ParseSubmission with
// Source::kEnvelope), the hand-off on `<prefix>.reasoning` and the dead letter. Invariants:
//   - an envelope the service writes for a job it accepted (EnvelopeFor, as the API and the
//     reaper send it) is accepted again, unchanged, however much later it is read;
//   - a refused message's dead letter is JSON that gives back the original bytes;
//   - a hand-off's id is a UUID.
#include <nlohmann/json.hpp>
#include <string>

#include "app/job_json.hpp"
#include "app/steps.hpp"
#include "core/ids.hpp"
#include "fuzz_check.hpp"
#include "intake/submission.hpp"
#include "notify/webhook.hpp"

namespace {

constexpr std::int64_t kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace triage;
  const auto text = FuzzText(data, size);
  if (const auto id = app::ParseReasoningMessage(text)) FUZZ_CHECK(core::IsUuid(*id));

  const intake::Limits limits;
  const auto parsed = intake::ParseSubmission(text, limits, kNow, intake::Source::kEnvelope);
  if (const auto* error = std::get_if<intake::Error>(&parsed)) {
    const queue::Message m{"t.jobs", 3, 7, "key", std::string(text)};
    const auto letter =
        nlohmann::json::parse(app::DeadLetterJson(m, error->code, error->message), nullptr, false);
    FUZZ_CHECK(letter.is_object());
    if (letter.contains("payload")) {
      FUZZ_CHECK(letter["payload"].get<std::string>() == text);
    } else {
      const auto bytes = notify::Base64Decode(letter["payload_base64"].get<std::string>());
      FUZZ_CHECK(bytes && *bytes == text);
    }
    return 0;
  }
  const auto& s = std::get<intake::Submission>(parsed);
  const auto job = app::ToNewJob(s, s.id.value_or(core::UuidFromName("t.jobs/3/7")), "kafka");
  const auto envelope = app::EnvelopeFor(job);
  // Read again as a redelivery or the reaper's re-send would be: up to nine days later.
  const std::int64_t later = kNow + static_cast<std::int64_t>(size % 10) * 86'400'000;
  const auto again = intake::ParseSubmission(envelope, limits, later, intake::Source::kEnvelope);
  if (const auto* error = std::get_if<intake::Error>(&again)) {
    std::fprintf(stderr, "re-sent envelope refused: %s %s\n", error->code.c_str(),
                 error->message.c_str());
    FUZZ_CHECK(!"the service's own envelope is accepted again");
  }
  const auto& r = std::get<intake::Submission>(again);
  FUZZ_CHECK(r.id == job.id && r.tenant == s.tenant && r.task == s.task && r.domain == s.domain);
  FUZZ_CHECK(r.callback_url == s.callback_url && r.idempotency_key == s.idempotency_key);
  FUZZ_CHECK(r.deadline_unix_ms == s.deadline_unix_ms);
  FUZZ_CHECK(r.metadata_json == s.metadata_json && r.verify_json == s.verify_json);
  FUZZ_CHECK(r.max_cost_micros == s.max_cost_micros);
  return 0;
}
