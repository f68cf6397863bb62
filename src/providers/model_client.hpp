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

#include "core/money.hpp"
#include "core/tier.hpp"
#include "core/usage.hpp"

namespace triage::providers {

using Deadline = std::chrono::steady_clock::time_point;

struct ModelRequest {
  std::string prompt;
  int max_tokens = 4096;
  double temperature = 0.0;
  std::optional<std::string> reasoning_effort;  // "low" | "medium" | "high"
  // Who is asking, for deterministic simulation and for logs.
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
  std::optional<double> confidence;
  bool simulated = false;
};

// A failed call: `retryable` says whether the same request may succeed later.
class ModelError : public std::runtime_error {
 public:
  ModelError(const std::string& what, bool retryable)
      : std::runtime_error(what), retryable_(retryable) {}
  bool Retryable() const { return retryable_; }

 private:
  bool retryable_;
};

// Prices in micro-dollars per 1M tokens; reasoning tokens are billed as output.
struct Pricing {
  core::Micros input = 0;
  core::Micros output = 0;
  core::Micros cached_input = 0;
};
core::Micros CostOf(const core::Usage& usage, const Pricing& pricing);

class ModelClient {
 public:
  virtual ~ModelClient() = default;
  virtual const std::string& Name() const = 0;
  virtual const std::string& Provider() const = 0;
  virtual const Pricing& Prices() const = 0;
  // Throws ModelError; never returns after `deadline` (throws a retryable ModelError instead).
  virtual boost::asio::awaitable<ModelResponse> Complete(const ModelRequest& request,
                                                         Deadline deadline) = 0;
};

}  // namespace triage::providers
