#include "verify/structured.hpp"

#include <cmath>
#include <string>

#include "verify/pattern.hpp"

namespace triage::verify {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxRegexInput = 64 * 1024;
constexpr int kMaxSchemaDepth = 64;

std::size_t Utf8Length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool TypeMatches(const json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer")
    return v.is_number_integer() ||
           (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return false;
}

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  // Empty string when valid, else the first violation.
  std::string Check(const json& v, const json& schema, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) return path + ": schema nesting too deep";
    if (schema.is_boolean()) return schema.get<bool>() ? "" : path + ": not allowed (false schema)";
    if (!schema.is_object()) return "";
    if (auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
      const std::string r = ref->get<std::string>();
      if (r.rfind("#", 0) != 0) return path + ": only local $ref is supported";
      try {
        const json& target = root_.at(json::json_pointer(r.substr(1)));
        std::string e = Check(v, target, path, depth + 1);
        if (!e.empty()) return e;
      } catch (const std::exception&) {
        return path + ": unresolvable $ref " + r;
      }
    }
    if (auto t = schema.find("type"); t != schema.end()) {
      bool ok = false;
      if (t->is_string())
        ok = TypeMatches(v, t->get<std::string>());
      else if (t->is_array())
        for (const auto& one : *t)
          ok = ok || (one.is_string() && TypeMatches(v, one.get<std::string>()));
      if (!ok) return path + ": expected type " + t->dump() + ", got " + v.type_name();
    }
    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
      bool found = false;
      for (const auto& option : *e) found = found || option == v;
      if (!found) return path + ": value not in enum";
    }
    if (auto c = schema.find("const"); c != schema.end() && *c != v)
      return path + ": value differs from const";
    for (const char* key : {"allOf", "anyOf", "oneOf"}) {
      auto it = schema.find(key);
      if (it == schema.end() || !it->is_array()) continue;
      int passed = 0;
      std::string first_error;
      for (const auto& sub : *it) {
        std::string e = Check(v, sub, path, depth + 1);
        if (e.empty())
          ++passed;
        else if (first_error.empty())
          first_error = e;
      }
      std::string k = key;
      if (k == "allOf" && passed != static_cast<int>(it->size())) return first_error;
      if (k == "anyOf" && passed == 0)
        return path + ": matches no anyOf branch (" + first_error + ")";
      if (k == "oneOf" && passed != 1)
        return path + ": matches " + std::to_string(passed) + " oneOf branches, not exactly 1";
    }
    if (v.is_object()) {
      if (auto req = schema.find("required"); req != schema.end() && req->is_array())
        for (const auto& name : *req)
          if (name.is_string() && !v.contains(name.get<std::string>()))
            return path + ": missing required property '" + name.get<std::string>() + "'";
      const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
      auto additional = schema.find("additionalProperties");
      for (auto it = v.begin(); it != v.end(); ++it) {
        std::string child = path + "/" + it.key();
        if (props && props->is_object() && props->contains(it.key())) {
          std::string e = Check(it.value(), (*props)[it.key()], child, depth + 1);
          if (!e.empty()) return e;
        } else if (additional != schema.end()) {
          if (additional->is_boolean() && !additional->get<bool>())
            return child + ": additional property not allowed";
          if (additional->is_object()) {
            std::string e = Check(it.value(), *additional, child, depth + 1);
            if (!e.empty()) return e;
          }
        }
      }
    }
    if (v.is_array()) {
      std::size_t prefix = 0;
      if (auto pi = schema.find("prefixItems"); pi != schema.end() && pi->is_array()) {
        prefix = pi->size();
        for (std::size_t i = 0; i < std::min(prefix, v.size()); ++i) {
          std::string e = Check(v[i], (*pi)[i], path + "/" + std::to_string(i), depth + 1);
          if (!e.empty()) return e;
        }
      }
      if (auto items = schema.find("items"); items != schema.end())
        for (std::size_t i = prefix; i < v.size(); ++i) {
          std::string e = Check(v[i], *items, path + "/" + std::to_string(i), depth + 1);
          if (!e.empty()) return e;
        }
      if (auto m = schema.find("minItems");
          m != schema.end() && m->is_number() && v.size() < m->get<std::size_t>())
        return path + ": fewer than " + m->dump() + " items";
      if (auto m = schema.find("maxItems");
          m != schema.end() && m->is_number() && v.size() > m->get<std::size_t>())
        return path + ": more than " + m->dump() + " items";
      if (schema.value("uniqueItems", false))
        for (std::size_t i = 0; i < v.size(); ++i)
          for (std::size_t j = i + 1; j < v.size(); ++j)
            if (v[i] == v[j]) return path + ": items not unique";
    }
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      std::size_t len = Utf8Length(s);
      if (auto m = schema.find("minLength");
          m != schema.end() && m->is_number() && len < m->get<std::size_t>())
        return path + ": shorter than " + m->dump();
      if (auto m = schema.find("maxLength");
          m != schema.end() && m->is_number() && len > m->get<std::size_t>())
        return path + ": longer than " + m->dump();
      if (auto p = schema.find("pattern"); p != schema.end() && p->is_string()) {
        if (s.size() > kMaxRegexInput) return path + ": string too long for pattern check";
        switch (MatchPattern(p->get<std::string>(), s, /*whole=*/false)) {
          case PatternMatch::kMatches:
            break;
          case PatternMatch::kDoesNotMatch:
            return path + ": does not match pattern " + p->dump();
          case PatternMatch::kInvalid:
            return path + ": invalid pattern in schema (RE2 syntax)";
        }
      }
    }
    if (v.is_number()) {
      double x = v.get<double>();
      auto num = [&](const char* k) -> const json* {
        auto it = schema.find(k);
        return it != schema.end() && it->is_number() ? &*it : nullptr;
      };
      if (auto m = num("minimum"); m && x < m->get<double>())
        return path + ": below minimum " + m->dump();
      if (auto m = num("maximum"); m && x > m->get<double>())
        return path + ": above maximum " + m->dump();
      if (auto m = num("exclusiveMinimum"); m && x <= m->get<double>())
        return path + ": not above exclusiveMinimum " + m->dump();
      if (auto m = num("exclusiveMaximum"); m && x >= m->get<double>())
        return path + ": not below exclusiveMaximum " + m->dump();
      if (auto m = num("multipleOf"); m && m->get<double>() > 0) {
        double q = x / m->get<double>();
        if (std::fabs(q - std::round(q)) > 1e-9) return path + ": not a multiple of " + m->dump();
      }
    }
    return "";
  }

 private:
  const json& root_;
};

