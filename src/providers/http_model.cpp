#include "providers/http_model.hpp"

#include <boost/asio/this_coro.hpp>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <cmath>
#include <nlohmann/json.hpp>

namespace triage::providers {
using nlohmann::json;

std::optional<Flavor> ParseFlavor(std::string_view name) {
  if (name == "openai") return Flavor::kOpenAi;
  if (name == "openai-compatible") return Flavor::kOpenAiCompatible;
  if (name == "anthropic") return Flavor::kAnthropic;
  return std::nullopt;
}

std::string_view ToString(Flavor flavor) {
  switch (flavor) {
    case Flavor::kOpenAi:
      return "openai";
    case Flavor::kOpenAiCompatible:
      return "openai-compatible";
    case Flavor::kAnthropic:
      return "anthropic";
  }
  return "openai";
}

std::string DefaultBaseUrl(Flavor flavor) {
  switch (flavor) {
    case Flavor::kOpenAi:
      return "https://api.openai.com/v1";
    case Flavor::kAnthropic:
      return "https://api.anthropic.com/v1";
    default:
      return "";
  }
}

std::string LoadApiKey(const std::string& env_name, const std::string& file, bool required) {
  if (!env_name.empty()) {
    if (const char* v = std::getenv(env_name.c_str()); v && *v) return v;
  }
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read the API key file " + file);
    std::string key;
    std::getline(in, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
    if (!key.empty()) return key;
  }
  if (required)
    throw std::runtime_error("no API key: set the environment variable " +
                             (env_name.empty() ? std::string("(none configured)") : env_name) +
                             " or a key file");
  return "";
}

namespace {

// Provider JSON a config or caller handed us as text; a parse failure is our request's fault.
json ParseJsonText(const std::string& text, const char* what) {
  auto parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded())
    throw ModelError(std::string("invalid ") + what + " JSON", false, ErrorKind::kRequest);
  return parsed;
}

std::vector<Message> MessagesOf(const ModelRequest& r) {
  if (!r.messages.empty()) return r.messages;
  return {Message{"user", r.prompt}};
}

std::string Trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  const auto first = s.find_first_not_of(" \t\r\n");
  return first == std::string::npos ? "" : s.substr(first);
}

bool LooksLikeHtml(const http::ClientResponse& r) {
  if (r.content_type.find("text/html") != std::string::npos) return true;
  const auto first = r.body.find_first_not_of(" \t\r\n");
  return first != std::string::npos && r.body[first] == '<';
}

// <title> of an HTML error page (a proxy's or load balancer's), else its first bytes.
std::string HtmlSummary(const std::string& body) {
  const auto open = body.find("<title>");
  const auto close = body.find("</title>");
  if (open != std::string::npos && close != std::string::npos && close > open)
    return Trimmed(body.substr(open + 7, close - open - 7));
  return Trimmed(body.substr(0, 120));
}

