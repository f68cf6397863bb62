// verify::ExtractCandidates: every candidate lies inside the text, ExtractAnswer is the first of
// them, and every number found is a plain decimal or simple fraction inside the text.
#include <string>

#include "fuzz_check.hpp"
#include "verify/extract.hpp"

namespace {

bool IsDecimal(std::string_view s) {
  std::size_t i = s.starts_with('-') ? 1 : 0;
  if (i == s.size()) return false;
  bool dot = false, digit = false;
  for (; i < s.size(); ++i) {
    if (s[i] == '.' && !dot)
      dot = true;
    else if (s[i] >= '0' && s[i] <= '9')
      digit = true;
    else
      return false;
  }
  return digit;
}

// A decimal, or a simple fraction of two integers ("2/3").
bool IsPlainNumber(std::string_view s) {
  const auto slash = s.find('/');
  if (slash == std::string_view::npos) return IsDecimal(s);
  const auto num = s.substr(0, slash), den = s.substr(slash + 1);
  return IsDecimal(num) && num.find('.') == std::string_view::npos && !den.empty() &&
         den.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace triage::verify;
  const auto text = FuzzText(data, size);
  const ExtractOptions options{(size % 2) == 0, (size % 3) != 0, (size % 5) != 0};
  const auto candidates = ExtractCandidates(text, options);
  for (const auto& c : candidates) {
    FUZZ_CHECK(c.begin <= c.end && c.end <= text.size());
    FUZZ_CHECK(c.answer.size() <= text.size());
  }
  const auto first = ExtractAnswer(text, options);
  FUZZ_CHECK(first.has_value() == !candidates.empty());
  if (first) FUZZ_CHECK(first->answer == candidates.front().answer);
  for (const auto& n : FindNumbers(text)) {
    FUZZ_CHECK(n.begin < n.end && n.end <= text.size());
    FUZZ_CHECK(IsPlainNumber(n.value));
  }
  (void)HasProse(text);
  return 0;
}
