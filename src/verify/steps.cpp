#include "verify/steps.hpp"

#include <cmath>
#include <optional>
#include <vector>

namespace triage::verify {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Arithmetic over doubles: claims are grade-school sized, and rounding is judged by the
// claimed value's decimals, so exact rationals would buy nothing here.
class Evaluator {
 public:
  explicit Evaluator(std::string_view s) : s_(s) {}

  std::optional<double> Run() {
    auto v = Sum();
    Skip();
    if (!v || pos_ != s_.size() || ops_ == 0) return std::nullopt;
    return v;
  }
  int Ops() const { return ops_; }

 private:
  void Skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '$')) ++pos_;
  }
  // "5 x 3" is multiplication; "4x-13" is algebra: x must stand between spaces or digits.
  bool AcceptTimesX() {
    Skip();
    if (pos_ >= s_.size() || (s_[pos_] != 'x' && s_[pos_] != 'X')) return false;
    char before = pos_ > 0 ? s_[pos_ - 1] : ' ';
    std::size_t next = pos_ + 1;
    while (next < s_.size() && s_[next] == ' ') ++next;
    char after = next < s_.size() ? s_[next] : '\0';
    bool ok_before = before == ' ' || IsDigit(before) || before == ')';
    bool ok_after = IsDigit(after) || after == '$' || after == '(' || after == '.';
    if (!ok_before || !ok_after) return false;
    ++pos_;
    return true;
  }
  bool Accept(char c) {
    Skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::optional<double> Sum() {
    if (++depth_ > 64) return std::nullopt;
    auto v = Product();
    while (v) {
      if (Accept('+')) {
        auto r = Product();
        if (!r) return std::nullopt;
        *v += *r, ++ops_;
      } else if (Accept('-')) {
        auto r = Product();
        if (!r) return std::nullopt;
        *v -= *r, ++ops_;
      } else
        break;
    }
    --depth_;
    return v;
  }
  std::optional<double> Product() {
    auto v = Unary();
    while (v) {
      if (Accept('*') || AcceptTimesX()) {
        auto r = Unary();
        if (!r) return std::nullopt;
        *v *= *r, ++ops_;
      } else if (Accept('/')) {
        auto r = Unary();
        if (!r || *r == 0) return std::nullopt;
        *v /= *r, ++ops_;
      } else
        break;
    }
    return v;
  }
  std::optional<double> Unary() {
    if (Accept('-')) {
      auto v = Unary();
      if (v) *v = -*v;
      return v;
    }
    return Power();
  }
  std::optional<double> Power() {
    auto base = Atom();
    if (base && Accept('^')) {
      auto e = Unary();
      if (!e || std::fabs(*e) > 64) return std::nullopt;
      ++ops_;
      return std::pow(*base, *e);
    }
    return base;
  }
  std::optional<double> Atom() {
    Skip();
    if (Accept('(')) {
      auto v = Sum();
      if (!Accept(')')) return std::nullopt;
      return v;
    }
    std::size_t start = pos_;
    std::string digits;
    while (pos_ < s_.size() && (IsDigit(s_[pos_]) || s_[pos_] == '.' || s_[pos_] == ',')) {
      if (s_[pos_] != ',') digits += s_[pos_];
      ++pos_;
    }
    if (digits.empty() || digits == ".") {
      pos_ = start;
      return std::nullopt;
    }
    double v = std::strtod(digits.c_str(), nullptr);
    Skip();
    if (pos_ < s_.size() && s_[pos_] == '%') {
      ++pos_;
      v /= 100;
    }
    return v;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  int ops_ = 0;
  int depth_ = 0;
};

int Decimals(std::string_view number) {
  auto dot = number.find('.');
  if (dot == std::string_view::npos) return 0;
  int d = 0;
  for (std::size_t i = dot + 1; i < number.size() && IsDigit(number[i]); ++i) ++d;
  return d;
}

// A claimed value equals the computed one up to the rounding its written decimals imply.
bool Matches(double computed, double claimed, int decimals) {
  double tol = 0.5 * std::pow(10.0, -decimals) + 1e-9 * std::max(1.0, std::fabs(computed));
  return std::fabs(computed - claimed) <= tol;
}

bool IsExprChar(char c) {
  return IsDigit(c) || c == ' ' || c == '+' || c == '-' || c == '*' || c == '/' || c == '(' ||
         c == ')' || c == '.' || c == '$' || c == '^' || c == 'x' || c == 'X' || c == '%' ||
         c == ',';
}

// The text with Unicode operators spelt in ASCII; origin[k] is where out[k] came from in `s`,
// so a claim's offset can be given in the response as written.
std::string Clean(std::string_view s, std::vector<std::size_t>& origin) {
  std::string out;
  origin.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::size_t from = i;
    // Unicode operators: × (C3 97), ÷ (C3 B7), − (E2 88 92), · (C2 B7).
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0xC3 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x97) {
      out += '*', ++i;
    } else if (c == 0xC3 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xB7) {
      out += '/', ++i;
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xB7) {
      out += '*', ++i;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x88 &&
               static_cast<unsigned char>(s[i + 2]) == 0x92) {
      out += '-', i += 2;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0x93 ||
                static_cast<unsigned char>(s[i + 2]) == 0x94)) {
      out += '-', i += 2;  // en and em dashes used as minus
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0xBC &&
               static_cast<unsigned char>(s[i + 1]) <= 0xBE) {
      static const char* kFractions[] = {"(1/4)", "(1/2)", "(3/4)"};  // ¼ ½ ¾
      out += kFractions[static_cast<unsigned char>(s[i + 1]) - 0xBC], ++i;
    } else {
      out += s[i];
    }
    origin.resize(out.size(), from);
  }
  return out;
}

