// A scripted HTTP server on 127.0.0.1 (port 0) for adapter tests: it parses each request with
// Beast (so tests can assert the method, target, headers and body the adapter sent) and answers
// with raw bytes from a script, so it can also misbehave: stall, trickle, cut a body short or
// drop the connection. Runs on its own thread; stops on destruction.
#pragma once
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace triage::testing {

struct SeenRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct Reply {
  std::string raw;                             // bytes to write, as is
  std::chrono::milliseconds delay{0};          // before the first byte
  std::size_t trickle_bytes = 0;               // > 0: write this many bytes per step ...
  std::chrono::milliseconds trickle_every{0};  // ... this often
  bool close_after = false;                    // close instead of keeping the connection
  bool drop = false;                           // close without answering
  bool wait_for_close = false;  // answer nothing: wait until the client closes the connection
};

// A full HTTP/1.1 response with Content-Length.
Reply Http(int status, std::string body, std::string content_type = "application/json",
           std::vector<std::pair<std::string, std::string>> headers = {});
std::string ReadFixture(const std::string& name);  // tests/fixtures/providers/<name>

class FakeServer {
 public:
  using Script = std::function<Reply(const SeenRequest&, int index)>;
  explicit FakeServer(Script script);
  ~FakeServer();
  std::string BaseUrl() const;  // http://127.0.0.1:<port>
  std::vector<SeenRequest> Requests();
  int Connections() const { return connections_; }
  // Whether a client closed a connection a `wait_for_close` reply held, within `bound`.
  bool WaitForClientClose(std::chrono::milliseconds bound);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::mutex mutex_;
  std::vector<SeenRequest> requests_;
  std::atomic<int> connections_{0};
  std::condition_variable closed_;
  int client_closes_ = 0;
  Script script_;
  friend struct Impl;
};

}  // namespace triage::testing
