// Deterministic draws: a uniform number fixed by a key, shared by the simulated and replayed
// models and the replay benchmark (the same key gives the same number on every platform, which
// std:: distributions do not promise). Pure and thread-safe.
#pragma once
#include <string_view>

namespace triage::core {

// A uniform number in [0, 1) fixed by `key` (the first 53 bits of its SHA-256).
double UniformDraw(std::string_view key);

}  // namespace triage::core
