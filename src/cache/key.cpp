#include "cache/key.hpp"

#include <openssl/sha.h>

#include <nlohmann/json.hpp>

namespace triage::cache {
using nlohmann::json;

namespace {

// JSON text from a caller, as JSON (so key order and spacing do not matter), else as a string.
json AsJson(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  auto parsed = json::parse(*text, nullptr, false);
  return parsed.is_discarded() ? json(*text) : parsed;
}

}  // namespace

std::string CanonicalRequest(std::string_view model, std::string_view provider,
                             const providers::ModelRequest& r) {
  json key;  // nlohmann::json objects are std::maps: keys come out sorted
  key["v"] = 1;
  key["model"] = model;
  key["provider"] = provider;
  json messages = json::array();
  if (r.messages.empty()) {
    messages.push_back({{"role", "user"}, {"content", r.prompt}});
  } else {
    for (const auto& m : r.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  key["messages"] = std::move(messages);
  key["max_tokens"] = r.max_tokens;
  key["temperature"] = r.temperature ? json(*r.temperature) : json(nullptr);
  key["reasoning_effort"] = r.reasoning_effort ? json(*r.reasoning_effort) : json(nullptr);
  key["thinking_budget"] = r.thinking_budget ? json(*r.thinking_budget) : json(nullptr);
  key["response_format"] = AsJson(r.response_format);
  key["stop"] = r.stop;
  key["seed"] = r.seed ? json(*r.seed) : json(nullptr);
  key["tools"] = AsJson(r.tools_json);
  key["extra"] = AsJson(r.extra_json);
  // Simulated and replayed answers are drawn from the job, the attempt and the hints.
  if (provider == "sim" || provider == "replay") {
    key["job_id"] = r.job_id;
    key["attempt"] = r.attempt;
    key["sim_hints"] = r.sim_hints;
  }
  return key.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

std::string CacheKey(std::string_view model, std::string_view provider,
                     const providers::ModelRequest& request) {
  return Sha256Hex(CanonicalRequest(model, provider, request));
}

}  // namespace triage::cache
