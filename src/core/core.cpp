#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>

#include "core/draw.hpp"
#include "core/ids.hpp"
#include "core/job.hpp"
#include "core/money.hpp"
#include "core/tier.hpp"
#include "core/utf8.hpp"

namespace triage::core {

namespace {
constexpr std::array<std::string_view, kTierCount> kTierNames = {
    "trivial", "easy", "medium", "hard", "requires_reasoning"};
constexpr std::array<std::string_view, 7> kStateNames = {
    "queued", "running", "reasoning_queued", "completed", "failed", "cancelled", "expired"};

std::string FormatUuid(const unsigned char* b) {
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return out;
}
}  // namespace

std::string_view ToString(Tier tier) { return kTierNames[static_cast<int>(tier)]; }

std::optional<Tier> ParseTier(std::string_view name) {
  for (int i = 0; i < kTierCount; ++i)
    if (kTierNames[i] == name) return static_cast<Tier>(i);
  return std::nullopt;
}

std::string_view ToString(JobState state) { return kStateNames[static_cast<int>(state)]; }

std::optional<JobState> ParseJobState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == name) return static_cast<JobState>(i);
  return std::nullopt;
}

bool IsFinal(JobState state) {
  return state == JobState::kCompleted || state == JobState::kFailed ||
         state == JobState::kCancelled || state == JobState::kExpired;
}

std::string_view ToString(VerificationStatus status) {
  switch (status) {
    case VerificationStatus::kVerified: return "verified";
    case VerificationStatus::kFailed: return "failed";
    case VerificationStatus::kUnparseable: return "unparseable";
    case VerificationStatus::kUnverified: break;
  }
  return "unverified";
}

std::string FormatUsd(Micros micros) {
  char out[48];
  const char* sign = micros < 0 ? "-" : "";
  const auto abs = micros < 0 ? -micros : micros;
  std::snprintf(out, sizeof out, "%s$%lld.%06lld", sign, static_cast<long long>(abs / 1'000'000),
                static_cast<long long>(abs % 1'000'000));
  return out;
}

std::string NewUuidV7() {
  static std::mutex mutex;
  static std::mt19937_64 rng{std::random_device{}()};
  unsigned char b[16];
  std::uint64_t r1, r2;
  {
    std::lock_guard lock(mutex);
    r1 = rng();
    r2 = rng();
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  for (int i = 0; i < 2; ++i) b[6 + i] = static_cast<unsigned char>(r1 >> (8 * i));
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<unsigned char>(r2 >> (8 * i));
  b[6] = (b[6] & 0x0F) | 0x70;
  b[8] = (b[8] & 0x3F) | 0x80;
  return FormatUuid(b);
}

std::string UuidFromName(std::string_view name) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  digest[6] = (digest[6] & 0x0F) | 0x80;
  digest[8] = (digest[8] & 0x3F) | 0x80;
  return FormatUuid(digest);
}

double UniformDraw(std::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::uint64_t bits;
  std::memcpy(&bits, digest, sizeof bits);
  return static_cast<double>(bits >> 11) / static_cast<double>(1ULL << 53);
}

bool IsUuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) { ++i; continue; }
    int len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

}  // namespace triage::core
