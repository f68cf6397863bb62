#include "route/measured.hpp"

#include <cmath>

namespace triage::route {

void MeasuredLadder::Record(const std::string& model, core::Micros cost,
                            std::chrono::milliseconds latency) {
  std::lock_guard lock(mutex_);
  auto& m = means_[model];
  const double a = m.calls == 0 ? 1.0 : alpha_;
  m.cost += a * (static_cast<double>(cost) - m.cost);
  m.latency_ms += a * (static_cast<double>(latency.count()) - m.latency_ms);
  ++m.calls;
}

Ladder MeasuredLadder::Current() const {
  Ladder out = configured_;
  std::lock_guard lock(mutex_);
  for (auto& rung : out.rungs) {
    const auto it = means_.find(rung.model);
    if (it == means_.end()) continue;
    rung.expected_cost = static_cast<core::Micros>(std::llround(it->second.cost));
    rung.expected_latency = std::chrono::milliseconds(std::llround(it->second.latency_ms));
  }
  return out;
}

}  // namespace triage::route
