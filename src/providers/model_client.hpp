// The one interface every model sits behind: a request and a deadline in, text and usage out.
// Implementations are safe to call concurrently from coroutines on any executor.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
#include "core/tier.hpp"
#include "core/usage.hpp"

namespace triage::providers {

using Deadline = std::chrono::steady_clock::time_point;

struct Message {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
  bool operator==(const Message&) const = default;
};

// Everything below except job_id, attempt and sim_hints can change a real model's output, so
// every such field is part of the completion cache's key (cache/key.hpp): add a field there too.
struct ModelRequest {
  std::string prompt;              // sent as one user message when `messages` is empty
  std::vector<Message> messages;   // a conversation; a leading "system" message is the system
  int max_tokens = 4096;           // visible output budget (OpenAI reasoning: max_completion_tokens)
  std::optional<double> temperature = 0.0;      // nothing: the provider's default
  std::optional<std::string> reasoning_effort;  // "low" | "medium" | "high" (OpenAI reasoning)
  std::optional<int> thinking_budget;           // Anthropic extended thinking budget_tokens
  std::optional<std::string> response_format;   // JSON text, e.g. {"type":"json_object"}
  std::vector<std::string> stop;
  // Ask for token log-probabilities (OpenAI-style `logprobs`); the reply's confidence is then
  // computed from them (ModelResponse::confidence). Other providers ignore it.
  bool logprobs = false;
  std::optional<std::int64_t> seed;
  std::optional<std::string> tools_json;        // JSON array text, passed through
  std::optional<std::string> extra_json;        // JSON object text merged into the body
  // Which of a job's independent samples this call is (best-of-N, self-consistency: 0..n-1;
  // 0 for a single call). Part of the cache key, so sample 2 never receives sample 1's answer.
  int sample = 0;
  // Who is asking, for deterministic simulation and for logs. `attempt` counts calls, retries
  // included; a retry of a sample is the same sample.
  std::string job_id;
  int attempt = 0;
  // Hints a simulated model reads (a real provider ignores them): the task's true difficulty
  // ("easy" | "medium" | "hard") and expected answer, when the submitter knows them.
  std::map<std::string, std::string> sim_hints;
};

struct ModelResponse {
  std::string text;
  std::string finish_reason;  // "stop" | "length" | ...
  core::Usage usage;
  std::chrono::milliseconds latency{0};
  std::string model;
  std::string provider_id;  // the provider's id for the call
  // From the reply's token log-probabilities when asked for (ModelRequest::logprobs): the
  // geometric mean of the answer tokens' probabilities, exp(mean logprob). Nothing when the
  // provider gave none (a self-reported "CONFIDENCE:" line is read by the router instead).
  std::optional<double> confidence;
  bool simulated = false;
};

// What went wrong, so callers decide without parsing messages.
enum class ErrorKind {
  kOther,
  kTransport,     // resolve/connect/write failed, connection dropped before a full response
  kTimeout,       // the call's deadline passed (also a slow trickle of bytes)
  kRateLimited,   // 429
  kServer,        // 5xx, 529 overloaded
  kRequest,       // 4xx other than 408/409/429: our request is wrong (never retried)
  kAuth,          // 401/403 (never retried)
  kMalformed,     // not JSON, HTML error page, unexpected shape
  kMissingUsage,  // a reply without token usage: it cannot be billed, so it is refused
  kTruncated,     // the body ended early
  kProvider,      // 200 carrying an error object
  kCircuitOpen,   // the model's circuit breaker refused the call
  kCancelled,     // the caller abandoned the call (Asio cancellation): never retried
};
std::string_view ToString(ErrorKind kind);

// A failed call: `retryable` says whether the same request may succeed later. `message` keeps
// the provider's own words (never the API key).
class ModelError : public std::runtime_error {
 public:
  ModelError(const std::string& what, bool retryable, ErrorKind kind = ErrorKind::kOther,
             int status = 0, std::optional<std::chrono::milliseconds> retry_after = {})
      : std::runtime_error(what),
        retryable_(retryable),
        kind_(kind),
        status_(status),
        retry_after_(retry_after) {}
  // A call its caller cancelled mid-way. `usage`: what the provider bills for the part it
  // generated, when that is known (the sim); a real provider reports none without a reply.
  static ModelError Cancelled(const std::string& what, std::optional<core::Usage> usage = {}) {
    ModelError e(what, false, ErrorKind::kCancelled);
    e.partial_usage_ = usage;
    return e;
  }
  bool Retryable() const { return retryable_; }
  ErrorKind Kind() const { return kind_; }
  int Status() const { return status_; }  // HTTP status, 0 when none arrived
  std::optional<std::chrono::milliseconds> RetryAfter() const { return retry_after_; }
  const std::optional<core::Usage>& PartialUsage() const { return partial_usage_; }

 private:
  bool retryable_;
  ErrorKind kind_;
  int status_;
  std::optional<std::chrono::milliseconds> retry_after_;
  std::optional<core::Usage> partial_usage_;
};

// Prices in micro-dollars per 1M tokens. Reasoning tokens are billed at `reasoning` when set,
// else as output; cache writes at `cached_write` when set, else as input.
struct Pricing {
  core::Micros input = 0;
  core::Micros output = 0;
  core::Micros cached_input = 0;
  std::optional<core::Micros> reasoning = std::nullopt;
  std::optional<core::Micros> cached_write = std::nullopt;
};
// Exact: every part is summed in micro-dollar-tokens and rounded once (half up) at the end.
// core::Usage::input counts every prompt token, cached reads and writes included.
core::Micros CostOf(const core::Usage& usage, const Pricing& pricing);

class ModelClient {
 public:
  virtual ~ModelClient() = default;
  virtual const std::string& Name() const = 0;
  virtual const std::string& Provider() const = 0;
  virtual const Pricing& Prices() const = 0;
  // What the completion cache keys on besides the request: the name, plus whatever else
  // decides which model really answers (an HTTP model's provider model id and base URL).
  virtual std::string Identity() const { return Name(); }
  // Throws ModelError; never returns after `deadline` (throws a retryable ModelError instead).
  // Asio cancellation (terminal) of the awaiting coroutine ends the call at once: the provider is
  // cut off (an HTTP connection is closed) and ModelError::Cancelled is thrown.
  // The request is taken by value: the coroutine may start after the caller's temporaries die.
  virtual boost::asio::awaitable<ModelResponse> Complete(ModelRequest request,
                                                         Deadline deadline) = 0;
};

}  // namespace triage::providers
