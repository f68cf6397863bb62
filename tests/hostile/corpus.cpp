#include "corpus.hpp"

#include <nlohmann/json.hpp>

namespace triage::hostile {
namespace {

using nlohmann::json;

const char* kValid =
    R"({"task": "What is 6 * 7?", "domain": "math", "callback_url": "http://127.0.0.1:9/hook", )"
    R"("idempotency_key": "k-1", "deadline": 600, "metadata": {"a": [1, 2]}, )"
    R"("verify": {"kind": "math", "gold": "42"}, "max_cost_usd": 0.05})";

std::string WithTask(const std::string& raw_task) { return R"({"task": ")" + raw_task + R"("})"; }

}  // namespace

std::vector<Case> SubmissionCases(std::size_t task_limit) {
  std::vector<Case> out;
  const std::string valid = kValid;
  // Cut short anywhere: never a partial job.
  for (std::size_t n = 0; n < valid.size(); n += 7)
    out.push_back({"truncated at " + std::to_string(n), valid.substr(0, n), "invalid_json", ""});
  out.push_back({"empty body", "", "invalid_json", ""});
  out.push_back({"whitespace only", " \n\t ", "invalid_json", ""});
  out.push_back({"trailing garbage", valid + "x", "invalid_json", ""});
  out.push_back({"two documents", valid + valid, "invalid_json", ""});

  // Bytes that are not UTF-8, or UTF-8 spelt the long way.
  const std::vector<std::pair<std::string, std::string>> bad_utf8 = {
      {"lone continuation byte", "\x80"},
      {"invalid byte 0xff", "\xff"},
      {"overlong slash (2 bytes)", "\xc0\xaf"},
      {"overlong slash (3 bytes)", "\xe0\x80\xaf"},
      {"overlong NUL", "\xc0\x80"},
      {"UTF-16 surrogate", "\xed\xa0\x80"},
      {"beyond U+10FFFF", "\xf4\x90\x80\x80"},
      {"truncated sequence", "\xe2\x82"},
  };
  for (const auto& [name, bytes] : bad_utf8)
    out.push_back({"invalid UTF-8: " + name, WithTask("a" + bytes + "b"), "invalid_utf8", ""});

  // NUL and control characters.
  out.push_back({"escaped NUL in the task", WithTask("a\\u0000b"), "invalid_field", "task"});
  out.push_back({"escaped NUL in metadata", R"({"task": "t", "metadata": {"k": "\u0000"}})",
                 "invalid_field", "metadata"});
  out.push_back({"raw NUL byte", WithTask(std::string("a\0b", 3)), "invalid_json", ""});
  for (char c : {'\x01', '\x08', '\x1b', '\x1f'})
    out.push_back({"raw control character " + std::to_string(static_cast<int>(c)),
                   WithTask(std::string("a") + c + "b"), "invalid_json", ""});
  out.push_back({"escaped control characters are text", WithTask("tab\\tbell\\u0007"), "", ""});

  // Nesting.
  out.push_back(
      {"deep array", std::string(100000, '[') + std::string(100000, ']'), "not_an_object", ""});
  out.push_back({"deep metadata",
                 R"({"task": "t", "metadata": {"a": )" + std::string(50000, '[') +
                     std::string(50000, ']') + "}}",
                 "too_large", "metadata"});
  out.push_back({"deep unclosed", std::string(200000, '{'), "invalid_json", ""});

  // Numbers.
  // Beyond a double: not a number JSON can carry here.
  for (const char* n : {"1e999", "-1e999"})
    out.push_back({std::string("deadline ") + n,
                   R"({"task": "t", "deadline": )" + std::string(n) + "}", "invalid_json", ""});
  out.push_back(
      {"max_cost_usd 1e999", R"({"task": "t", "max_cost_usd": 1e999})", "invalid_json", ""});
  for (const char* n : {"1e308", "18446744073709551616", "-1", "0"})
    out.push_back({std::string("deadline ") + n,
                   R"({"task": "t", "deadline": )" + std::string(n) + "}", "invalid_field",
                   "deadline"});
  for (const char* n : {"-0.5", "1e308"})
    out.push_back({std::string("max_cost_usd ") + n,
                   R"({"task": "t", "max_cost_usd": )" + std::string(n) + "}", "invalid_field",
                   "max_cost_usd"});
  for (const char* n : {"NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5"})
    out.push_back({std::string("not a JSON number: ") + n,
                   R"({"task": "t", "deadline": )" + std::string(n) + "}", "invalid_json", ""});
  out.push_back(
      {"NaN as text", R"({"task": "t", "max_cost_usd": "NaN"})", "invalid_field", "max_cost_usd"});

  // Repeated keys, at the top and inside.
  out.push_back({"repeated task", R"({"task": "a", "task": "b"})", "invalid_json", ""});
  out.push_back({"repeated key in metadata", R"({"task": "t", "metadata": {"x": 1, "x": 2}})",
                 "invalid_json", ""});

  // Every field with every JSON type it must not have.
  const std::vector<std::pair<std::string, std::vector<std::string>>> fields = {
      {"task", {"string"}},
      {"domain", {"string"}},
      {"callback_url", {"string"}},
      {"idempotency_key", {"string"}},
      {"deadline", {"string", "number"}},
      {"metadata", {"object"}},
      {"verify", {"object"}},
      {"max_cost_usd", {"number"}},
  };
  const std::vector<std::pair<std::string, std::string>> values = {
      {"null", "null"},    {"boolean", "true"}, {"number", "7"},
      {"string", "\"x\""}, {"array", "[]"},     {"object", "{}"},
  };
  for (const auto& [field, allowed] : fields) {
    for (const auto& [type, literal] : values) {
      if (std::find(allowed.begin(), allowed.end(), type) != allowed.end()) continue;
      // null is "not given" for an optional field; only the task must be there.
      const bool absent = type == "null" && field != "task";
      auto doc = json::parse(kValid);
      doc.erase(field);
      const std::string body = doc.dump();
      const std::string with =
          body.substr(0, body.size() - 1) + ", \"" + field + "\": " + literal + "}";
      out.push_back(
          {field + " as " + type, with, absent ? "" : "invalid_field", absent ? "" : field});
    }
  }
  out.push_back({"not an object: array", "[1]", "not_an_object", ""});
  out.push_back({"not an object: string", "\"task\"", "not_an_object", ""});
  out.push_back({"no task", R"({"domain": "math"})", "missing_field", "task"});
  out.push_back({"unknown field", R"({"task": "t", "taks": "t"})", "unknown_field", "taks"});
  out.push_back(
      {"unknown domain", R"({"task": "t", "domain": "poetry"})", "unknown_domain", "domain"});

  // Sizes.
  out.push_back({"task one byte over the limit", WithTask(std::string(task_limit + 1, 'x')),
                 "too_large", "task"});
  out.push_back(
      {"callback URL of 3,000 bytes",
       R"({"task": "t", "callback_url": "http://127.0.0.1/)" + std::string(3000, 'a') + "\"}",
       "invalid_field", "callback_url"});
  out.push_back({"idempotency key of 300 bytes",
                 R"({"task": "t", "idempotency_key": ")" + std::string(300, 'k') + "\"}",
                 "invalid_field", "idempotency_key"});
  out.push_back({"callback URL with credentials",
                 R"({"task": "t", "callback_url": "http://user:pw@127.0.0.1/h"})", "invalid_field",
                 "callback_url"});
  out.push_back({"callback URL of another scheme",
                 R"({"task": "t", "callback_url": "file:///etc/passwd"})", "invalid_field",
                 "callback_url"});

