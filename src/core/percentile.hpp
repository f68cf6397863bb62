// The value at quantile p (0-1) of a sample, nearest rank; 0 for none. Pure.
#pragma once
#include <algorithm>
#include <vector>

namespace triage::core {

inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace triage::core
