// Shared set-up for integration tests: endpoints from TRIAGE_TEST_PG_DSN and
// TRIAGE_TEST_KAFKA_BROKERS (set by `make test`), a fresh Postgres schema and fresh Kafka topic
// names per test, a receiver for webhooks, and triage itself running in the test's process.
#pragma once
#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/config.hpp"
#include "app/pipeline.hpp"
#include "http/http.hpp"

namespace triage::testing {

std::string PgDsn();         // fails the test when TRIAGE_TEST_PG_DSN is unset
std::string KafkaBrokers();  // likewise TRIAGE_TEST_KAFKA_BROKERS
// The local llama-server's OpenAI-compatible base URL (http://127.0.0.1:PORT/v1), likewise
// TRIAGE_TEST_LLAMA_URL (`make test` starts the server: deploy/local/services up-llama).
std::string LlamaUrl();
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

// triage in this process on a schema and topics of its own: the test adjusts `config` and
// `classifier`, then Start()s the roles it wants and talks to the api over HTTP. Members are in
// the order they must be built; the io threads go first, so no handler outlives what it uses.
class InProcessPipeline {
 public:
  InProcessPipeline();
  ~InProcessPipeline();  // Stop()
  // Creates the topics, connects, starts `roles`, a webhook receiver, and the io threads.
  void Start(app::Roles roles = {});
  void Stop();  // the roles, then the io threads; again: nothing

  std::string ApiUrl(const std::string& path = "/v1/jobs") const;
  // A call to the api; a body is sent as JSON unless `headers` say otherwise.
  http::ClientResponse Send(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            std::vector<std::pair<std::string, std::string>> headers = {});
  nlohmann::json Job(const std::string& id);  // GET /v1/jobs/{id}, parsed

  app::Classifier classifier = classify::ClassifyHeuristic;
  FreshSchema schema;
  app::Config config;
  boost::asio::io_context io;
  std::unique_ptr<store::Db> db;
  std::unique_ptr<queue::Producer> producer;
  std::unique_ptr<app::Pipeline> pipeline;
  std::unique_ptr<WebhookReceiver> receiver;
  std::unique_ptr<IoThreads> threads;
};

// `config` whose reasoning model is a copy of sim-reasoning named sim-reasoning-<n>, so that a
// child process's calls are told apart in the attempts.
app::Config WithReasoningModel(app::Config config, int n);

// For suites that count jobs through workers: a task starting "hard:" requires reasoning and
// every other is trivial, every simulated answer verifies (no escalation changes the counts),
// and only a lapsed lease sends a job back (the reaper's re-send of a job waiting in the queue,
// for a hand-off lost in a crash, would add duplicates to a deliberate backlog).
void CountableRuns(InProcessPipeline& triage);

// The same as a fixture, stopped in TearDown while the suite's own members still live.
class PipelineTest : public ::testing::Test, public InProcessPipeline {
 protected:
  void TearDown() override { Stop(); }
};

// The config file ServeProcess gives its child. It carries the keys tests set (endpoints,
// topics, groups, in-flight caps, Kafka properties, time scale, reaper and notifier timing,
// router.model, worker.model, and every simulated model's timeout, prices and profile); the
// rest (routing plans, cache, policy) stays at the child's defaults.
std::string ServeConfigToml(const app::Config& config);

// A child `triage serve --roles <roles>` on `config` (see ServeConfigToml), its output kept in
// a log file. It never outlives the test (PR_SET_PDEATHSIG); destruction stops it with SIGTERM,
// then SIGKILL after 10 s.
class ServeProcess {
 public:
  // `more_toml` is appended to the config file; `more_env` ("NAME=value") is added to the
  // child's environment.
  ServeProcess(const app::Config& config, const std::string& roles,
               const std::string& more_toml = "", const std::vector<std::string>& more_env = {});
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  // Sends `signal` and waits for the process to end (SIGKILL after 10 s).
  void Kill(int signal);
  void Signal(int signal);
  // Its wait status once it ended, or nothing if it still runs after `limit` (or was never
  // started).
  std::optional<int> Wait(std::chrono::seconds limit);
  bool Running();  // false once it ended (it is then reaped)
  // The port its "api" or "admin" listener bound, from its log (0 if not printed in `limit`).
  unsigned short Port(const std::string& listener, std::chrono::seconds limit) const;
  // What it has printed so far (stdout and stderr).
  std::string Log() const;

 private:
  std::string dir_;  // the config file and the log
  pid_t pid_ = -1;
  std::optional<int> status_;  // its wait status, once reaped
};

// Messages of `topic` (all its partitions) that consumer group `group` has not committed yet:
// the sum of high watermark minus committed offset (or minus the low watermark where the group
// has committed nothing). Zero once every message was consumed and its processing finished.
std::int64_t UncommittedMessages(const app::Config& config, const std::string& group,
                                 const std::string& topic, int partitions);

}  // namespace triage::testing
