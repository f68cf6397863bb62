#include "verify/math_equivalence.hpp"

#include <ginac/ginac.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace triage::verify {

// Opaque applications keep what GiNaC cannot evaluate (f(x), F_{n-1}, floor, sums) comparable
// structurally: same name and same arguments are equal, anything else is not provable.
DECLARE_FUNCTION_2P(triage_apply)
REGISTER_FUNCTION(triage_apply, dummy())
DECLARE_FUNCTION_4P(triage_sum)
REGISTER_FUNCTION(triage_sum, dummy())

namespace {

using GiNaC::ex;
using GiNaC::ex_to;
using GiNaC::is_a;
using Clock = std::chrono::steady_clock;

constexpr long kMaxExactExponent = 4096;  // for symbolic bases and roots
constexpr long kMaxExactBits = 1L << 18;  // exact numeric powers up to ~79k digits (2^4950 is fine)
constexpr long kMaxFactorial = 1000;
constexpr long kMaxExpandExponent = 48;  // above this, skip expand() and probe numerically

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct BudgetError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------------------------
// Normalisation (string -> string)

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (true) {
    std::size_t at = s.find(from, pos);
    if (at == std::string::npos) break;
    out.append(s, pos, at - pos);
    out.append(to);
    pos = at + from.size();
  }
  if (pos == 0) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Removes a command only when it is not the prefix of a longer one (\left vs \leftarrow).
void RemoveCommand(std::string& s, std::string_view cmd, std::string_view with = "") {
  std::string out;
  std::size_t pos = 0;
  bool changed = false;
  while (true) {
    std::size_t at = s.find(cmd, pos);
    if (at == std::string::npos) break;
    std::size_t after = at + cmd.size();
    if (after < s.size() && IsAlpha(s[after]) && IsAlpha(cmd.back())) {
      out.append(s, pos, after - pos);
      pos = after;
      continue;
    }
    out.append(s, pos, at - pos);
    out.append(with);
    pos = after;
    changed = true;
  }
  if (!changed) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

void RemoveWord(std::string& s, std::string_view word) {
  std::size_t pos = 0;
  while ((pos = s.find(word, pos)) != std::string::npos) {
    bool left_ok = pos == 0 || !IsAlpha(s[pos - 1]);
    bool right_ok = pos + word.size() >= s.size() || !IsAlpha(s[pos + word.size()]);
    if (left_ok && right_ok && !(pos > 0 && s[pos - 1] == '\\')) {
      s.erase(pos, word.size());
    } else {
      pos += word.size();
    }
  }
}

// Unicode look-alikes (minus signs, full-width digits, ≤, π ...) as ASCII LaTeX. Applied before
// extraction too, so "−5" is found as a negative number.
std::string NormalizeUnicode(std::string_view input) {
  std::string s(input);
  static const std::pair<std::string_view, std::string_view> kUnicode[] = {
      {"\u2212", "-"},       {"\u2013", "-"},     {"\u2014", "-"},     {"\u00d7", "*"},
      {"\u22c5", "*"},       {"\u00b7", "*"},     {"\u00f7", "/"},     {"\u2264", "\\le "},
      {"\u2265", "\\ge "},   {"\u2260", "\\ne "}, {"\u03c0", "\\pi "}, {"\u221e", "\\infty "},
      {"\u221a", "\\sqrt "}, {"\u00b0", ""},      {"\u00b2", "^2"},    {"\u00b3", "^3"},
      {"\u20ac", ""},        {"\u00a3", ""},      {"\u2208", "\\in "}, {"\u222a", "\\cup "},
      {"\u00b1", "\\pm "},   {"\u00a0", " "},     {"\u2009", " "},     {"\u202f", " "}};
  if (std::any_of(s.begin(), s.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    for (auto& [from, to] : kUnicode) ReplaceAll(s, from, to);
    // Full-width digits U+FF10..U+FF19 (EF BC 90..99).
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xEF &&
          static_cast<unsigned char>(s[i + 1]) == 0xBC &&
          static_cast<unsigned char>(s[i + 2]) >= 0x90 &&
          static_cast<unsigned char>(s[i + 2]) <= 0x99) {
        out += static_cast<char>('0' + (static_cast<unsigned char>(s[i + 2]) - 0x90));
        i += 2;
      } else {
        out += s[i];
      }
    }
    s = std::move(out);
  }
  return s;
}

std::string Normalize(std::string_view input) {
  std::string s = NormalizeUnicode(input);
  // "\\frac" (an escaped backslash in the source) means "\frac"; "\\" before a space or digit
  // is a matrix row break and stays.
  {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
      if (s[i] == '\\') {
        std::size_t j = i;
        while (j < s.size() && s[j] == '\\') ++j;
        std::size_t run = j - i;
        if (run == 2 && j < s.size() && IsAlpha(s[j])) {
          out += '\\';
        } else if (run == 1 && j + 4 <= s.size() && s[j] == ',' && i > 0 && IsDigit(s[i - 1]) &&
                   IsDigit(s[j + 1]) && IsDigit(s[j + 2]) && IsDigit(s[j + 3]) &&
                   (j + 4 == s.size() || !IsDigit(s[j + 4]))) {
          ++j;  // "1\,000": a thin-space thousands separator
        } else if (run == 1 && j < s.size() &&
                   std::string_view("!,;: ").find(s[j]) != std::string_view::npos &&
                   !(s[j] == '!' && i > 0 && s[i - 1] == ',')) {
          out += ' ';  // \! \, \; \: "\ " are spacing
          ++j;
        } else {
          out.append(run, '\\');
        }
        i = j;
      } else {
        out += s[i++];
      }
    }
    s = std::move(out);
  }
  // Thousands separators written for LaTeX: "14{,}916", "11,\! 111".
  // "{,}" with any spacing around it ("14 {, }916").
  for (std::size_t at = s.find('{'); at != std::string::npos; at = s.find('{', at + 1)) {
    std::size_t j = at + 1;
    while (j < s.size() && s[j] == ' ') ++j;
    if (j >= s.size() || s[j] != ',') continue;
    ++j;
    while (j < s.size() && s[j] == ' ') ++j;
    if (j >= s.size() || s[j] != '}') continue;
    std::size_t b = at, e = j + 1;
    while (b > 0 && s[b - 1] == ' ') --b;
    while (e < s.size() && s[e] == ' ') ++e;
    s.erase(b, e - b);
    at = b;
  }
  {
    std::size_t pos;
    while ((pos = s.find(",\\!")) != std::string::npos) {
      std::size_t e = pos + 3;
      while (e < s.size() && s[e] == ' ') ++e;
      s.erase(pos, e - pos);
    }
  }
  // \phantom{..} and friends take space but show nothing.
  for (std::string_view ph : {"\\hphantom", "\\vphantom", "\\phantom"}) {
    std::size_t at;
    while ((at = s.find(ph)) != std::string::npos) {
      std::size_t j = at + ph.size();
      while (j < s.size() && s[j] == ' ') ++j;
      std::size_t end = j;
      if (j < s.size() && s[j] == '{') {
        int depth = 0;
        for (end = j; end < s.size(); ++end) {
          if (s[end] == '{') ++depth;
          if (s[end] == '}' && --depth == 0) break;
        }
        end = std::min(end + 1, s.size());
      }
      s.erase(at, end - at);
    }
  }
  for (std::string_view cmd :
       {"\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\big", "\\Big",
        "\\displaystyle", "\\limits", "\\qquad", "\\quad", "\\textstyle"})
    RemoveCommand(s, cmd, " ");
  // \quadx (no space) is \quad followed by x.
  ReplaceAll(s, "\\qquad", " ");
  ReplaceAll(s, "\\quad", " ");
  ReplaceAll(s, "~", " ");
  ReplaceAll(s, "\\$", "");
  ReplaceAll(s, "$", "");
  for (std::string_view f : {"\\dfrac", "\\tfrac", "\\cfrac"}) ReplaceAll(s, f, "\\frac");
  ReplaceAll(s, "\\dbinom", "\\binom");
  ReplaceAll(s, "\\tbinom", "\\binom");
  for (std::string_view deg : {"^{\\circ}", "^\\circ", "\\circ", "\\degree", "^{o}"})
    ReplaceAll(s, deg, "");
  ReplaceAll(s, "\\%", "");
  ReplaceAll(s, "%", "");
  for (std::string_view w : {"percentage", "percent", "pct", "degrees", "degree"}) RemoveWord(s, w);
  ReplaceAll(s, "\\lt", "<");
  ReplaceAll(s, "\\gt", ">");
  RemoveCommand(s, "\\neq", "\\ne ");
  RemoveCommand(s, "\\leqslant", "\\le ");
  RemoveCommand(s, "\\geqslant", "\\ge ");
  RemoveCommand(s, "\\leq", "\\le ");
  RemoveCommand(s, "\\geq", "\\ge ");
  ReplaceAll(s, "<=", "\\le ");
  ReplaceAll(s, ">=", "\\ge ");
  ReplaceAll(s, "!=", "\\ne ");
  // Trim, and drop sentence punctuation at the end.
  std::size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && (IsSpace(s[e - 1]) || s[e - 1] == '.' || (s[e - 1] == ',' && e - 1 > b))) --e;
  return s.substr(b, e - b);
}

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok { kNum, kWord, kCmd, kText, kBegin, kEnd, kRowSep, kLSet, kRSet, kSym, kEof };

struct Token {
  Tok kind;
  std::string text;  // number digits, word letters, command name, text content, symbol char
};

std::size_t MatchBraceIn(std::string_view s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      continue;
    }
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i;
  }
  throw ParseError("unbalanced braces");
}

bool IsTextCommand(std::string_view name) {
  return name == "text" || name == "textbf" || name == "textit" || name == "mbox" ||
         name == "textnormal" || name == "mathrm" || name == "mathbf" || name == "mathit" ||
         name == "operatorname" || name == "textrm" || name == "mathsf" || name == "textsf" ||
         name == "boldsymbol" || name == "mathbb" || name == "mathcal" || name == "emph" ||
         name == "boxed" || name == "fbox" || name == "hbox" || name == "textup";
}

