// What each model's calls have actually cost and taken, folded into the ladder's expectations:
// a stage's budget check uses the measured mean once calls are measured, the configured value
// until then. An exponentially weighted mean (weight `alpha` for the newest call) follows
// drift without one slow call dominating. Thread-safe.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "core/money.hpp"
#include "route/engine.hpp"

namespace triage::route {

class MeasuredLadder {
 public:
  explicit MeasuredLadder(Ladder configured, double alpha = 0.2)
      : configured_(std::move(configured)), alpha_(alpha) {}
  // One call of `model` that returned (failed calls are not a latency of the model's answers).
  void Record(const std::string& model, core::Micros cost, std::chrono::milliseconds latency);
  // The configured ladder with every measured model's means in place of its expectations.
  Ladder Current() const;

 private:
  struct Mean {
    double cost = 0, latency_ms = 0;
    long calls = 0;
  };
  const Ladder configured_;
  const double alpha_;
  mutable std::mutex mutex_;
  std::map<std::string, Mean> means_;
};

}  // namespace triage::route