  // Valid, but hostile to check: accepted, and the verifier must contain them.
  for (const auto& v : HostileVerifyCases())
    out.push_back({"verify: " + v.name, R"({"task": "t", "verify": )" + v.spec + "}", "", ""});
  return out;
}

std::vector<Case> EnvelopeCases() {
  return {
      {"envelope id not a UUID", R"({"task": "t", "id": "not-a-uuid"})", "invalid_field", "id"},
      {"envelope id as number", R"({"task": "t", "id": 7})", "invalid_field", "id"},
      {"envelope tenant as object", R"({"task": "t", "tenant": {}})", "invalid_field", "tenant"},
      {"envelope schema version 2", R"({"task": "t", "v": 2})", "invalid_field", "v"},
  };
}

std::vector<VerifyCase> HostileVerifyCases() {
  std::string bomb = "1";  // \frac nested 500 deep
  for (int i = 0; i < 500; ++i) bomb = "\\\\frac{" + bomb + "}{2}";
  std::string tower = "2";
  for (int i = 0; i < 60; ++i) tower = "2^{" + tower + "}";
  return {
      {"catastrophic regex", R"({"kind": "regex", "pattern": "(a+)+$"})",
       std::string(40, 'a') + "!"},
      {"nested quantifiers", R"({"kind": "regex", "pattern": "((a|aa)*)*b"})",
       std::string(60, 'a')},
      {"self-referencing schema", R"({"kind": "json", "schema": {"$ref": "#"}})", R"({"a": 1})"},
      {"mutually recursive schema",
       R"({"kind": "json", "schema": {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}})",
       R"({"a": 1})"},
      {"LaTeX bomb gold", R"({"kind": "math", "gold": ")" + bomb + R"("})", "The answer is 3."},
      {"power tower gold", R"({"kind": "math", "gold": ")" + tower + R"("})", "The answer is 4."},
  };
}

}  // namespace triage::hostile