std::vector<Token> Lex(std::string_view s, std::size_t max_tokens, int depth = 0) {
  if (depth > 8) throw BudgetError("boxes nested deeper than the budget");
  std::vector<Token> out;
  std::size_t i = 0;
  int paren_depth = 0;
  while (i < s.size()) {
    if (out.size() > max_tokens) throw BudgetError("answer exceeds the token budget");
    char c = s[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      std::string num;
      while (i < s.size() && IsDigit(s[i])) num += s[i++];
      // "10,455" at top level is one number; inside brackets "(1,100)" is a pair.
      if (paren_depth == 0 && !num.empty() && num.size() <= 3 && num[0] != '0') {
        while (i + 3 < s.size() && s[i] == ',' && IsDigit(s[i + 1]) && IsDigit(s[i + 2]) &&
               IsDigit(s[i + 3]) && (i + 4 >= s.size() || !IsDigit(s[i + 4]))) {
          num.append(s.substr(i + 1, 3));
          i += 4;
        }
      }
      if (i + 1 < s.size() && s[i] == '.' && IsDigit(s[i + 1])) {
        num += s[i++];
        while (i < s.size() && IsDigit(s[i])) num += s[i++];
      } else if (i < s.size() && s[i] == '.' && !num.empty() &&
                 (i + 1 == s.size() || !IsDigit(s[i + 1])) && i + 1 < s.size() && s[i + 1] != '.') {
        ++i;  // "5." as in "5. " -> 5
      }
      out.push_back({Tok::kNum, num});
      continue;
    }
    if (IsAlpha(c)) {
      std::string w;
      while (i < s.size() && IsAlpha(s[i])) w += s[i++];
      out.push_back({Tok::kWord, w});
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) throw ParseError("dangling backslash");
      char n = s[i + 1];
      if (n == '\\') {
        out.push_back({Tok::kRowSep, ""});
        i += 2;
        continue;
      }
      if (n == '{') {
        out.push_back({Tok::kLSet, ""});
        i += 2;
        continue;
      }
      if (n == '}') {
        out.push_back({Tok::kRSet, ""});
        i += 2;
        continue;
      }
      if (n == '|') {
        out.push_back({Tok::kSym, "|"});
        i += 2;
        continue;
      }
      if (!IsAlpha(n)) {
        i += 2;  // \, \; \! and friends were normalised away; anything left is spacing
        continue;
      }
      std::size_t j = i + 1;
      while (j < s.size() && IsAlpha(s[j])) ++j;
      std::string name(s.substr(i + 1, j - i - 1));
      i = j;
      if (name == "begin" || name == "end") {
        while (i < s.size() && IsSpace(s[i])) ++i;
        if (i >= s.size() || s[i] != '{') throw ParseError("\\" + name + " without {name}");
        std::size_t close = MatchBraceIn(s, i);
        std::string env(s.substr(i + 1, close - i - 1));
        i = close + 1;
        if (name == "begin" && env == "array") {  // skip the column spec {cc}
          while (i < s.size() && IsSpace(s[i])) ++i;
          if (i < s.size() && s[i] == '{') i = MatchBraceIn(s, i) + 1;
        }
        out.push_back({name == "begin" ? Tok::kBegin : Tok::kEnd, env});
        continue;
      }
      if (IsTextCommand(name)) {
        while (i < s.size() && IsSpace(s[i])) ++i;
        if (i < s.size() && s[i] == '{') {
          std::size_t close = MatchBraceIn(s, i);
          std::string content(s.substr(i + 1, close - i - 1));
          i = close + 1;
          if (name == "boxed" || name == "fbox") {
            // A box inside an answer is just grouping: re-lex its contents in place.
            auto inner = Lex(content, max_tokens - out.size(), depth + 1);
            out.push_back({Tok::kSym, "{"});
            out.insert(out.end(), inner.begin(), inner.end());
            out.push_back({Tok::kSym, "}"});
          } else {
            out.push_back({Tok::kText, content});
          }
        }
        continue;
      }
      out.push_back({Tok::kCmd, name});
      continue;
    }
    if (c == '(' || c == '[') ++paren_depth;
    if ((c == ')' || c == ']') && paren_depth > 0) --paren_depth;
    if (std::string_view("+-*/^_()[]{}|,;=<>!:&'").find(c) != std::string_view::npos) {
      out.push_back({Tok::kSym, std::string(1, c)});
      ++i;
      continue;
    }
    throw ParseError(std::string("unexpected character '") + c + "'");
  }
  return out;
}

bool IsSym(const Token& t, std::string_view s) { return t.kind == Tok::kSym && t.text == s; }
bool IsCmd(const Token& t, std::string_view s) { return t.kind == Tok::kCmd && t.text == s; }

// ---------------------------------------------------------------------------------------------
// Values

struct Value {
  enum class Kind { kExpr, kList, kTuple, kInterval, kUnion, kRelation, kText };
  Kind kind = Kind::kExpr;
  ex expr;
  std::optional<ex> label;       // "x = 3": label x, value 3
  int float_digits = -1;         // most decimals of any float literal, -1 when none
  bool opaque = false;           // contains an opaque application (no numeric probing)
  bool big_exponent = false;     // contains a power too large to expand
  bool huge_power = false;       // ... or to evaluate exactly even at a rational point
  std::vector<Value> items;      // list / tuple / union members, interval ends, relation sides
  std::vector<std::string> ops;  // relation operators between items: = < le ne
  bool lo_closed = false, hi_closed = false;
  bool maybe_interval = false;  // "(a, b)": a pair or an open interval
  bool is_set = false;          // written with \{ \}
  std::string text;             // canonical text (for text answers and the fallback)
};

struct SymbolTable {
  bool canonical = false;  // non-strict: the k-th new name becomes v<k>
  std::map<std::string, GiNaC::symbol> by_name;
  std::map<std::string, std::string> renames;
  int next = 0;
  GiNaC::symbol pm{"pm_sign"};
  GiNaC::symbol infinity{"oo"};

  GiNaC::symbol Get(const std::string& raw) {
    std::string name = raw;
    if (canonical && raw.rfind("fn:", 0) != 0) {
      auto it = renames.find(raw);
      if (it == renames.end()) it = renames.emplace(raw, "v" + std::to_string(next++)).first;
      name = it->second;
    }
    auto it = by_name.find(name);
    if (it != by_name.end()) return it->second;
    GiNaC::symbol s(name);
    by_name.emplace(name, s);
    return s;
  }
};

struct Budget {
  Clock::time_point deadline;
  void Check() const {
    if (Clock::now() >= deadline) throw BudgetError("time budget exhausted");
  }
};

