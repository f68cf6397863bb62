// A graceful stop under load, on the real broker and database: `triage serve` child processes
// (t::ServeProcess) get SIGTERM while they hold reasoning calls. Their admin listener reports
// not ready at once, the api stops accepting, the work in flight finishes in the stopping process
// when the drain bound allows it, and is taken over by another process through its lease when
// the bound cuts it off. Either way every acknowledged job reaches one final state once, and the
// process exits 0 within the bound. Each worker process answers with a model of its own name,
// so the attempts say which process made each call (as in worker_test.cpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

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

// Far above any exit this test expects; only there so a hung process fails the test.
constexpr seconds kSafety{30};

class Shutdown : public t::PipelineTest {
 protected:
  Shutdown() { t::CountableRuns(*this); }

  // The reasoning calls last `min_s`–`max_s` seconds, with a deadline of `timeout_s`.
  void ReasoningCalls(double min_s, double max_s, int timeout_s) {
    auto& m = config.models.at("sim-reasoning");
    m.profile.latency_min_s = min_s / config.sim_time_scale;
    m.profile.latency_max_s = max_s / config.sim_time_scale;
    m.timeout_seconds = timeout_s;
    config.lease_margin_seconds = 1;
  }
  // The api, router and notifier here; workers in child processes.
  void Start() {
    InProcessPipeline::Start(Roles{true, true, false, true});
  }
  // A `triage serve --roles <roles>` whose reasoning model is named sim-reasoning-<n>.
  std::unique_ptr<t::ServeProcess> StartServe(int n, const std::string& roles) {
    return std::make_unique<t::ServeProcess>(t::WithReasoningModel(config, n), roles);
  }

  http::ClientResponse Get(unsigned short port, const std::string& path) {
    http::ClientRequest r;
    r.method = "GET";
    r.url = "http://127.0.0.1:" + std::to_string(port) + path;
    r.timeout = std::chrono::milliseconds(5000);
    return t::Call(io, r);
  }
  // A "hard:" task goes to the worker; it is acknowledged by the api on `port` with 202.
  http::ClientResponse Submit(unsigned short port, int i) {
    const auto answer = std::to_string(i + 1);
    json body = {{"task", "hard: What is " + std::to_string(i) + " + 1?"},
                 {"domain", "math"},
                 {"callback_url", receiver->url()},
                 {"verify", {{"kind", "math"}, {"gold", answer}}},
                 {"metadata", {{"sim", {{"difficulty", "hard"}, {"expected_answer", answer}}}}}};
    http::ClientRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/jobs";
    r.body = body.dump();
    return t::Call(io, r);
  }
  void SubmitMany(unsigned short port, int from, int count) {
    for (int i = from; i < from + count; ++i) {
      const auto res = Submit(port, i);
      ASSERT_EQ(res.status, 202) << res.body << res.error;
    }
  }

  int Count(const std::string& sql) { return pqxx::work(conn).exec(sql)[0][0].as<int>(); }
  int Jobs(const std::string& where) { return Count("SELECT count(*) FROM jobs WHERE " + where); }
  int InFlightCalls(const std::string& model) {
    return Count("SELECT count(*) FROM attempts WHERE verdict = 'in_flight' AND model = '" + model +
                 "'");
  }
  // Every acknowledged job reached one final state once and was told once.
  void ExpectEachCompletedOnce(int jobs) {
    EXPECT_EQ(Count("SELECT count(*) FROM jobs"), jobs);
    EXPECT_EQ(Jobs("state = 'completed'"), jobs);
    EXPECT_EQ(Count("SELECT count(*) FROM outbox"), jobs);
    EXPECT_EQ(receiver->DistinctJobs(), static_cast<std::size_t>(jobs));
    EXPECT_EQ(receiver->Deliveries(), jobs);
    EXPECT_EQ(Count("SELECT count(*) FROM attempts WHERE verdict = 'in_flight'"), 0);
  }
  static void ExpectExitedZero(const std::optional<int>& status, const std::string& log) {
    ASSERT_TRUE(status) << "still running " << kSafety.count() << " s past the bound\n" << log;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "wait status " << *status << "\n"
        << log;
  }

  pqxx::connection conn{schema.dsn()};
};

