#include "route/plan.hpp"

#include <charconv>
#include <cmath>

namespace triage::route {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

std::optional<double> Fraction(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !(v >= 0.0 && v <= 1.0))
    return std::nullopt;
  return v;
}

std::optional<int> Count(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 64) return std::nullopt;
  return v;
}

// One "kind(rung, key=value, ...)"; an error names what is wrong.
std::variant<Stage, std::string> ParseStage(std::string_view text) {
  const auto open = text.find('(');
  if (open == std::string_view::npos || text.back() != ')')
    return std::string("expected kind(rung, ...)");
  const auto kind = ParseStageKind(Trim(text.substr(0, open)));
  if (!kind)
    return "unknown stage '" + std::string(Trim(text.substr(0, open))) +
           "' (direct, cascade, best_of_n, self_consistency, escalate)";
  Stage stage;
  stage.kind = *kind;
  if (*kind == StageKind::kBestOfN) stage.n = 4;
  if (*kind == StageKind::kSelfConsistency) stage.n = 5;
  auto args = text.substr(open + 1, text.size() - open - 2);
  bool first = true;
  while (true) {
    const auto comma = args.find(',');
    const auto arg = Trim(args.substr(0, comma));
    if (first) {
      if (!IsName(arg)) return std::string("the first argument must be a rung name");
      stage.rung = std::string(arg);
      first = false;
    } else {
      const auto eq = arg.find('=');
      if (eq == std::string_view::npos) return "expected key=value, got '" + std::string(arg) + "'";
      const auto key = Trim(arg.substr(0, eq)), value = Trim(arg.substr(eq + 1));
      const bool sampled = *kind == StageKind::kBestOfN || *kind == StageKind::kSelfConsistency;
      if (key == "n" && sampled) {
        const auto n = Count(value);
        if (!n) return std::string("n must be a whole number from 1 to 64");
        stage.n = *n;
      } else if (key == "parallel" && *kind == StageKind::kBestOfN) {
        if (value != "true" && value != "false")
          return std::string("parallel must be true or false");
        stage.parallel = value == "true";
      } else if (key == "early_stop" && *kind == StageKind::kSelfConsistency) {
        if (value != "true" && value != "false")
          return std::string("early_stop must be true or false");
        stage.early_stop = value == "true";
      } else if (key == "confidence" && *kind == StageKind::kCascade) {
        stage.min_confidence = Fraction(value);
        if (!stage.min_confidence) return std::string("confidence must be a number from 0 to 1");
      } else if (key == "share" && *kind == StageKind::kSelfConsistency) {
        stage.min_share = Fraction(value);
        if (!stage.min_share) return std::string("share must be a number from 0 to 1");
      } else {
        return "'" + std::string(key) + "' is not an option of " + std::string(ToString(*kind));
      }
    }
    if (comma == std::string_view::npos) break;
    args.remove_prefix(comma + 1);
  }
  return stage;
}

std::string Number(double v) {
  char out[32];
  const auto [end, ec] = std::to_chars(out, out + sizeof out, v);
  return std::string(out, end);
}

}  // namespace

std::string_view ToString(StageKind kind) {
  switch (kind) {
    case StageKind::kDirect:
      return "direct";
    case StageKind::kCascade:
      return "cascade";
    case StageKind::kBestOfN:
      return "best_of_n";
    case StageKind::kSelfConsistency:
      return "self_consistency";
    case StageKind::kEscalate:
      return "escalate";
  }
  return "direct";
}

std::optional<StageKind> ParseStageKind(std::string_view name) {
  for (auto k : {StageKind::kDirect, StageKind::kCascade, StageKind::kBestOfN,
                 StageKind::kSelfConsistency, StageKind::kEscalate})
    if (ToString(k) == name) return k;
  return std::nullopt;
}

std::variant<Plan, std::string> ParsePlan(std::string_view spec) {
  Plan plan;
  if (Trim(spec).empty()) return std::string("the plan has no stages");
  while (true) {
    const auto arrow = spec.find("->");
    const auto text = Trim(spec.substr(0, arrow));
    auto stage = ParseStage(text);
    if (auto* error = std::get_if<std::string>(&stage))
      return "stage " + std::to_string(plan.stages.size() + 1) + " '" + std::string(text) +
             "': " + *error;
    plan.stages.push_back(std::get<Stage>(stage));
    if (arrow == std::string_view::npos) break;
    spec.remove_prefix(arrow + 2);
  }
  return plan;
}

std::string ToString(const Plan& plan) {
  std::string out;
  for (const auto& s : plan.stages) {
    if (!out.empty()) out += " -> ";
    out += std::string(ToString(s.kind)) + "(" + s.rung;
    if (s.kind == StageKind::kBestOfN || s.kind == StageKind::kSelfConsistency)
      out += ", n=" + std::to_string(s.n);
    if (s.kind == StageKind::kBestOfN && !s.parallel) out += ", parallel=false";
    if (s.min_confidence) out += ", confidence=" + Number(*s.min_confidence);
    if (s.min_share) out += ", share=" + Number(*s.min_share);
    if (s.kind == StageKind::kSelfConsistency && !s.early_stop) out += ", early_stop=false";
    out += ")";
  }
  return out;
}

}  // namespace triage::route
