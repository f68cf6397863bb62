// chaos_receiver: the chaos run's webhook endpoint on 127.0.0.1:`--port`. Appends one line per
// request to `--log`: "<unix ms> <status answered> <webhook-id> <job id> <body hash>" (the hash
// tells a redelivery of one completion from a second, different completion). For the first
// `--fail-seconds` after it starts it answers 500, then 200. The run stops it (SIGKILL) to take
// it down and starts it again on the same port.
#include <fmt/core.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "http/http.hpp"

namespace {
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

std::int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The job id of a completion event ({"data": {"id": ...}}), or "-".
std::string JobId(const std::string& body) {
  const auto event = nlohmann::json::parse(body, nullptr, false);
  if (event.is_object() && event.contains("data") && event["data"].is_object()) {
    const auto id = event["data"].value("id", "");
    if (!id.empty()) return id;
  }
  return "-";
}

std::string Field(const triage::http::Request& req, const char* name) {
  const auto value = std::string(req[name]);
  return value.empty() || value.find(' ') != std::string::npos ? "-" : value;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chaos_receiver: records webhooks, answering 500 for a while after it starts"};
  unsigned short port = 0;
  std::string log_path;
  int fail_seconds = 0;
  app.add_option("--port", port)->required();
  app.add_option("--log", log_path, "file the requests are appended to")->required();
  app.add_option("--fail-seconds", fail_seconds, "answer 500 this long after starting")
      ->check(CLI::Range(0, 86400));
  CLI11_PARSE(app, argc, argv);

  std::FILE* log = std::fopen(log_path.c_str(), "a");
  if (!log) {
    fmt::print(stderr, "chaos_receiver: cannot open {}\n", log_path);
    return 2;
  }
  const auto healthy_from = Clock::now() + std::chrono::seconds(fail_seconds);
  net::io_context io;
  triage::http::Server server(
      io, {"127.0.0.1", port, 1 << 20, std::chrono::seconds(30)},
      [&](triage::http::Request req) -> net::awaitable<triage::http::Response> {
        const bool fail = Clock::now() < healthy_from;
        // Recorded before the answer: a kill in between shows as a redelivery, never as a
        // delivery that was not recorded.
        std::fprintf(log, "%lld %d %s %s %zu\n", static_cast<long long>(UnixMs()), fail ? 500 : 200,
                     Field(req, "webhook-id").c_str(), JobId(req.body()).c_str(),
                     std::hash<std::string>{}(req.body()));
        std::fflush(log);
        if (fail)
          co_return triage::http::ErrorResponse(req, triage::http::Status::internal_server_error,
                                                "chaos", "failing on purpose");
        co_return triage::http::JsonResponse(req, triage::http::Status::ok, "{}");
      });
  server.Start();
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    server.Stop();
    io.stop();
  });
  fmt::print("chaos_receiver: listening on 127.0.0.1:{}, answering 500 for {} s\n", port,
             fail_seconds);
  std::fflush(stdout);
  io.run();
  std::fclose(log);
  return 0;
}
