#include "app/job_metrics.hpp"

#include <nlohmann/json.hpp>

#include "intake/submission.hpp"
#include "route/plan.hpp"
#include "route/record.hpp"
#include "verify/verifier.hpp"

namespace triage::app {
namespace {

// The rung of the answering sample in a decision trail ("" when none answered).
std::string AnsweredBy(const std::optional<std::string>& decision_json) {
  if (!decision_json) return "";
  const auto decision = nlohmann::json::parse(*decision_json, nullptr, false);
  if (!decision.is_object() || !decision.contains("answered_by") ||
      !decision["answered_by"].is_object())
    return "";
  return decision["answered_by"].value("rung", "");
}

}  // namespace

metrics::FinishedJob FinishedJobOf(const store::JobRecord& job, const store::Completion& c,
                                   std::int64_t now_ms) {
  metrics::FinishedJob f;
  f.domain = job.task.domain;
  f.tier = job.tier.value_or("");
  f.route = job.route.value_or("");
  f.state = std::string(core::ToString(c.state));
  f.verification = std::string(core::ToString(c.verification));
  f.tenant = job.tenant;
  if (const auto created = intake::ParseRfc3339(job.created_at))
    f.took = std::chrono::duration<double>(static_cast<double>(now_ms - *created) / 1000.0);
  f.cost = c.recorded_cost;
  for (const auto& a : c.attempts) f.cost += a.cost_micros;
  if (!c.decision_json) return f;
  const auto decision = nlohmann::json::parse(*c.decision_json, nullptr, false);
  if (!decision.is_object()) return f;
  const auto plan = route::ParsePlan(decision.value("plan", ""));
  const auto stages =
      std::holds_alternative<route::Plan>(plan) ? std::get<route::Plan>(plan).stages.size() : 0;
  for (const auto& step : decision.value("steps", nlohmann::json::array()))
    if (step.value("outcome", "") == "next" &&
        step.value("stage", 0) + 1 < static_cast<int>(stages))
      f.escalations.push_back(route::ReasonKind(step.value("reason", "")));
  f.answered_by = AnsweredBy(c.decision_json);
  return f;
}

metrics::Judged JudgedOf(const store::JobRecord& job, const store::Feedback& feedback) {
  metrics::Judged j;
  j.domain = job.task.domain;
  j.tier = job.tier.value_or("");
  j.route = job.route.value_or("");
  j.rung = AnsweredBy(job.decision_json);
  j.cost = job.cost_micros;
  if (feedback.correct) {
    j.correct = *feedback.correct;
  } else if (feedback.gold && job.answer) {
    verify::VerifyRequest r;
    r.domain = job.task.domain;
    r.response = *job.answer;
    r.gold = feedback.gold;
    j.correct = verify::Verify(r).Passed();
  }
  return j;
}

}  // namespace triage::app
