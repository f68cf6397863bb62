// Standard Webhooks signing and the delivery retry schedule. Pure and thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace triage::notify {

// A secret as Standard Webhooks writes it: "whsec_" + base64(key bytes). Returns the key
// bytes, or nothing when the text is not such a secret.
std::optional<std::string> DecodeSecret(std::string_view secret);

// The `webhook-signature` header value: "v1," + base64(HMAC-SHA256(key, id.timestamp.body)).
std::string Sign(std::string_view key, std::string_view webhook_id, std::int64_t timestamp_s,
                 std::string_view body);

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

struct RetryPolicy {
  int max_attempts = 8;  // `notify.max_attempts`: then the delivery is dead
  std::chrono::milliseconds first_delay{1000};  // `notify.first_retry_ms`, doubles each time
  std::chrono::milliseconds max_delay{std::chrono::hours(1)};
};
// Delay before attempt `attempts + 1` after `attempts` failures, with up to 20% jitter taken
// from `jitter_unit` in [0, 1); nothing when no attempt is left.
std::optional<std::chrono::milliseconds> NextRetry(const RetryPolicy& policy, int attempts,
                                                   double jitter_unit);

}  // namespace triage::notify
