#include "verify/spec.hpp"

#include <map>
#include <set>

#include "verify/pattern.hpp"

namespace triage::verify {
namespace {

// The keys a kind takes besides "kind".
struct KindKeys {
  std::set<std::string> required, optional;
};

const std::map<std::string, KindKeys>& Kinds() {
  static const std::map<std::string, KindKeys> kinds = {
      {"math", {{}, {"gold"}}},      {"code", {{"tests"}, {"entry_point"}}},
      {"json", {{"schema"}, {}}},    {"regex", {{"pattern"}, {}}},
      {"exact", {{"expected"}, {}}}, {"steps", {{}, {}}},
  };
  return kinds;
}

std::optional<std::string> NonEmptyString(const nlohmann::json& spec, const std::string& key) {
  const auto& v = spec.at(key);
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) return std::nullopt;
  return v.get<std::string>();
}

}  // namespace

std::variant<VerifyRequest, std::string> ParseVerifySpec(const nlohmann::json& spec,
                                                         const std::string& domain) {
  if (!spec.is_object()) return std::string("verify must be an object with a \"kind\"");
  if (!spec.contains("kind") || !spec["kind"].is_string())
    return std::string("verify.kind must be one of math, code, json, regex, exact, steps");
  const auto kind = spec["kind"].get<std::string>();
  const auto found = Kinds().find(kind);
  if (found == Kinds().end())
    return "verify.kind '" + kind + "' is not one of math, code, json, regex, exact, steps";
  const auto& keys = found->second;
  for (const auto& [key, value] : spec.items()) {
    if (key != "kind" && !keys.required.contains(key) && !keys.optional.contains(key))
      return "verify." + key + " is not a key of kind '" + kind + "'";
  }
  for (const auto& key : keys.required)
    if (!spec.contains(key)) return "verify." + key + " is required for kind '" + kind + "'";

  VerifyRequest r;
  r.domain = domain;
  if (kind == "math") {
    if (spec.contains("gold")) {
      auto gold = NonEmptyString(spec, "gold");
      if (!gold) return std::string("verify.gold must be a non-empty string");
      r.gold = std::move(gold);
    } else {
      r.steps = true;
    }
  } else if (kind == "code") {
    auto tests = NonEmptyString(spec, "tests");
    if (!tests) return std::string("verify.tests must be a non-empty string of Python");
    CodeTests t;
    if (spec.contains("entry_point")) {
      auto entry = NonEmptyString(spec, "entry_point");
      if (!entry) return std::string("verify.entry_point must be a non-empty string");
      t.check_source = std::move(*tests);
      t.entry_point = std::move(*entry);
    } else {
      t.setup = std::move(*tests);
    }
    r.tests = std::move(t);
  } else if (kind == "json") {
    if (!spec["schema"].is_object() && !spec["schema"].is_boolean())
      return std::string("verify.schema must be a JSON Schema (an object)");
    r.schema = spec["schema"];
  } else if (kind == "regex") {
    auto pattern = NonEmptyString(spec, "pattern");
    if (!pattern || pattern->size() > 1000)
      return std::string("verify.pattern must be a non-empty string of at most 1000 bytes");
    if (const auto why = PatternError(*pattern))
      return "verify.pattern is not a regular expression triage can run (RE2 syntax: no "
             "backreferences or lookaround): " +
             *why;
    r.pattern = std::move(pattern);
  } else if (kind == "exact") {
    if (!spec["expected"].is_string()) return std::string("verify.expected must be a string");
    r.expected = spec["expected"].get<std::string>();
  } else {
    r.steps = true;
  }
  return r;
}

}  // namespace triage::verify
