// Kills the router (a separate `triage serve --roles router` process) with SIGKILL in the
// middle of a run, starts a new one, and checks every job still completes exactly once.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/wait.h>

#include <pqxx/pqxx>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "support.hpp"

extern char** environ;

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;

// A child process running the router with the test's config, given through TRIAGE_* variables.
class RouterProcess {
 public:
  explicit RouterProcess(const Config& c) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::string_view(*e).rfind("TRIAGE_", 0) != 0) env.emplace_back(*e);
    env.push_back("TRIAGE_PG_DSN=" + c.postgres.dsn);
    env.push_back("TRIAGE_KAFKA_BROKERS=" + c.kafka.brokers);
    env.push_back("TRIAGE_KAFKA_TOPIC_PREFIX=" + c.topic_prefix);
    env.push_back("TRIAGE_ROUTER_GROUP=" + c.router_group);
    env.push_back("TRIAGE_KAFKA_SESSION_TIMEOUT_MS=" + std::to_string(c.session_timeout_ms));
    env.push_back("TRIAGE_SIM_TIME_SCALE=" + std::to_string(c.sim_time_scale));
    env.push_back("TRIAGE_REAPER_INTERVAL_SECONDS=1");
    env.push_back("TRIAGE_REAPER_GRACE_SECONDS=" + std::to_string(c.reaper_grace_seconds));
    env.push_back("TRIAGE_REAPER_LEASE_MARGIN_SECONDS=" + std::to_string(c.lease_margin_seconds));
    env.push_back("TRIAGE_MODELS_SIM_STANDARD_TIMEOUT_SECONDS=" +
                  std::to_string(c.StandardModel().timeout_seconds));
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string binary = TRIAGE_BINARY, serve = "serve", roles = "--roles", router = "router";
    char* argv[] = {binary.data(), serve.data(), roles.data(), router.data(), nullptr};
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("cannot fork");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      execve(binary.c_str(), argv, envp.data());
      _exit(127);
    }
  }
  ~RouterProcess() { Kill(SIGTERM); }
  void Kill(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

TEST(Restart, EveryJobCompletesExactlyOnceWhenTheRouterIsKilledMidRun) {
  t::FreshSchema schema;
  auto config = t::TestConfig(schema);
  config.SetSimTimeScale(0.1);  // inline answers take 50–200 ms: many are in flight at the kill
  EnsurePipelineTopics(config);
  boost::asio::io_context io;
  store::Db db(config.postgres);
  queue::Producer producer(config.kafka);
  Pipeline pipeline(io, config, db, producer, classify::ClassifyHeuristic);
  pipeline.Start(Roles{true, false, true, true});  // everything but the router
  t::WebhookReceiver receiver(io);
  t::IoThreads threads(io);  // last: stops first

  auto router = std::make_unique<RouterProcess>(config);
  constexpr int kJobs = 200;
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    json body = {{"task", "What is " + std::to_string(i) + " + 1?"},
                 {"domain", "math"},
                 {"callback_url", receiver.url()},
                 {"metadata", {{"sim", {{"difficulty", "easy"},
                                        {"expected_answer", std::to_string(i + 1)}}}}}};
    http::ClientRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(pipeline.ApiPort()) + "/v1/jobs";
    r.body = body.dump();
    const auto res = t::Call(io, r);
    ASSERT_EQ(res.status, 202) << res.body;
    ids.push_back(json::parse(res.body)["id"].get<std::string>());
  }
  pqxx::connection conn(schema.dsn());
  auto count = [&](const std::string& where) {
    return pqxx::work(conn).exec("SELECT count(*) FROM jobs WHERE " + where)[0][0].as<int>();
  };
  ASSERT_TRUE(t::WaitFor([&] { return count("state = 'completed'") >= 20; },
                         std::chrono::seconds(90)));
  router->Kill(SIGKILL);
  const int at_kill = count("state = 'completed'");
  const int running_at_kill = count("state = 'running'");
  router = std::make_unique<RouterProcess>(config);

  EXPECT_TRUE(t::WaitFor([&] { return receiver.DistinctJobs() == kJobs; },
                         std::chrono::seconds(180)))
      << receiver.DistinctJobs() << " of " << kJobs << " callbacks; " << at_kill
      << " completed and " << running_at_kill << " running at the kill";
  router.reset();
  EXPECT_LT(at_kill, kJobs) << "the kill came after the run: nothing was tested";
  EXPECT_EQ(count("state = 'completed'"), kJobs);
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM outbox")[0][0].as<int>(), kJobs);
  // Every call made is on record: the killed router's too -- those still in flight marked
  // abandoned by the router that took their jobs over, those that had returned with their
  // outcome. A job ran at most twice (once per router), and only jobs running at the kill twice.
  EXPECT_EQ(tx.exec("SELECT count(*) FROM attempts WHERE verdict = 'in_flight'")[0][0].as<int>(), 0);
  const int calls = tx.exec("SELECT count(*) FROM attempts")[0][0].as<int>();
  const int abandoned =
      tx.exec("SELECT count(*) FROM attempts WHERE verdict = 'abandoned'")[0][0].as<int>();
  EXPECT_GE(calls - abandoned, kJobs);
  EXPECT_LE(calls, kJobs + running_at_kill);
  EXPECT_LE(tx.exec("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM attempts"
                    " GROUP BY job_id) per_job")[0][0].as<int>(),
            2);
  std::printf("restart: %d completed and %d running at the kill; %d calls, %d abandoned\n",
              at_kill, running_at_kill, calls, abandoned);
  EXPECT_EQ(receiver.Deliveries(), kJobs);
  pipeline.Stop();
}

}  // namespace
}  // namespace triage::app
