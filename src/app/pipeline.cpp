#include "app/pipeline.hpp"

#include "app/admin.hpp"
#include "app/answer_estimation.hpp"
#include "app/api.hpp"
#include "app/models.hpp"
#include "app/notifier.hpp"
#include "app/reaper.hpp"
#include "app/steps.hpp"
#include "app/worker.hpp"

namespace triage::app {
namespace net = boost::asio;

std::optional<Roles> Roles::Parse(std::string_view csv) {
  Roles roles{false, false, false, false};
  size_t start = 0;
  while (start <= csv.size()) {
    const auto end = std::min(csv.find(',', start), csv.size());
    const auto name = csv.substr(start, end - start);
    if (name == "api")
      roles.api = true;
    else if (name == "router")
      roles.router = true;
    else if (name == "worker")
      roles.worker = true;
    else if (name == "notifier")
      roles.notifier = true;
    else
      return std::nullopt;
    start = end + 1;
  }
  return roles;
}

std::unique_ptr<providers::ModelClient> MakeModel(const ModelConfig& model, const Config& config) {
  return BuildClient(model, config, std::make_shared<http::ClientPool>());
}

// Every role over one set of shared steps. A started role's coroutines and its consumer or
// server hold it (and the steps) alive.
struct Pipeline::State {
  std::shared_ptr<Steps> steps;
  std::shared_ptr<Admin> admin;
  std::shared_ptr<Api> api;
  std::shared_ptr<Router> router;
  std::shared_ptr<Reaper> reaper;
  std::shared_ptr<Worker> worker;
  std::shared_ptr<Notifier> notifier;
};

Pipeline::Pipeline(net::io_context& io, const Config& config, store::Db& db,
                   queue::Producer& producer, Classifier classifier) {
  auto steps =
      std::make_shared<Steps>(io, config, db, producer, LoadAnswerEstimation(config, classifier));
  auto router = std::make_shared<Router>(steps, std::move(classifier));
  auto worker = std::make_shared<Worker>(steps);
  // Readiness asks for the consumers of the roles started (a role not started has none).
  auto admin = std::make_shared<Admin>(steps, [router, worker] {
    std::vector<ReadinessInputs::Consumer> consumers;
    if (auto s = router->Status()) consumers.push_back({"router", *s});
    if (auto s = worker->Status()) consumers.push_back({"worker", *s});
    return consumers;
  });
  state_ = std::make_shared<State>(State{steps, admin, std::make_shared<Api>(steps, admin), router,
                                         std::make_shared<Reaper>(steps), worker,
                                         std::make_shared<Notifier>(steps)});
}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Start(const Roles& roles) {
  auto& s = *state_;
  s.steps->running = true;
  if (roles.router) s.router->Start();
  if (roles.worker) s.worker->Start();
  // Beside either consumer, so a deployment of workers alone still replaces a dead one
  // (ClaimStuckJobs is safe from many processes at once).
  if (roles.router || roles.worker) s.reaper->Start();
  if (roles.notifier) s.notifier->Start();
  if (roles.api) s.api->Start();
}

void Pipeline::StartAdmin() { state_->admin->Start(); }

void Pipeline::BeginShutdown() {
  auto& s = *state_;
  s.steps->running = false;  // first: /readyz fails before anything stops
  s.api->Stop();
  s.router->StopFetching();
  s.worker->StopFetching();
}

std::size_t Pipeline::InFlight() const {
  const auto& s = *state_;
  std::size_t n = s.api->InFlight() + s.notifier->InFlight();
  for (const auto& status : {s.router->Status(), s.worker->Status()})
    if (status) n += status->in_flight;
  return n;
}

void Pipeline::Stop() {
  auto& s = *state_;
  s.steps->running = false;
  s.api->Stop();
  s.router->Stop();
  s.worker->Stop();
  s.admin->Stop();
}

unsigned short Pipeline::ApiPort() const { return state_->api->Port(); }
unsigned short Pipeline::AdminPort() const { return state_->admin->Port(); }

net::awaitable<http::Response> Pipeline::HandleHttp(http::Request request) {
  return state_->api->HandleHttp(std::move(request));
}

}  // namespace triage::app
