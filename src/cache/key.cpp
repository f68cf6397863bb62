#include "cache/key.hpp"

#include <openssl/sha.h>

#include <charconv>
#include <nlohmann/json.hpp>

namespace triage::cache {
using nlohmann::json;

namespace {

// A JSON string literal. Bytes are kept as they are (the text is hashed, never parsed), so
// invalid UTF-8 still gives a stable, distinct key.
void Quote(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 15];
          out += kHex[c & 15];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void Key(std::string& out, std::string_view name) {
  if (out.back() != '{') out += ',';
  Quote(out, name);
  out += ':';
}

void Number(std::string& out, double value) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out.append(buffer, end);
}

// JSON text from a caller, re-serialised with sorted keys (so spelling does not matter), else
// the text as a string.
void JsonText(std::string& out, const std::optional<std::string>& text) {
  if (!text) {
    out += "null";
    return;
  }
  auto parsed = json::parse(*text, nullptr, false);
  if (parsed.is_discarded())
    Quote(out, *text);
  else
    out += parsed.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

// Written by hand rather than through a JSON tree: it runs on every model call. The keys are
// emitted in sorted order, so the text is canonical JSON.
std::string CanonicalRequest(std::string_view model, std::string_view provider,
                             const providers::ModelRequest& r) {
  std::string out;
  std::size_t size = 256 + model.size() + r.prompt.size();
  for (const auto& m : r.messages) size += m.content.size() + 32;
  out.reserve(size);
  out += '{';
  const bool simulated = provider == "sim" || provider == "replay";
  // Simulated and replayed answers are drawn from the job, the attempt and the hints.
  if (simulated) {
    Key(out, "attempt");
    out += std::to_string(r.attempt);
  }
  Key(out, "extra");
  JsonText(out, r.extra_json);
  if (simulated) {
    Key(out, "job_id");
    Quote(out, r.job_id);
  }
  Key(out, "logprobs");
  out += r.logprobs ? "true" : "false";
  Key(out, "max_tokens");
  out += std::to_string(r.max_tokens);
  Key(out, "messages");
  out += '[';
  auto message = [&](std::string_view role, std::string_view content) {
    if (out.back() != '[') out += ',';
    out += "{\"content\":";
    Quote(out, content);
    out += ",\"role\":";
    Quote(out, role);
    out += '}';
  };
  if (r.messages.empty()) message("user", r.prompt);
  for (const auto& m : r.messages) message(m.role, m.content);
  out += ']';
  Key(out, "model");
  Quote(out, model);
  Key(out, "provider");
  Quote(out, provider);
  Key(out, "reasoning_effort");
  if (r.reasoning_effort)
    Quote(out, *r.reasoning_effort);
  else
    out += "null";
  Key(out, "response_format");
  JsonText(out, r.response_format);
  Key(out, "sample");  // samples of one job are meant to differ, for real models too
  out += std::to_string(r.sample);
  Key(out, "seed");
  out += r.seed ? std::to_string(*r.seed) : "null";
  if (simulated) {
    Key(out, "sim_hints");
    out += '{';
    for (const auto& [k, v] : r.sim_hints) {  // a std::map: sorted
      Key(out, k);
      Quote(out, v);
    }
    out += '}';
  }
  Key(out, "stop");
  out += '[';
  for (const auto& s : r.stop) {
    if (out.back() != '[') out += ',';
    Quote(out, s);
  }
  out += ']';
  Key(out, "temperature");
  if (r.temperature)
    Number(out, *r.temperature);
  else
    out += "null";
  Key(out, "thinking_budget");
  out += r.thinking_budget ? std::to_string(*r.thinking_budget) : "null";
  Key(out, "tools");
  JsonText(out, r.tools_json);
  Key(out, "v");
  out += '2';
  out += '}';
  return out;
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
