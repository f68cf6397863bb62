#include "intake/submission.hpp"

#include <gtest/gtest.h>

namespace triage::intake {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;  // 2027-01-15

std::variant<Submission, Error> Http(std::string_view body, const Limits& limits = {}) {
  return ParseSubmission(body, limits, kNow, Source::kHttp);
}

std::string CodeOf(const std::variant<Submission, Error>& r) {
  return std::holds_alternative<Error>(r) ? std::get<Error>(r).code : "ok";
}

TEST(Submission, AcceptsAMinimalTaskWithDefaults) {
  auto r = Http(R"({"task": "What is 2+2?"})");
  ASSERT_EQ(CodeOf(r), "ok");
  const auto& s = std::get<Submission>(r);
  EXPECT_EQ(s.task, "What is 2+2?");
  EXPECT_EQ(s.domain, "general");
  EXPECT_EQ(s.tenant, "default");
  EXPECT_EQ(s.metadata_json, "{}");
  EXPECT_FALSE(s.deadline_unix_ms.has_value());
}

TEST(Submission, AcceptsEveryOptionalField) {
  auto r = Http(R"({"task": "t", "domain": "math", "callback_url": "https://example.test/hook",
                   "idempotency_key": "k1", "deadline": 30, "metadata": {"a": [1, 2]}})");
  ASSERT_EQ(CodeOf(r), "ok");
  const auto& s = std::get<Submission>(r);
  EXPECT_EQ(s.domain, "math");
  EXPECT_EQ(s.callback_url, "https://example.test/hook");
  EXPECT_EQ(s.idempotency_key, "k1");
  EXPECT_EQ(s.deadline_unix_ms, kNow + 30'000);
  EXPECT_EQ(s.metadata_json, R"({"a":[1,2]})");
}

TEST(Submission, RejectsMalformedJson) {
  EXPECT_EQ(CodeOf(Http("{\"task\": ")), "invalid_json");
  EXPECT_EQ(CodeOf(Http("")), "invalid_json");
  EXPECT_EQ(CodeOf(Http("{\"task\": \"a\"} trailing")), "invalid_json");
}

TEST(Submission, RejectsNonObjects) {
  EXPECT_EQ(CodeOf(Http("[]")), "not_an_object");
  EXPECT_EQ(CodeOf(Http("\"task\"")), "not_an_object");
  EXPECT_EQ(CodeOf(Http("null")), "not_an_object");
}

TEST(Submission, RejectsInvalidUtf8BeforeParsing) {
  EXPECT_EQ(CodeOf(Http("{\"task\": \"\xC3\x28\"}")), "invalid_utf8");
}

TEST(Submission, NamesTheFieldWithTheWrongType) {
  for (const char* body :
       {R"({"task": 5})", R"({"task": "t", "domain": 1})", R"({"task": "t", "metadata": []})",
        R"({"task": "t", "callback_url": 3})", R"({"task": "t", "idempotency_key": false})",
        R"({"task": "t", "deadline": true})"}) {
    auto r = Http(body);
    ASSERT_EQ(CodeOf(r), "invalid_field") << body;
    EXPECT_FALSE(std::get<Error>(r).field.empty());
  }
}

TEST(Submission, RequiresANonEmptyTask) {
  auto missing = Http(R"({"domain": "math"})");
  ASSERT_EQ(CodeOf(missing), "missing_field");
  EXPECT_EQ(std::get<Error>(missing).field, "task");
  EXPECT_EQ(CodeOf(Http(R"({"task": "  \n "})")), "invalid_field");
}

TEST(Submission, RejectsUnknownFieldsAndDomains) {
  auto typo = Http(R"({"task": "t", "calback_url": "http://x"})");
  ASSERT_EQ(CodeOf(typo), "unknown_field");
  EXPECT_EQ(std::get<Error>(typo).field, "calback_url");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "domain": "astrology"})")), "unknown_domain");
}

TEST(Submission, EnforcesSizeLimits) {
  Limits limits;
  limits.max_task_bytes = 10;
  limits.max_metadata_bytes = 16;
  EXPECT_EQ(CodeOf(Http(R"({"task": "0123456789"})", limits)), "ok");
  EXPECT_EQ(CodeOf(Http(R"({"task": "0123456789A"})", limits)), "too_large");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "metadata": {"k": "0123456789abcdef"}})", limits)),
            "too_large");
}

TEST(Submission, ValidatesCallbackUrls) {
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "callback_url": "ftp://x/y"})")), "invalid_field");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "callback_url": "http:///nohost"})")), "invalid_field");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "callback_url": "http://a b"})")), "invalid_field");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "callback_url": null})")), "ok");
}

TEST(Submission, AcceptsFutureDeadlinesOnly) {
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "deadline": "2027-01-15T09:00:00Z"})")), "ok");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "deadline": "2020-01-01T00:00:00Z"})")), "invalid_field");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "deadline": "tomorrow"})")), "invalid_field");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "deadline": -5})")), "invalid_field");
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "deadline": 1e12})")), "invalid_field");
}

