#include "support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/pqxx>
#include <random>

#include "store/migrations.hpp"

namespace triage::testing {

namespace {
std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) {
    ADD_FAILURE() << name << " is not set: run the integration tests through `make test`";
    throw std::runtime_error(std::string(name) + " unset");
  }
  return value;
}
}  // namespace

std::string PgDsn() { return RequireEnv("TRIAGE_TEST_PG_DSN"); }
std::string KafkaBrokers() { return RequireEnv("TRIAGE_TEST_KAFKA_BROKERS"); }

std::string UniqueName(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  return prefix + std::to_string(rng() % 1'000'000'000'000ULL);
}

FreshSchema::FreshSchema() : name_(UniqueName("t_")) {
  const auto base = PgDsn();
  pqxx::connection conn(base);
  {
    pqxx::work tx(conn);
    tx.exec("CREATE SCHEMA " + name_);
    tx.commit();
  }
  dsn_ = base + " options=-csearch_path=" + name_;
  pqxx::connection scoped(dsn_);
  store::Migrate(scoped);
}

FreshSchema::~FreshSchema() {
  try {
    pqxx::connection conn(PgDsn());
    pqxx::work tx(conn);
    tx.exec("DROP SCHEMA " + name_ + " CASCADE");
    tx.commit();
  } catch (...) {
  }
}

app::Config TestConfig(const FreshSchema& schema) {
  auto c = app::LoadConfig("");
  c.postgres.dsn = schema.dsn();
  c.postgres.pool_size = 4;
  c.kafka.brokers = KafkaBrokers();
  c.topic_prefix = UniqueName("test");
  c.jobs_partitions = 4;
  c.reasoning_partitions = 4;
  c.router_group = c.topic_prefix + "-router";
  c.worker_group = c.topic_prefix + "-worker";
  c.session_timeout_ms = 6000;
  c.api.port = 0;
  c.SetSimTimeScale(0.01);  // inline answers in 5–20 ms, reasoning in 0.15–1.2 s
  c.notify_poll_ms = 20;
  c.webhook_retry.first_delay = std::chrono::milliseconds(50);
  c.reaper_interval_seconds = 1;
  c.reaper_grace_seconds = 3;
  c.lease_margin_seconds = 2;
  c.models.at("sim-standard").timeout_seconds = 2;
  c.models.at("sim-reasoning").timeout_seconds = 10;
  return c;
}

IoThreads::IoThreads(boost::asio::io_context& io) : io_(io) {
  // One thread, like `triage serve` (see RunServe).
  threads_.emplace_back([this] {
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

IoThreads::~IoThreads() {
  io_.stop();
  for (auto& t : threads_) t.join();
}

WebhookReceiver::WebhookReceiver(boost::asio::io_context& io)
    : server_(io, {"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
              [this](http::Request req) -> boost::asio::awaitable<http::Response> {
                const auto event = nlohmann::json::parse(req.body(), nullptr, false);
                std::string id;
                if (event.is_object() && event.contains("data") && event["data"].is_object())
                  id = event["data"].value("id", "");
                {
                  std::lock_guard lock(mutex_);
                  ++by_job_[id];
                  received_.push_back(req);
                }
                co_return http::JsonResponse(req, http::Status::ok, "{}");
              }) {
  server_.Start();
}

std::string WebhookReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(server_.Port()) + "/hook";
}

std::size_t WebhookReceiver::DistinctJobs() {
  std::lock_guard lock(mutex_);
  return by_job_.size();
}

int WebhookReceiver::Deliveries() {
  std::lock_guard lock(mutex_);
  return static_cast<int>(received_.size());
}

std::vector<http::Request> WebhookReceiver::Received() {
  std::lock_guard lock(mutex_);
  return received_;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

http::ClientResponse Call(boost::asio::io_context& io, http::ClientRequest request) {
  return boost::asio::co_spawn(io, http::Send(std::move(request)), boost::asio::use_future).get();
}

}  // namespace triage::testing
