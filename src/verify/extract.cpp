#include "verify/extract.hpp"

#include <algorithm>
#include <cctype>

namespace triage::verify {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Case-insensitive search from `from`.
std::size_t FindNoCase(std::string_view hay, std::string_view needle, std::size_t from = 0) {
  if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && std::tolower(static_cast<unsigned char>(hay[i + k])) ==
                                    std::tolower(static_cast<unsigned char>(needle[k])))
      ++k;
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

// Index one past the brace matching text[open] == '{', skipping escaped braces; npos if unclosed.
std::size_t MatchBrace(std::string_view text, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '{' || text[i + 1] == '}')) {
      ++i;
      continue;
    }
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

struct Span {
  std::size_t begin;  // whole match (anchor included)
  std::size_t end;
  std::string content;  // the answer text
};

std::vector<Span> FindBoxes(std::string_view text) {
  std::vector<Span> boxes;
  std::size_t pos = 0;
  while (true) {
    std::size_t b = text.find("\\boxed", pos);
    std::size_t f = text.find("\\fbox", pos);
    std::size_t at = std::min(b, f);
    if (at == std::string_view::npos) break;
    std::size_t i = at + (at == b ? 6 : 5);
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i < text.size() && text[i] == '{') {
      std::size_t close = MatchBrace(text, i);
      if (close == std::string_view::npos) {
        // An unclosed box (truncated output): take the rest, it is the best we have.
        boxes.push_back({at, text.size(), std::string(text.substr(i + 1))});
        break;
      }
      boxes.push_back({at, close, std::string(text.substr(i + 1, close - i - 2))});
      pos = close;
    } else {
      std::size_t j = i;
      while (j < text.size() && !IsSpace(text[j]) && text[j] != '$' && text[j] != '}') ++j;
      if (j > i) boxes.push_back({at, j, std::string(text.substr(i, j - i))});
      pos = std::max(j, at + 1);
    }
  }
  return boxes;
}

// LaTeX math environments: $$..$$, \[..\] (may span lines), $..$, \(..\) (single line).
std::vector<Span> FindLatexEnvs(std::string_view text) {
  std::vector<Span> envs;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      char n = text[i + 1];
      if (n == '[' || n == '(') {
        std::string_view close = n == '[' ? "\\]" : "\\)";
        std::size_t e = text.find(close, i + 2);
        if (e != std::string_view::npos &&
            (n == '[' || text.substr(i + 2, e - i - 2).find('\n') == std::string_view::npos)) {
          envs.push_back({i, e + 2, std::string(text.substr(i + 2, e - i - 2))});
          i = e + 2;
          continue;
        }
      }
      i += 2;  // an escaped character (\$ among them) is never a delimiter
      continue;
    }
    if (c == '$') {
      if (i + 1 < text.size() && text[i + 1] == '$') {
        std::size_t e = text.find("$$", i + 2);
        if (e != std::string_view::npos) {
          envs.push_back({i, e + 2, std::string(text.substr(i + 2, e - i - 2))});
          i = e + 2;
          continue;
        }
        i += 2;
        continue;
      }
      std::size_t j = i + 1;
      bool ok = false;
      while (j < text.size()) {
        if (text[j] == '\\' && j + 1 < text.size()) {
          j += 2;
          continue;
        }
        if (text[j] == '\n') break;
        if (text[j] == '$') {
          ok = true;
          break;
        }
        ++j;
      }
      if (ok) {
        envs.push_back({i, j + 1, std::string(text.substr(i + 1, j - i - 1))});
        i = j + 1;
        continue;
      }
      ++i;
      continue;
    }
    ++i;
  }
  return envs;
}

