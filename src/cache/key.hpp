// The completion cache's key: SHA-256 (hex) of a canonical JSON (sorted keys, no whitespace)
// of the model and every request field that can change its output. For the simulated models,
// whose output is drawn from the job and attempt, those are part of the key too. Pure.
#pragma once
#include <string>
#include <string_view>

#include "providers/model_client.hpp"

namespace triage::cache {

std::string CanonicalRequest(std::string_view model, std::string_view provider,
                             const providers::ModelRequest& request);
std::string CacheKey(std::string_view model, std::string_view provider,
                     const providers::ModelRequest& request);
std::string Sha256Hex(std::string_view bytes);

}  // namespace triage::cache
