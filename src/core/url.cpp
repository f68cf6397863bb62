#include "core/url.hpp"

#include <algorithm>

namespace triage::core {
namespace {

std::optional<Url> Refuse(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return std::nullopt;
}

}  // namespace

std::optional<Url> ParseUrl(std::string_view url, std::string* why) {
  Url out;
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return Refuse(why, "the URL contains whitespace or control characters");
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    out.tls = true;
  } else {
    return Refuse(why, "the URL must start with http:// or https://");
  }
  if (url.find('#') != std::string_view::npos)
    return Refuse(why, "the URL has a fragment (#...), which is never sent to the server");
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos)
    return Refuse(why,
                  "the URL carries credentials (user:password@host), which would be stored and "
                  "logged in plain text; webhooks are authenticated by their signature instead");
  if (authority.empty()) return Refuse(why, "the URL has no host");
  if (authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Refuse(why, "the URL's IPv6 host lacks its ']'");
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':')
      return Refuse(why, "the URL has text after its IPv6 host");
    if (!authority.empty()) out.port = std::string(authority.substr(1));
  } else {
    // The first ':' ends the host: a host cannot hold one outside brackets, and splitting at
    // the last would accept "a:b:80" as the host "a:b".
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
    if (out.host.find_first_of("[]") != std::string::npos)
      return Refuse(why, "the URL's host has a bracket outside an IPv6 address ([...])");
  }
  if (out.host.empty()) return Refuse(why, "the URL has no host");
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  if (out.port.size() > 5 || out.port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(out.port) < 1 || std::stoi(out.port) > 65535)
    return Refuse(why, "the URL's port must be a number from 1 to 65535");
  return out;
}

}  // namespace triage::core
