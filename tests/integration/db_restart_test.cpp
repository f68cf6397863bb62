// Restarts the test PostgreSQL (immediate shutdown: every connection drops mid-statement) in
// the middle of a run while jobs are still being submitted, answered and notified, and checks
// that every acknowledged job completes exactly once and how long the backlog takes to drain.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <pqxx/pqxx>
#include <thread>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "support.hpp"

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;

// A count over a fresh connection; -1 while the database is down.
int Count(const std::string& dsn, const std::string& sql) {
  try {
    pqxx::connection conn(dsn);
    return pqxx::work(conn).exec(sql)[0][0].as<int>();
  } catch (const std::exception&) {
    return -1;
  }
}

// "completed=10 running=2" for the jobs `where` selects.
std::string States(const std::string& dsn, const std::string& where) {
  try {
    pqxx::connection conn(dsn);
    std::string out;
    for (const auto& row : pqxx::work(conn).exec(
             "SELECT state, count(*) FROM jobs" + where + " GROUP BY state ORDER BY state"))
      out += row[0].as<std::string>() + "=" + row[1].as<std::string>() + " ";
    return out;
  } catch (const std::exception& e) {
    return e.what();
  }
}

TEST(DatabaseRestart, EveryAcknowledgedJobCompletesExactlyOnceAndTheBacklogDrains) {
  const char* restart = std::getenv("TRIAGE_TEST_PG_RESTART");
  ASSERT_TRUE(restart && *restart)
      << "TRIAGE_TEST_PG_RESTART must name a command that restarts the test PostgreSQL "
         "(make test sets it to `deploy/local/services restart-postgres`)";
  t::InProcessPipeline service;
  auto& config = service.config;
  config.SetSimTimeScale(0.1);  // inline answers in 50–200 ms: many are in flight at the restart
  config.models.at("sim-reasoning").timeout_seconds = 60;  // reasoning takes up to 12 s here
  // Leases that outlast the test's wait: a job its holder abandoned would stay `running` until
  // long after it, so only the holders' own retries can finish the run in time.
  config.lease_margin_seconds = 300;
  service.Start();
  auto& receiver = *service.receiver;
  const auto& schema = service.schema;

  constexpr int kJobs = 300;
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<int> unavailable{0}, submitted{0};
  std::vector<std::string> unexpected;
  std::thread submitter([&] {
    for (int i = 0; i < kJobs; ++i, ++submitted) {
      // One in five needs the reasoning worker; the rest are answered inline.
      const bool hard = i % 5 == 0;
      json body = {{"task", hard ? "How many ways can " + std::to_string(i % 7 + 3) +
                                       " people sit around a round table?"
                                 : "What is " + std::to_string(i) + " + 1?"},
                   {"domain", "math"},
                   {"callback_url", receiver.url()},
                   {"idempotency_key", "restart-" + std::to_string(i)},
                   {"metadata", {{"sim", {{"difficulty", hard ? "hard" : "easy"}}}}}};
      const auto res = service.Send("POST", "/v1/jobs", body.dump());
      std::lock_guard lock(mutex);
      if (res.status == 202) acknowledged.push_back(json::parse(res.body)["id"]);
      else if (res.status == 503) ++unavailable;
      else unexpected.push_back(std::to_string(res.status) + " " + res.body + res.error);
      // Spread the submissions over a few seconds, so some arrive during the outage.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const auto completed = [&] {
    return Count(schema.dsn(), "SELECT count(*) FROM jobs WHERE state = 'completed'");
  };
  ASSERT_TRUE(t::WaitFor([&] { return completed() >= 30; }, std::chrono::seconds(60)));
  const int at_restart = completed();
  const int submitted_at_restart = submitted;
  const auto down = std::chrono::steady_clock::now();
  ASSERT_EQ(std::system(restart), 0) << "the restart command failed: " << restart;
  const auto back = std::chrono::steady_clock::now();
  const std::chrono::duration<double> restart_took = back - down;
  submitter.join();
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex);
    ids = acknowledged;
    EXPECT_TRUE(unexpected.empty()) << unexpected.front();
  }
  std::string id_list;
  for (const auto& id : ids) id_list += (id_list.empty() ? "'" : ",'") + id + "'";
  const std::string mine = " WHERE id IN (" + id_list + ")";
  const bool drained = t::WaitFor([&] {
    return Count(schema.dsn(), "SELECT count(*) FROM jobs" + mine + " AND state = 'completed'") ==
           static_cast<int>(ids.size());
  }, std::chrono::seconds(90));
  const auto drain = std::chrono::duration<double>(std::chrono::steady_clock::now() - back);
  std::printf("db restart: took %.1f s; %zu acknowledged, %d refused with 503, %d completed and "
              "%d submitted at the restart; backlog drained %.1f s after the database was back\n",
              restart_took.count(), ids.size(), unavailable.load(), at_restart,
              submitted_at_restart, drain.count());
  ::testing::Test::RecordProperty("drain_seconds", std::to_string(drain.count()));
  EXPECT_TRUE(drained) << "acknowledged jobs by state: " << States(schema.dsn(), mine);
  EXPECT_LT(at_restart, static_cast<int>(ids.size())) << "the restart came after the run";
  // Exactly once: one completion event (outbox row) per job, and each webhook was delivered.
  EXPECT_EQ(Count(schema.dsn(), "SELECT count(*) FROM outbox WHERE job_id IN (" + id_list + ")"),
            static_cast<int>(ids.size()));
  EXPECT_EQ(Count(schema.dsn(), "SELECT count(*) FROM (SELECT job_id FROM outbox GROUP BY job_id"
                                " HAVING count(*) > 1) d"),
            0);
  EXPECT_TRUE(t::WaitFor([&] { return receiver.DistinctJobs() >= ids.size(); },
                         std::chrono::seconds(60)));
}

}  // namespace
}  // namespace triage::app