std::string CanonicalText(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    // A period is punctuation unless it sits between digits ("1.5" is not "15").
    bool decimal_point =
        c == '.' && i > 0 && i + 1 < s.size() && IsDigit(s[i - 1]) && IsDigit(s[i + 1]);
    if (IsSpace(c) || c == '{' || c == '}' || c == '(' || c == ')' || c == '\\' || c == '$' ||
        (c == '.' && !decimal_point))
      continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (std::string_view w :
       {"textbf", "textnormal", "textit", "text", "mbox", "mathrm", "boxed", "fbox"})
    ReplaceAll(out, w, "");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parser: tokens -> Value (structure) and GiNaC expressions (inside)

const std::map<std::string, int>& FunctionNames() {
  static const std::map<std::string, int> names = {
      {"sin", 1},    {"cos", 1},    {"tan", 1},    {"sec", 1},   {"csc", 1},  {"cot", 1},
      {"arcsin", 1}, {"arccos", 1}, {"arctan", 1}, {"sinh", 1},  {"cosh", 1}, {"tanh", 1},
      {"log", 1},    {"ln", 1},     {"exp", 1},    {"lg", 1},    {"max", 2},  {"min", 2},
      {"gcd", 2},    {"lcm", 2},    {"det", 1},    {"floor", 1}, {"ceil", 1}, {"sgn", 1}};
  return names;
}

bool IsGreek(std::string_view name) {
  static const char* kGreek[] = {
      "alpha",    "beta",    "gamma", "delta",  "epsilon", "varepsilon", "zeta",  "eta",   "theta",
      "vartheta", "iota",    "kappa", "lambda", "mu",      "nu",         "xi",    "rho",   "sigma",
      "tau",      "upsilon", "phi",   "varphi", "chi",     "psi",        "omega", "Gamma", "Delta",
      "Theta",    "Lambda",  "Xi",    "Sigma",  "Phi",     "Psi",        "Omega", "ell"};
  return std::any_of(std::begin(kGreek), std::end(kGreek),
                     [&](const char* g) { return name == g; });
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, SymbolTable& symbols, const Budget& budget)
      : toks_(std::move(tokens)), symbols_(symbols), budget_(budget) {}

  Value ParseAnswer() {
    StripOuterBraces();  // before the units go: "\boxed{5 cm}" ends in its unit
    // Units and prose around a quantity ("35 cm", "\\text{ meters}") carry no value: drop word
    // tokens unless the answer is nothing but words ("\\text{Evelyn}").
    bool all_text = std::all_of(toks_.begin(), toks_.end(),
                                [](const Token& t) { return t.kind == Tok::kText; });
    if (!all_text) {
      std::vector<Token> kept;
      for (std::size_t i = 0; i < toks_.size(); ++i) {
        Token& t = toks_[i];
        if (t.kind == Tok::kText && !IsSeparatorWord(t)) {
          std::string c = CanonicalText(t.text);
          bool wordy =
              c.size() >= 2 && std::all_of(c.begin(), c.end(), [](char ch) { return IsAlpha(ch); });
          if (wordy || c.empty()) {
            // A unit's own power goes with it: "15\text{ cm}^2" is 15, not 15 squared.
            if (wordy && i + 2 < toks_.size() && IsSym(toks_[i + 1], "^") &&
                toks_[i + 2].kind == Tok::kNum)
              i += 2;
            else if (wordy && i + 4 < toks_.size() && IsSym(toks_[i + 1], "^") &&
                     IsSym(toks_[i + 2], "{") && toks_[i + 3].kind == Tok::kNum &&
                     IsSym(toks_[i + 4], "}"))
              i += 4;
            continue;
          }
        }
        kept.push_back(std::move(t));
      }
      // Trailing bare unit words after a number: "28 pct" was normalised; "125 miles", "35 cm".
      while (kept.size() >= 2 && kept.back().kind == Tok::kWord && kept.back().text.size() >= 2 &&
             kept[kept.size() - 2].kind == Tok::kNum)
        kept.pop_back();
      if (kept.empty()) throw ParseError("only units");
      toks_ = std::move(kept);
    }
    StripOuterBraces();
    if (!toks_.empty() && std::all_of(toks_.begin(), toks_.end(),
                                      [](const Token& t) { return t.kind == Tok::kText; })) {
      std::string joined;
      for (const auto& t : toks_) joined += t.text;
      if (std::any_of(joined.begin(), joined.end(), [](char c) { return IsAlpha(c); }) &&
          joined.size() > 1) {
        Value v;
        v.kind = Value::Kind::kText;
        v.text = CanonicalText(joined);
        return v;
      }
    }
    return ParseAnswerRange(0, toks_.size());
  }

 private:
  // Braces around the whole answer (a nested \boxed) group nothing.
  void StripOuterBraces() {
    while (toks_.size() >= 2 && IsSym(toks_.front(), "{") && IsSym(toks_.back(), "}") &&
           MatchClose(0, toks_.size()) == toks_.size() - 1) {
      toks_.pop_back();
      toks_.erase(toks_.begin());
    }
  }

  // --- structure ------------------------------------------------------------------------------
  bool IsOpen(const Token& t) const {
    return IsSym(t, "(") || IsSym(t, "[") || IsSym(t, "{") || t.kind == Tok::kLSet ||
           t.kind == Tok::kBegin;
  }
  bool IsClose(const Token& t) const {
    return IsSym(t, ")") || IsSym(t, "]") || IsSym(t, "}") || t.kind == Tok::kRSet ||
           t.kind == Tok::kEnd;
  }
  bool IsSeparatorWord(const Token& t) const {
    if (t.kind == Tok::kWord) return t.text == "and" || t.text == "or";
    if (t.kind == Tok::kText) {
      std::string c = CanonicalText(t.text);
      return c == "and" || c == "or" || c == "," || c == ",and";
    }
    return false;
  }

  // Splits [b, e) at depth-0 tokens for which `is_sep` holds.
  template <typename Pred>
  std::vector<std::pair<std::size_t, std::size_t>> Split(std::size_t b, std::size_t e,
                                                         Pred is_sep) {
    std::vector<std::pair<std::size_t, std::size_t>> parts;
    int depth = 0;
    std::size_t start = b;
    for (std::size_t i = b; i < e; ++i) {
      if (IsOpen(toks_[i]))
        ++depth;
      else if (IsClose(toks_[i]))
        --depth;
      else if (depth == 0 && is_sep(toks_[i])) {
        parts.emplace_back(start, i);
        start = i + 1;
      }
    }
    parts.emplace_back(start, e);
    return parts;
  }

  std::size_t MatchClose(std::size_t open, std::size_t e) const {
    int depth = 0;
    for (std::size_t i = open; i < e; ++i) {
      if (IsOpen(toks_[i]))
        ++depth;
      else if (IsClose(toks_[i]) && --depth == 0)
        return i;
    }
    return e;
  }

  Value ParseAnswerRange(std::size_t b, std::size_t e) {
    DepthGuard guard(depth_);
    while (b < e && (IsSym(toks_[b], ",") || IsSym(toks_[b], ";"))) ++b;
    while (e > b && (IsSym(toks_[e - 1], ",") || IsSym(toks_[e - 1], ";"))) --e;
    if (b >= e) throw ParseError("empty answer");
    auto groups = Split(b, e, [](const Token& t) { return IsSym(t, ";"); });
    if (groups.size() > 1) {
      Value list;
      list.kind = Value::Kind::kList;
      for (auto [gb, ge] : groups) {
        if (gb >= ge) continue;
        Value g = ParseListRange(gb, ge);
        // "p=5,q=2; p=7,q=2": each group of labelled values is one tuple.
        if (g.kind == Value::Kind::kList && g.items.size() > 1 &&
            std::all_of(g.items.begin(), g.items.end(),
                        [](const Value& v) { return v.label.has_value(); })) {
          g.kind = Value::Kind::kTuple;
          for (auto& it : g.items) it.label.reset();
        }
        if (g.kind == Value::Kind::kList) {
          for (auto& it : g.items) list.items.push_back(std::move(it));
        } else {
          list.items.push_back(std::move(g));
        }
      }
      return list;
    }
    return ParseListRange(b, e);
  }

  Value ParseListRange(std::size_t b, std::size_t e) {
    auto parts =
        Split(b, e, [this](const Token& t) { return IsSym(t, ",") || IsSeparatorWord(t); });
    std::vector<Value> items;
    for (auto [pb, pe] : parts) {
      if (pb >= pe) continue;
      Value v = ParseItem(pb, pe);
      if (v.kind == Value::Kind::kList && !v.is_set) {
        for (auto& it : v.items) items.push_back(std::move(it));
      } else {
        items.push_back(std::move(v));
      }
    }
    if (items.empty()) throw ParseError("empty answer");
    if (items.size() == 1) return std::move(items.front());
    Value list;
    list.kind = Value::Kind::kList;
    list.items = std::move(items);
    return list;
  }

  static bool IsRelationToken(const Token& t) {
    return IsSym(t, "=") || IsSym(t, "<") || IsSym(t, ">") || IsCmd(t, "le") || IsCmd(t, "ge") ||
           IsCmd(t, "ne") || IsCmd(t, "approx") || IsCmd(t, "equiv") || IsCmd(t, "sim");
  }

  // A label is a name, not a quantity: no numbers outside subscripts and no + or -.
  bool IsLabel(std::size_t b, std::size_t e) const {
    if (b >= e) return false;
    bool after_sub = false;
    int sub_depth = 0;
    for (std::size_t i = b; i < e; ++i) {
      const Token& t = toks_[i];
      if (IsSym(t, "_")) {
        after_sub = true;
        continue;
      }
      if (after_sub) {
        if (IsSym(t, "{")) {
          ++sub_depth;
          continue;
        }
        if (sub_depth > 0) {
          if (IsSym(t, "}")) {
            if (--sub_depth == 0) after_sub = false;
          }
          continue;
        }
        after_sub = false;
        continue;
      }
      if (t.kind == Tok::kNum) return false;
      if (IsSym(t, "+") || IsSym(t, "-") || IsSym(t, "^")) return false;
      if (t.kind == Tok::kCmd && (t.text == "pm" || t.text == "sqrt" || t.text == "infty"))
        return false;
      if (t.kind == Tok::kWord && t.text.size() > 4) return false;
    }
    return true;
  }

  Value ParseItem(std::size_t b, std::size_t e) {
    budget_.Check();
    bool has_quantity = false;
    for (std::size_t i = b; i < e; ++i)
      if (toks_[i].kind != Tok::kText) has_quantity = true;
    if (!has_quantity) {  // a text answer: "\text{Evelyn}", "\text{(C)}"
      std::string joined;
      for (std::size_t i = b; i < e; ++i) joined += toks_[i].text;
      // "\text{13}" or "\mathrm{e}" are quantities, not words.
      bool wordy = std::any_of(joined.begin(), joined.end(), [](char c) { return IsAlpha(c); }) &&
                   !(joined.size() == 1);
      if (wordy) {
        Value v;
        v.kind = Value::Kind::kText;
        v.text = CanonicalText(joined);
        return v;
      }
    }
    // "x \in S" means S.
    for (std::size_t i = b; i < e; ++i)
      if (IsCmd(toks_[i], "in")) b = i + 1;
    // "\approx 8.24" or "= 5": a relation with nothing on the left states the value.
    while (b < e && IsRelationToken(toks_[b]) &&
           (IsCmd(toks_[b], "approx") || IsSym(toks_[b], "=")))
      ++b;
    if (b >= e) throw ParseError("empty value");
    auto parts = Split(b, e, IsRelationToken);
    if (parts.size() == 1) return ParseSetLike(b, e);
    std::vector<std::string> ops;
    for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
      const Token& t = toks_[parts[k].second];
      ops.push_back(t.kind == Tok::kSym ? t.text : t.text);
    }
    // "x = 1/3 \approx 0.33": the approximation is commentary; "x \approx 11" means 11.
    auto approx = std::find(ops.begin(), ops.end(), "approx");
    if (approx != ops.end()) {
      std::size_t k = approx - ops.begin();
      if (k == 0 && IsLabel(parts[0].first, parts[0].second)) {
        return ParseItem(parts[1].first, e);
      }
      return ParseItem(b, parts[k].second);
    }
    for (auto& op : ops)
      if (op == "equiv" || op == "sim") op = "=";
    bool all_eq =
        std::all_of(ops.begin(), ops.end(), [](const std::string& o) { return o == "="; });
    if (all_eq) {
      auto [lb, le] = parts.front();
      auto [rb, re] = parts.back();
      if (parts.size() >= 3) return ParseSetLike(rb, re);
      if (IsLabel(lb, le)) {
        Value v = ParseSetLike(rb, re);
        if (v.kind == Value::Kind::kExpr) {
          try {
            v.label = ParseExprRange(lb, le).expr;
          } catch (const ParseError&) {
          }
        } else if (!v.label) {
          v.label = ex(0);  // a labelled structure: compare the structure
        }
        return v;
      }
      Value lhs = ParseExprRange(lb, le);
      if (GiNaC::is_exactly_a<GiNaC::numeric>(lhs.expr.evalf()) && !lhs.opaque) {
        // "2 + 3 = 5": a computation whose value is its right side (but "7 = 11a + c" is an
        // equation).
        Value rhs = ParseSetLike(rb, re);
        if (rhs.kind != Value::Kind::kExpr ||
            (GiNaC::is_exactly_a<GiNaC::numeric>(rhs.expr.evalf()) && !rhs.opaque))
          return rhs;
      }
    }
    Value rel;
    rel.kind = Value::Kind::kRelation;
    rel.ops = ops;
    for (auto [pb, pe] : parts) rel.items.push_back(ParseExprRange(pb, pe));
    return rel;
  }

  Value ParseSetLike(std::size_t b, std::size_t e) {
    if (b >= e) throw ParseError("empty value");
    auto unions = Split(b, e, [](const Token& t) { return IsCmd(t, "cup"); });
    if (unions.size() > 1) {
      Value u;
      u.kind = Value::Kind::kUnion;
      for (auto [ub, ue] : unions) u.items.push_back(ParseSetLike(ub, ue));
      return u;
    }
    auto ratio = Split(b, e, [](const Token& t) { return IsSym(t, ":"); });
    if (ratio.size() > 1) {
      Value t;
      t.kind = Value::Kind::kTuple;
      for (auto [rb, re] : ratio) t.items.push_back(ParseExprRange(rb, re));
      return t;
    }
    const Token& first = toks_[b];
    if (first.kind == Tok::kLSet && MatchClose(b, e) == e - 1) {
      Value v = ParseAnswerRange(b + 1, e - 1);
      Value set;
      set.kind = Value::Kind::kList;
      set.is_set = true;
      if (v.kind == Value::Kind::kList)
        set.items = std::move(v.items);
      else
        set.items.push_back(std::move(v));
      return set;
    }
    if ((IsSym(first, "(") || IsSym(first, "[") || IsSym(first, "{")) &&
        MatchClose(b, e) == e - 1) {
      auto inner =
          Split(b + 1, e - 1, [](const Token& t) { return IsSym(t, ",") || IsSym(t, ";"); });
      if (inner.size() > 1) {
        if (IsSym(first, "{")) return ParseAnswerRange(b + 1, e - 1);
        const Token& last = toks_[e - 1];
        Value v;
        for (auto [ib, ie] : inner) v.items.push_back(ParseExprRange(ib, ie));
        bool round = IsSym(first, "(") && IsSym(last, ")");
        if (inner.size() == 2 && !round) {
          v.kind = Value::Kind::kInterval;
          v.lo_closed = IsSym(first, "[");
          v.hi_closed = IsSym(last, "]");
        } else {
          v.kind = Value::Kind::kTuple;
          v.maybe_interval = round && inner.size() == 2;
        }
        return v;
      }
      if (IsSym(first, "{")) return ParseAnswerRange(b + 1, e - 1);
    }
    return ParseExprRange(b, e);
  }

  // --- expressions ----------------------------------------------------------------------------
  Value ParseExprRange(std::size_t b, std::size_t e) {
    if (b >= e) throw ParseError("empty expression");
    std::size_t saved_end = end_;
    pos_ = b;
    end_ = e;
    float_digits_ = -1;
    opaque_ = false;
    big_exponent_ = false;
    huge_power_ = false;
    ex result = ParseSum();
    if (pos_ != end_) throw ParseError("unexpected '" + toks_[pos_].text + "'");
    end_ = saved_end;
    Value v;
    v.kind = Value::Kind::kExpr;
    v.float_digits = float_digits_;
    v.opaque = opaque_;
    v.big_exponent = big_exponent_;
    v.huge_power = huge_power_;
    // ± makes two answers.
    if (result.has(symbols_.pm)) {
      Value list;
      list.kind = Value::Kind::kList;
      for (int sign : {1, -1}) {
        Value item = v;
        item.expr = result.subs(symbols_.pm == sign);
        list.items.push_back(std::move(item));
      }
      return list;
    }
    v.expr = result;
    return v;
  }

  const Token& Peek() const {
    static const Token kEofToken{Tok::kEof, ""};
    return pos_ < end_ ? toks_[pos_] : kEofToken;
  }
  bool AcceptSym(std::string_view s) {
    if (pos_ < end_ && IsSym(toks_[pos_], s)) {
      ++pos_;
      return true;
    }
    return false;
  }
  void ExpectSym(std::string_view s) {
    if (!AcceptSym(s)) throw ParseError("expected '" + std::string(s) + "'");
  }

  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) {
      if (++depth > kMaxNesting) throw BudgetError("nesting deeper than the budget");
    }
    ~DepthGuard() { --depth; }
    int& depth;
  };

  ex ParseSum() {
    DepthGuard guard(depth_);
    ex acc = ParseProduct();
    while (true) {
      if (AcceptSym("+"))
        acc += ParseProduct();
      else if (AcceptSym("-"))
        acc -= ParseProduct();
      else if (IsCmd(Peek(), "pm")) {
        ++pos_;
        acc += symbols_.pm * ParseProduct();
      } else if (IsCmd(Peek(), "mp")) {
        ++pos_;
        acc -= symbols_.pm * ParseProduct();
      } else
        break;
    }
    return acc;
  }

  bool StartsAtom(const Token& t) const {
    switch (t.kind) {
      case Tok::kNum:
      case Tok::kWord:
      case Tok::kText:
      case Tok::kBegin:
        return true;
      case Tok::kCmd:
        return !(t.text == "cdot" || t.text == "times" || t.text == "div" || t.text == "pm" ||
                 t.text == "mp" || t.text == "le" || t.text == "ge" || t.text == "ne" ||
                 t.text == "cup" || t.text == "in" || t.text == "approx" || t.text == "rfloor" ||
                 t.text == "rceil" || t.text == "rvert" || t.text == "to" || t.text == "equiv" ||
                 t.text == "pmod" || t.text == "bmod" || t.text == "mod");
      case Tok::kSym:
        return t.text == "(" || t.text == "[" || t.text == "{" ||
               (t.text == "|" && abs_depth_ == 0);
      default:
        return false;
    }
  }

  // Is [begin, pos_) a bare whole number, optionally negated ("2", "-2")?
  bool JustAnInteger(std::size_t begin) const {
    if (begin < pos_ && IsSym(toks_[begin], "-")) ++begin;
    return pos_ == begin + 1 && toks_[begin].kind == Tok::kNum &&
           toks_[begin].text.find('.') == std::string::npos;
  }

  ex ParseProduct() {
    std::size_t begin = pos_;
    ex acc = ParseUnary();
    // "2\frac{1}{2}" is the mixed number 5/2 (how MATH writes them), not 2 times 1/2.
    if (pos_ < end_ && IsCmd(Peek(), "frac") && JustAnInteger(begin)) {
      std::size_t at = pos_;
      ex f = ParsePower();
      bool proper = is_a<GiNaC::numeric>(f) && ex_to<GiNaC::numeric>(f).is_rational() &&
                    ex_to<GiNaC::numeric>(f).is_positive() && ex_to<GiNaC::numeric>(f) < 1;
      if (proper) {
        acc = ex_to<GiNaC::numeric>(acc).is_negative() ? acc - f : acc + f;
      } else {
        pos_ = at;  // not a proper fraction: an ordinary product, parsed below
      }
    }
    while (pos_ < end_) {
      budget_.Check();
      const Token& t = Peek();
      if (IsSym(t, "*") || IsCmd(t, "cdot") || IsCmd(t, "times")) {
        ++pos_;
        acc = acc * ParseUnary();
      } else if (IsSym(t, "/") || IsCmd(t, "div")) {
        ++pos_;
        ex d = ParseUnary();
        if (d.is_zero()) throw ParseError("division by zero");
        acc = acc / d;
      } else if (IsCmd(t, "pmod") || IsCmd(t, "bmod") || IsCmd(t, "mod")) {
        // "9 \pmod{11}": the residue is the answer.
        ++pos_;
        ParsePower();
      } else if (StartsAtom(t)) {
        acc = acc * ParsePower();
      } else {
        break;
      }
    }
    return acc;
  }

  ex ParseUnary() {
    DepthGuard guard(depth_);
    if (AcceptSym("-")) return -ParseUnary();
    if (AcceptSym("+")) return ParseUnary();
    if (IsCmd(Peek(), "pm")) {
      ++pos_;
      return symbols_.pm * ParseUnary();
    }
    return ParsePower();
  }

  ex Power(const ex& base, const ex& exponent) {
    // Checked here rather than left to GiNaC, whose exception path leaks the half-built power.
    if (base.is_zero() && is_a<GiNaC::numeric>(exponent) &&
        !ex_to<GiNaC::numeric>(exponent).is_positive())
      throw ParseError(exponent.is_zero() ? "0^0 is undefined" : "0 to a negative power");
    if (is_a<GiNaC::numeric>(exponent)) {
      const auto& n = ex_to<GiNaC::numeric>(exponent);
      if (n.is_rational()) {
        GiNaC::numeric num = n.numer();
        if (is_a<GiNaC::numeric>(base)) {
          // The exact result has about |exponent| * bits(base) bits: refuse what would not fit.
          const auto& b = ex_to<GiNaC::numeric>(base);
          bool rational_base = b.is_rational();
          long base_bits = rational_base
                               ? static_cast<long>(b.numer().int_length() + b.denom().int_length())
                               : 64;
          bool too_big = GiNaC::abs(num) > kMaxExactBits ||
                         GiNaC::abs(num) * base_bits > kMaxExactBits ||
                         GiNaC::abs(n.denom()) > kMaxExactExponent;
          if (too_big && !(rational_base && (b.is_zero() || b == 1 || b == -1)))
            throw BudgetError("exponent too large to evaluate exactly");
        }
        if (GiNaC::abs(num) > kMaxExpandExponent) big_exponent_ = true;
        if (GiNaC::abs(num) > kMaxExactExponent || GiNaC::abs(n.denom()) > kMaxExactExponent)
          huge_power_ = true;
      } else if (is_a<GiNaC::numeric>(base)) {
        return GiNaC::pow(base.evalf(), exponent);
      }
    } else if (!is_a<GiNaC::numeric>(exponent.evalf())) {
      big_exponent_ = huge_power_ = true;  // symbolic exponent: never expand
    } else {
      ex ev = exponent.evalf();
      if (GiNaC::abs(ex_to<GiNaC::numeric>(ev)) > kMaxExactExponent) {
        if (is_a<GiNaC::numeric>(base)) throw BudgetError("exponent too large to evaluate exactly");
        big_exponent_ = huge_power_ = true;
      }
    }
    if (base.is_zero() && exponent.is_zero()) throw ParseError("0^0 is undefined");
    ex result = GiNaC::pow(base, exponent);
    // GiNaC folds (x^a)^b into x^(ab): judge the exponent that was actually built.
    if (is_a<GiNaC::power>(result) && is_a<GiNaC::numeric>(result.op(1))) {
      const auto& folded = ex_to<GiNaC::numeric>(result.op(1));
      if (folded.is_rational() && (GiNaC::abs(folded.numer()) > kMaxExactExponent ||
                                   GiNaC::abs(folded.denom()) > kMaxExactExponent))
        big_exponent_ = huge_power_ = true;
      else if (folded.is_rational() && GiNaC::abs(folded.numer()) > kMaxExpandExponent)
        big_exponent_ = true;
    }
    return result;
  }

  ex ParsePower() {
    DepthGuard guard(depth_);
    ex base = ParsePostfix();
    if (AcceptSym("^")) {
      ex exponent = ParseExponent();
      return Power(base, exponent);
    }
    return base;
  }

  ex ParseExponent() {
    if (AcceptSym("-")) return -ParseExponent();
    if (AcceptSym("+")) return ParseExponent();
    // TeX reads x^23 as x^2 3, but answers are often plain text ("2^10"): take the number.
    if (Peek().kind == Tok::kNum) return TakeSingleDigitOrNumber(/*single=*/false);
    if (Peek().kind == Tok::kWord) return TakeSingleLetter();
    return ParsePostfix();
  }

  // \frac12 and x^23 take one digit; "x^{23}" takes the group.
  ex TakeSingleDigitOrNumber(bool single) {
    Token& t = toks_[pos_];
    if (!single || t.text.size() == 1 || t.text.find('.') != std::string::npos) {
      ++pos_;
      return Number(t.text);
    }
    std::string digit = t.text.substr(0, 1);
    t.text.erase(0, 1);
    return Number(digit);
  }

  ex TakeSingleLetter() {
    Token& t = toks_[pos_];
    std::string letter = t.text.substr(0, 1);
    if (t.text.size() == 1)
      ++pos_;
    else
      t.text.erase(0, 1);
    return Letter(letter);
  }

  ex Number(const std::string& digits) {
    std::size_t dot = digits.find('.');
    if (dot == std::string::npos) return GiNaC::numeric(digits.c_str());
    std::string whole = digits.substr(0, dot), frac = digits.substr(dot + 1);
    float_digits_ = std::max<int>(float_digits_, static_cast<int>(frac.size()));
    if (frac.size() > 200) throw BudgetError("decimal too long");
    std::string num = (whole.empty() ? "0" : whole) + frac;
    return GiNaC::numeric(num.c_str()) /
           GiNaC::pow(GiNaC::numeric(10), static_cast<int>(frac.size()));
  }

  ex Letter(const std::string& name) {
    if (name == "e") return GiNaC::exp(ex(1));
    if (name == "i") return GiNaC::I;
    return symbols_.Get(name);
  }

  ex Opaque(const std::string& name, const ex& arg) {
    opaque_ = true;
    return triage_apply(symbols_.Get("fn:" + name), arg);
  }

  // A braced group or a single token, as \frac and \sqrt take them.
  ex ParseArg() {
    const Token& t = Peek();
    if (IsSym(t, "{")) {
      ++pos_;
      ex v = ParseSum();
      ExpectSym("}");
      return v;
    }
    if (t.kind == Tok::kNum) return TakeSingleDigitOrNumber(true);
    if (t.kind == Tok::kWord) return TakeSingleLetter();
    return ParsePostfix();
  }

  std::string SubscriptName() {
    // x_1, x_{12}, S_{MBCN}: part of a name. Anything else: an opaque index.
    const Token& t = Peek();
    if (t.kind == Tok::kNum || t.kind == Tok::kWord) {
      // Without braces a subscript is one character: x_12 is x_1 times 2.
      if (t.text.size() == 1 || t.text.find('.') != std::string::npos) {
        ++pos_;
        return t.text;
      }
      std::string first = t.text.substr(0, 1);
      toks_[pos_].text.erase(0, 1);
      return first;
    }
    if (IsSym(t, "{")) {
      std::size_t close = MatchClose(pos_, end_);
      std::string name;
      bool simple = true;
      for (std::size_t i = pos_ + 1; i < close; ++i) {
        if (toks_[i].kind == Tok::kNum || toks_[i].kind == Tok::kWord)
          name += toks_[i].text;
        else
          simple = false;
      }
      if (simple && !name.empty()) {
        pos_ = close + 1;
        return name;
      }
    }
    return {};
  }

  ex ParsePostfix() {
    DepthGuard guard(depth_);
    ex v = ParseAtom();
    while (pos_ < end_) {
      if (AcceptSym("!")) {
        if (is_a<GiNaC::numeric>(v)) {
          const auto& n = ex_to<GiNaC::numeric>(v);
          if (!n.is_nonneg_integer()) throw ParseError("factorial of a non-natural number");
          if (n > kMaxFactorial) throw BudgetError("factorial too large");
        }
        v = GiNaC::factorial(v);
      } else if (AcceptSym("'")) {
        v = Opaque("prime", v);
      } else {
        break;
      }
    }
    return v;
  }

  ex ParseFunction(const std::string& name) {
    ex power = 1;
    if (AcceptSym("^")) power = ParseExponent();  // \sin^2 x
    ex base_arg = 0;
    bool has_base = false;
    if ((name == "log") && AcceptSym("_")) {
      base_arg = ParseArg();
      has_base = true;
    }
    ex arg;
    if (IsSym(Peek(), "(")) {
      ++pos_;
      std::vector<ex> args{ParseSum()};
      while (AcceptSym(",")) args.push_back(ParseSum());
      if (!AcceptSym(")")) ExpectSym("]");
      if (args.size() > 1) {
        GiNaC::lst l;
        for (auto& a : args) l.append(a);
        return Opaque(name, l);
      }
      arg = args.front();
    } else {
      arg = ParsePower();
    }
    ex r;
    if (name == "sin")
      r = GiNaC::sin(arg);
    else if (name == "cos")
      r = GiNaC::cos(arg);
    else if (name == "tan")
      r = GiNaC::tan(arg);
    else if (name == "sec")
      r = 1 / GiNaC::cos(arg);
    else if (name == "csc")
      r = 1 / GiNaC::sin(arg);
    else if (name == "cot")
      r = GiNaC::cos(arg) / GiNaC::sin(arg);
    else if (name == "arcsin")
      r = GiNaC::asin(arg);
    else if (name == "arccos")
      r = GiNaC::acos(arg);
    else if (name == "arctan")
      r = GiNaC::atan(arg);
    else if (name == "sinh")
      r = GiNaC::sinh(arg);
    else if (name == "cosh")
      r = GiNaC::cosh(arg);
    else if (name == "tanh")
      r = GiNaC::tanh(arg);
    else if (name == "exp")
      r = GiNaC::exp(arg);
    else if (name == "ln")
      r = GiNaC::log(arg);
    else if (name == "lg")
      r = GiNaC::log(arg) / GiNaC::log(ex(10));
    else if (name == "log")
      r = has_base ? GiNaC::log(arg) / GiNaC::log(base_arg) : GiNaC::log(arg);
    else
      r = Opaque(name, arg);
    if (power.is_equal(ex(-1)) && (name == "sin" || name == "cos" || name == "tan"))
      return Opaque("a" + name, arg);  // \sin^{-1} is arcsin
    return power.is_equal(ex(1)) ? r : Power(r, power);
  }

  ex ParseMatrix(const std::string& env) {
    std::vector<std::vector<ex>> rows(1);
    while (pos_ < end_ && Peek().kind != Tok::kEnd) {
      budget_.Check();
      if (Peek().kind == Tok::kRowSep) {
        ++pos_;
        rows.emplace_back();
        continue;
      }
      if (AcceptSym("&")) {
        if (rows.back().empty()) rows.back().push_back(0);
        continue;
      }
      rows.back().push_back(ParseSum());
    }
    if (pos_ >= end_) throw ParseError("\\begin{" + env + "} without \\end");
    ++pos_;
    while (!rows.empty() && rows.back().empty()) rows.pop_back();
    if (rows.empty()) throw ParseError("empty matrix");
    std::size_t cols = rows.front().size();
    for (auto& r : rows)
      if (r.size() != cols) throw ParseError("ragged matrix");
    GiNaC::matrix m(rows.size(), cols);
    for (std::size_t r = 0; r < rows.size(); ++r)
      for (std::size_t c = 0; c < cols; ++c) m(r, c) = rows[r][c];
    if (env == "vmatrix") return m.determinant();
    return m;
  }

  ex ParseAtom() {
    DepthGuard guard(depth_);
    budget_.Check();
    if (pos_ >= end_) throw ParseError("unexpected end of expression");
    Token& t = toks_[pos_];
    switch (t.kind) {
      case Tok::kNum: {
        ++pos_;
        ex n = Number(t.text);
        if (AcceptSym("_")) {  // 204_5: a number in base 5
          std::string base = SubscriptName();
          int radix = base.empty() ? 0 : std::atoi(base.c_str());
          if (radix < 2 || radix > 36 || t.text.find('.') != std::string::npos)
            throw ParseError("bad number base");
          GiNaC::numeric value = 0;
          for (char d : t.text) {
            int digit = d - '0';
            if (digit >= radix) throw ParseError("digit out of range for base");
            value = value * radix + digit;
          }
          return value;
        }
        return n;
      }
      case Tok::kWord: {
        std::string w = t.text;
        if (FunctionNames().count(w)) {
          ++pos_;
          return ParseFunction(w);
        }
        if (w == "pi") {
          ++pos_;
          return GiNaC::Pi;
        }
        if (w == "sqrt") {
          ++pos_;
          return GiNaC::sqrt(ParseArg());
        }
        // Lower-case runs of 3+ letters are words; capitals (ABC, ABCD) name points.
        bool capitals = w.size() <= 5 && std::all_of(w.begin(), w.end(),
                                                     [](char c) { return c >= 'A' && c <= 'Z'; });
        if (w.size() >= 3 && !capitals) throw ParseError("prose, not an expression: '" + w + "'");
        // Single-letter function names applied to parentheses: f(x), P(A).
        if (w.size() == 1 && pos_ + 1 < end_ && IsSym(toks_[pos_ + 1], "(") &&
            std::string_view("fghFGHWPQ").find(w[0]) != std::string_view::npos) {
          ++pos_;
          ++pos_;
          std::vector<ex> args{ParseSum()};
          while (AcceptSym(",")) args.push_back(ParseSum());
          ExpectSym(")");
          if (args.size() == 1) return Opaque(w, args.front());
          GiNaC::lst l;
          for (auto& a : args) l.append(a);
          return Opaque(w, l);
        }
        if (w.size() > 1) return TakeSingleLetter();  // "xy" is x*y
        ++pos_;
        std::string name = w;
        if (AcceptSym("_")) {
          std::string sub = SubscriptName();
          if (sub.empty()) {  // F_{n-k-1}: an indexed quantity
            ex index = ParseArg();
            return Opaque(name + "_", index);
          }
          name += "_" + sub;
          return symbols_.Get(name);
        }
        return Letter(name);
      }
      case Tok::kText: {
        ++pos_;
        std::string content = t.text;
        std::string trimmed;
        for (char c : content)
          if (!IsSpace(c)) trimmed += c;
        if (trimmed.size() == 1 && IsAlpha(trimmed[0])) return Letter(trimmed);
        if (FunctionNames().count(trimmed)) return ParseFunction(trimmed);
        if (!trimmed.empty() && std::all_of(trimmed.begin(), trimmed.end(), IsDigit))
          return Number(trimmed);
        throw ParseError("text inside an expression");
      }
      case Tok::kBegin: {
        ++pos_;
        return ParseMatrix(t.text);
      }
      case Tok::kSym: {
        if (t.text == "(" || t.text == "[") {
          ++pos_;
          ex v = ParseSum();
          if (!AcceptSym(")")) ExpectSym("]");
          return v;
        }
        if (t.text == "{") {
          ++pos_;
          ex v = ParseSum();
          ExpectSym("}");
          return v;
        }
        if (t.text == "|") {
          ++pos_;
          ++abs_depth_;
          ex v = ParseSum();
          --abs_depth_;
          ExpectSym("|");
          return GiNaC::abs(v);
        }
        throw ParseError("unexpected '" + t.text + "'");
      }
      case Tok::kCmd: {
        ++pos_;
        const std::string name = t.text;
        if (name == "frac") {
          ex n = ParseArg();
          ex d = ParseArg();
          if (d.is_zero()) throw ParseError("division by zero");
          return n / d;
        }
        if (name == "sqrt") {
          if (AcceptSym("[")) {
            ex index = ParseSum();
            ExpectSym("]");
            ex radicand = ParseArg();
            if (index.is_zero()) throw ParseError("zeroth root");
            return Power(radicand, 1 / index);
          }
          return GiNaC::sqrt(ParseArg());
        }
        if (name == "pi") return GiNaC::Pi;
        if (name == "infty" || name == "infinity") return symbols_.infinity;
        if (name == "binom") {
          ex n = ParseArg();
          ex k = ParseArg();
          for (const ex& arg : {n, k})
            if (is_a<GiNaC::numeric>(arg) && GiNaC::abs(ex_to<GiNaC::numeric>(arg)) > kMaxFactorial)
              throw BudgetError("binomial too large");
          return GiNaC::binomial(n, k);
        }
        if (name == "lfloor" || name == "lceil") {
          ex v = ParseSum();
          if (!pos_ || pos_ >= end_ || !(IsCmd(Peek(), "rfloor") || IsCmd(Peek(), "rceil")))
            throw ParseError("unclosed floor/ceil");
          ++pos_;
          return Opaque(name == "lfloor" ? "floor" : "ceil", v);
        }
        if (name == "lvert" || name == "vert") {
          ex v = ParseSum();
          if (!(IsCmd(Peek(), "rvert") || IsCmd(Peek(), "vert") || IsSym(Peek(), "|")))
            throw ParseError("unclosed |");
          ++pos_;
          return GiNaC::abs(v);
        }
        if (name == "sum" || name == "prod") {
          ex var = 0, lo = 0, hi = 0;
          if (AcceptSym("_")) {
            ExpectSym("{");
            var = ParseSum();
            if (AcceptSym("=")) lo = ParseSum();
            ExpectSym("}");
          }
          if (AcceptSym("^")) hi = ParseArg();
          ex body = ParseProduct();
          opaque_ = true;
          ex r = triage_sum(body, var, lo, hi);
          return name == "sum"
                     ? r
                     : triage_apply(symbols_.Get("fn:prod"), GiNaC::lst{body, var, lo, hi});
        }
        if (FunctionNames().count(name)) return ParseFunction(name);
        if (name == "arcsin" || name == "arccos" || name == "arctan") return ParseFunction(name);
        if (IsGreek(name)) return symbols_.Get(name);
        if (name == "overline" || name == "bar" || name == "vec" || name == "hat" ||
            name == "overrightarrow" || name == "widehat" || name == "tilde") {
          ex inner = ParseArg();
          return Opaque(name, inner);
        }
        // Anything else (\triangle, \angle, \star ...) is a named quantity: equal only to itself.
        if (name == "dots" || name == "ldots" || name == "cdots") throw ParseError("ellipsis");
        return symbols_.Get("cmd:" + name);
      }
      default:
        throw ParseError("unexpected token");
    }
  }

  std::vector<Token> toks_;
  SymbolTable& symbols_;
  const Budget& budget_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  int depth_ = 0;
  int abs_depth_ = 0;
  int float_digits_ = -1;
  bool opaque_ = false;
  bool big_exponent_ = false;
  bool huge_power_ = false;
};

