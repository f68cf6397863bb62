#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace triage::core {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query, "/" when absent
};

// Parses http(s)://host[:port][/path][?query]. Anything else -- another scheme, userinfo
// (user:pass@), a fragment, whitespace or control characters, a port outside 1..65535 -- gives
// nothing, and `why` (when given) says which rule the URL broke, in words for the submitter.
// One parser for intake and the HTTP client, so a URL that is accepted can be dialled.
std::optional<Url> ParseUrl(std::string_view url, std::string* why = nullptr);

}  // namespace triage::core
