// Shared set-up for integration tests: endpoints from TRIAGE_TEST_PG_DSN and
// TRIAGE_TEST_KAFKA_BROKERS (set by `make test`), a fresh Postgres schema and fresh Kafka topic
// names per test, and a receiver for webhooks.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/config.hpp"
#include "http/http.hpp"

namespace triage::testing {

std::string PgDsn();         // fails the test when TRIAGE_TEST_PG_DSN is unset
std::string KafkaBrokers();  // likewise TRIAGE_TEST_KAFKA_BROKERS
std::string UniqueName(const std::string& prefix);

// A schema of its own, migrated, dropped on destruction; dsn() points at it.
class FreshSchema {
 public:
  FreshSchema();
  ~FreshSchema();
  const std::string& dsn() const { return dsn_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_, dsn_;
};

// A config on the test services with its own topics, consumer groups and schema, fast
// simulated models and quick failover.
app::Config TestConfig(const FreshSchema& schema);

// Runs `io` on a thread until destroyed, then stops it and joins it. Declare it after
// everything its handlers use, so it is destroyed (and the handlers stop) before they are.
class IoThreads {
 public:
  explicit IoThreads(boost::asio::io_context& io);
  ~IoThreads();

 private:
  boost::asio::io_context& io_;
  std::vector<std::thread> threads_;
};

// Receives webhooks on 127.0.0.1 (port 0) and records them by job id.
class WebhookReceiver {
 public:
  explicit WebhookReceiver(boost::asio::io_context& io);
  std::string url() const;
  std::size_t DistinctJobs();
  int Deliveries();
  std::vector<http::Request> Received();

 private:
  std::mutex mutex_;
  std::vector<http::Request> received_;
  std::map<std::string, int> by_job_;
  http::Server server_;
};

// Polls `done` every 50 ms until it holds or `limit` passes; returns its last value.
bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit);

// A blocking HTTP call for tests.
http::ClientResponse Call(boost::asio::io_context& io, http::ClientRequest request);

}  // namespace triage::testing