TEST_F(Shutdown, AWorkerFinishesItsCallsInFlightThenExitsZeroAndTakesNoNewWork) {
  constexpr int kHeld = 20, kLater = 10;
  ReasoningCalls(5, 6, 10);  // long enough for all 20 to be running at once
  config.drain_seconds = 20;
  Start();
  const auto first = StartServe(1, "worker");
  // A worker alone has no api, and still answers probes and scrapes on its admin listener.
  const auto admin = first->Port("admin", seconds(30));
  ASSERT_NE(admin, 0) << first->Log();
  ASSERT_TRUE(t::WaitFor([&] { return Get(admin, "/readyz").status == 200; }, seconds(30)))
      << Get(admin, "/readyz").body;
  EXPECT_NE(Get(admin, "/metrics").body.find("triage_"), std::string::npos);
  SubmitMany(pipeline->ApiPort(), 0, kHeld);
  ASSERT_TRUE(t::WaitFor([&] { return InFlightCalls("sim-reasoning-1") == kHeld; }, seconds(30)))
      << InFlightCalls("sim-reasoning-1") << " of " << kHeld << " calls started";

  first->Signal(SIGTERM);
  // Not ready at once, while alive and draining; still alive for liveness.
  ASSERT_TRUE(t::WaitFor([&] { return Get(admin, "/readyz").status == 503; }, seconds(5)));
  EXPECT_TRUE(first->Running()) << "exited before its calls could finish";
  EXPECT_EQ(Get(admin, "/healthz").status, 200);
  SubmitMany(pipeline->ApiPort(), kHeld, kLater);  // more load while it drains: not taken
  const auto status = first->Wait(seconds(config.drain_seconds) + kSafety);
  ExpectExitedZero(status, first->Log());
  EXPECT_NE(first->Log().find("drained: no work in flight"), std::string::npos) << first->Log();
  EXPECT_EQ(Jobs("result->>'model' = 'sim-reasoning-1'"), kHeld);

  const auto second = StartServe(2, "worker");
  EXPECT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == kHeld + kLater; }, seconds(60)))
      << receiver->DistinctJobs() << " of " << kHeld + kLater << " callbacks";
  ExpectEachCompletedOnce(kHeld + kLater);
  // The calls held at SIGTERM finished where they ran; the later jobs waited for the second.
  EXPECT_EQ(Jobs("result->>'model' = 'sim-reasoning-1'"), kHeld);
  EXPECT_EQ(Jobs("result->>'model' = 'sim-reasoning-2'"), kLater);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts WHERE verdict = 'abandoned'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), kHeld + kLater);
}

TEST_F(Shutdown, WorkTheBoundCutsOffIsFinishedByAnotherProcessOnceItsLeasesLapse) {
  constexpr int kJobs = 10;
  ReasoningCalls(10, 10, 12);  // leases of 13 s; calls far longer than the bound
  config.drain_seconds = 2;
  Start();
  const auto first = StartServe(1, "api,worker");
  const auto api = first->Port("api", seconds(30)), admin = first->Port("admin", seconds(30));
  ASSERT_NE(api, 0) << first->Log();
  ASSERT_NE(admin, 0) << first->Log();
  ASSERT_TRUE(t::WaitFor([&] { return Get(admin, "/readyz").status == 200; }, seconds(30)))
      << Get(admin, "/readyz").body;
  EXPECT_EQ(Get(api, "/readyz").status, 200);  // the api answers the probes alike
  SubmitMany(api, 0, kJobs);                   // acknowledged by the process to be stopped
  ASSERT_TRUE(t::WaitFor([&] { return InFlightCalls("sim-reasoning-1") == kJobs; }, seconds(30)))
      << InFlightCalls("sim-reasoning-1") << " of " << kJobs << " calls started";

  first->Signal(SIGTERM);
  ASSERT_TRUE(t::WaitFor([&] { return Get(admin, "/readyz").status == 503; }, seconds(5)));
  const auto refused = Submit(api, kJobs);  // the api accepts no more
  EXPECT_EQ(refused.status, 0) << "answered " << refused.status << ": " << refused.body;
  EXPECT_TRUE(first->Running()) << "exited before the bound";
  const auto status = first->Wait(seconds(config.drain_seconds) + kSafety);
  ExpectExitedZero(status, first->Log());
  EXPECT_NE(first->Log().find(std::to_string(kJobs) + " still in flight after 2 s"),
            std::string::npos)
      << first->Log();
  EXPECT_EQ(Jobs("state = 'completed'"), 0);

  const auto second = StartServe(2, "worker");
  EXPECT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == kJobs; }, seconds(60)))
      << receiver->DistinctJobs() << " of " << kJobs << " callbacks";
  ExpectEachCompletedOnce(kJobs);
  EXPECT_EQ(Jobs("result->>'model' = 'sim-reasoning-2'"), kJobs);
  // The cut-off calls are on record, marked abandoned by the process that took the jobs over.
  EXPECT_EQ(Count("SELECT count(*) FROM attempts WHERE model = 'sim-reasoning-1'"
                  " AND verdict = 'abandoned'"),
            kJobs);
}

}  // namespace
}  // namespace triage::app
