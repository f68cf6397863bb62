// A job's `verify` object -- how its answer is checked -- read into the verifier's request.
// Pure; never throws; an error names the key and what is wrong.
//   {"kind": "math", "gold": "3/4"}       equivalence with the gold answer; without gold, the
//                                          worked steps are checked
//   {"kind": "code", "tests": "...", "entry_point": "f"}
//                                          Python run in the sandbox: `tests` is asserts, or a
//                                          check(candidate) function when entry_point is given
//   {"kind": "json", "schema": {...}}     the answer is JSON valid against the schema
//   {"kind": "regex", "pattern": "..."}   the whole answer matches (RE2 syntax, <= 1000 bytes)
//   {"kind": "exact", "expected": "..."}  the answer equals this (trimmed)
//   {"kind": "steps"}                      the worked arithmetic checks out
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "verify/verifier.hpp"

namespace triage::verify {

// `domain` goes into the request (it picks the defaults of Verify's dispatch).
std::variant<VerifyRequest, std::string> ParseVerifySpec(const nlohmann::json& spec,
                                                         const std::string& domain);

}  // namespace triage::verify