// Words of `sep` once LaTeX spacing, \text wrappers and punctuation are gone.
std::vector<std::string> SeparatorWords(std::string_view sep) {
  std::vector<std::string> words;
  std::string cur;
  for (std::size_t i = 0; i < sep.size(); ++i) {
    char c = sep[i];
    if (c == '\\') {  // skip a command name (\text, \quad, \( ...)
      ++i;
      while (i < sep.size() && IsAlpha(sep[i])) ++i;
      --i;
      if (!cur.empty()) words.push_back(Lower(cur)), cur.clear();
      continue;
    }
    if (IsAlpha(c) || IsDigit(c)) {
      cur += c;
    } else if (!cur.empty()) {
      words.push_back(Lower(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(Lower(cur));
  return words;
}

bool BoxSeparatorJoins(std::string_view sep) {
  auto words = SeparatorWords(sep);
  if (words.empty()) return true;
  if (words.size() > 6) return false;
  return std::any_of(words.begin(), words.end(),
                     [](const std::string& w) { return w == "and" || w == "or"; });
}

bool EnvSeparatorJoins(std::string_view sep) {
  std::string s = Lower(Trim(sep));
  return s.empty() || s == "," || s == "and" || s == "or" || s == ", and" || s == ", or" ||
         s == ";";
}

// Joins spans[k] with its left neighbours while the text between them is a list separator.
Extraction JoinLeft(std::string_view text, const std::vector<Span>& spans, std::size_t k,
                    bool (*joins)(std::string_view), ExtractionMethod method) {
  std::size_t first = k;
  while (first > 0 &&
         joins(text.substr(spans[first - 1].end, spans[first].begin - spans[first - 1].end)))
    --first;
  Extraction e;
  e.method = method;
  e.begin = spans[first].begin;
  e.end = spans[k].end;
  for (std::size_t j = first; j <= k; ++j) {
    if (j > first) e.answer += ", ";
    e.answer += spans[j].content;
  }
  return e;
}

// Only markup ("**5**", "`5`", "$5$.") around text[begin, end)?
bool OnlyMarkupAround(std::string_view text, std::size_t begin, std::size_t end) {
  auto markup = [](char c) {
    return IsSpace(c) || std::string_view("*_`$.:\"'").find(c) != std::string_view::npos;
  };
  return std::all_of(text.begin(), text.begin() + begin, markup) &&
         std::all_of(text.begin() + end, text.end(), markup);
}

// Is the number at text[begin, end) a piece of a larger expression ("6 - 5i", "2^{10}", "52_8",
// "4 \times 5", "4-foot")? Then it is not the answer by itself. A unit glued to it ("48g") and
// markdown emphasis ("**18**") do not count.
bool PartOfExpression(std::string_view text, std::size_t begin, std::size_t end) {
  auto is_op = [&](std::size_t at, bool after) {
    char c = text[at];
    if (c == '*') {  // "**" is emphasis, "*" multiplication
      bool doubled =
          (at + 1 < text.size() && text[at + 1] == '*') || (at > 0 && text[at - 1] == '*');
      return !doubled;
    }
    if (c == '+' || c == '/' || c == '^' || c == '_' || (c == '-' && after)) return true;
    for (std::string_view cmd : {"\\times", "\\cdot", "\\div", "\\pm"})
      if (after ? text.substr(at, cmd.size()) == cmd
                : at + 1 >= cmd.size() && text.substr(at + 1 - cmd.size(), cmd.size()) == cmd)
        return true;
    return false;
  };
  if (end < text.size()) {
    char c = text[end];
    if (c == '_' || c == '^' || c == '(') return true;
    // "5i" is imaginary; other glued letters are usually units ("48g", "5cm", "3x faster").
    if (c == 'i' && (end + 1 == text.size() || !IsAlpha(text[end + 1]))) return true;
  }
  std::size_t after = end;
  while (after < text.size() && IsSpace(text[after])) ++after;
  if (after < text.size() && is_op(after, true)) return true;
  std::size_t before = begin;
  if (before > 0 && text[before - 1] == '{') --before;  // "^{10}", "_{8}"
  while (before > 0 && IsSpace(text[before - 1])) --before;
  // A minus right before the number is its sign (part of the span); one before a space is binary.
  if (before > 0 && (is_op(before - 1, false) || (text[before - 1] == '-' && before < begin)))
    return true;
  return false;
}

// The phrase after an anchor: a following LaTeX env; else the phrase whole when it holds no
// prose ("4, 12, 2", "(2, 4)"), then its first or last number; else the sentence itself (a word
// answer such as "Evelyn").
void PhraseAfter(std::string_view text, std::size_t at, bool latex, bool expr,
                 ExtractionMethod method, std::vector<Extraction>& out) {
  std::size_t i = at;
  while (i < text.size() && (IsSpace(text[i]) || text[i] == ':')) ++i;
  std::size_t end = i;
  while (end < text.size() && text[end] != '\n') {
    if (text[end] == '.' && (end + 1 == text.size() || IsSpace(text[end + 1]))) break;
    ++end;
  }
  std::string_view sentence = text.substr(i, end - i);
  if (latex) {
    auto envs = FindLatexEnvs(sentence);
    if (!envs.empty()) {
      auto joined = JoinLeft(sentence, envs, envs.size() - 1, EnvSeparatorJoins, method);
      joined.begin += i;
      joined.end += i;
      out.push_back(std::move(joined));
      return;
    }
  }
  std::string_view trimmed = Trim(sentence);
  if (expr) {
    auto numbers = FindNumbers(sentence);
    if (!numbers.empty()) {
      // "is 18, not 20": a number right after the anchor is the answer; otherwise the sentence's
      // last number ("Jane started growing Sphere 3 hours ago").
      const NumberSpan& pick = numbers.front().begin <= 2 ? numbers.front() : numbers.back();
      if (trimmed != pick.value && !HasProse(trimmed))
        out.push_back({std::string(trimmed), i, end, method});
      out.push_back({pick.value, i + pick.begin, i + pick.end, method});
      return;
    }
  }
  if (!trimmed.empty() && trimmed.size() <= 64)
    out.push_back({std::string(trimmed), i, end, method});
}

}  // namespace

std::string_view ToString(ExtractionMethod method) {
  switch (method) {
    case ExtractionMethod::kHashes:
      return "hashes";
    case ExtractionMethod::kBoxed:
      return "boxed";
    case ExtractionMethod::kFinalAnswer:
      return "final_answer";
    case ExtractionMethod::kAnswerIs:
      return "answer_is";
    case ExtractionMethod::kLatexEnv:
      return "latex_env";
    case ExtractionMethod::kLastNumber:
      return "last_number";
    case ExtractionMethod::kWhole:
      return "whole";
    case ExtractionMethod::kBare:
      return "bare";
  }
  return "unknown";
}

bool HasProse(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    std::size_t begin = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    std::string_view word = text.substr(begin, i - begin);
    // Quotes, brackets and markdown emphasis around a word do not make it less of a word.
    while (!word.empty() && std::string_view("\"'(*_").find(word.front()) != std::string_view::npos)
      word.remove_prefix(1);
    while (!word.empty() &&
           std::string_view("\"'),.;:!?*_").find(word.back()) != std::string_view::npos)
      word.remove_suffix(1);
    // "and" / "or" join the items of a bare list ("x = 2 or x = 3").
    if (word.size() >= 2 && std::all_of(word.begin(), word.end(), IsAlpha) &&
        Lower(word) != "and" && Lower(word) != "or")
      return true;
  }
  return false;
}

std::vector<NumberSpan> FindNumbers(std::string_view text) {
  std::vector<NumberSpan> out;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    bool starts = IsDigit(text[i]) || (text[i] == '.' && i + 1 < n && IsDigit(text[i + 1]) &&
                                       (i == 0 || !IsDigit(text[i - 1])));
    // Not glued to a word ("AZYUK2A") and not an exponent ("m^2").
    if (!starts ||
        (i > 0 && (IsAlpha(text[i - 1]) || IsDigit(text[i - 1]) || text[i - 1] == '^'))) {
      ++i;
      continue;
    }
    std::size_t begin = i;
    bool negative =
        i > 0 && text[i - 1] == '-' &&
        (i == 1 || !(IsDigit(text[i - 2]) || IsAlpha(text[i - 2]) || text[i - 2] == ')'));
    std::string digits;
    while (i < n && IsDigit(text[i])) digits += text[i++];
    // Thousands groups: ",ddd" (or " ddd" / "\,ddd"), never after a leading 0.
    bool grouped = false;
    if (!digits.empty() && digits.size() <= 3 && digits != "0") {
      while (i + 3 < n + 0 && i < n) {
        std::size_t skip = 0;
        if (text[i] == ',')
          skip = 1;
        else if (text[i] == ' ' && (grouped || text.substr(i).size() > 3))
          skip = 1;
        if (!skip || i + skip + 3 > n) break;
        std::string_view g = text.substr(i + skip, 3);
        if (!(IsDigit(g[0]) && IsDigit(g[1]) && IsDigit(g[2]))) break;
        if (i + skip + 3 < n && IsDigit(text[i + skip + 3])) break;
        if (text[i] == ' ' && !grouped && (i + skip + 3 < n && text[i + skip + 3] == ',')) break;
        digits += g;
        i += skip + 3;
        grouped = true;
      }
    }
    std::string frac;
    if (i + 1 < n && text[i] == '.' && IsDigit(text[i + 1])) {
      ++i;
      while (i < n && IsDigit(text[i])) frac += text[i++];
    } else if (!grouped && i + 1 < n && text[i] == ',' && IsDigit(text[i + 1])) {
      // "2,74" / "1000,99" / "0,111": a decimal comma (a thousands group was ruled out above).
      std::size_t j = i + 1;
      std::string f;
      while (j < n && IsDigit(text[j])) f += text[j++];
      if (f.size() != 3 || digits == "0" || digits.size() > 3) {
        frac = f;
        i = j;
      }
    }
    std::string value = (negative ? "-" : "") + (digits.empty() ? "0" : digits);
    if (!frac.empty()) value += "." + frac;
    // A simple fraction "2/3".
    if (frac.empty() && i + 1 < n && text[i] == '/' && IsDigit(text[i + 1])) {
      std::size_t j = i + 1;
      std::string den;
      while (j < n && IsDigit(text[j])) den += text[j++];
      if (!(j < n && (text[j] == '.' && j + 1 < n && IsDigit(text[j + 1])))) {
        value += "/" + den;
        i = j;
      }
    }
    out.push_back({value, negative ? begin - 1 : begin, i});
  }
  return out;
}

std::vector<Extraction> ExtractCandidates(std::string_view text, const ExtractOptions& options) {
  std::vector<Extraction> tier0, tier50, tier100;
  if (options.hashes) {
    std::size_t h = text.rfind("####");
    if (h != std::string_view::npos) {
      std::size_t e = text.find('\n', h);
      if (e == std::string_view::npos) e = text.size();
      auto numbers = FindNumbers(text.substr(h + 4, e - h - 4));
      if (!numbers.empty())
        tier0.push_back({numbers.front().value, h, e, ExtractionMethod::kHashes});
    }
  }
  if (options.latex) {
    auto boxes = FindBoxes(text);
    if (!boxes.empty()) {
      tier0.push_back(
          JoinLeft(text, boxes, boxes.size() - 1, BoxSeparatorJoins, ExtractionMethod::kBoxed));
      for (std::size_t k = boxes.size() - 1; k-- > 0;)
        tier0.push_back({boxes[k].content, boxes[k].begin, boxes[k].end, ExtractionMethod::kBoxed});
    }
  }
  // "final answer is $X$" is as strong as a box; looser forms come next.
  for (std::size_t at = FindNoCase(text, "final answer"); at != std::string_view::npos;
       at = FindNoCase(text, "final answer", at + 1)) {
    std::size_t after = at + 12;
    // " is" must come within the same sentence ("... is 34."), not in the next one.
    std::size_t limit = std::min(text.size(), after + 100);
    for (std::size_t k = after; k < limit; ++k) {
      if (text[k] == '\n' || (text[k] == '.' && (k + 1 == text.size() || IsSpace(text[k + 1])))) {
        limit = k;
        break;
      }
    }
    std::size_t is = after;
    while ((is = FindNoCase(text.substr(0, limit), " is", is)) != std::string_view::npos &&
           is + 3 < text.size() && !(IsSpace(text[is + 3]) || text[is + 3] == ':'))
      ++is;
    if (is != std::string_view::npos) {
      PhraseAfter(text, is + 3, options.latex, options.expr, ExtractionMethod::kFinalAnswer,
                  is == after ? tier0 : tier50);
    } else if (after < text.size() && text[after] == ':') {
      PhraseAfter(text, after + 1, options.latex, options.expr, ExtractionMethod::kFinalAnswer,
                  tier50);
    }
  }
  if (options.expr) {
    for (std::string_view anchor : {"answer is", "answer:"}) {
      for (std::size_t at = FindNoCase(text, anchor); at != std::string_view::npos;
           at = FindNoCase(text, anchor, at + 1)) {
        if (at >= 6 && FindNoCase(text.substr(at - 6, 6), "final") != std::string_view::npos)
          continue;
        PhraseAfter(text, at + anchor.size(), options.latex, options.expr,
                    ExtractionMethod::kAnswerIs, tier50);
      }
    }
  }
  if (options.latex) {
    auto envs = FindLatexEnvs(text);
    for (std::size_t k = envs.size(); k-- > 0;) {
      if (k + 1 == envs.size())
        tier100.push_back(JoinLeft(text, envs, k, EnvSeparatorJoins, ExtractionMethod::kLatexEnv));
      else
        tier100.push_back(
            {envs[k].content, envs[k].begin, envs[k].end, ExtractionMethod::kLatexEnv});
    }
  }
  // A short bare LaTeX answer ("\\frac{10}{9}") is best read whole, before its digits.
  if (options.latex && text.size() <= 256 && text.find('\\') != std::string_view::npos &&
      tier0.empty() && tier100.empty()) {
    // Its span ends where the text does, as a last number's may: sorted rightmost first, it
    // still comes before that number, because it starts earlier.
    tier100.push_back({std::string(Trim(text)), 0, text.size(), ExtractionMethod::kWhole});
  }
  if (options.expr) {
    // The last number is a last resort for prose, and only a number standing on its own: a
    // formula's numbers are parts of it ("so z = 6 - 5i" does not say 5).
    bool prose = HasProse(text);
    auto numbers = FindNumbers(text);
    for (auto& number : numbers) {
      bool usable = prose ? !PartOfExpression(text, number.begin, number.end)
                          : numbers.size() == 1 && OnlyMarkupAround(text, number.begin, number.end);
      if (usable)
        tier100.push_back({number.value, number.begin, number.end, ExtractionMethod::kLastNumber});
    }
  }
  auto rightmost_first = [](const Extraction& a, const Extraction& b) {
    return a.end != b.end ? a.end > b.end : a.begin < b.begin;
  };
  std::stable_sort(tier0.begin(), tier0.end(), rightmost_first);
  std::stable_sort(tier50.begin(), tier50.end(), rightmost_first);
  std::stable_sort(tier100.begin(), tier100.end(), rightmost_first);
  std::vector<Extraction> all;
  all.reserve(tier0.size() + tier50.size() + tier100.size() + 1);
  for (auto* tier : {&tier0, &tier50, &tier100})
    for (auto& e : *tier) all.push_back(std::move(e));
  if (all.empty()) {
    std::string_view trimmed = Trim(text);
    if (!trimmed.empty() && trimmed.size() <= 256)
      all.push_back({std::string(trimmed), 0, text.size(), ExtractionMethod::kWhole});
  }
  return all;
}

std::optional<Extraction> ExtractAnswer(std::string_view text, const ExtractOptions& options) {
  auto all = ExtractCandidates(text, options);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

}  // namespace triage::verify