TEST(Submission, EnvelopeCarriesIdAndTenantButHttpMayNot) {
  const char* body = R"({"v": 1, "id": "01234567-89ab-7def-8123-456789abcdef", "tenant": "acme",
                        "task": "t"})";
  auto envelope = ParseSubmission(body, {}, kNow, Source::kEnvelope);
  ASSERT_EQ(CodeOf(envelope), "ok");
  EXPECT_EQ(std::get<Submission>(envelope).tenant, "acme");
  EXPECT_EQ(std::get<Submission>(envelope).id, "01234567-89ab-7def-8123-456789abcdef");
  EXPECT_EQ(CodeOf(Http(body)), "unknown_field");
  EXPECT_EQ(CodeOf(ParseSubmission(R"({"id": "nope", "task": "t"})", {}, kNow, Source::kEnvelope)),
            "invalid_field");
  EXPECT_EQ(CodeOf(ParseSubmission(R"({"v": 2, "task": "t"})", {}, kNow, Source::kEnvelope)),
            "invalid_field");
}

Error ErrorOf(const std::variant<Submission, Error>& r) {
  return std::holds_alternative<Error>(r) ? std::get<Error>(r) : Error{"ok", "", ""};
}

TEST(Submission, RefusesANulCharacterInsteadOfCuttingTheTaskShort) {
  // PostgreSQL text cannot hold U+0000: storing "a\u0000b" kept only "a".
  for (const auto source : {Source::kHttp, Source::kEnvelope}) {
    const auto e = ErrorOf(ParseSubmission(R"({"task": "a\u0000b"})", {}, kNow, source));
    EXPECT_EQ(e.code, "invalid_field");
    EXPECT_EQ(e.field, "task");
    EXPECT_NE(e.message.find("NUL"), std::string::npos) << e.message;
  }
  auto e = ErrorOf(Http(R"({"task": "t", "metadata": {"notes": ["ok", "x\u0000y"]}})"));
  EXPECT_EQ(e.code, "invalid_field");
  EXPECT_EQ(e.field, "metadata");
  EXPECT_NE(e.message.find("'metadata.notes[]'"), std::string::npos) << e.message;
  e = ErrorOf(Http(R"({"task": "t", "metadata": {"k\u0000": 1}})"));
  EXPECT_EQ(e.code, "invalid_field");
  EXPECT_EQ(e.field, "metadata");
  EXPECT_EQ(ErrorOf(Http(R"({"task": "t", "idempotency_key": "\u0000"})")).field,
            "idempotency_key");
  // Other control characters are stored as they are, so they are accepted unchanged.
  const auto ok = Http(R"({"task": "a\u0001b\tc"})");
  ASSERT_EQ(CodeOf(ok), "ok");
  EXPECT_EQ(std::get<Submission>(ok).task,
            "a\x01"
            "b\tc");
}

TEST(Submission, RefusesRepeatedKeysNamingTheKey) {
  for (const auto source : {Source::kHttp, Source::kEnvelope}) {
    const auto e = ErrorOf(ParseSubmission(R"({"task": "a", "task": "b"})", {}, kNow, source));
    EXPECT_EQ(e.code, "invalid_json");
    EXPECT_EQ(e.field, "task");
    EXPECT_NE(e.message.find("duplicate key 'task'"), std::string::npos) << e.message;
  }
  const auto e = ErrorOf(Http(R"({"task": "t", "metadata": {"a": {"b": 1, "b": 2}}})"));
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_EQ(e.field, "metadata");
  EXPECT_NE(e.message.find("'metadata.a.b'"), std::string::npos) << e.message;
  // The same key in sibling objects is not a repeat.
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "metadata": {"x": [{"a": 1}, {"a": 2}], "a": 3}})")),
            "ok");
}

TEST(Submission, RefusesCallbackUrlsWithCredentialsAndSaysWhy) {
  const auto e =
      ErrorOf(Http(R"({"task": "t", "callback_url": "http://user:pass@example.test/h"})"));
  EXPECT_EQ(e.code, "invalid_field");
  EXPECT_EQ(e.field, "callback_url");
  EXPECT_NE(e.message.find("credentials"), std::string::npos) << e.message;
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "callback_url": "https://user@example.test/h"})")),
            "invalid_field");
  // An @ in the path or query is not userinfo.
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "callback_url": "https://example.test/h?to=a@b"})")),
            "ok");
  for (const auto* bad :
       {"ftp://example.test/h", "http:///h", "https://example.test:0/h",
        "https://example.test:70000/h", "https://example.test/h#frag", "https://exa mple.test/h"})
    EXPECT_EQ(CodeOf(Http(R"({"task": "t", "callback_url": ")" + std::string(bad) + R"("})")),
              "invalid_field")
        << bad;
}

