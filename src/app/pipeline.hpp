// The roles of `triage serve`, wired to Postgres, Kafka and the models (one file each, over the
// shared steps in app/steps.hpp):
//   api       POST /v1/jobs, GET /v1/jobs/{id}, ...                           (app/api.cpp)
//   router    consumes `<prefix>.jobs`: classify, then answer inline or hand to the worker
//             (app/router.cpp); also runs the reaper that re-sends jobs stuck by a crash or a
//             lost message (app/reaper.cpp)
//   worker    consumes `<prefix>.reasoning`: the reasoning model under a long deadline
//             (app/worker.cpp)
//   notifier  drains the outbox: `<prefix>.completed` events and signed webhooks
//             (app/notifier.cpp)
// Beside them, in every process, the admin listener: /healthz, /readyz, /metrics (app/admin.hpp).
// All roles share one io_context; Postgres calls run on the Db's threads and Kafka polls on
// its own. Start(), StartAdmin(), BeginShutdown() and Stop() are called from one thread; the
// io_context must outlive the Pipeline and be stopped before the Pipeline is destroyed.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/config.hpp"
#include "app/router.hpp"  // Classifier
#include "classify/heuristic.hpp"
#include "http/http.hpp"
#include "providers/model_client.hpp"
#include "queue/kafka.hpp"
#include "store/db.hpp"

namespace triage::app {

struct Roles {
  bool api = true, router = true, worker = true, notifier = true;
  // "api,router,worker,notifier" or any subset; nothing for an unknown name.
  static std::optional<Roles> Parse(std::string_view csv);
};

class Pipeline {
 public:
  Pipeline(boost::asio::io_context& io, const Config& config, store::Db& db,
           queue::Producer& producer, Classifier classifier);
  ~Pipeline();
  void Start(const Roles& roles);
  void StartAdmin();  // binds `admin.listen`; throws when the address is taken
  // A graceful stop's first step: /readyz fails from now on, the api stops accepting, the
  // consumers take no more messages and the reaper and notifier claim no more work. Work in
  // flight goes on (InFlight() counts it) until Stop().
  void BeginShutdown();
  // Requests, messages and webhook deliveries under way.
  std::size_t InFlight() const;
  // Stops consuming (finished offsets are committed) and accepting; work in flight stays
  // leased in Postgres and is picked up again by the reaper if it never finishes.
  void Stop();
  unsigned short ApiPort() const;
  unsigned short AdminPort() const;  // 0 before StartAdmin()

  boost::asio::awaitable<http::Response> HandleHttp(http::Request request);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Builds the model a ModelConfig names.
std::unique_ptr<providers::ModelClient> MakeModel(const ModelConfig& model, const Config& config);

}  // namespace triage::app
