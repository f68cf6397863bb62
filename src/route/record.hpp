// The engine's state and decisions as JSON: the progress a job carries onto the reasoning queue
// (a worker resumes from it, after a crash too) and the decision trail stored with the result
// and shown by GET /v1/jobs/{id} and the webhook. Pure.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "route/engine.hpp"
#include "route/plan.hpp"

namespace triage::route {

// The plan travels with the progress: its stage numbers mean that plan, even if the config
// changes while the job waits.
std::string ProgressToJson(const Plan& plan, const Progress& progress);
// Nothing when the text is not a progress this version wrote.
std::optional<std::pair<Plan, Progress>> ProgressFromJson(const std::string& text);

// {"plan": "...", "steps": [...], "answered_by": {...}, "degraded": ..., "reason": "..."}
nlohmann::json DecisionJson(const Plan& plan, const Progress& progress, const Finish& finish);

// The kind of a trail step's reason: "confidence", "verify failed", "none verified", "vote
// share", "call failed", ...; "other" for one not known here (a bounded set: metrics label it).
std::string ReasonKind(std::string_view reason);

}  // namespace triage::route
