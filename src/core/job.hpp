// A job: one task submitted by a tenant, and the states it moves through.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/tier.hpp"

namespace triage::core {

// queued -> running (inline lease) -> completed | failed | expired
// queued -> reasoning_queued -> running (worker lease) -> completed | failed | expired
// Every transition is a conditional update on the current state, so a redelivered message
// or a restarted role can never move a job twice.
enum class JobState { kQueued, kRunning, kReasoningQueued, kCompleted, kFailed, kCancelled, kExpired };
std::string_view ToString(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);
bool IsFinal(JobState state);

// What the verifier concluded about a result.
enum class VerificationStatus { kUnverified, kVerified, kFailed, kUnparseable };
std::string_view ToString(VerificationStatus status);

struct Task {
  std::string text;
  std::string domain;  // e.g. "math", "code", "general"
};

}  // namespace triage::core
