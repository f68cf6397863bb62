// The reasoning queue under real conditions: workers as separate `triage serve --roles worker`
// processes (t::ServeProcess), the api, router, reaper and notifier in this process. A worker
// killed while it holds many long calls, the same job delivered twice, a worker joining mid-run,
// calls longer than max.poll.interval.ms, and easy work flowing past a saturated reasoning pool.
// Each worker process answers with a model of its own name (sim-reasoning-<n>, the same
// profile), so the attempts say which process made each call.
#include <gtest/gtest.h>
#include <signal.h>

#include <future>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "support.hpp"

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;
using std::chrono::seconds;

class Workers : public t::PipelineTest {
 protected:
  Workers() { t::CountableRuns(*this); }

  // The reasoning calls last `min_s`–`max_s` seconds (at the test's time scale).
  void ReasoningLatency(double min_s, double max_s) {
    auto& p = config.models.at("sim-reasoning").profile;
    p.latency_min_s = min_s / config.sim_time_scale;
    p.latency_max_s = max_s / config.sim_time_scale;
  }
  // Runs `roles` here; workers are started with StartWorker.
  void Start(Roles roles = Roles{true, true, false, true}) {
    InProcessPipeline::Start(roles);
  }
  // A worker process whose reasoning model is named sim-reasoning-<n>.
  std::unique_ptr<t::ServeProcess> StartWorker(int n) {
    return std::make_unique<t::ServeProcess>(t::WithReasoningModel(config, n), "worker");
  }

  // A "hard:" task is classified requires_reasoning (the worker answers it), any other trivial.
  std::string Submit(bool hard, int i) {
    const auto answer = std::to_string(i + 1);
    json body = {
        {"task", (hard ? "hard: " : "") + ("What is " + std::to_string(i) + " + 1?")},
        {"domain", "math"},
        {"callback_url", receiver->url()},
        {"verify", {{"kind", "math"}, {"gold", answer}}},
        {"metadata",
         {{"sim", {{"difficulty", hard ? "hard" : "easy"}, {"expected_answer", answer}}}}}};
    const auto res = Send("POST", "/v1/jobs", body.dump());
    EXPECT_EQ(res.status, 202) << res.body << res.error;
    return json::parse(res.body).at("id").get<std::string>();
  }
  std::vector<std::string> SubmitMany(bool hard, int count) {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) ids.push_back(Submit(hard, i));
    return ids;
  }
  // Puts `{"id": id}` on the reasoning topic (as the router and the reaper do) and waits for it.
  void Redeliver(const std::string& id) {
    std::promise<std::string> delivered;
    producer->Produce(config.topics().reasoning, id, json{{"id", id}}.dump(),
                      [&](std::string error) { delivered.set_value(std::move(error)); });
    ASSERT_EQ(delivered.get_future().get(), "");
  }
  std::int64_t Uncommitted() {
    return t::UncommittedMessages(config, config.worker_group, config.topics().reasoning,
                                  config.reasoning_partitions);
  }

  int Count(const std::string& sql) { return pqxx::work(conn).exec(sql)[0][0].as<int>(); }
  int Jobs(const std::string& where) { return Count("SELECT count(*) FROM jobs WHERE " + where); }
  // The exactly-once checks every test ends with: each job completed once, told once.
  void ExpectEachCompletedOnce(int jobs) {
    EXPECT_EQ(Jobs("state = 'completed'"), jobs);
    EXPECT_EQ(Count("SELECT count(*) FROM outbox"), jobs);
    EXPECT_EQ(receiver->DistinctJobs(), static_cast<std::size_t>(jobs));
    EXPECT_EQ(receiver->Deliveries(), jobs);
  }

  static int Occurrences(const std::string& text, const std::string& word) {
    int n = 0;
    for (auto pos = text.find(word); pos != std::string::npos; pos = text.find(word, pos + 1)) ++n;
    return n;
  }

  pqxx::connection conn{schema.dsn()};
};

TEST_F(Workers, AWorkerKilledHoldingLongCallsIsReplacedAfterItsLeasesLapse) {
  constexpr int kJobs = 50;
  // Calls long enough that all 50 are running at once however slowly they were submitted.
  ReasoningLatency(8, 9);
  config.models.at("sim-reasoning").timeout_seconds = 12;
  config.lease_margin_seconds = 1;  // leases of 13 s, renewed every 4.3 s while the calls run
  Start();
  auto first = StartWorker(1);
  SubmitMany(true, kJobs);
  // Killed once every job's call has started (its attempt row is written as it starts).
  const auto started = [&] {
    return Count("SELECT count(*) FROM attempts WHERE verdict = 'in_flight'");
  };
  ASSERT_TRUE(t::WaitFor([&] { return started() == kJobs; }, seconds(60)))
      << started() << " of " << kJobs << " calls started";
  first->Kill(SIGKILL);
  const int completed_at_kill = Jobs("state = 'completed'");
  const auto second = StartWorker(2);

  EXPECT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == kJobs; }, seconds(60)))
      << receiver->DistinctJobs() << " of " << kJobs << " callbacks";
  EXPECT_EQ(completed_at_kill, 0) << "the kill came after calls ended: fewer were tested";
  ExpectEachCompletedOnce(kJobs);
  // Every job has a reasoning attempt, and the second worker answered each the first held.
  EXPECT_EQ(Jobs("NOT EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = jobs.id"
                 " AND a.role = 'reasoning')"),
            0);
  EXPECT_EQ(Jobs("result->>'model' = 'sim-reasoning-2'"), kJobs - completed_at_kill);
  const int both = Jobs(
      "EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = jobs.id AND a.model = 'sim-reasoning-1')"
      " AND EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = jobs.id"
      "             AND a.model = 'sim-reasoning-2')");
  // Both workers' calls are on record: the killed one's as it started them, marked abandoned by
  // the worker that took the job over.
  EXPECT_EQ(both, kJobs - completed_at_kill);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts WHERE model = 'sim-reasoning-1'"
                  " AND verdict = 'abandoned'"),
            kJobs - completed_at_kill);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts WHERE verdict = 'in_flight'"), 0);
}

