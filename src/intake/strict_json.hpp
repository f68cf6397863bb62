// JSON for intake, parsed strictly: a document that would lose or change data on its way into
// storage is refused instead of silently altered. Pure and thread-safe; never throws.
//   - a repeated key in any object (a JSON parser keeps one of the values, the other is lost);
//   - U+0000 in any string or key (PostgreSQL text and jsonb cannot hold it: the text after it
//     would be cut off, or the row refused).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace triage::intake {

struct JsonProblem {
  std::string code;     // invalid_json | invalid_field
  std::string field;    // the top-level field the problem is in, when there is one
  std::string message;  // names the key path, e.g. "duplicate key 'metadata.a'"
};

std::variant<nlohmann::json, JsonProblem> ParseStrictJson(std::string_view text);

}  // namespace triage::intake
