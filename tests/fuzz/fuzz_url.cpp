// core::ParseUrl: a URL that is accepted can be dialled (a host with no separator in it, a port
// from 1 to 65535, a target that starts with '/'); a refusal says why.
#include <string>

#include "core/url.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const auto text = FuzzText(data, size);
  std::string why;
  const auto url = triage::core::ParseUrl(text, &why);
  if (!url) {
    FUZZ_CHECK(!why.empty());
    return 0;
  }
  FUZZ_CHECK(!url->host.empty());
  const bool v6 = text.find("://[") != std::string_view::npos;
  // Outside brackets a ':' would be read as the port's separator by whoever dials the host.
  if (!v6) FUZZ_CHECK(url->host.find_first_of(":[]/?#@") == std::string::npos);
  FUZZ_CHECK(url->host.find_first_of("/?#@") == std::string::npos);
  FUZZ_CHECK(!url->port.empty() && url->port.size() <= 5);
  FUZZ_CHECK(url->port.find_first_not_of("0123456789") == std::string::npos);
  const int port = std::stoi(url->port);
  FUZZ_CHECK(port >= 1 && port <= 65535);
  FUZZ_CHECK(url->target.front() == '/');
  // The parts put back together give the same URL again.
  const std::string host = v6 ? "[" + url->host + "]" : url->host;
  const std::string again =
      (url->tls ? "https://" : "http://") + host + ":" + url->port + url->target;
  const auto reparsed = triage::core::ParseUrl(again);
  FUZZ_CHECK(reparsed && reparsed->host == url->host && reparsed->port == url->port &&
             reparsed->target == url->target && reparsed->tls == url->tls);
  return 0;
}
