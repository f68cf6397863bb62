#include "route/record.hpp"

namespace triage::route {
namespace {

using nlohmann::json;

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<verify::Outcome> OutcomeNamed(const std::string& name) {
  for (auto o : {verify::Outcome::kPassed, verify::Outcome::kFailed, verify::Outcome::kUnparseable,
                 verify::Outcome::kTimedOut, verify::Outcome::kCrashed, verify::Outcome::kNoClaims})
    if (verify::ToString(o) == name) return o;
  return std::nullopt;
}

json StepJson(const Step& s) {
  return {{"stage", s.stage},    {"kind", ToString(s.kind)},
          {"rung", s.rung},      {"outcome", s.outcome},
          {"reason", s.reason},  {"confidence", Optional(s.confidence)},
          {"samples", s.samples}};
}

json SampleJson(const Sample& s) {
  return {{"stage", s.stage},
          {"index", s.index},
          {"rung", s.rung},
          {"model", s.call.model},
          {"text", s.call.text ? json(*s.call.text) : json(nullptr)},
          {"error", s.call.error},
          {"cost_micros", s.call.cost},
          {"latency_ms", s.call.latency.count()},
          {"call_confidence", Optional(s.call.confidence)},
          {"answer", s.answer},
          {"verdict", verify::ToString(s.verdict.outcome)},
          {"verdict_reason", s.verdict.reason},
          {"confidence", Optional(s.confidence)}};
}

std::optional<double> OptionalDouble(const json& v) {
  return v.is_number() ? std::optional(v.get<double>()) : std::nullopt;
}

}  // namespace

std::string ProgressToJson(const Plan& plan, const Progress& p) {
  json samples = json::array(), trail = json::array();
  for (const auto& s : p.samples) samples.push_back(SampleJson(s));
  for (const auto& s : p.trail) trail.push_back(StepJson(s));
  json out = {{"v", 1},           {"plan", ToString(plan)}, {"stage", p.stage},
              {"spent", p.spent}, {"samples", samples},     {"trail", trail}};
  out["accepted"] = p.accepted ? json(*p.accepted) : json(nullptr);
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::pair<Plan, Progress>> ProgressFromJson(const std::string& text) {
  const auto doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || doc.value("v", 0) != 1 || !doc.contains("plan")) return std::nullopt;
  try {
    auto plan = ParsePlan(doc.at("plan").get<std::string>());
    if (!std::holds_alternative<Plan>(plan)) return std::nullopt;
    Progress p;
    p.stage = doc.at("stage").get<int>();
    p.spent = doc.at("spent").get<core::Micros>();
    if (doc.at("accepted").is_number()) p.accepted = doc["accepted"].get<int>();
    for (const auto& s : doc.at("samples")) {
      Sample sample;
      sample.stage = s.at("stage").get<int>();
      sample.index = s.at("index").get<int>();
      sample.rung = s.at("rung").get<std::string>();
      sample.call.model = s.at("model").get<std::string>();
      if (s.at("text").is_string()) sample.call.text = s["text"].get<std::string>();
      sample.call.error = s.at("error").get<std::string>();
      sample.call.cost = s.at("cost_micros").get<core::Micros>();
      sample.call.latency = std::chrono::milliseconds(s.at("latency_ms").get<std::int64_t>());
      sample.call.confidence = OptionalDouble(s.at("call_confidence"));
      sample.answer = s.at("answer").get<std::string>();
      const auto outcome = OutcomeNamed(s.at("verdict").get<std::string>());
      if (!outcome) return std::nullopt;
      sample.verdict = {*outcome, s.at("verdict_reason").get<std::string>()};
      sample.confidence = OptionalDouble(s.at("confidence"));
      p.samples.push_back(std::move(sample));
    }
    for (const auto& s : doc.at("trail")) {
      const auto kind = ParseStageKind(s.at("kind").get<std::string>());
      if (!kind) return std::nullopt;
      p.trail.push_back({s.at("stage").get<int>(), *kind, s.at("rung").get<std::string>(),
                         s.at("outcome").get<std::string>(), s.at("reason").get<std::string>(),
                         OptionalDouble(s.at("confidence")),
                         s.at("samples").get<std::vector<int>>()});
    }
    return std::pair{std::get<Plan>(plan), std::move(p)};
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

json DecisionJson(const Plan& plan, const Progress& p, const Finish& finish) {
  json steps = json::array();
  for (const auto& s : p.trail) steps.push_back(StepJson(s));
  json out = {{"plan", ToString(plan)},      {"steps", steps},
              {"degraded", finish.degraded}, {"reason", finish.reason},
              {"samples", p.samples.size()}, {"spent_micros", p.spent}};
  if (finish.sample) {
    const auto& s = p.samples.at(static_cast<std::size_t>(*finish.sample));
    out["answered_by"] = {{"sample", s.index},
                          {"stage", s.stage},
                          {"rung", s.rung},
                          {"model", s.call.model},
                          {"verdict", verify::ToString(s.verdict.outcome)},
                          {"confidence", Optional(s.confidence)}};
  } else {
    out["answered_by"] = nullptr;
  }
  return out;
}

std::string ReasonKind(std::string_view reason) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kinds = {
      {"confidence", "confidence"},
      {"failed:", "verify failed"},
      {"unparseable:", "unparseable"},
      {"timed_out:", "verify timed out"},
      {"crashed:", "verify crashed"},
      {"none of", "none verified"},
      {"vote share", "vote share"},
      {"the majority answer fails", "majority fails"},
      {"no readable answer", "no readable answer"},
      {"the call failed", "call failed"},
      {"deadline", "deadline"},
      {"budget", "budget"},
  };
  for (const auto& [prefix, kind] : kinds)
    if (reason.starts_with(prefix)) return std::string(kind);
  return "other";
}

}  // namespace triage::route
