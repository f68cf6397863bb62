// The roles of `triage serve`, wired to Postgres, Kafka and the models:
//   api       POST /v1/jobs, GET /v1/jobs/{id}, /healthz, /readyz
//   router    consumes `<prefix>.jobs`: classify, then answer inline or hand to the worker
//             (also runs the reaper that re-sends jobs stuck by a crash or a lost message)
//   worker    consumes `<prefix>.reasoning`: the reasoning model under a long deadline
//   notifier  drains the outbox: `<prefix>.completed` events and signed webhooks
// All roles share one io_context; Postgres calls run on the Db's threads and Kafka polls on
// its own. Start() and Stop() are called from one thread; the io_context must outlive the
// Pipeline and be stopped before the Pipeline is destroyed.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/config.hpp"
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

using Classifier = std::function<classify::Classification(std::string_view task)>;

class Pipeline {
 public:
  Pipeline(boost::asio::io_context& io, const Config& config, store::Db& db,
           queue::Producer& producer, Classifier classifier);
  ~Pipeline();
  void Start(const Roles& roles);
  // Stops consuming (finished offsets are committed) and accepting; work in flight stays
  // leased in Postgres and is picked up again by the reaper if it never finishes.
  void Stop();
  unsigned short ApiPort() const;

  boost::asio::awaitable<http::Response> HandleHttp(http::Request request);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Builds the model a ModelConfig names.
std::unique_ptr<providers::ModelClient> MakeModel(const ModelConfig& model, const Config& config);

}  // namespace triage::app
