// The api role: POST /v1/jobs (intake, then the row stored before the envelope is produced to
// `<prefix>.jobs`), GET and DELETE (cancel) /v1/jobs/{id}, POST /v1/jobs/{id}/feedback,
// /healthz and /readyz. HandleHttp answers one request and
// may be called without Start() (tests, the pipeline's own HandleHttp); Start() binds the port.
#pragma once
#include <memory>
#include <string>

#include "app/steps.hpp"
#include "http/http.hpp"

namespace triage::app {

class Api : public std::enable_shared_from_this<Api> {
 public:
  explicit Api(std::shared_ptr<Steps> steps);
  void Start();  // throws when the address is taken
  void Stop();
  unsigned short Port() const;  // 0 before Start()

  // While the database is unreachable the answer is 503 with Retry-After, never a 500.
  boost::asio::awaitable<http::Response> HandleHttp(http::Request req);

 private:
  boost::asio::awaitable<http::Response> Serve(const http::Request& req);
  boost::asio::awaitable<http::Response> Submit(const http::Request& req,
                                                const std::string& tenant);
  boost::asio::awaitable<http::Response> PostFeedback(const http::Request& req,
                                                      const std::string& id,
                                                      const std::string& tenant);
  boost::asio::awaitable<http::Response> Cancel(const http::Request& req, const std::string& id,
                                                const std::string& tenant);

  std::shared_ptr<Steps> steps_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace triage::app
