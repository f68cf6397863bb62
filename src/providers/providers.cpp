#include <algorithm>

#include "providers/model_client.hpp"

namespace triage::providers {

core::Micros CostOf(const core::Usage& u, const Pricing& p) {
  const auto fresh_input = std::max<std::int64_t>(0, u.input - u.cached_read - u.cached_write);
  // 128-bit: a million-token reply at a $1,000/M price still sums without overflow.
  const __int128 total = static_cast<__int128>(fresh_input) * p.input +
                         static_cast<__int128>(u.cached_read) * p.cached_input +
                         static_cast<__int128>(u.cached_write) * p.cached_write.value_or(p.input) +
                         static_cast<__int128>(u.output) * p.output +
                         static_cast<__int128>(u.reasoning) * p.reasoning.value_or(p.output);
  return static_cast<core::Micros>((total + 500'000) / 1'000'000);
}

std::string_view ToString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOther: return "error";
    case ErrorKind::kTransport: return "transport";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kRateLimited: return "rate_limited";
    case ErrorKind::kServer: return "server";
    case ErrorKind::kRequest: return "request";
    case ErrorKind::kAuth: return "auth";
    case ErrorKind::kMalformed: return "malformed";
    case ErrorKind::kMissingUsage: return "missing_usage";
    case ErrorKind::kTruncated: return "truncated";
    case ErrorKind::kProvider: return "provider";
    case ErrorKind::kCircuitOpen: return "circuit_open";
    case ErrorKind::kCancelled: return "cancelled";
  }
  return "error";
}

}  // namespace triage::providers