std::int64_t IntAt(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

// exp(mean token logprob) from an OpenAI-style choice's logprobs.content (OpenAI, vLLM,
// llama.cpp's server); nothing when absent or unusable.
std::optional<double> ConfidenceFromLogprobs(const json& choice) {
  if (!choice.contains("logprobs") || !choice["logprobs"].is_object()) return std::nullopt;
  const auto& content = choice["logprobs"].value("content", json());
  if (!content.is_array() || content.empty()) return std::nullopt;
  double sum = 0;
  for (const auto& token : content) {
    if (!token.is_object() || !token.contains("logprob") || !token["logprob"].is_number())
      return std::nullopt;
    const double lp = token["logprob"].get<double>();
    if (!(lp <= 0)) return std::nullopt;  // not a log-probability (or NaN)
    sum += lp;
  }
  return std::exp(sum / static_cast<double>(content.size()));
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (v.find_first_not_of("0123456789.") == std::string_view::npos && v.size() < 10) {
    const double seconds = std::strtod(std::string(v).c_str(), nullptr);
    return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  }
  std::tm tm{};  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT"
  const std::string text(v);
  if (!strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  const auto at = timegm(&tm);
  const auto delta = static_cast<std::int64_t>(at) - static_cast<std::int64_t>(std::time(nullptr));
  return std::chrono::milliseconds(std::max<std::int64_t>(0, delta) * 1000);
}

http::ClientRequest BuildRequest(Flavor flavor, const HttpModelOptions& o, const ModelRequest& r) {
  http::ClientRequest out;
  out.method = "POST";
  std::string base = o.base_url.empty() ? DefaultBaseUrl(flavor) : o.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  json body;
  body["model"] = o.model;
  const auto messages = MessagesOf(r);
  if (flavor == Flavor::kAnthropic) {
    out.url = base + "/messages";
    out.headers = {{"content-type", "application/json"},
                   {"anthropic-version", o.anthropic_version}};
    if (!o.api_key.empty()) out.headers.emplace_back("x-api-key", o.api_key);
    std::string system;
    json list = json::array();
    for (const auto& m : messages) {
      if (m.role == "system") {
        system += (system.empty() ? "" : "\n\n") + m.content;
        continue;
      }
      list.push_back({{"role", m.role}, {"content", m.content}});
    }
    // max_tokens covers thinking too and must exceed the thinking budget.
    body["max_tokens"] = r.max_tokens + (r.thinking_budget ? *r.thinking_budget : 0);
    body["messages"] = std::move(list);
    if (!system.empty()) body["system"] = system;
    if (r.thinking_budget) {
      body["thinking"] = {{"type", "enabled"}, {"budget_tokens", *r.thinking_budget}};
    } else if (r.temperature) {
      body["temperature"] = *r.temperature;  // thinking does not accept a temperature
    }
    if (!r.stop.empty()) body["stop_sequences"] = r.stop;
  } else {
    out.url = base + "/chat/completions";
    out.headers = {{"content-type", "application/json"}};
    if (!o.api_key.empty()) out.headers.emplace_back("authorization", "Bearer " + o.api_key);
    json list = json::array();
    for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
    body["messages"] = std::move(list);
    // OpenAI deprecated max_tokens and its reasoning models refuse it; compatible servers
    // (vLLM, llama.cpp, Ollama) know only max_tokens.
    body[flavor == Flavor::kOpenAi ? "max_completion_tokens" : "max_tokens"] = r.max_tokens;
    if (r.reasoning_effort) body["reasoning_effort"] = *r.reasoning_effort;
    // Reasoning models accept only their default temperature.
    if (r.temperature && !(flavor == Flavor::kOpenAi && r.reasoning_effort))
      body["temperature"] = *r.temperature;
    if (r.response_format)
      body["response_format"] = ParseJsonText(*r.response_format, "response_format");
    if (!r.stop.empty()) body["stop"] = r.stop;
    if (r.seed) body["seed"] = *r.seed;
    if (r.logprobs) body["logprobs"] = true;
  }
  if (r.tools_json) body["tools"] = ParseJsonText(*r.tools_json, "tools");
  if (r.extra_json) {
    auto extra = ParseJsonText(*r.extra_json, "extra");
    if (!extra.is_object())
      throw ModelError("extra parameters must be a JSON object", false, ErrorKind::kRequest);
    body.update(extra);
  }
  out.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

ModelError ErrorFor(Flavor flavor, const std::string& name, const http::ClientResponse& reply) {
  const std::string who = name + " (" + std::string(ToString(flavor)) + ")";
  if (reply.cancelled)  // cut off mid-call: a provider bills it, but says nothing of it to us
    return ModelError::Cancelled(who + ": cancelled mid-call (its cost is unknown)");
  if (reply.status == 0 || (reply.error.size() && reply.status < 300)) {
    if (reply.timed_out)
      return ModelError(who + ": deadline exceeded (" + reply.error + ")", true,
                        ErrorKind::kTimeout);
    if (reply.truncated)
      return ModelError(who + ": response truncated (" + reply.error + ")", true,
                        ErrorKind::kTruncated, reply.status);
    return ModelError(who + ": " + reply.error, true, ErrorKind::kTransport);
  }
  const int s = reply.status;
  std::string detail;
  std::string type;
  if (LooksLikeHtml(reply)) {
    detail = "HTML error page: " + HtmlSummary(reply.body);
  } else {
    const auto doc = json::parse(reply.body, nullptr, false);
    if (doc.is_object() && doc.contains("error")) {
      const auto& e = doc["error"];
      if (e.is_object()) {
        if (e.contains("type") && e["type"].is_string()) type = e["type"].get<std::string>();
        if (e.contains("message") && e["message"].is_string())
          detail = e["message"].get<std::string>();
      } else if (e.is_string()) {
        detail = e.get<std::string>();  // llama.cpp and Ollama send a bare string
      }
    }
    if (detail.empty()) detail = Trimmed(reply.body.substr(0, 200));
  }
  const std::string message =
      who + ": HTTP " + std::to_string(s) + (type.empty() ? "" : " " + type) + ": " + detail;
  auto retry_after = ParseRetryAfter(reply.retry_after);
  if (s == 429) return ModelError(message, true, ErrorKind::kRateLimited, s, retry_after);
  if (s >= 500) return ModelError(message, true, ErrorKind::kServer, s, retry_after);
  if (s == 408 || s == 409) return ModelError(message, true, ErrorKind::kServer, s, retry_after);
  if (s == 401 || s == 403) return ModelError(message, false, ErrorKind::kAuth, s);
  if (s >= 400) return ModelError(message, false, ErrorKind::kRequest, s);
  return ModelError(message, true, ErrorKind::kMalformed, s);  // 1xx/3xx: not an API reply
}

ModelResponse ParseReply(Flavor flavor, const HttpModelOptions& o,
                         const http::ClientResponse& reply, std::chrono::milliseconds latency) {
  const std::string who = o.name + " (" + std::string(ToString(flavor)) + ")";
  if (reply.status < 200 || reply.status >= 300 || reply.error.size())
    throw ErrorFor(flavor, o.name, reply);
  if (LooksLikeHtml(reply))
    throw ModelError(who + ": HTML page instead of JSON: " + HtmlSummary(reply.body), true,
                     ErrorKind::kMalformed, reply.status);
  const auto doc = json::parse(reply.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw ModelError(who + ": malformed JSON reply: " + Trimmed(reply.body.substr(0, 120)), true,
                     ErrorKind::kMalformed, reply.status);
  // Some gateways answer 200 with an error object.
  if ((doc.contains("error") && !doc["error"].is_null()) || doc.value("type", "") == "error") {
    http::ClientResponse as_error;
    as_error.status = 500;
    as_error.body = reply.body;
    as_error.content_type = "application/json";
    auto e = ErrorFor(flavor, o.name, as_error);
    std::string type;
    if (doc.contains("error") && doc["error"].is_object()) type = doc["error"].value("type", "");
    // The provider's side (Anthropic's api_error / overloaded_error, OpenAI's server_error)
    // may pass; our request's faults (invalid_request_error, ...) will not.
    const bool retryable = type == "api_error" || type.find("overloaded") != std::string::npos ||
                           type.find("server") != std::string::npos ||
                           type.find("rate_limit") != std::string::npos ||
                           type.find("timeout") != std::string::npos;
    std::string text = e.what();
    const auto pos = text.find("HTTP 500");
    if (pos != std::string::npos) text.replace(pos, 8, "error object in a 200 reply");
    throw ModelError(text, retryable, ErrorKind::kProvider, reply.status);
  }
  ModelResponse out;
  out.latency = latency;
  out.model = o.name;
  out.provider_id = doc.value("id", reply.request_id);
  bool has_usage = false;
  try {
    if (flavor == Flavor::kAnthropic) {
      const auto& content = doc.at("content");
      if (!content.is_array()) throw std::runtime_error("content is not an array");
      for (const auto& block : content) {
        if (block.value("type", "") == "text") out.text += block.value("text", "");
      }
      const auto stop = doc.value("stop_reason", "");
      out.finish_reason = stop == "end_turn" || stop == "stop_sequence" ? "stop"
                          : stop == "max_tokens"                        ? "length"
                          : stop == "tool_use"                          ? "tool_calls"
                                                                        : stop;
      if (doc.contains("usage") && doc["usage"].is_object()) {
        const auto& u = doc["usage"];
        has_usage = u.contains("input_tokens") && u.contains("output_tokens");
        // Anthropic's input_tokens leaves out cache reads and writes; ours counts every prompt
        // token. Thinking is inside output_tokens and billed as output.
        out.usage.cached_read = IntAt(u, "cache_read_input_tokens");
        out.usage.cached_write = IntAt(u, "cache_creation_input_tokens");
        out.usage.input = IntAt(u, "input_tokens") + out.usage.cached_read + out.usage.cached_write;
        out.usage.output = IntAt(u, "output_tokens");
      }
    } else {
      const auto& choices = doc.at("choices");
      if (!choices.is_array() || choices.empty()) throw std::runtime_error("no choices");
      const auto& choice = choices.at(0);
      const auto& message = choice.at("message");
      if (message.contains("content") && message["content"].is_string())
        out.text = message["content"].get<std::string>();
      else if (message.contains("refusal") && message["refusal"].is_string())
        out.text = message["refusal"].get<std::string>();
      out.finish_reason = choice.contains("finish_reason") && choice["finish_reason"].is_string()
                              ? choice["finish_reason"].get<std::string>()
                              : "";
      out.confidence = ConfidenceFromLogprobs(choice);
      if (doc.contains("usage") && doc["usage"].is_object()) {
        const auto& u = doc["usage"];
        has_usage = u.contains("prompt_tokens") && u.contains("completion_tokens");
        out.usage.input = IntAt(u, "prompt_tokens");
        if (u.contains("prompt_tokens_details"))
          out.usage.cached_read = IntAt(u["prompt_tokens_details"], "cached_tokens");
        if (u.contains("completion_tokens_details"))
          out.usage.reasoning = IntAt(u["completion_tokens_details"], "reasoning_tokens");
        // completion_tokens includes the hidden reasoning tokens.
        out.usage.output =
            std::max<std::int64_t>(0, IntAt(u, "completion_tokens") - out.usage.reasoning);
      }
    }
  } catch (const std::exception& e) {
    throw ModelError(who + ": unexpected reply shape (" + e.what() + ")", true,
                     ErrorKind::kMalformed, reply.status);
  }
  if (!has_usage && o.require_usage)
    throw ModelError(who + ": reply without token usage cannot be billed", false,
                     ErrorKind::kMissingUsage, reply.status);
  return out;
}

HttpModel::HttpModel(Flavor flavor, HttpModelOptions options,
                     std::shared_ptr<http::ClientPool> pool)
    : flavor_(flavor),
      options_(std::move(options)),
      pool_(std::move(pool)),
      provider_(ToString(flavor)) {}

boost::asio::awaitable<ModelResponse> HttpModel::Complete(ModelRequest request,
                                                          Deadline deadline) {
  const auto start = std::chrono::steady_clock::now();
  if (deadline <= start)
    throw ModelError(options_.name + ": deadline exceeded before the call", true,
                     ErrorKind::kTimeout);
  const auto http_request = BuildRequest(flavor_, options_, request);
  const auto reply = co_await pool_->Send(http_request, deadline);
  const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  co_return ParseReply(flavor_, options_, reply, latency);
}

}  // namespace triage::providers
