// Token usage of one model call, as providers report it.
#pragma once
#include <cstdint>

namespace triage::core {

struct Usage {
  std::int64_t input = 0;
  std::int64_t output = 0;     // visible output, excluding reasoning
  std::int64_t reasoning = 0;  // hidden reasoning/thinking tokens
  std::int64_t cached_read = 0;
  std::int64_t cached_write = 0;
};

}  // namespace triage::core