TEST_F(Workers, AJobDeliveredTwiceHasOneResultAndARedeliveryAfterItFinishedChangesNothing) {
  ReasoningLatency(2, 2);
  Start();
  const auto worker = StartWorker(1);
  const auto id = Submit(true, 0);
  Redeliver(id);  // beside the router's own message: two deliveries before or as it starts
  ASSERT_TRUE(t::WaitFor([&] { return Job(id)["state"] == "running"; }, seconds(30)));
  Redeliver(id);  // a third while its call runs
  ASSERT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == 1; }, seconds(30)));
  ASSERT_TRUE(t::WaitFor([&] { return Uncommitted() == 0; }, seconds(30)))
      << Uncommitted() << " reasoning messages not processed";
  const auto finished = Job(id);
  EXPECT_EQ(finished["state"], "completed");
  ASSERT_EQ(finished["attempts"].size(), 1u) << finished.dump(2);
  EXPECT_EQ(finished["attempts"][0]["model"], "sim-reasoning-1");

  Redeliver(id);  // the finished job's message once more
  ASSERT_TRUE(t::WaitFor([&] { return Uncommitted() == 0; }, seconds(30)))
      << "the redelivery was not processed";
  EXPECT_EQ(Job(id), finished);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 1);
  ExpectEachCompletedOnce(1);
}

TEST_F(Workers, ASecondWorkerJoiningMidRunSharesTheWorkAndNothingIsLostOrDoneTwice) {
  constexpr int kJobs = 200;
  ReasoningLatency(1, 1.5);
  // A backlog the joining worker can share: one worker alone needs about 30 s for the 200,
  // longer than a slow machine takes to submit them and start the second.
  config.worker_max_in_flight = 8;
  Start();
  const auto first = StartWorker(1);
  SubmitMany(true, kJobs);
  ASSERT_TRUE(t::WaitFor([&] { return Jobs("state = 'completed'") >= 20; }, seconds(60)));
  const auto second = StartWorker(2);

  EXPECT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == kJobs; }, seconds(120)))
      << receiver->DistinctJobs() << " of " << kJobs << " callbacks";
  ExpectEachCompletedOnce(kJobs);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), kJobs) << "a job was answered twice";
  const int by_first = Jobs("result->>'model' = 'sim-reasoning-1'");
  const int by_second = Jobs("result->>'model' = 'sim-reasoning-2'");
  EXPECT_GT(by_first, 0);
  EXPECT_GT(by_second, 0);
  EXPECT_EQ(by_first + by_second, kJobs);
  EXPECT_GE(Occurrences(first->Log(), "revoked"), 1) << "no rebalance: nothing was tested";
  std::cout << "first worker answered " << by_first << ", second " << by_second << "\n";
}

TEST_F(Workers, AWorkerHoldingCallsLongerThanItsMaxPollIntervalStaysInItsGroup) {
  constexpr int kJobs = 1000;
  ReasoningLatency(9, 9.5);
  config.models.at("sim-reasoning").timeout_seconds = 12;
  config.kafka.properties["max.poll.interval.ms"] = "8000";
  config.worker_max_in_flight = 1000;  // holds every call at once, paused the whole time
  Start();
  const auto worker = StartWorker(1);
  SubmitMany(true, kJobs);
  ASSERT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == kJobs; }, seconds(180)))
      << receiver->DistinctJobs() << " of " << kJobs << " callbacks";
  ASSERT_TRUE(t::WaitFor([&] { return Uncommitted() == 0; }, seconds(30)));
  ExpectEachCompletedOnce(kJobs);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), kJobs) << "a job was answered twice";
  const auto log = worker->Log();
  EXPECT_EQ(Occurrences(log, "assigned"), 1) << log;
  EXPECT_EQ(Occurrences(log, "revoked"), 0) << log;
  EXPECT_EQ(Occurrences(log, "poll interval"), 0) << log;
}

TEST_F(Workers, EasyJobsKeepFlowingWhileTheReasoningPoolIsSaturated) {
  constexpr int kJobs = 50;
  // No hard call can end before every easy job is in and run, however slow the machine: the
  // test never waits for them.
  ReasoningLatency(30, 30);
  config.models.at("sim-reasoning").timeout_seconds = 40;
  config.worker_max_in_flight = 4;
  config.router_max_in_flight =
      16;  // fewer than the hard jobs: a router waiting on them would stall
  Start(Roles{true, true, true, true});  // the worker shares this process's thread and pools
  SubmitMany(true, kJobs);
  SubmitMany(false, kJobs);
  ASSERT_TRUE(t::WaitFor([&] { return Jobs("state = 'completed' AND route = 'inline'") == kJobs; },
                         seconds(60)));
  EXPECT_EQ(Jobs("state = 'completed' AND route = 'reasoning'"), 0)
      << "a hard job finished before the easy ones did";
  EXPECT_EQ(Count("SELECT count(*) FROM jobs j, jobs k WHERE j.route = 'inline'"
                  " AND k.route = 'reasoning' AND k.completed_at <= j.completed_at"),
            0);
}

}  // namespace
}  // namespace triage::app