// Trims a candidate expression: no trailing/leading operators or separators, balanced parens.
std::string_view TrimExpr(std::string_view e) {
  auto strip = [](char c) { return c == ' ' || c == ',' || c == '$'; };
  while (!e.empty() && (strip(e.front()) || e.front() == ')')) e.remove_prefix(1);
  while (!e.empty() && (strip(e.back()) || e.back() == '(' || e.back() == '.')) e.remove_suffix(1);
  // Leading "x" is a word fragment, not a multiplication.
  while (!e.empty() && (e.front() == 'x' || e.front() == 'X' || e.front() == '*' ||
                        e.front() == '/' || e.front() == '+'))
    e.remove_prefix(1);
  int depth = 0;
  for (char c : e) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth < 0) return {};
  }
  if (depth != 0) return {};
  return e;
}

}  // namespace

StepReport CheckSteps(std::string_view response_in, const StepOptions& options) {
  StepReport report;
  std::vector<std::size_t> origin;  // response index -> response_in index
  std::string response = Clean(response_in, origin);
  std::string plain;                      // the response with <<...>> annotations removed
  std::vector<std::size_t> plain_origin;  // plain index -> response index
  plain.reserve(response.size());
  plain_origin.reserve(response.size());
  std::size_t i = 0;
  while (i < response.size()) {
    if (response.compare(i, 2, "<<") == 0) {
      std::size_t close = response.find(">>", i + 2);
      if (close != std::string::npos && close - i < 512) {
        std::string_view body(response.data() + i + 2, close - i - 2);
        std::size_t eq = body.rfind('=');
        if (eq != std::string_view::npos && report.claims.size() < options.max_claims) {
          StepClaim claim;
          claim.annotation = true;
          claim.offset = origin[i];
          claim.expression = std::string(body.substr(0, eq));
          claim.claimed = std::string(body.substr(eq + 1));
          Evaluator lhs(claim.expression), rhs(claim.claimed);
          auto l = lhs.Run();
          auto r = Evaluator(claim.claimed + "+0").Run();
          if (l && r) {
            claim.computed = *l;
            claim.correct = Matches(*l, *r, Decimals(claim.claimed));
            report.claims.push_back(claim);
          }
        }
        i = close + 2;
        continue;
      }
    }
    plain_origin.push_back(i);
    plain += response[i++];
  }
  // Inline claims: maximal runs of arithmetic characters around each '='.
  std::size_t n = plain.size();
  for (std::size_t eq = plain.find('='); eq != std::string::npos && eq < n;
       eq = plain.find('=', eq + 1)) {
    if (report.claims.size() >= options.max_claims) break;
    if ((eq > 0 && (plain[eq - 1] == '<' || plain[eq - 1] == '>' || plain[eq - 1] == '!' ||
                    plain[eq - 1] == '=')) ||
        (eq + 1 < n && plain[eq + 1] == '='))
      continue;
    std::size_t b = eq;
    while (b > 0 && IsExprChar(plain[b - 1])) --b;
    std::size_t e = eq + 1;
    while (e < n && IsExprChar(plain[e]) && plain[e] != '=') ++e;
    // A sentence-ending period after the number is punctuation.
    // The left operand must be inside the run: "9 hours * 2/3 = 6" and "X*6 + 9 = 87" start
    // with an operator whose other operand is a word, so they are not checkable claims.
    {
      std::size_t k = b;
      while (k < eq && (plain[k] == ' ' || plain[k] == '$')) ++k;
      if (k < eq) {
        char first = plain[k];
        bool after_word = b > 0 && (std::isalpha(static_cast<unsigned char>(plain[b - 1])) ||
                                    static_cast<unsigned char>(plain[b - 1]) >= 0x80);
        if (first == '*' || first == '/' || first == '+' || first == '^' || first == 'x' ||
            first == 'X' || (first == '-' && after_word))
          continue;
      }
      if (b > 0 && static_cast<unsigned char>(plain[b - 1]) >= 0x80) continue;  // unknown symbol
    }
    std::string_view lhs = TrimExpr(std::string_view(plain).substr(b, eq - b));
    std::string_view rhs = TrimExpr(std::string_view(plain).substr(eq + 1, e - eq - 1));
    if (lhs.empty() || rhs.empty()) continue;
    bool chained = e < n && plain[e] == '=';
    // "100/5 = 5A/5": the right side runs into a variable, so it is algebra, not a value.
    if (e < n && std::isalpha(static_cast<unsigned char>(plain[e])) && plain[e - 1] != ' ')
      continue;
    // A letter right before the left side ("x = 3 + 4" is algebra, "Step 2 + 3" ambiguous).
    std::size_t lhs_start = static_cast<std::size_t>(lhs.data() - plain.data());
    if (lhs_start > 0) {
      char before = plain[lhs_start - 1];
      if (std::isalpha(static_cast<unsigned char>(before)) && before != 'x' && before != 'X') {
        // "costs 3 * 4 = 12" is fine (space before); "a3 * 4" is not arithmetic.
        if (lhs_start == b) continue;
      }
    }
    Evaluator left(lhs);
    auto l = left.Run();
    // The right side must be a single number (a value), not another expression.
    auto r = Evaluator(std::string(rhs) + "+0").Run();
    bool rhs_is_number = true;
    for (char c : rhs)
      if (!(IsDigit(c) || c == '.' || c == ',' || c == '$' || c == ' ' || c == '-' || c == '%'))
        rhs_is_number = false;
    if (!l || !r) continue;
    StepClaim claim;
    claim.offset = origin[plain_origin[lhs_start]];
    claim.expression = std::string(lhs);
    claim.claimed = std::string(rhs);
    claim.computed = *l;
    if (!rhs_is_number) {
      // "a + b = c + d": both sides are expressions; compare their values. In a running total
      // ("3/2 = 1.50 + 3.00 = 4.50") the middle part is a new sum, not a claim about the left.
      if (chained) continue;
      auto rv = Evaluator(rhs).Run();
      if (!rv) continue;
      claim.correct = std::fabs(*l - *rv) <= 1e-9 * std::max(1.0, std::fabs(*l));
    } else if (!rhs.empty() && rhs.back() == '%') {
      // "100 - 60 = 40%" and "18 / 450 x 100 = 4%" both occur: accept the number or its percent.
      double as_number = *r * 100;
      claim.correct = Matches(*l, as_number, Decimals(rhs)) || Matches(*l, *r, Decimals(rhs) + 2);
    } else {
      claim.correct = Matches(*l, *r, Decimals(rhs));
    }
    report.claims.push_back(claim);
  }
  for (const auto& c : report.claims)
    if (!c.correct) ++report.wrong;
  if (report.claims.empty()) {
    report.verdict = {Outcome::kNoClaims, "no arithmetic claims found"};
  } else if (report.wrong > 0) {
    for (const auto& c : report.claims) {
      if (c.correct) continue;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.10g", c.computed);
      report.verdict =
          Fail(std::to_string(report.wrong) + " of " + std::to_string(report.claims.size()) +
               " steps wrong; first: '" + c.expression + " = " + c.claimed + "' but it is " + buf);
      break;
    }
  } else {
    report.verdict = Pass(std::to_string(report.claims.size()) + " arithmetic steps check out");
  }
  return report;
}

}  // namespace triage::verify