// ---------------------------------------------------------------------------------------------
// Comparison

struct Decision {
  bool equal;
  std::string reason;
};

struct Comparer {
  const MathOptions& options;
  const Budget& budget;
  SymbolTable& symbols;

  static std::optional<std::complex<double>> ToComplex(const ex& e) {
    if (!is_a<GiNaC::numeric>(e)) return std::nullopt;
    const auto& n = ex_to<GiNaC::numeric>(e);
    double re = GiNaC::real(n).to_double();
    double im = GiNaC::imag(n).to_double();
    if (!std::isfinite(re) || !std::isfinite(im)) return std::nullopt;
    return std::complex<double>(re, im);
  }

  static bool Close(std::complex<double> a, std::complex<double> b, double abs_tol,
                    double rel_tol) {
    double diff = std::abs(a - b);
    double scale = std::max(std::abs(a), std::abs(b));
    return diff <= abs_tol || diff <= rel_tol * scale;
  }

  // Arbitrary-magnitude evaluation (CLN floats): 300! and 1e-700 compare fine where doubles
  // would overflow.
  static std::optional<GiNaC::numeric> EvaluateNum(const ex& e) {
    try {
      ex v = e.evalf();
      if (!is_a<GiNaC::numeric>(v)) return std::nullopt;
      return ex_to<GiNaC::numeric>(v);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  static bool NumClose(const GiNaC::numeric& a, const GiNaC::numeric& b, double abs_tol,
                       double rel_tol) {
    GiNaC::numeric diff = GiNaC::abs(a - b);
    GiNaC::numeric scale =
        std::max(GiNaC::abs(a), GiNaC::abs(b),
                 [](const GiNaC::numeric& x, const GiNaC::numeric& y) { return x < y; });
    return diff <= GiNaC::numeric(abs_tol) || diff <= GiNaC::numeric(rel_tol) * scale;
  }

  std::optional<std::complex<double>> Evaluate(const ex& e) const {
    try {
      return ToComplex(e.evalf());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  // Terms expand() would produce, estimated without expanding: sums add, products multiply, a
  // power of a k-term sum to n has C(n+k-1, k-1) terms. Capped; used to refuse blow-ups such as
  // (a+b+c+d+e+f+g+h)^20 (888,030 terms per side), which numeric probing decides instead.
  static double ExpandedTerms(const ex& e, int depth = 0) {
    constexpr double kCap = 1e12;
    if (depth > 200) return kCap;
    if (is_a<GiNaC::add>(e)) {
      double sum = 0;
      for (std::size_t i = 0; i < e.nops(); ++i) sum += ExpandedTerms(e.op(i), depth + 1);
      return std::min(sum, kCap);
    }
    if (is_a<GiNaC::mul>(e)) {
      double product = 1;
      for (std::size_t i = 0; i < e.nops(); ++i) product *= ExpandedTerms(e.op(i), depth + 1);
      return std::min(product, kCap);
    }
    if (is_a<GiNaC::power>(e) && is_a<GiNaC::numeric>(e.op(1)) &&
        ex_to<GiNaC::numeric>(e.op(1)).is_pos_integer()) {
      double k = ExpandedTerms(e.op(0), depth + 1);
      double n = ex_to<GiNaC::numeric>(e.op(1)).to_double();
      if (k <= 1) return 1;
      // C(n + k - 1, k - 1) via lgamma, capped.
      double log_terms = std::lgamma(n + k) - std::lgamma(k) - std::lgamma(n + 1);
      return log_terms > std::log(kCap) ? kCap : std::exp(log_terms);
    }
    return 1;
  }

  static std::size_t Nodes(const ex& e, std::size_t limit) {
    std::size_t count = 1;
    for (std::size_t i = 0; i < e.nops() && count <= limit; ++i)
      count += Nodes(e.op(i), limit - count);
    return count;
  }

  Decision Exprs(const Value& a, const Value& b) const {
    budget.Check();
    ex ea = a.expr, eb = b.expr;
    bool ma = is_a<GiNaC::matrix>(ea.evalm()), mb = is_a<GiNaC::matrix>(eb.evalm());
    if (ma || mb) {
      if (!(ma && mb)) return {false, "a matrix against a scalar"};
      auto A = ex_to<GiNaC::matrix>(ea.evalm()), B = ex_to<GiNaC::matrix>(eb.evalm());
      // A single column/row written as a tuple elsewhere compares by entries.
      if (A.rows() != B.rows() || A.cols() != B.cols()) return {false, "matrix shapes differ"};
      for (unsigned r = 0; r < A.rows(); ++r)
        for (unsigned c = 0; c < A.cols(); ++c) {
          Value x = a, y = b;
          x.expr = A(r, c);
          y.expr = B(r, c);
          auto d = Exprs(x, y);
          if (!d.equal)
            return {false, "matrix entry (" + std::to_string(r + 1) + "," + std::to_string(c + 1) +
                               ") differs: " + d.reason};
        }
      return {true, "matrices equal entry by entry"};
    }
    ex diff = ea - eb;
    if (diff.is_zero()) return {true, "identical after parsing"};
    bool opaque = a.opaque || b.opaque;
    // Symbolic simplification only when its cost is bounded: expansion size and expression size
    // (normal() on hundreds of fractions takes seconds); otherwise probing decides.
    const bool huge_power = a.huge_power || b.huge_power;  // no exact x^(10^10) anywhere
    bool big = huge_power || ExpandedTerms(ea) + ExpandedTerms(eb) > 2000 ||
               Nodes(ea, 3000) + Nodes(eb, 3000) > 3000;
    int float_digits = std::max(a.float_digits, b.float_digits);
    auto exact_rational = [](const ex& e) {
      return is_a<GiNaC::numeric>(e) && ex_to<GiNaC::numeric>(e).is_rational();
    };
    // Two exact rationals that differ are different, however close (300! vs 300! + 1).
    if (float_digits < 0 && exact_rational(ea) && exact_rational(eb))
      return {false, "exact values differ"};
    try {
      if (!big && !opaque) {
        ex simplified = GiNaC::normal(diff.expand());
        if (simplified.is_zero()) return {true, "difference simplifies to 0"};
      } else if (opaque && !big) {
        if (diff.expand().is_zero()) return {true, "difference expands to 0"};
      }
    } catch (const std::exception&) {
      // Simplification can fail on odd inputs; numeric probing still decides.
    }
    budget.Check();
    if (opaque) return {false, "not provably equal (contains uninterpreted functions)"};
    GiNaC::lst free;
    CollectSymbols(ea, free);
    CollectSymbols(eb, free);
    if (free.nops() == 0) {
      auto va = EvaluateNum(ea), vb = EvaluateNum(eb);
      if (!va || !vb) return {false, "could not evaluate numerically"};
      if (float_digits >= 0) {
        double tol = std::max(0.5 * std::pow(10.0, -float_digits) * (1 + 1e-9),
                              std::pow(10.0, -options.precision));
        if (NumClose(*va, *vb, tol, 1e-12))
          return {true, "equal within the decimal's precision (" + std::to_string(float_digits) +
                            " decimals)"};
        return {false, "numbers differ beyond the decimal's precision"};
      }
      if (NumClose(*va, *vb, 1e-12, 1e-12)) return {true, "numerically equal"};
      return {false, "numbers differ"};
    }
    // Probing at fixed, deterministic points. Rational points first: polynomial and rational
    // expressions then evaluate exactly, so a difference of 1 in a huge value is still seen;
    // anything irrational (sqrt, sin, e) is compared in floating point with a tolerance.
    static const int kPoints[][2] = {{7, 11},  {13, 17}, {5, 19}, {23, 29},
                                     {31, 37}, {41, 43}, {47, 53}};
    int checked = 0;
    for (int round = 0; round < 4; ++round) {
      budget.Check();
      GiNaC::lst subs;
      for (std::size_t k = 0; k < free.nops(); ++k) {
        const auto& pt = kPoints[(k + 2 * round) % std::size(kPoints)];
        GiNaC::numeric value(pt[0] + 3 * round, pt[1]);
        if (huge_power)
          subs.append(free.op(k) == value.evalf());
        else
          subs.append(free.op(k) == value);
      }
      ex xa, xb;
      try {
        xa = ea.subs(subs);
        xb = eb.subs(subs);
      } catch (const std::exception&) {
        continue;  // a pole at this point
      }
      if (!huge_power && float_digits < 0 && exact_rational(xa) && exact_rational(xb)) {
        if (!xa.is_equal(xb)) return {false, "differ at an exact probe point"};
        ++checked;
        continue;
      }
      auto va = EvaluateNum(xa), vb = EvaluateNum(xb);
      if (!va || !vb) continue;
      double abs_tol = float_digits >= 0 ? std::pow(10.0, -options.precision) : 1e-9;
      if (!NumClose(*va, *vb, abs_tol, float_digits >= 0 ? 1e-6 : 1e-9))
        return {false, "differ at a probe point"};
      ++checked;
    }
    if (checked >= 2) return {true, "equal at " + std::to_string(checked) + " probe points"};
    return {false, "could not decide (no probe point evaluated)"};
  }

  void CollectSymbols(const ex& e, GiNaC::lst& out) const {
    if (is_a<GiNaC::symbol>(e)) {
      if (e.is_equal(symbols.infinity)) return;
      for (std::size_t k = 0; k < out.nops(); ++k)
        if (out.op(k).is_equal(e)) return;
      out.append(e);
      return;
    }
    for (std::size_t k = 0; k < e.nops(); ++k) CollectSymbols(e.op(k), out);
  }

  static Value Unwrap(const Value& v) {
    if (v.kind == Value::Kind::kList && v.items.size() == 1) return Unwrap(v.items.front());
    return v;
  }

  // Interval view of a relation: "a < x < b", "x > 5", "x \le 7".
  std::optional<Value> RelationAsInterval(const Value& r) const {
    if (r.kind != Value::Kind::kRelation) return std::nullopt;
    auto is_var = [](const Value& v) { return v.opaque || !is_a<GiNaC::numeric>(v.expr.evalf()); };
    auto make = [&](ex lo, bool lc, ex hi, bool hc) {
      Value iv;
      iv.kind = Value::Kind::kInterval;
      Value l, h;
      l.expr = lo;
      h.expr = hi;
      iv.items = {l, h};
      iv.lo_closed = lc;
      iv.hi_closed = hc;
      return iv;
    };
    const ex inf = symbols.infinity;
    if (r.items.size() == 3 && is_var(r.items[1])) {
      const auto &o1 = r.ops[0], &o2 = r.ops[1];
      // "1 \le |z| \le 3/2" is [-3/2, -1] U [1, 3/2].
      if (GiNaC::is_the_function<GiNaC::abs_SERIAL>(r.items[1].expr) && (o1 == "<" || o1 == "le") &&
          (o2 == "<" || o2 == "le")) {
        Value u;
        u.kind = Value::Kind::kUnion;
        u.items = {make(-r.items[2].expr, o2 == "le", -r.items[0].expr, o1 == "le"),
                   make(r.items[0].expr, o1 == "le", r.items[2].expr, o2 == "le")};
        return u;
      }
      if ((o1 == "<" || o1 == "le") && (o2 == "<" || o2 == "le"))
        return make(r.items[0].expr, o1 == "le", r.items[2].expr, o2 == "le");
      if ((o1 == ">" || o1 == "ge") && (o2 == ">" || o2 == "ge"))
        return make(r.items[2].expr, o2 == "ge", r.items[0].expr, o1 == "ge");
    }
    if (r.items.size() == 2) {
      const auto& op = r.ops[0];
      bool lhs_var = is_var(r.items[0]), rhs_var = is_var(r.items[1]);
      if (lhs_var && !rhs_var) {
        const ex& c = r.items[1].expr;
        if (op == "<" || op == "le") return make(-inf, false, c, op == "le");
        if (op == ">" || op == "ge") return make(c, op == "ge", inf, false);
      } else if (rhs_var && !lhs_var) {
        const ex& c = r.items[0].expr;
        if (op == "<" || op == "le") return make(c, op == "le", inf, false);
        if (op == ">" || op == "ge") return make(-inf, false, c, op == "ge");
      }
    }
    return std::nullopt;
  }

  // Canonical single relation: lhs - rhs with op in {=, ne, <, le}.
  static std::pair<std::string, ex> CanonicalRelation(const Value& r, std::size_t k) {
    std::string op = r.ops[k];
    ex d = r.items[k].expr - r.items[k + 1].expr;
    if (op == ">") op = "<", d = -d;
    if (op == "ge") op = "le", d = -d;
    return {op, d};
  }

  Decision Relations(const Value& a, const Value& b) const {
    if (a.ops.size() != b.ops.size()) return {false, "relations of different length"};
    if (a.ops.size() == 1) {
      auto [oa, da] = CanonicalRelation(a, 0);
      auto [ob, db] = CanonicalRelation(b, 0);
      if (oa != ob) return {false, "different relation operators"};
      if (db.is_zero() || da.is_zero()) {
        return {da.is_zero() && db.is_zero(), "degenerate relation"};
      }
      // Equivalent when one side is a constant multiple of the other (positive for inequalities).
      ex ratio;
      try {
        ratio = GiNaC::normal(da / db);
      } catch (const std::exception&) {
        return {false, "relations could not be compared"};
      }
      GiNaC::lst free;
      CollectSymbols(ratio, free);
      if (free.nops() == 0) {
        auto v = Evaluate(ratio);
        if (v && std::abs(v->imag()) < 1e-12) {
          if (oa == "=" || oa == "ne") return {true, "same relation up to a constant factor"};
          if (v->real() > 0) return {true, "same inequality up to a positive factor"};
          return {false, "inequality reversed"};
        }
      }
      // GiNaC could not cancel the ratio: probe it, it must be the same constant everywhere.
      std::optional<std::complex<double>> first;
      static const double kProbes[] = {0.7317, 1.2919, 0.5382, 1.8143};
      for (int round = 0; round < 4; ++round) {
        GiNaC::lst subs;
        for (std::size_t k = 0; k < free.nops(); ++k)
          subs.append(free.op(k) == kProbes[(k + round) % 4] + 0.13 * round);
        auto v = Evaluate(ratio.subs(subs));
        if (!v) return {false, "relations could not be compared"};
        if (!first)
          first = v;
        else if (!Close(*first, *v, 1e-9, 1e-9))
          return {false, "relations not proportional"};
      }
      if (oa == "=" || oa == "ne") return {true, "same relation up to a constant factor (probed)"};
      return first->real() > 0 ? Decision{true, "same inequality up to a positive factor (probed)"}
                               : Decision{false, "inequality reversed"};
    }
    // Chains: the same operators and the same parts in order.
    for (std::size_t k = 0; k < a.ops.size(); ++k)
      if (a.ops[k] != b.ops[k]) return {false, "different relation chain"};
    for (std::size_t k = 0; k < a.items.size(); ++k) {
      auto d = Exprs(a.items[k], b.items[k]);
      if (!d.equal)
        return {false, "relation chain part " + std::to_string(k + 1) + ": " + d.reason};
    }
    return {true, "same relation chain"};
  }

  Decision Ordered(const std::vector<Value>& a, const std::vector<Value>& b,
                   std::string_view what) const {
    if (a.size() != b.size())
      return {false, std::string(what) + " sizes differ (" + std::to_string(a.size()) + " vs " +
                         std::to_string(b.size()) + ")"};
    for (std::size_t k = 0; k < a.size(); ++k) {
      auto d = Compare(a[k], b[k]);
      if (!d.equal)
        return {false, std::string(what) + " element " + std::to_string(k + 1) + ": " + d.reason};
    }
    return {true, std::string(what) + " equal element by element"};
  }

  // Drops repeated members: answers are sets ("(3,17,3,7)" listed twice is one solution).
  std::vector<Value> Distinct(const std::vector<Value>& in) const {
    std::vector<Value> out;
    for (const auto& v : in) {
      bool seen =
          std::any_of(out.begin(), out.end(), [&](const Value& o) { return Compare(o, v).equal; });
      if (!seen) out.push_back(v);
    }
    return out;
  }

  Decision Unordered(const std::vector<Value>& a_in, const std::vector<Value>& b_in) const {
    if (a_in.size() * b_in.size() > 4096) throw BudgetError("too many answers to match");
    std::vector<Value> a = Distinct(a_in), b = Distinct(b_in);
    if (a.size() != b.size())
      return {false, "answer counts differ (" + std::to_string(a.size()) + " vs " +
                         std::to_string(b.size()) + ")"};
    std::vector<bool> used(b.size(), false);
    for (const auto& x : a) {
      bool found = false;
      for (std::size_t k = 0; k < b.size() && !found; ++k) {
        if (used[k]) continue;
        if (Compare(x, b[k]).equal) used[k] = found = true;
      }
      if (!found) return {false, "an answer has no equal counterpart"};
    }
    return {true, "same answers in any order"};
  }

  Decision Intervals(const Value& a, const Value& b) const {
    if (a.lo_closed != b.lo_closed || a.hi_closed != b.hi_closed)
      return {false, "interval ends differ (open/closed)"};
    auto lo = Exprs(a.items[0], b.items[0]);
    if (!lo.equal) return {false, "lower bounds differ: " + lo.reason};
    auto hi = Exprs(a.items[1], b.items[1]);
    if (!hi.equal) return {false, "upper bounds differ: " + hi.reason};
    return {true, "same interval"};
  }

  static Value AsOpenInterval(const Value& t) {
    Value v = t;
    v.kind = Value::Kind::kInterval;
    v.lo_closed = v.hi_closed = false;
    return v;
  }

  static Value Relabel(const Value& v) {
    // "y = -x/2 + 3/4" as the equation it is.
    Value r;
    r.kind = Value::Kind::kRelation;
    r.ops = {"="};
    Value l;
    l.expr = *v.label;
    Value rhs = v;
    rhs.label.reset();
    r.items = {l, rhs};
    return r;
  }

  Decision Compare(const Value& gold_in, const Value& pred_in) const {
    budget.Check();
    Value g = Unwrap(gold_in), p = Unwrap(pred_in);
    using K = Value::Kind;
    if (g.kind == K::kText || p.kind == K::kText) {
      // A word answer against anything: compare the canonical texts (a top-level expression keeps
      // its source text, so "\\text{e}" still matches "e").
      if (!g.text.empty() && g.text == p.text) return {true, "same text"};
      return {false, "text answers differ"};
    }
    if (g.kind == K::kExpr && p.kind == K::kExpr) return Exprs(g, p);
    if (g.kind == K::kRelation && p.kind == K::kExpr && p.label && !p.label->is_zero())
      return Relations(g, Relabel(p));
    if (p.kind == K::kRelation && g.kind == K::kExpr && g.label && !g.label->is_zero())
      return Relations(Relabel(g), p);
    if (g.kind == K::kRelation && p.kind == K::kRelation) return Relations(g, p);
    if (g.kind == K::kList && p.kind == K::kList) {
      if (options.ordered_lists && !g.is_set && !p.is_set)
        return Ordered(g.items, p.items, "lists");
      return Unordered(g.items, p.items);
    }
    if (g.kind == K::kTuple && p.kind == K::kTuple) return Ordered(g.items, p.items, "tuples");
    if ((g.kind == K::kList && p.kind == K::kTuple) || (g.kind == K::kTuple && p.kind == K::kList))
      return Ordered(g.items, p.items, "tuple and list");
    if (g.kind == K::kInterval && p.kind == K::kInterval) return Intervals(g, p);
    if (g.kind == K::kInterval && p.kind == K::kTuple && p.maybe_interval)
      return Intervals(g, AsOpenInterval(p));
    if (g.kind == K::kTuple && g.maybe_interval && p.kind == K::kInterval)
      return Intervals(AsOpenInterval(g), p);
    if (g.kind == K::kUnion && p.kind == K::kUnion) return Unordered(g.items, p.items);
    // Inequalities against intervals: always when the gold is the inequality, and the other way
    // round only when asked (Math-Verify's allow_set_relation_comp).
    if (g.kind == K::kRelation) {
      if (auto iv = RelationAsInterval(g)) {
        if (iv->kind == K::kUnion && p.kind == K::kUnion) return Unordered(iv->items, p.items);
        if (p.kind == K::kInterval) return Intervals(*iv, p);
        if (p.kind == K::kTuple && p.maybe_interval) return Intervals(*iv, AsOpenInterval(p));
      }
    }
    if (p.kind == K::kRelation && options.allow_set_relation_comp) {
      if (auto iv = RelationAsInterval(p)) {
        if (g.kind == K::kInterval) return Intervals(g, *iv);
        if (g.kind == K::kTuple && g.maybe_interval) return Intervals(AsOpenInterval(g), *iv);
      }
    }
    // A one-element set/tuple against a scalar, e.g. {5} vs 5.
    if (g.kind == K::kExpr && (p.kind == K::kList || p.kind == K::kTuple) && p.items.size() == 1)
      return Compare(g, p.items[0]);
    return {false, "different kinds of answer"};
  }
};

std::mutex& GinacMutex() {
  static std::mutex m;
  return m;
}

// Parses one bare answer; returns nullopt (with `why`) when unreadable.
std::optional<Value> ParseBare(std::string_view raw, SymbolTable& symbols, const Budget& budget,
                               const MathOptions& options, std::string& why) {
  if (raw.size() > options.max_answer_chars) {
    why = "answer longer than the size budget (" + std::to_string(options.max_answer_chars) +
          " chars)";
    return std::nullopt;
  }
  std::string norm = Normalize(raw);
  if (norm.empty()) {
    why = "empty answer";
    return std::nullopt;
  }
  // A lone number with space thousands groups ("1 000") is that number, not 1 times 000. A
  // decimal comma ("1,22") is not read here: bare, it is the list 1, 22.
  if (auto numbers = FindNumbers(norm);
      numbers.size() == 1 && numbers[0].begin == 0 && numbers[0].end == norm.size() &&
      (numbers[0].value.find('.') == std::string::npos) == (norm.find('.') == std::string::npos))
    norm = numbers[0].value;
  try {
    Parser parser(Lex(norm, options.max_answer_chars), symbols, budget);
    Value v = parser.ParseAnswer();
    v.text = CanonicalText(norm);
    return v;
  } catch (const BudgetError& e) {
    why = e.what();
    return std::nullopt;
  } catch (const std::exception& e) {
    // Not mathematics: a word answer ("Evelyn", "odd") still compares as text.
    std::string text = CanonicalText(norm);
    bool has_alpha = std::any_of(text.begin(), text.end(), [](char c) { return IsAlpha(c); });
    if (has_alpha && text.size() <= 200 && norm.find('\\') == std::string::npos) {
      Value v;
      v.kind = Value::Kind::kText;
      v.text = text;
      return v;
    }
    why = e.what();
    return std::nullopt;
  }
}

struct Side {
  std::optional<Value> value;
  std::string answer;
  ExtractionMethod method = ExtractionMethod::kBare;
  std::string why;
};

// Parses `raw` whole; on failure the symbol renames it made are undone, so a later reading
// numbers its variables as if it were the first (non-strict mode).
std::optional<Value> TryParse(std::string_view raw, SymbolTable& symbols, const Budget& budget,
                              const MathOptions& options, std::string& why) {
  auto renames = symbols.renames;
  int next = symbols.next;
  auto v = ParseBare(raw, symbols, budget, options, why);
  if (!v) symbols.renames = std::move(renames), symbols.next = next;
  return v;
}

// One side of a comparison. A reference answer, or any text when extraction is off, is read
// whole. A response (or a gold that is a worked solution) is read whole when it is a bare answer
// (no prose, and it parses as mathematics: "4, 12, 2", "(x-2)(x+2)", "6 - 5i"); otherwise its
// extraction candidates are tried in order (see ExtractCandidates: the last number only in prose).
Side ParseSide(std::string_view text, bool extract, SymbolTable& symbols, const Budget& budget,
               const MathOptions& options) {
  Side side;
  std::string whole_why;
  // A box or "####" says which part is the answer ("$y=12$ and $x=\boxed{6}$"): not bare.
  bool marked = text.find("\\boxed") != std::string_view::npos ||
                text.find("\\fbox") != std::string_view::npos ||
                text.find("####") != std::string_view::npos;
  if (!extract || (!marked && !HasProse(text))) {
    side.answer = std::string(text);
    side.value = TryParse(text, symbols, budget, options, side.why);
    if (!extract) return side;
    if (side.value && side.value->kind != Value::Kind::kText) return side;
    whole_why = std::move(side.why);
    side = Side{};
  }
  auto candidates = ExtractCandidates(text, options.extract);
  if (candidates.empty()) {
    side.why = whole_why.empty() ? "no answer found" : whole_why;
    return side;
  }
  std::optional<Value> text_fallback;
  const Extraction* text_from = nullptr;
  for (const auto& c : candidates) {
    budget.Check();
    std::string why;
    auto v = TryParse(c.answer, symbols, budget, options, why);
    if (!v) {
      if (side.why.empty()) side.why = why;
      continue;
    }
    // Prefer a mathematical reading; a text reading is kept only if nothing better parses,
    // unless it came from an anchor (boxed, final answer) that states the answer outright.
    if (v->kind == Value::Kind::kText && c.method != ExtractionMethod::kBoxed &&
        c.method != ExtractionMethod::kFinalAnswer && c.method != ExtractionMethod::kLatexEnv) {
      if (!text_fallback) text_fallback = std::move(v), text_from = &c;
      continue;
    }
    side.value = std::move(v);
    side.answer = c.answer;
    side.method = c.method;
    return side;
  }
  if (text_fallback) {
    side.value = std::move(text_fallback);
    side.answer = text_from->answer;
    side.method = text_from->method;
  }
  return side;
}

Verdict Run(std::string_view gold, std::string_view pred, bool extract_pred,
            const MathOptions& options) {
  std::lock_guard<std::mutex> lock(GinacMutex());
  Budget budget{Clock::now() + options.time_budget};
  try {
    SymbolTable symbols;
    symbols.canonical = !options.strict;
    Side g = ParseSide(gold, options.gold_is_solution, symbols, budget, options);
    if (!g.value) return Unparseable("gold: " + g.why);
    if (!options.strict) symbols.renames.clear(), symbols.next = 0;
    Side p = ParseSide(pred, extract_pred, symbols, budget, options);
    if (!p.value) return Unparseable("answer: " + (p.why.empty() ? "unreadable" : p.why));
    if (Normalize(g.answer) == Normalize(p.answer) && !g.answer.empty())
      return Pass("identical after normalisation ('" + p.answer.substr(0, 80) + "')");
    Comparer cmp{options, budget, symbols};
    Decision d = cmp.Compare(*g.value, *p.value);
    std::string shown = "'" + p.answer.substr(0, 80) + "' vs gold '" + g.answer.substr(0, 80) + "'";
    return d.equal ? Pass(d.reason + ": " + shown) : Fail(d.reason + ": " + shown);
  } catch (const BudgetError& e) {
    return Unparseable(std::string("budget: ") + e.what());
  } catch (const std::exception& e) {
    return Unparseable(std::string("error: ") + e.what());
  }
}

}  // namespace

Verdict VerifyMath(std::string_view gold, std::string_view answer, const MathOptions& options) {
  auto has_unicode = [](std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  };
  if (has_unicode(gold) || has_unicode(answer)) {
    std::string g = has_unicode(gold) ? NormalizeUnicode(gold) : std::string(gold);
    std::string a = has_unicode(answer) ? NormalizeUnicode(answer) : std::string(answer);
    return Run(g, a, options.extract_answer, options);
  }
  return Run(gold, answer, options.extract_answer, options);
}

Verdict CompareMathAnswers(std::string_view a, std::string_view b, const MathOptions& options) {
  return Run(a, b, false, options);
}

std::optional<MathReading> ReadMathAnswer(std::string_view response, const MathOptions& options) {
  std::string text = std::string(response);
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    text = NormalizeUnicode(text);
  std::lock_guard<std::mutex> lock(GinacMutex());
  Budget budget{Clock::now() + options.time_budget};
  try {
    SymbolTable symbols;
    Side side = ParseSide(text, options.extract_answer, symbols, budget, options);
    if (!side.value) return std::nullopt;
    return MathReading{side.answer, side.method, side.value->kind == Value::Kind::kText};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string CanonicalMathAnswer(std::string_view answer, const MathOptions& options) {
  std::lock_guard<std::mutex> lock(GinacMutex());
  Budget budget{Clock::now() + options.time_budget};
  try {
    SymbolTable symbols;
    std::string why;
    auto v = ParseBare(answer, symbols, budget, options, why);
    if (!v) return {};
    return Normalize(answer);
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace triage::verify
