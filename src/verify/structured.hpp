// Structured-output checks: JSON Schema validation (the subset OpenAI/Anthropic structured
// outputs use), exact match and regex match. Pure, thread-safe, never throws.
//
// Schema subset: type (incl. type lists), enum, const, properties, required,
// additionalProperties (bool or schema), items, prefixItems, minItems/maxItems, uniqueItems,
// minLength/maxLength, pattern, minimum/maximum/exclusiveMinimum/exclusiveMaximum, multipleOf,
// anyOf/oneOf/allOf, $ref to "#/$defs/..." or "#/definitions/...". "format" is not enforced.
#pragma once
#include <nlohmann/json.hpp>
#include <string_view>

#include "verify/verdict.hpp"

namespace triage::verify {

// kPassed when `instance` conforms; kFailed names the first violation by JSON pointer.
Verdict ValidateJsonSchema(const nlohmann::json& instance, const nlohmann::json& schema);

// Parses a model's text as JSON first (a ```json fence around it is allowed):
// kUnparseable when it is not JSON.
Verdict ValidateJsonText(std::string_view text, const nlohmann::json& schema);

struct MatchOptions {
  bool trim = true;  // ignore leading/trailing whitespace
  bool case_insensitive = false;
};
Verdict ExactMatch(std::string_view expected, std::string_view actual,
                   const MatchOptions& options = {});

// Whole-string match of a user's pattern (verify/pattern.hpp: RE2, linear time). Inputs over
// 64 KiB are refused.
Verdict RegexMatch(std::string_view pattern, std::string_view actual);

}  // namespace triage::verify
