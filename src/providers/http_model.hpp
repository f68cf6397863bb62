// Adapters over HTTP: OpenAI Chat Completions, OpenAI-compatible servers (vLLM, llama.cpp
// server, Ollama) at any base URL, and Anthropic Messages. Each adapter is a pure request
// builder and reply parser (tested on their own) around one pooled keep-alive client.
// Thread-safe; Complete() throws ModelError (typed: see ErrorKind) and never outlives the
// deadline. API keys come from the environment or a file (LoadApiKey), are sent only in the
// auth header, and never appear in errors or logs.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "http/http.hpp"
#include "providers/model_client.hpp"

namespace triage::providers {

enum class Flavor { kOpenAi, kOpenAiCompatible, kAnthropic };
// "openai" | "openai-compatible" | "anthropic"; nothing for anything else.
std::optional<Flavor> ParseFlavor(std::string_view name);
std::string_view ToString(Flavor flavor);

struct HttpModelOptions {
  std::string name;      // our name for the model (config key under [models])
  std::string model;     // the provider's model id, e.g. "gpt-4o-mini"
  std::string base_url;  // e.g. https://api.openai.com/v1, https://api.anthropic.com/v1
  std::string api_key;   // empty: no auth header (local compatible servers)
  Pricing pricing;
  // A reply without usage cannot be billed: refused unless this is false (then billed as 0).
  bool require_usage = true;
  std::string anthropic_version = "2023-06-01";
};

// The default base URL of a flavor (empty for openai-compatible: it must be configured).
std::string DefaultBaseUrl(Flavor flavor);

// The key from the environment variable `env_name` or else the first line of `file`; throws
// std::runtime_error naming where it looked (never the key) when `required` and neither has one.
std::string LoadApiKey(const std::string& env_name, const std::string& file, bool required);

// The HTTP request a call makes (URL, headers incl. auth, JSON body). Pure.
http::ClientRequest BuildRequest(Flavor flavor, const HttpModelOptions& options,
                                 const ModelRequest& request);
// The reply, or the typed error it stands for (HTTP status, transport failure, timeout,
// truncation, HTML page, malformed JSON, missing usage, 200 with an error object). Pure;
// `latency` is copied into the response.
ModelResponse ParseReply(Flavor flavor, const HttpModelOptions& options,
                         const http::ClientResponse& reply, std::chrono::milliseconds latency);
// Maps a failed reply to its error; exposed for tests.
ModelError ErrorFor(Flavor flavor, const std::string& name, const http::ClientResponse& reply);
// Retry-After: delta-seconds or an HTTP-date; nothing when absent or unreadable.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value);

class HttpModel final : public ModelClient {
 public:
  HttpModel(Flavor flavor, HttpModelOptions options, std::shared_ptr<http::ClientPool> pool);
  const std::string& Name() const override { return options_.name; }
  const std::string& Provider() const override { return provider_; }
  const Pricing& Prices() const override { return options_.pricing; }
  std::string Identity() const override {
    return options_.name + "|" + options_.model + "|" + options_.base_url;
  }
  boost::asio::awaitable<ModelResponse> Complete(ModelRequest request,
                                                 Deadline deadline) override;

 private:
  Flavor flavor_;
  HttpModelOptions options_;
  std::shared_ptr<http::ClientPool> pool_;
  std::string provider_;
};

}  // namespace triage::providers
