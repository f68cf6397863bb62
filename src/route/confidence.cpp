#include "route/confidence.hpp"

#include <cctype>
#include <charconv>
#include <vector>

namespace triage::route {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "confidence: 85%" (after markdown emphasis and bullets are dropped) -> 0.85. `is_report`
// says whether the line is a confidence line at all; the value is nothing when unreadable.
struct LineReading {
  bool is_report = false;
  std::optional<double> value;
};

LineReading ReadLine(std::string_view line) {
  std::string s;
  for (char c : line)
    if (c != '*' && c != '_' && c != '`') s += c;
  std::string_view rest = s;
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t' || rest.front() == '-' ||
                           rest.front() == '>'))
    rest.remove_prefix(1);
  constexpr std::string_view kWord = "confidence";
  if (Lower(rest.substr(0, kWord.size())) != kWord) return {};
  rest.remove_prefix(kWord.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || (rest.front() != ':' && rest.front() != '=')) return {};
  rest.remove_prefix(1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r' || rest.back() == '.'))
    rest.remove_suffix(1);
  LineReading out{true, std::nullopt};
  const bool percent = !rest.empty() && rest.back() == '%';
  if (percent) rest.remove_suffix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ec != std::errc() || end != rest.data() + rest.size() || rest.empty()) return out;
  const bool fraction = !percent && rest.find('.') != std::string_view::npos && v <= 1.0;
  const double scaled = fraction ? v : v / 100.0;
  if (scaled >= 0.0 && scaled <= 1.0) out.value = scaled;
  return out;
}

}  // namespace

SelfReport ParseSelfReport(std::string_view response) {
  SelfReport out;
  std::vector<std::optional<double>> values;
  size_t start = 0;
  while (start <= response.size()) {
    const auto end = std::min(response.find('\n', start), response.size());
    const auto line = response.substr(start, end - start);
    const auto reading = ReadLine(line);
    if (reading.is_report) {
      values.push_back(reading.value);
    } else {
      out.text.append(line);
      if (end < response.size()) out.text += '\n';
    }
    start = end + 1;
  }
  while (!out.text.empty() && (out.text.back() == '\n' || out.text.back() == ' '))
    out.text.pop_back();
  out.annotated = !values.empty();
  if (!values.empty() && values.front()) {
    bool agree = true;
    for (const auto& v : values) agree = agree && v == values.front();
    if (agree) out.confidence = values.front();
  }
  return out;
}

}  // namespace triage::route
