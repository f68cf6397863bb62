#include "verify/pattern.hpp"

#include <re2/re2.h>

namespace triage::verify {
namespace {

RE2::Options Options() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(8 << 20);  // a pattern whose automaton needs more is refused, not run
  return o;
}

}  // namespace

std::optional<std::string> PatternError(std::string_view pattern) {
  const RE2 re(re2::StringPiece(pattern.data(), pattern.size()), Options());
  if (re.ok()) return std::nullopt;
  return re.error();
}

PatternMatch MatchPattern(std::string_view pattern, std::string_view text, bool whole) {
  const RE2 re(re2::StringPiece(pattern.data(), pattern.size()), Options());
  if (!re.ok()) return PatternMatch::kInvalid;
  const re2::StringPiece input(text.data(), text.size());
  const bool matched = whole ? RE2::FullMatch(input, re) : RE2::PartialMatch(input, re);
  return matched ? PatternMatch::kMatches : PatternMatch::kDoesNotMatch;
}

}  // namespace triage::verify
