// Kills the router (a separate `triage serve --roles router` process) with SIGKILL in the
// middle of a run, starts a new one, and checks every job still completes exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "support.hpp"

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;

TEST(Restart, EveryJobCompletesExactlyOnceWhenTheRouterIsKilledMidRun) {
  t::InProcessPipeline service;
  auto& config = service.config;
  config.SetSimTimeScale(0.1);  // inline answers take 50–200 ms: many are in flight at the kill
  service.Start(Roles{true, false, true, true});  // everything but the router
  auto& receiver = *service.receiver;

  auto router = std::make_unique<t::ServeProcess>(config, "router");
  constexpr int kJobs = 200;
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    json body = {{"task", "What is " + std::to_string(i) + " + 1?"},
                 {"domain", "math"},
                 {"callback_url", receiver.url()},
                 {"metadata",
                  {{"sim", {{"difficulty", "easy"}, {"expected_answer", std::to_string(i + 1)}}}}}};
    const auto res = service.Send("POST", "/v1/jobs", body.dump());
    ASSERT_EQ(res.status, 202) << res.body;
    ids.push_back(json::parse(res.body)["id"].get<std::string>());
  }
  pqxx::connection conn(service.schema.dsn());
  auto count = [&](const std::string& where) {
    return pqxx::work(conn).exec("SELECT count(*) FROM jobs WHERE " + where)[0][0].as<int>();
  };
  ASSERT_TRUE(
      t::WaitFor([&] { return count("state = 'completed'") >= 20; }, std::chrono::seconds(90)));
  router->Kill(SIGKILL);
  const int at_kill = count("state = 'completed'");
  const int running_at_kill = count("state = 'running'");
  router = std::make_unique<t::ServeProcess>(config, "router");

  EXPECT_TRUE(
      t::WaitFor([&] { return receiver.DistinctJobs() == kJobs; }, std::chrono::seconds(180)))
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
}

}  // namespace
}  // namespace triage::app
