#include "app/admin.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/system/system_error.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace triage::app {
namespace net = boost::asio;
using nlohmann::json;

Readiness JudgeReadiness(const ReadinessInputs& in) {
  bool ready = !in.stopping && !in.database_error;
  json checks;
  checks["shutdown"] = in.stopping ? "stopping" : "ok";
  checks["database"] = in.database_error ? *in.database_error : std::string("ok");
  for (const auto& c : in.consumers) {
    const bool ok = c.status.running && c.status.joined;
    ready = ready && ok;
    checks[c.role] = {{"status", !c.status.running  ? "stopped"
                                 : !c.status.joined ? "joining"
                                                    : "ok"},
                      {"partitions", c.status.assigned},
                      {"in_flight", c.status.in_flight}};
  }
  return {ready, json{{"status", ready ? "ready" : "not_ready"}, {"checks", checks}}.dump()};
}

namespace {
store::DbOptions OneConnection(store::DbOptions options) {
  options.pool_size = 1;
  return options;
}
}  // namespace

Admin::Admin(std::shared_ptr<Steps> steps, Consumers consumers)
    : steps_(std::move(steps)),
      consumers_(std::move(consumers)),
      probe_db_(OneConnection(steps_->config.postgres)) {}

bool Admin::Handles(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

net::awaitable<http::Response> Admin::Serve(http::Request req) {
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/healthz") co_return http::JsonResponse(req, http::Status::ok, R"({"status":"ok"})");
  if (path == "/metrics") {
    http::Response res{http::Status::ok, req.version()};
    res.set(boost::beast::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = steps_->metrics->Text();
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_return res;
  }
  if (path != "/readyz")
    co_return http::ErrorResponse(req, http::Status::not_found, "not_found", "no such endpoint");
  ReadinessInputs in;
  in.stopping = !steps_->running;
  in.consumers = consumers_();
  // Asked only when the rest is ready: a stopping process answers without waiting on the pool.
  if (!in.stopping) {
    try {
      co_await probe_db_.Run(
          [](pqxx::connection& c) { pqxx::nontransaction(c).exec("SELECT 1"); });
    } catch (const std::exception& e) {
      in.database_error = store::IsUnavailable(e) ? "unavailable" : "error";
    }
  }
  const auto readiness = JudgeReadiness(in);
  co_return http::JsonResponse(
      req, readiness.ready ? http::Status::ok : http::Status::service_unavailable, readiness.json);
}

void Admin::Start() {
  server_ = std::make_unique<http::Server>(steps_->io, steps_->config.admin,
                                           http::WeakHandler(weak_from_this(), &Admin::Serve));
  try {
    server_->Start();
  } catch (const boost::system::system_error& e) {
    const auto& o = steps_->config.admin;
    throw std::runtime_error("admin listener on " + o.address + ":" + std::to_string(o.port) +
                             ": " + e.code().message() +
                             ". Hint: processes sharing a host need an admin.listen "
                             "(TRIAGE_ADMIN_LISTEN) each, or port 0 for any free one");
  }
}

void Admin::Stop() {
  if (server_) server_->Stop();
}

unsigned short Admin::Port() const { return server_ ? server_->Port() : 0; }

}  // namespace triage::app
