// Regular expressions that users supply (verify `regex` specs, JSON Schema `pattern`), run by
// RE2 in time linear in the input whatever the pattern: std::regex backtracks, and "(a+)+$" on
// forty a's and a "!" took it hours. RE2's syntax is ECMAScript's without backreferences and
// lookaround; a pattern using them is refused with RE2's reason. Pure and thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace triage::verify {

// Why `pattern` cannot be used, or nullopt when it compiles.
std::optional<std::string> PatternError(std::string_view pattern);

enum class PatternMatch { kMatches, kDoesNotMatch, kInvalid };
// The whole of `text` matches (`whole`), or some part of it does.
PatternMatch MatchPattern(std::string_view pattern, std::string_view text, bool whole);

}  // namespace triage::verify
