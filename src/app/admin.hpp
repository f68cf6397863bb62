// What an operator's probes and scraper ask of every `triage serve` process: /healthz (the
// process is alive), /readyz (its roles can do work) and /metrics (the Prometheus exposition).
// The admin listener (`admin.listen`) serves them in every process, whatever its roles, so each
// Deployment probes one port; the api role answers the same paths through the same handler.
// Serve() may be called from any io thread; Start() and Stop() from one.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/steps.hpp"
#include "http/http.hpp"
#include "queue/kafka.hpp"

namespace triage::app {

// Everything readiness depends on, gathered before it is judged.
struct ReadinessInputs {
  bool stopping = false;                      // shutdown has begun (or the roles never started)
  std::optional<std::string> database_error;  // empty: `SELECT 1` answered (on the probe's own
                                              // connection, not the busy pool's)
  struct Consumer {
    std::string role;  // router | worker
    queue::ConsumerStatus status;
  };
  std::vector<Consumer> consumers;  // those of the roles this process runs
};

struct Readiness {
  bool ready = false;
  std::string json;  // {"status": "ready"|"not_ready", "checks": {...}}
};

// Ready while not stopping, the database answers, and every consumer runs and has joined its
// group. A consumer with no partitions is ready: its group has more members than partitions, and
// it takes some over when another member leaves. Pure.
Readiness JudgeReadiness(const ReadinessInputs& in);

class Admin : public std::enable_shared_from_this<Admin> {
 public:
  using Consumers = std::function<std::vector<ReadinessInputs::Consumer>()>;
  Admin(std::shared_ptr<Steps> steps, Consumers consumers);

  static bool Handles(std::string_view path);  // /healthz, /readyz, /metrics
  // Answers one of the paths Handles(); 404 for any other.
  boost::asio::awaitable<http::Response> Serve(http::Request req);

  void Start();  // binds `admin.listen`; throws when the address is taken
  void Stop();
  unsigned short Port() const;  // 0 before Start()

 private:
  std::shared_ptr<Steps> steps_;
  Consumers consumers_;
  // Readiness asks the database on a connection of its own: on the shared pool its `SELECT 1`
  // would wait behind the work of a busy process, and a probe that times out under load takes
  // a healthy process out of service.
  store::Db probe_db_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace triage::app
