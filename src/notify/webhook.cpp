#include "notify/webhook.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace triage::notify {

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes.
  const auto padding = static_cast<size_t>(std::count(text.end() - std::min<size_t>(2, text.size()),
                                                      text.end(), '='));
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::optional<std::string> DecodeSecret(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (!secret.starts_with(kPrefix)) return std::nullopt;
  auto key = Base64Decode(secret.substr(kPrefix.size()));
  if (!key || key->empty()) return std::nullopt;
  return key;
}

std::string Sign(std::string_view key, std::string_view webhook_id, std::int64_t timestamp_s,
                 std::string_view body) {
  std::string content;
  content.reserve(webhook_id.size() + body.size() + 24);
  content.append(webhook_id).append(".").append(std::to_string(timestamp_s)).append(".");
  content.append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_len);
  return "v1," + Base64Encode({reinterpret_cast<const char*>(mac), mac_len});
}

std::optional<std::chrono::milliseconds> NextRetry(const RetryPolicy& policy, int attempts,
                                                   double jitter_unit) {
  if (attempts >= policy.max_attempts) return std::nullopt;
  auto delay = policy.first_delay;
  for (int i = 1; i < attempts && delay < policy.max_delay; ++i) delay *= 2;
  delay = std::min(delay, policy.max_delay);
  const auto jitter = std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(delay.count()) * 0.2 * jitter_unit));
  return delay + jitter;
}

}  // namespace triage::notify
