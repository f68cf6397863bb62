#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>


#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "classify/commands.hpp"
#include "classify/router_classifier.hpp"
#include "store/migrations.hpp"

namespace triage::app {

void EnsurePipelineTopics(const Config& config) {
  const auto t = config.topics();
  queue::EnsureTopics(config.kafka, {{t.jobs, config.jobs_partitions},
                                     {t.reasoning, config.reasoning_partitions},
                                     {t.completed, config.jobs_partitions},
                                     {t.dlq, 1}});
}

std::function<classify::Classification(std::string_view)> RouterClassifier() {
  auto chosen = classify::MakeRouterClassifierFromConfig(classify::kDefaultConfigPath);
  spdlog::info("classifier: {}", chosen.note);
  return chosen.classify;
}

int RunMigrate(const Config& config) {
  pqxx::connection conn(config.postgres.dsn);
  const auto applied = store::Migrate(conn);
  spdlog::info("migrations: {} applied now", applied.size());
  for (const auto& name : applied) spdlog::info("  {}", name);
  return 0;
}

int RunServe(const Config& config, const std::string& role_list) {
  const auto roles = Roles::Parse(role_list);
  if (!roles) throw ConfigError("--roles: unknown role in '" + role_list + "'");
  EnsurePipelineTopics(config);
  boost::asio::io_context io;
  store::Db db(config.postgres);
  queue::Producer producer(config.kafka);
  Pipeline pipeline(io, config, db, producer, RouterClassifier());
  pipeline.Start(*roles);
  if (roles->api)
    spdlog::info("api listening on {}:{}", config.api.address, pipeline.ApiPort());
  spdlog::info("serving roles {} (kafka {}, topics {}.*)", role_list, config.kafka.brokers,
               config.topic_prefix);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int signal) {
    spdlog::info("signal {}: stopping", signal);
    pipeline.Stop();
    io.stop();
  });
  // One io thread: blocking work has its own threads (Postgres pool, Kafka pollers, verify pool)
  // and one carries thousands of coroutines. More are safe (docs/architecture.md, "Several io
  // threads"; `make test-tsan` runs the pipeline on four).
  io.run();
  return 0;
}

}  // namespace triage::app
