#include <openssl/sha.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <cstring>

#include "providers/model_client.hpp"
#include "providers/sim.hpp"

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
  }
  return "error";
}

std::optional<SimDifficulty> ParseSimDifficulty(std::string_view name) {
  if (name == "easy") return SimDifficulty::kEasy;
  if (name == "medium") return SimDifficulty::kMedium;
  if (name == "hard") return SimDifficulty::kHard;
  return std::nullopt;
}

SimDifficulty SimDifficultyForTier(core::Tier tier) {
  switch (tier) {
    case core::Tier::kTrivial:
    case core::Tier::kEasy: return SimDifficulty::kEasy;
    case core::Tier::kMedium: return SimDifficulty::kMedium;
    default: return SimDifficulty::kHard;
  }
}

SimProfile StandardSimProfile() { return {{0.95, 0.60, 0.20}, {500, 800, 1000}, 0.0, 0.5, 2.0}; }
SimProfile ReasoningSimProfile() {
  return {{0.98, 0.87, 0.72}, {3000, 5000, 8000}, 0.8, 15.0, 120.0};
}

namespace {

// A uniform number in [0, 1) fixed by everything that identifies the call and `what`.
double Draw(const SimOptions& o, const ModelRequest& r, std::string_view what) {
  const std::string key = std::to_string(o.seed) + '\x1f' + r.job_id + '\x1f' + o.name + '\x1f' +
                          std::to_string(r.attempt) + '\x1f' + std::string(what);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::uint64_t bits;
  std::memcpy(&bits, digest, sizeof bits);
  return static_cast<double>(bits >> 11) / static_cast<double>(1ULL << 53);
}

std::string WrongAnswer(const std::string& gold, double u) {
  const int delta = 1 + static_cast<int>(u * 9);  // 1..9
  char* end = nullptr;
  const long long as_int = std::strtoll(gold.c_str(), &end, 10);
  if (!gold.empty() && end && *end == '\0') return std::to_string(as_int + delta);
  return gold.empty() ? "unknown" : gold + " + " + std::to_string(delta);
}

}  // namespace

SimOutcome Simulate(const SimOptions& o, const ModelRequest& r) {
  SimDifficulty difficulty = SimDifficulty::kMedium;
  if (auto it = r.sim_hints.find("difficulty"); it != r.sim_hints.end())
    difficulty = ParseSimDifficulty(it->second).value_or(SimDifficulty::kMedium);
  const int d = static_cast<int>(difficulty);
  const auto gold_it = r.sim_hints.find("expected_answer");
  const std::string gold = gold_it == r.sim_hints.end() ? "" : gold_it->second;

  SimOutcome out;
  out.correct = Draw(o, r, "correct") < o.profile.accuracy[d];
  out.answer = out.correct ? (gold.empty() ? "42" : gold) : WrongAnswer(gold, Draw(o, r, "wrong"));
  // Self-reported confidence, imperfectly calibrated as the seed warns: right answers mostly
  // score high, wrong ones spread over the whole range.
  const double c = Draw(o, r, "confidence");
  out.confidence = out.correct ? 0.6 + 0.4 * c : 0.2 + 0.7 * c;
  const auto tokens =
      static_cast<std::int64_t>(o.profile.tokens[d] * (0.75 + 0.5 * Draw(o, r, "tokens")));
  out.usage.input = static_cast<std::int64_t>(r.prompt.size() / 4) + 20;
  out.usage.reasoning = static_cast<std::int64_t>(tokens * o.profile.reasoning_share);
  out.usage.output = tokens - out.usage.reasoning;
  // Harder tasks sit higher in the latency range: easy in the lower half, hard in the upper.
  const double position = 0.25 * d + 0.5 * Draw(o, r, "latency");
  const double seconds =
      o.profile.latency_min_s + (o.profile.latency_max_s - o.profile.latency_min_s) * position;
  out.latency = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000 * o.time_scale));
  return out;
}

SimModel::SimModel(SimOptions options) : options_(std::move(options)) {}

boost::asio::awaitable<ModelResponse> SimModel::Complete(ModelRequest request,
                                                         Deadline deadline) {
  const SimOutcome outcome = Simulate(options_, request);
  const auto start = std::chrono::steady_clock::now();
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const bool late = start + outcome.latency > deadline;
  timer.expires_at(late ? deadline : start + outcome.latency);
  co_await timer.async_wait(boost::asio::use_awaitable);
  if (late) throw ModelError(options_.name + ": deadline exceeded", true, ErrorKind::kTimeout);
  ModelResponse response;
  response.text = "[simulated " + options_.name + "] The answer is " + outcome.answer + ".";
  response.finish_reason = "stop";
  response.usage = outcome.usage;
  response.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  response.model = options_.name;
  response.provider_id = "sim-" + request.job_id + "-" + std::to_string(request.attempt);
  response.confidence = outcome.confidence;
  response.simulated = true;
  co_return response;
}

}  // namespace triage::providers