TEST(Submission, TakesAVerifySpecAndACostCap) {
  const auto r = Http(R"({"task": "t", "domain": "math", "verify": {"kind": "math", "gold": "3/4"},
                          "max_cost_usd": 0.05})");
  ASSERT_EQ(CodeOf(r), "ok");
  const auto& s = std::get<Submission>(r);
  EXPECT_EQ(s.verify_json, R"({"gold":"3/4","kind":"math"})");
  EXPECT_EQ(s.max_cost_micros, 50'000);
  for (const auto* ok :
       {R"({"kind": "steps"})", R"({"kind": "math"})",
        R"({"kind": "code", "tests": "assert f(1) == 2"})",
        R"({"kind": "code", "tests": "def check(c): pass", "entry_point": "f"})",
        R"({"kind": "json", "schema": {"type": "object"}})",
        R"({"kind": "regex", "pattern": "^[A-D]$"})", R"({"kind": "exact", "expected": "Paris"})"})
    EXPECT_EQ(CodeOf(Http(R"({"task": "t", "verify": )" + std::string(ok) + "}")), "ok") << ok;
}

TEST(Submission, ABadVerifySpecOrCostCapIsRefusedNamingWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("math")", "verify must be an object"},
      {R"({"gold": "1"})", "verify.kind must be one of"},
      {R"({"kind": "vibes"})", "verify.kind 'vibes' is not one of"},
      {R"({"kind": "math", "gold": ""})", "verify.gold must be a non-empty string"},
      {R"({"kind": "math", "gold": "1", "tests": "x"})",
       "verify.tests is not a key of kind 'math'"},
      {R"({"kind": "code"})", "verify.tests is required for kind 'code'"},
      {R"({"kind": "json", "schema": "x"})", "verify.schema must be a JSON Schema"},
      {R"({"kind": "regex", "pattern": "(unclosed"})", "not a regular expression triage can run"},
  };
  for (const auto& [spec, words] : cases) {
    const auto e = ErrorOf(Http(R"({"task": "t", "verify": )" + spec + "}"));
    EXPECT_EQ(e.code, "invalid_field") << spec;
    EXPECT_EQ(e.field, "verify") << spec;
    EXPECT_NE(e.message.find(words), std::string::npos) << spec << " -> " << e.message;
  }
  for (const auto* cap : {"0", "-1", "\"5\"", "1e9"}) {
    const auto e = ErrorOf(Http(R"({"task": "t", "max_cost_usd": )" + std::string(cap) + "}"));
    EXPECT_EQ(e.field, "max_cost_usd") << cap;
  }
  Limits small;
  small.max_task_bytes = 64;
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "verify": {"kind": "exact", "expected": ")" +
                            std::string(100, 'x') + R"("}})",
                        small)),
            "too_large");
}

TEST(Submission, SurvivesHostileNesting) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  EXPECT_EQ(CodeOf(Http(deep)), "not_an_object");
  std::string deep_meta = R"({"task": "t", "metadata": {"a": )" + std::string(50000, '[') +
                          std::string(50000, ']') + "}}";
  EXPECT_EQ(CodeOf(Http(deep_meta)), "too_large");
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(ParseRfc3339("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00-00:30"), 1'800'000);
  EXPECT_FALSE(ParseRfc3339("1970-01-01 00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("1970-13-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("1970-01-01T00:00:00").has_value());
  EXPECT_FALSE(ParseRfc3339("").has_value());
}

// Found by fuzz_submission: timegm() moves a day the month lacks into the next month, so
// "February 31st" was read as March 3rd (and a deadline silently changed).
TEST(Rfc3339, RefusesADayTheMonthDoesNotHave) {
  EXPECT_FALSE(ParseRfc3339("2026-02-31T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-04-31T12:00:00+02:00").has_value());
  EXPECT_EQ(ParseRfc3339("2024-02-29T00:00:00Z"), 1'709'164'800'000);  // a leap year has it
  EXPECT_EQ(ParseRfc3339("2026-12-31T00:00:00Z"), 1'798'675'200'000);
}

// Found by fuzz_envelope: an envelope the service wrote itself (the API's, or the reaper's
// re-send of a job still queued) was refused once its deadline had passed, so the router
// dead-lettered it and the job stayed queued for ever. A late envelope is read; the router
// then expires the job, a final state its submitter is told about.
TEST(Submission, EnvelopeWhoseDeadlinePassedWhileQueuedIsReadNotRefused) {
  const char* body = R"({"v": 1, "id": "01234567-89ab-7def-8123-456789abcdef", "task": "t",
                        "deadline": "2027-01-15T07:00:00.000Z"})";
  const auto envelope = ParseSubmission(body, {}, kNow, Source::kEnvelope);
  ASSERT_EQ(CodeOf(envelope), "ok") << ErrorOf(envelope).message;
  EXPECT_EQ(std::get<Submission>(envelope).deadline_unix_ms, ParseRfc3339("2027-01-15T07:00:00Z"));
  // Over HTTP a deadline in the past is still the submitter's mistake.
  EXPECT_EQ(CodeOf(Http(R"({"task": "t", "deadline": "2027-01-15T07:00:00.000Z"})")),
            "invalid_field");
  // Too far ahead is refused from either source.
  EXPECT_EQ(CodeOf(ParseSubmission(R"({"task": "t", "deadline": "2099-01-01T00:00:00Z"})", {}, kNow,
                                   Source::kEnvelope)),
            "invalid_field");
}

}  // namespace
}  // namespace triage::intake
