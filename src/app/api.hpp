// The api role: POST /v1/jobs (intake, then the row stored before the envelope is produced to
// `<prefix>.jobs`), GET and DELETE (cancel) /v1/jobs/{id}, POST /v1/jobs/{id}/feedback,
// and the probe paths /healthz, /readyz, /metrics (answered by app/admin.hpp's handler, as on the
// admin listener). HandleHttp answers one request and may be called without Start() (tests, the
// pipeline's own HandleHttp); Start() binds the port.
#pragma once
#include <memory>
#include <string>

#include "app/admin.hpp"
#include "app/steps.hpp"
#include "http/http.hpp"

namespace triage::app {

class Api : public std::enable_shared_from_this<Api> {
 public:
  Api(std::shared_ptr<Steps> steps, std::shared_ptr<Admin> admin);
  void Start();                  // throws when the address is taken
  void Stop();                   // stops accepting; requests under way are answered
  unsigned short Port() const;   // 0 before Start()
  std::size_t InFlight() const;  // requests under way

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
  std::shared_ptr<Admin> admin_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace triage::app