std::string_view StripFence(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  if (text.rfind("```", 0) == 0) {
    std::size_t nl = text.find('\n');
    std::size_t close = text.rfind("```");
    if (nl != std::string_view::npos && close > nl)
      text = trim(text.substr(nl + 1, close - nl - 1));
  }
  return text;
}

}  // namespace

Verdict ValidateJsonSchema(const json& instance, const json& schema) {
  try {
    Validator validator(schema);
    std::string error = validator.Check(instance, schema, "", 0);
    if (error.empty()) return Pass("conforms to the schema");
    return Fail((error[0] == ':' ? "(root)" : "") + error);
  } catch (const std::exception& e) {
    return Unparseable(std::string("schema check failed: ") + e.what());
  }
}

Verdict ValidateJsonText(std::string_view text, const json& schema) {
  json instance = json::parse(StripFence(text), nullptr, /*allow_exceptions=*/false);
  if (instance.is_discarded()) return Unparseable("not valid JSON");
  return ValidateJsonSchema(instance, schema);
}

Verdict ExactMatch(std::string_view expected, std::string_view actual,
                   const MatchOptions& options) {
  auto prep = [&](std::string_view s) {
    if (options.trim) {
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    }
    std::string out(s);
    if (options.case_insensitive)
      for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  if (prep(expected) == prep(actual)) return Pass("exact match");
  return Fail("does not match the expected text");
}

Verdict RegexMatch(std::string_view pattern, std::string_view actual) {
  if (actual.size() > kMaxRegexInput)
    return Unparseable("input longer than the regex budget (64 KiB)");
  switch (MatchPattern(pattern, actual, /*whole=*/true)) {
    case PatternMatch::kMatches:
      return Pass("matches the pattern");
    case PatternMatch::kDoesNotMatch:
      return Fail("does not match the pattern");
    case PatternMatch::kInvalid:
      break;
  }
  return Unparseable("invalid pattern (RE2 syntax: no backreferences or lookaround)");
}

}  // namespace triage::verify
