#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "classify/commands.hpp"
#include "classify/router_classifier.hpp"
#include "core/log.hpp"
#include "store/migrations.hpp"

namespace triage::app {
namespace {

// This part's logger (app/logging.hpp).
spdlog::logger& Log() {
  static const auto log = core::Logger("serve");
  return *log;
}

}  // namespace

void EnsurePipelineTopics(const Config& config) {
  const auto t = config.topics();
  queue::EnsureTopics(config.kafka, {{t.jobs, config.jobs_partitions},
                                     {t.reasoning, config.reasoning_partitions},
                                     {t.completed, config.jobs_partitions},
                                     {t.dlq, 1}});
}

std::function<classify::Classification(std::string_view)> RouterClassifier() {
  auto chosen = classify::MakeRouterClassifierFromConfig(classify::kDefaultConfigPath);
  Log().info("classifier: {}", chosen.note);
  return chosen.classify;
}

int RunMigrate(const Config& config) {
  pqxx::connection conn(config.postgres.dsn);
  const auto applied = store::Migrate(conn);
  Log().info("migrations: {} applied now", applied.size());
  for (const auto& name : applied) Log().info("  {}", name);
  return 0;
}

namespace {
namespace net = boost::asio;

// The graceful stop (config/triage.toml, [shutdown]), run once the first signal arrives: readyz
// fails and intake stops at once, then work in flight may finish for up to drain_seconds (a
// second signal ends the wait), then the consumers commit and leave their groups, the producer
// is flushed and the io_context stopped; the pool closes as RunServe returns.
net::awaitable<void> StopGracefully(net::io_context& io, net::signal_set& signals,
                                    Pipeline& pipeline, queue::Producer& producer,
                                    const Config& config) {
  auto [ec, signal] = co_await signals.async_wait(net::as_tuple(net::use_awaitable));
  if (ec) co_return;
  const auto started = std::chrono::steady_clock::now();
  pipeline.BeginShutdown();
  Log().info("signal {}: stopping; not ready, taking no new work; {} in flight, waiting up to {} s",
             signal, pipeline.InFlight(), config.drain_seconds);
  // Shared with the handler: it may outlive this frame (cancelled below, never run).
  auto again = std::make_shared<std::atomic<bool>>(false);
  signals.async_wait([again](const boost::system::error_code& e, int) { *again = !e; });
  const auto until = started + std::chrono::seconds(config.drain_seconds);
  net::steady_timer tick(io);
  while (pipeline.InFlight() > 0 && !*again && std::chrono::steady_clock::now() < until) {
    tick.expires_after(std::chrono::milliseconds(50));
    co_await tick.async_wait(net::as_tuple(net::use_awaitable));
  }
  if (const auto left = pipeline.InFlight(); left > 0)
    Log().warn(
        "{} still in flight after {} s ({}): left to their leases, which another "
        "process takes over once they run out",
        left, config.drain_seconds, *again ? "second signal" : "shutdown.drain_seconds");
  else
    Log().info("drained: no work in flight");
  pipeline.Stop();  // the consumers commit what finished and leave their groups
  if (!producer.Flush(std::chrono::seconds(10)))
    Log().warn("kafka producer: messages not delivered within 10 s of shutdown");
  signals.cancel();
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  Log().info("stopped in {:.1f} s", took.count());
  io.stop();
}

}  // namespace

int RunServe(const Config& config, const std::string& role_list) {
  const auto roles = Roles::Parse(role_list);
  if (!roles) throw ConfigError("--roles: unknown role in '" + role_list + "'");
  EnsurePipelineTopics(config);
  boost::asio::io_context io;
  store::Db db(config.postgres);
  queue::Producer producer(config.kafka);
  Pipeline pipeline(io, config, db, producer, RouterClassifier());
  pipeline.Start(*roles);
  pipeline.StartAdmin();
  if (roles->api) Log().info("api listening on {}:{}", config.api.address, pipeline.ApiPort());
  Log().info("admin listening on {}:{}", config.admin.address, pipeline.AdminPort());
  Log().info("serving roles {} (kafka {}, topics {}.*)", role_list, config.kafka.brokers,
             config.topic_prefix);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  net::co_spawn(io, StopGracefully(io, signals, pipeline, producer, config), net::detached);
  // One io thread: blocking work has its own threads (Postgres pool, Kafka pollers, verify pool)
  // and one carries thousands of coroutines. More are safe (docs/architecture.md, "Several io
  // threads"; `make test-tsan` runs the pipeline on four).
  io.run();
  return 0;
}

}  // namespace triage::app
