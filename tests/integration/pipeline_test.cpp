// End to end on the real broker and database: HTTP submit -> Kafka -> router -> inline or
// worker -> Postgres -> outbox -> webhook and `completed` event; jobs straight from Kafka; bad
// envelopes to the dead-letter topic; the API's answers to bad input.
#include "app/pipeline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <sstream>

#include "app/admin.hpp"
#include "app/api.hpp"
#include "app/commands.hpp"
#include "app/router.hpp"
#include "app/worker.hpp"
#include "classify/router_classifier.hpp"
#include "corpus.hpp"
#include "notify/webhook.hpp"
#include "queue/kafka.hpp"
#include "replay/set.hpp"
#include "route/confidence.hpp"
#include "route/learned_router.hpp"
#include "route/plan.hpp"
#include "support.hpp"
#include "verify/steps.hpp"

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;

class Pipeline_ : public t::PipelineTest {
 protected:
  void SetUp() override {
    config.webhook_key = std::string("test-signing-key");
    config.policy.confidence_cut = confidence_cut;
    if (adjust) adjust(config);
    Start(roles);
  }

  http::ClientResponse Post(const std::string& body,
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Send("POST", "/v1/jobs", body, std::move(headers));
  }
  http::ClientResponse Get(const std::string& path) { return Send("GET", path); }
  std::string Submit(const std::string& task, const std::string& difficulty,
                     const std::string& answer) {
    json body = {
        {"task", task},
        {"domain", "math"},
        {"callback_url", receiver->url()},
        {"metadata", {{"sim", {{"difficulty", difficulty}, {"expected_answer", answer}}}}}};
    auto res = Post(body.dump());
    EXPECT_EQ(res.status, 202) << res.body << res.error;
    return json::parse(res.body).at("id").get<std::string>();
  }

  double confidence_cut = 0.0;
  std::function<void(Config&)> adjust;  // a subclass's changes to the test config
  Roles roles;                          // the roles the test runs
};

TEST_F(Pipeline_, EasyAndHardJobsCompleteWithSignedCallbacksAndCompletedEvents) {
  std::vector<std::string> completed_events;
  std::mutex mutex;
  queue::Consumer events(config.kafka,
                         {config.topic_prefix + "-events", {config.topics().completed}, 64, 6000},
                         [&](queue::Message m, queue::Consumer::Done done) {
                           std::lock_guard lock(mutex);
                           completed_events.push_back(m.key);
                           done();
                         });
  events.Start();
  const auto easy = Submit("What is 17 + 25?", "easy", "42");
  const auto hard = Submit("How many ways can 6 people sit around a round table?", "hard", "120");
  ASSERT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == 2; }, std::chrono::seconds(60)));

  const auto e = Job(easy), h = Job(hard);
  EXPECT_EQ(e["state"], "completed");
  EXPECT_EQ(e["tier"], "trivial");
  EXPECT_EQ(e["route"], "inline");
  EXPECT_EQ(e["attempts"].size(), 1u);
  EXPECT_EQ(e["attempts"][0]["model"], "sim-standard");
  EXPECT_EQ(e["attempts"][0]["simulated"], true);
  EXPECT_GT(e["cost_micros"].get<long>(), 0);
  EXPECT_EQ(h["tier"], "requires_reasoning");
  EXPECT_EQ(h["route"], "reasoning");
  EXPECT_EQ(h["attempts"][0]["model"], "sim-reasoning");
  EXPECT_GT(h["attempts"][0]["tokens"]["reasoning"].get<long>(), 0);
  EXPECT_NE(h["answer"], nullptr);

  for (const auto& req : receiver->Received()) {
    const auto id = std::string(req["webhook-id"]);
    const auto ts = std::stoll(std::string(req["webhook-timestamp"]));
    EXPECT_EQ(std::string(req["webhook-signature"]),
              notify::Sign("test-signing-key", id, ts, req.body()));
    const auto event = json::parse(req.body());
    EXPECT_EQ(event["type"], "job.completed");
    EXPECT_EQ(id, "msg_" + event["data"]["id"].get<std::string>());
  }
  EXPECT_TRUE(t::WaitFor(
      [&] {
        std::lock_guard lock(mutex);
        return completed_events.size() >= 2;
      },
      std::chrono::seconds(30)));
  events.Stop();
}

TEST_F(Pipeline_, JobsProducedStraightToKafkaAreRunAndBadEnvelopesDeadLettered) {
  std::vector<json> letters;
  std::mutex mutex;
  queue::Consumer dlq(config.kafka, {config.topic_prefix + "-dlq", {config.topics().dlq}, 64, 6000},
                      [&](queue::Message m, queue::Consumer::Done done) {
                        std::lock_guard lock(mutex);
                        letters.push_back(json::parse(m.payload));
                        done();
                      });
  dlq.Start();
  json envelope = {{"v", 1},
                   {"tenant", "acme"},
                   {"task", "What is 6 * 7?"},
                   {"domain", "math"},
                   {"callback_url", receiver->url()},
                   {"idempotency_key", "direct-1"}};
  // Each bad envelope, the reason its dead letter must give, and a word its message must hold.
  const std::map<std::string, std::pair<std::string, std::string>> bad = {
      {"not json", {"invalid_json", "JSON"}},
      {R"({"task": 5})", {"invalid_field", "string"}},
      {"\xff\xfe", {"invalid_utf8", "UTF-8"}},
      {R"({"task": "a\u0000b"})", {"invalid_field", "NUL"}},
      {R"({"task": "a", "task": "b"})", {"invalid_json", "duplicate key 'task'"}},
      {R"({"task": "t", "callback_url": "http://u:p@127.0.0.1/h"})",
       {"invalid_field", "credentials"}}};
  for (const auto& [payload, expected] : bad)
    producer->Produce(config.topics().jobs, "k", payload, [](std::string) {});
  for (const auto& payload : {envelope.dump(), envelope.dump()})
    producer->Produce(config.topics().jobs, "k", payload, [](std::string) {});
  ASSERT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == 1; }, std::chrono::seconds(60)));
  ASSERT_TRUE(t::WaitFor(
      [&] {
        std::lock_guard lock(mutex);
        return letters.size() == bad.size();
      },
      std::chrono::seconds(60)));
  dlq.Stop();
  for (const auto& l : letters) {
    const auto payload =
        l.contains("payload")
            ? l["payload"].get<std::string>()
            : notify::Base64Decode(l["payload_base64"].get<std::string>()).value_or("(not base64)");
    ASSERT_TRUE(bad.contains(payload)) << l.dump();
    EXPECT_EQ(l["reason"], bad.at(payload).first) << l.dump();
    EXPECT_NE(l["message"].get<std::string>().find(bad.at(payload).second), std::string::npos)
        << l.dump();
  }
  // The same envelope twice is one job (its idempotency key), completed once.
  pqxx::connection conn(schema.dsn());
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs WHERE tenant = 'acme'")[0][0].as<int>(), 1);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM outbox")[0][0].as<int>(), 1);
  EXPECT_EQ(tx.exec("SELECT source FROM jobs")[0][0].as<std::string>(), "kafka");
}

TEST_F(Pipeline_, IdempotencyKeyReturnsTheSameJob) {
  const std::string body = R"({"task": "What is 1 + 1?", "idempotency_key": "abc"})";
  const auto first = Post(body), second = Post(body);
  EXPECT_EQ(first.status, 202);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(json::parse(first.body)["id"], json::parse(second.body)["id"]);
  EXPECT_EQ(json::parse(second.body)["duplicate"], true);
}

TEST_F(Pipeline_, BadInputGetsAClearErrorAndNothingIsLost) {
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"{not json", 400, "invalid_json"},
      {R"({"task": 12})", 400, "invalid_field"},
      {R"({"domain": "math"})", 400, "missing_field"},
      {"{\"task\": \"\xc3\x28\"}", 400, "invalid_utf8"},
      {R"({"task": "t", "domain": "astrology"})", 422, "unknown_domain"},
      {R"({"task": "t", "priority": 1})", 400, "unknown_field"},
      {R"({"task": ")" + std::string(300 * 1024, 'x') + R"("})", 413, "too_large"},
      {"[1, 2]", 400, "not_an_object"},
      {R"({"task": "a\u0000b"})", 400, "invalid_field"},
      {R"({"task": "t", "metadata": {"note": "\u0000"}})", 400, "invalid_field"},
      {R"({"task": "a", "task": "b"})", 400, "invalid_json"},
      {R"({"task": "t", "callback_url": "http://user:pass@example.test/h"})", 400, "invalid_field"},
  };
  for (const auto& c : cases) {
    const auto res = Post(c.body);
    EXPECT_EQ(res.status, c.status) << c.code << ": " << res.body;
    const auto error = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(error.is_object()) << res.body;
    EXPECT_EQ(error["error"]["code"], c.code);
    EXPECT_FALSE(error["error"]["message"].get<std::string>().empty());
  }
  const auto huge = Post(std::string(2 * 1024 * 1024, ' '));
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(Post(R"({"task": "t"})", {{"content-type", "text/plain"}}).status, 415);
  EXPECT_EQ(Get("/v1/jobs/not-a-uuid").status, 400);
  EXPECT_EQ(Get("/v1/jobs/01234567-89ab-7def-8123-456789abcdef").status, 404);
  EXPECT_EQ(Get("/v1/nothing").status, 404);
  EXPECT_EQ(Get("/v1/jobs").status, 405);
  EXPECT_EQ(Get("/healthz").status, 200);
  // Ready once its consumers have joined their groups (app/admin.hpp).
  EXPECT_TRUE(t::WaitFor([&] { return Get("/readyz").status == 200; }, std::chrono::seconds(30)))
      << Get("/readyz").body;
  // Nothing was stored for the rejected bodies, and the service still takes good work.
  pqxx::connection conn(schema.dsn());
  EXPECT_EQ(pqxx::work(conn).exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 0);
  const auto id = Submit("What is 2 + 3?", "easy", "5");
  EXPECT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == 1; }, std::chrono::seconds(60)));
  EXPECT_EQ(Job(id)["state"], "completed");
}

TEST_F(Pipeline_, AnotherTenantCannotReadAJob) {
  const auto GetAs = [&](const std::string& id, const std::string& tenant) {
    return Send("GET", "/v1/jobs/" + id, "", {{"x-tenant", tenant}});
  };
  json body = {{"task", "What is 2 + 3? (acme's)"}};
  const auto posted =
      Post(body.dump(), {{"content-type", "application/json"}, {"x-tenant", "acme"}});
  ASSERT_EQ(posted.status, 202) << posted.body;
  const auto id = json::parse(posted.body)["id"].get<std::string>();
  // Its own tenant reads it ...
  const auto own = GetAs(id, "acme");
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(json::parse(own.body)["id"], id);
  EXPECT_EQ(json::parse(own.body)["tenant"], "acme");
  // ... and no other does, the default tenant included, and the answer says nothing of it.
  for (const auto* other : {"intruder", "default", "ACME"}) {
    const auto res = GetAs(id, other);
    EXPECT_EQ(res.status, 404) << other;
    EXPECT_EQ(res.body.find("acme's"), std::string::npos) << res.body;
    EXPECT_EQ(res.body, GetAs("01234567-89ab-7def-8123-456789abcdef", other).body)
        << "a missing job and another tenant's job must look alike";
  }
}

TEST_F(Pipeline_, AFailingWebhookIsRetriedWithTheSameId) {
  // A receiver that fails the first delivery of each job.
  std::mutex mutex;
  std::map<std::string, int> calls;
  http::Server flaky(io, {"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
                     [&](http::Request req) -> boost::asio::awaitable<http::Response> {
                       int n;
                       {
                         std::lock_guard lock(mutex);
                         n = ++calls[std::string(req["webhook-id"])];
                       }
                       co_return http::JsonResponse(
                           req, n == 1 ? http::Status::service_unavailable : http::Status::ok,
                           "{}");
                     });
  flaky.Start();
  json body = {{"task", "What is 3 + 4?"},
               {"callback_url", "http://127.0.0.1:" + std::to_string(flaky.Port()) + "/h"}};
  const auto res = Post(body.dump());
  ASSERT_EQ(res.status, 202);
  const auto id = json::parse(res.body)["id"].get<std::string>();
  ASSERT_TRUE(t::WaitFor(
      [&] {
        std::lock_guard lock(mutex);
        return calls["msg_" + id] >= 2;
      },
      std::chrono::seconds(60)));
  pqxx::connection conn(schema.dsn());
  ASSERT_TRUE(t::WaitFor(
      [&] {
        return pqxx::work(conn)
                   .exec(
                       "SELECT count(*) FROM outbox WHERE webhook_done_at IS NOT NULL"
                       " AND NOT webhook_dead")[0][0]
                   .as<int>() == 1;
      },
      std::chrono::seconds(10)));
  flaky.Stop();
}

TEST(PipelineWithoutDatabase, AnswersUnavailableWithRetryAfterNotAnInternalError) {
  t::InProcessPipeline service;
  // Nothing listens on port 1: every connection is refused, as during an outage.
  service.config.postgres.dsn = "host=127.0.0.1 port=1 user=triage dbname=triage connect_timeout=2";
  service.Start(Roles{true, false, false, false});
  for (const auto& res :
       {service.Send("POST", "/v1/jobs", R"({"task": "What is 2 + 2?"})"),
        service.Send("GET", "/v1/jobs/01234567-89ab-7def-8123-456789abcdef")}) {
    EXPECT_EQ(res.status, 503) << res.body;
    EXPECT_EQ(res.retry_after, "2");
    const auto error = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(error.is_object()) << res.body;
    EXPECT_EQ(error["error"]["code"], "unavailable");
  }
  EXPECT_EQ(service.Send("GET", "/readyz").status, 503);
}

// Every connection of the pool busy (here the only one, waiting on a lock the test holds):
// /readyz still answers, from a connection of its own. On the pool its `SELECT 1` waited behind
// the work, and a probe timing out under load takes a healthy process out of service.
class SaturatedPool : public Pipeline_ {
 protected:
  SaturatedPool() {
    roles = Roles{true, false, false, false};
    adjust = [](Config& c) { c.postgres.pool_size = 1; };
  }
};

TEST_F(SaturatedPool, ReadinessAnswersWhileEveryPooledConnectionIsBusy) {
  const auto key = std::to_string(std::random_device()() % 1000000);
  const auto lock = "SELECT pg_advisory_lock(" + key + ")";
  pqxx::connection holder(config.postgres.dsn);
  pqxx::nontransaction(holder).exec(lock);
  auto busy = boost::asio::co_spawn(io,
                                    db->Run([lock](pqxx::connection& c) {
                                      pqxx::nontransaction(c).exec(lock);
                                      pqxx::nontransaction(c).exec(
                                          "SELECT pg_advisory_unlock_all()");
                                    }),
                                    boost::asio::use_future);
  pqxx::connection observer(config.postgres.dsn);
  ASSERT_TRUE(t::WaitFor(
      [&] {
        return pqxx::work(observer)
                   .exec1("SELECT count(*) FROM pg_locks"
                          " WHERE locktype = 'advisory' AND NOT granted")[0]
                   .as<int>() > 0;
      },
      std::chrono::seconds(30)));
  const auto ready = Get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body << ready.error;
  pqxx::nontransaction(holder).exec("SELECT pg_advisory_unlock_all()");
  busy.get();
}

// Each started role is held by what calls back into it (the api by its server's handler, the
// router and the worker by their consumers' steps), and holds that in turn. Once stopped and let
// go, a role must be freed with the steps it shares: LeakSanitizer found the api, the router
// and the worker never were.
TEST(RoleLifetime, StoppedRolesAreFreedOnceReleased) {
  t::FreshSchema schema;
  auto config = t::TestConfig(schema);
  EnsurePipelineTopics(config);
  boost::asio::io_context io;
  store::Db db(config.postgres);
  queue::Producer producer(config.kafka);
  auto steps = std::make_shared<Steps>(io, config, db, producer);
  auto admin =
      std::make_shared<Admin>(steps, [] { return std::vector<ReadinessInputs::Consumer>{}; });
  auto api = std::make_shared<Api>(steps, admin);
  auto router = std::make_shared<Router>(steps, classify::ClassifyHeuristic);
  auto worker = std::make_shared<Worker>(steps);
  const std::weak_ptr<Steps> steps_alive = steps;
  const std::weak_ptr<Api> api_alive = api;
  const std::weak_ptr<Admin> admin_alive = admin;
  const std::weak_ptr<Router> router_alive = router;
  const std::weak_ptr<Worker> worker_alive = worker;
  admin->Start();
  api->Start();
  router->Start();
  worker->Start();
  api->Stop();
  admin->Stop();
  router->Stop();
  worker->Stop();
  api.reset();
  admin.reset();
  router.reset();
  worker.reset();
  steps.reset();
  // Runs the server's close and the end of its accept loop; it returns once nothing is left
  // (the time is only a bound).
  io.run_for(std::chrono::seconds(30));
  EXPECT_TRUE(api_alive.expired());
  EXPECT_TRUE(admin_alive.expired());
  EXPECT_TRUE(router_alive.expired());
  EXPECT_TRUE(worker_alive.expired());
  EXPECT_TRUE(steps_alive.expired());
}

// The sim's accuracy set to 0 or 1 per model, so what the engine does is known in advance.
class Strategies : public Pipeline_ {
 protected:
  static void Accuracy(Config& c, const std::string& model, double p) {
    c.models.at(model).profile.accuracy = {p, p, p};
  }
  std::string SubmitChecked(const std::string& task, const std::string& gold,
                            std::optional<double> max_cost_usd = std::nullopt) {
    json body = {{"task", task},
                 {"domain", "math"},
                 {"callback_url", receiver->url()},
                 {"verify", {{"kind", "math"}, {"gold", gold}}},
                 {"metadata", {{"sim", {{"difficulty", "easy"}, {"expected_answer", gold}}}}}};
    if (max_cost_usd) body["max_cost_usd"] = *max_cost_usd;
    auto res = Post(body.dump());
    EXPECT_EQ(res.status, 202) << res.body;
    return json::parse(res.body).at("id").get<std::string>();
  }
  json Done(const std::string& id) {
    EXPECT_TRUE(
        t::WaitFor([&] { return receiver->DistinctJobs() >= 1; }, std::chrono::seconds(60)));
    return Job(id);
  }
};

class WrongStandardModel : public Strategies {
 protected:
  WrongStandardModel() {
    adjust = [](Config& c) {
      Accuracy(c, "sim-standard", 0.0);
      Accuracy(c, "sim-reasoning", 1.0);
    };
  }
};

TEST_F(WrongStandardModel,
       AnInlineAnswerThatFailsVerificationIsEscalatedAndTheReasoningAnswerVerified) {
  const auto id = SubmitChecked("What is 17 + 25?", "42");
  const auto job = Done(id);
  EXPECT_EQ(job["state"], "completed");
  EXPECT_EQ(job["answer"], "42");
  EXPECT_EQ(job["verification"], "verified");
  EXPECT_EQ(job["degraded"], false);
  ASSERT_EQ(job["attempts"].size(), 2u) << job.dump(2);
  EXPECT_EQ(job["attempts"][0]["role"], "inline");
  EXPECT_EQ(job["attempts"][0]["verdict"], "failed");
  EXPECT_EQ(job["attempts"][1]["role"], "reasoning");
  EXPECT_EQ(job["attempts"][1]["verdict"], "passed");
  EXPECT_EQ(job["attempts"][1]["stage"], 1);
  const auto& decision = job["decision"];
  EXPECT_EQ(decision["plan"], "cascade(standard) -> escalate(reasoning)");
  ASSERT_EQ(decision["steps"].size(), 2u) << decision.dump(2);
  EXPECT_EQ(decision["steps"][0]["outcome"], "next");
  EXPECT_TRUE(decision["steps"][0]["reason"].get<std::string>().starts_with("failed:"))
      << decision["steps"][0]["reason"];
  EXPECT_EQ(decision["steps"][1]["outcome"], "accepted");
  EXPECT_EQ(decision["answered_by"]["rung"], "reasoning");
  // The webhook carries the same trail.
  const auto event = json::parse(receiver->Received().at(0).body());
  EXPECT_EQ(event["data"]["decision"]["answered_by"]["rung"], "reasoning");
  EXPECT_EQ(event["data"]["model"], "sim-reasoning");
}

TEST_F(WrongStandardModel, ACostCapStopsBeforeTheReasoningRungAndReturnsTheBestAnswerDegraded) {
  // The reasoning rung expects $0.015 a call; the cap leaves less than that after the first call.
  const auto id = SubmitChecked("What is 17 + 25?", "42", 0.005);
  const auto job = Done(id);
  EXPECT_EQ(job["state"], "completed");
  EXPECT_EQ(job["degraded"], true);
  EXPECT_EQ(job["verification"], "failed");  // the only answer is the wrong one, and says so
  EXPECT_EQ(job["attempts"].size(), 1u);
  EXPECT_TRUE(job["decision"]["reason"].get<std::string>().starts_with("budget: stage 2"))
      << job["decision"].dump(2);
}

class SelfConsistentStandardModel : public Strategies {
 protected:
  SelfConsistentStandardModel() {
    adjust = [](Config& c) {
      Accuracy(c, "sim-standard", 1.0);
      c.routing.plans["trivial"] = std::get<route::Plan>(route::ParsePlan(
          "self_consistency(standard, n=3, early_stop=false) -> escalate(reasoning)"));
    };
  }
};

TEST_F(SelfConsistentStandardModel, ThreeSamplesAreCalledAsSamplesAndTheMajorityIsKept) {
  const auto id = SubmitChecked("What is 17 + 25?", "42");
  const auto job = Done(id);
  EXPECT_EQ(job["answer"], "42");
  EXPECT_EQ(job["route"], "inline");
  ASSERT_EQ(job["attempts"].size(), 3u) << job.dump(2);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(job["attempts"][i]["sample"], i);
  EXPECT_EQ(job["decision"]["steps"][0]["outcome"], "accepted");
  EXPECT_EQ(job["decision"]["steps"][0]["confidence"], 1.0);
}

// Five one-at-a-time samples of 1.2 s each, on an inline lease of 4 s (a 3 s model timeout and a
// 1 s margin): only renewing the lease keeps the reaper from handing the job to another run.
class SlowSequentialSamples : public Strategies {
 protected:
  SlowSequentialSamples() {
    adjust = [](Config& c) {
      Accuracy(c, "sim-standard", 0.0);
      Accuracy(c, "sim-reasoning", 1.0);
      auto& standard = c.models.at("sim-standard").profile;
      standard.latency_min_s = standard.latency_max_s = 120;  // x sim.time_scale 0.01 = 1.2 s
      c.models.at("sim-standard").timeout_seconds = 3;
      c.lease_margin_seconds = 1;
      c.routing.plans["trivial"] = std::get<route::Plan>(
          route::ParsePlan("best_of_n(standard, n=5, parallel=false) -> escalate(reasoning)"));
    };
  }
};

TEST_F(SlowSequentialSamples, AnInlineRunLongerThanItsFirstLeaseKeepsItAndIsNotTakenOver) {
  ASSERT_EQ(config.InlineLeaseSeconds(), 4);
  const auto id = SubmitChecked("What is 17 + 25?", "42");
  const auto job = Done(id);
  EXPECT_EQ(job["state"], "completed");
  EXPECT_EQ(job["verification"], "verified");
  ASSERT_EQ(job["attempts"].size(), 6u) << job.dump(2);  // one run: five samples, one escalation
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(job["attempts"][i]["role"], "inline");
    EXPECT_EQ(job["attempts"][i]["sample"], i);
    // A second run after a takeover would find the first run's answers in the completion
    // cache: every call here was made once.
    EXPECT_EQ(job["attempts"][i]["cache_hit"], false) << "attempt " << i << " came from a rerun";
  }
  EXPECT_EQ(job["attempts"][5]["role"], "reasoning");
  EXPECT_EQ(receiver->Deliveries(), 1);
}

class NoRouter : public Pipeline_ {
 protected:
  NoRouter() { roles = Roles{true, false, true, true}; }
  http::ClientResponse Delete(const std::string& id, const std::string& tenant = "default") {
    return Send("DELETE", "/v1/jobs/" + id, "", {{"x-tenant", tenant}});
  }
};

TEST_F(NoRouter, AQueuedJobIsCancelledOnceAndItsClientIsTold) {
  const auto id = Submit("What is 2 + 3?", "easy", "5");  // no router: it stays queued
  EXPECT_EQ(Delete(id, "intruder").status, 404);
  const auto res = Delete(id);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body)["state"], "cancelled");
  const auto again = Delete(id);
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.body.find("already cancelled"), std::string::npos) << again.body;
  EXPECT_EQ(Job(id)["state"], "cancelled");
  ASSERT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == 1; }, std::chrono::seconds(30)));
  const auto event = json::parse(receiver->Received().at(0).body());
  EXPECT_EQ(event["type"], "job.cancelled");
  EXPECT_EQ(event["data"]["state"], "cancelled");
  EXPECT_EQ(Delete("01234567-89ab-7def-8123-456789abcdef").status, 404);
}

// Calls of 60 s (6,000 s × sim.time_scale 0.01) on both rungs, inline and reasoning, under
// timeouts that let them run; a holder checks its lease every second.
class SlowModels : public NoRouter {
 protected:
  SlowModels() {
    roles = Roles{};  // every role, the router too
    adjust = [](Config& c) {
      for (const char* model : {"sim-standard", "sim-reasoning"}) {
        auto& m = c.models.at(model);
        m.profile.latency_min_s = m.profile.latency_max_s = 6000;
        m.timeout_seconds = 120;
      }
      c.lease_check_seconds = 1;
    };
  }
  // Cancels the job once its call is in flight; then its holder must cut the call off and record
  // it itself: abandoned, after less than the call's 60 s, priced at what it had generated.
  void CancelMidCallAndExpectItCutOff(const std::string& id, const std::string& role) {
    ASSERT_TRUE(t::WaitFor(
        [&] {
          const auto job = Job(id);
          return job["state"] == "running" && job["attempts"].size() == 1 &&
                 job["attempts"][0]["verdict"] == "in_flight";
        },
        std::chrono::seconds(30)));
    ASSERT_EQ(Delete(id).status, 200);
    EXPECT_EQ(Job(id)["state"], "cancelled");
    // The cancel marks the row abandoned at once (its holder may be dead); a live holder then
    // records the call as it ended. The bound is half the call: a safety net, not a measure.
    auto holder_recorded = [&] {
      const auto a = Job(id)["attempts"].at(0);
      return a.value("error", "").find("cancelled mid-call") != std::string::npos;
    };
    ASSERT_TRUE(t::WaitFor(holder_recorded, std::chrono::seconds(30)))
        << "the call was not cut off: " << Job(id).dump(2);
    const auto job = Job(id);
    ASSERT_EQ(job["attempts"].size(), 1u) << job.dump(2);  // no retry, no fallback, no next stage
    const auto& a = job["attempts"][0];
    EXPECT_EQ(a["role"], role);
    EXPECT_EQ(a["verdict"], "abandoned");
    EXPECT_LT(a["latency_ms"].get<long>(), 60'000);
    // The sim bills the prompt and the share of the answer generated before the cut.
    EXPECT_GT(a["tokens"]["input"].get<long>(), 0);
    EXPECT_GT(a["cost_micros"].get<long>(), 0);
    EXPECT_EQ(job["cost_micros"], a["cost_micros"]);
    EXPECT_EQ(job["state"], "cancelled");
    // Only the cancellation was told: the holder's run, cut short, completes nothing.
    ASSERT_TRUE(t::WaitFor([&] { return receiver->Deliveries() >= 1; }, std::chrono::seconds(30)));
    EXPECT_EQ(receiver->Deliveries(), 1);
    EXPECT_EQ(json::parse(receiver->Received().at(0).body())["type"], "job.cancelled");
    pqxx::connection conn(schema.dsn());
    EXPECT_EQ(pqxx::work(conn)
                  .exec_params1("SELECT count(*) FROM outbox WHERE job_id = $1::uuid", id)[0]
                  .as<int>(),
              1);
  }
};

TEST_F(SlowModels, ACancelledJobsReasoningCallIsCutOffAndRecordedAbandonedWithWhatItCost) {
  CancelMidCallAndExpectItCutOff(
      Submit("How many ways can 6 people sit around a round table?", "hard", "120"), "reasoning");
}

TEST_F(SlowModels, ACancelledJobsInlineCallIsCutOffAndRecordedAbandonedWithWhatItCost) {
  CancelMidCallAndExpectItCutOff(Submit("What is 2 + 3?", "easy", "5"), "inline");
}

// Code checked by its tests through the service: a HumanEval problem from the shared data set,
// answered from recordings the test writes to a temporary folder (the replay provider): the
// standard rung's answer fails the problem's tests, the reasoning rung's (its canonical solution)
// passes them.
class CodeByReplay : public Strategies {
 protected:
  CodeByReplay() {
    problem = HumanEval(0);
    dir = std::filesystem::temp_directory_path() / t::UniqueName("triage-code-replay");
    std::filesystem::create_directories(dir);
    const std::string prompt = problem.at("text");
    auto fenced = [](const std::string& code) { return "```python\n" + code + "```\n"; };
    std::ofstream(dir / "items.jsonl")
        << json{{"id", "code/0"}, {"domain", "code"}, {"text", prompt}}.dump() << '\n';
    std::ofstream outcomes(dir / "outcomes.jsonl");
    outcomes << json{{"item", "code/0"},
                     {"model", "weak"},
                     {"response", fenced(prompt + "    return None\n")}}
                    .dump()
             << '\n'
             << json{{"item", "code/0"},
                     {"model", "strong"},
                     {"response",
                      fenced(prompt + problem.at("canonical_solution").get<std::string>())}}
                    .dump()
             << '\n';
    classifier = [](std::string_view) {
      classify::Classification c;
      c.tier = core::Tier::kEasy;
      return c;
    };
    adjust = [this](Config& c) {
      for (const auto& [model, recorded] :
           {std::pair{"sim-standard", "weak"}, {"sim-reasoning", "strong"}}) {
        auto& m = c.models.at(model);
        m.provider = "replay";
        m.replay_dir = dir.string();
        m.replay_model = recorded;
      }
      c.routing.plans["code.easy"] =
          std::get<route::Plan>(route::ParsePlan("cascade(standard) -> escalate(reasoning)"));
    };
  }
  ~CodeByReplay() override { std::filesystem::remove_all(dir); }
  static json HumanEval(std::size_t index) {
    const char* env = std::getenv("TRIAGE_DATA_DIR");
    const auto path =
        (env && *env ? std::filesystem::path(env)
                     : std::filesystem::path(TRIAGE_SOURCE_DIR) / ".." / "shared" / "data") /
        "code" / "humaneval.jsonl";
    std::ifstream in(path);
    if (!in)
      throw std::runtime_error("shared data file missing: " + path.string() +
                               " (set TRIAGE_DATA_DIR)");
    std::string line;
    for (std::size_t i = 0; std::getline(in, line); ++i)
      if (i == index) return json::parse(line);
    throw std::runtime_error(path.string() + " has no row " + std::to_string(index));
  }
  json problem;
  std::filesystem::path dir;
};

TEST_F(CodeByReplay, AnAnswerFailingItsTestsIsEscalatedAndTheNextStagesPassingAnswerVerified) {
  json body = {{"task", problem.at("text")},
               {"domain", "code"},
               {"callback_url", receiver->url()},
               {"verify",
                {{"kind", "code"},
                 {"tests", problem.at("test")},
                 {"entry_point", problem.at("entry_point")}}},
               {"metadata", {{"sim", {{"replay_item", "code/0"}}}}}};
  const auto res = Post(body.dump());
  ASSERT_EQ(res.status, 202) << res.body;
  const auto id = json::parse(res.body).at("id").get<std::string>();
  const auto job = Done(id);
  EXPECT_EQ(job["state"], "completed") << job.dump(2);
  EXPECT_EQ(job["verification"], "verified");
  ASSERT_EQ(job["attempts"].size(), 2u) << job.dump(2);
  EXPECT_EQ(job["attempts"][0]["role"], "inline");
  EXPECT_EQ(job["attempts"][0]["model"], "sim-standard");
  EXPECT_EQ(job["attempts"][0]["verdict"], "failed");
  EXPECT_EQ(job["attempts"][1]["role"], "reasoning");
  EXPECT_EQ(job["attempts"][1]["verdict"], "passed");
  EXPECT_EQ(job["attempts"][1]["stage"], 1);
  const auto& steps = job["decision"]["steps"];
  ASSERT_EQ(steps.size(), 2u) << job["decision"].dump(2);
  EXPECT_EQ(steps[0]["outcome"], "next");
  EXPECT_TRUE(steps[0]["reason"].get<std::string>().starts_with("failed:")) << steps[0]["reason"];
  EXPECT_EQ(steps[1]["outcome"], "accepted");
  EXPECT_EQ(job["decision"]["answered_by"]["rung"], "reasoning");
  // The answer is the passing code.
  EXPECT_NE(job["answer"].get<std::string>().find(problem.at("entry_point").get<std::string>()),
            std::string::npos)
      << job["answer"];
}

// A hosted model whose reply holds U+0000, which no PostgreSQL text column (nor jsonb) can
// keep: the reply is refused and billed, and the job goes on up the ladder instead of failing
// to be stored.
class NulReplyingModel : public Strategies {
 protected:
  NulReplyingModel() {
    provider.Start();
    adjust = [this](Config& c) {
      ModelConfig m;
      m.name = "hosted";
      m.provider = "openai-compatible";
      m.base_url = "http://127.0.0.1:" + std::to_string(provider.Port()) + "/v1";
      m.pricing = {1'000'000, 2'000'000, 0};  // $1 / $2 per 1M tokens
      c.models["hosted"] = m;
      for (auto& rung : c.routing.ladder.rungs)
        if (rung.name == "standard") rung.model = "hosted";
      Accuracy(c, "sim-reasoning", 1.0);
    };
  }
  std::atomic<int> calls{0};
  http::Server provider{io, http::ServerOptions{},
                        [this](http::Request r) -> boost::asio::awaitable<http::Response> {
                          ++calls;
                          co_return http::JsonResponse(
                              r, http::Status::ok,
                              json{{"id", "c1"},
                                   {"model", "hosted"},
                                   {"choices",
                                    {{{"index", 0},
                                      {"message",
                                       {{"role", "assistant"},
                                        {"content", std::string("The answer is 42\0", 17)}}},
                                      {"finish_reason", "stop"}}}},
                                   {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 10}}}}
                                  .dump());
                        }};
};

TEST_F(NulReplyingModel, IsRefusedAndBilledAndTheJobIsAnsweredByTheNextRung) {
  const auto id = SubmitChecked("What is 17 + 25?", "42");
  const auto job = Done(id);
  EXPECT_EQ(calls.load(), 1);  // refused, not retried
  EXPECT_EQ(job["state"], "completed") << job.dump(2);
  EXPECT_EQ(job["answer"], "42");
  ASSERT_EQ(job["attempts"].size(), 2u) << job.dump(2);
  const auto& refused = job["attempts"][0];
  EXPECT_EQ(refused["model"], "hosted");
  EXPECT_EQ(refused["cost_micros"], 120);  // 100 in at $1/M, 10 out at $2/M: it was paid for
  EXPECT_NE(refused.value("error", "").find("U+0000"), std::string::npos) << refused.dump(2);
  EXPECT_EQ(job["attempts"][1]["model"], "sim-reasoning");
  EXPECT_EQ(job["attempts"][1]["verdict"], "passed");
  EXPECT_GE(job["cost_micros"].get<std::int64_t>(), 120);
}

// A classifier that says "easy" but is unsure of it.
class UnsureClassifier : public Pipeline_ {
 protected:
  UnsureClassifier() {
    classifier = [](std::string_view) {
      classify::Classification c;
      c.tier = core::Tier::kEasy;
      c.probabilities = std::array<double, core::kTierCount>{0.05, 0.40, 0.35, 0.15, 0.05};
      return c;
    };
    confidence_cut = 0.5;
  }
};

TEST_F(UnsureClassifier, ALowProbabilityRoutesTheTaskOneTierUp) {
  const auto id = Submit("Compute 12 * 13.", "easy", "156");
  ASSERT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == 1; }, std::chrono::seconds(60)));
  const auto job = Job(id);
  EXPECT_EQ(job["tier"], "medium");
  // Medium's default plan: a vote of the standard rung first.
  EXPECT_EQ(job["decision"]["plan"], "self_consistency(standard, n=5) -> escalate(reasoning)");
  EXPECT_EQ(job["tier_reasons"].back(), "confidence_cut:easy->medium");
}

// The learned answer estimator in the service (strategy.answer_estimator): recorded GSM8K
// answers of Mixtral (standard rung) and GPT-4 (reasoning rung) through the replay provider,
// judged by the shipped "after the call" router. Of the first items whose Mixtral answer passes
// the step check, the one the router trusts most and the one it trusts least are submitted with
// the math threshold between the two: the first is accepted inline, the second escalated, each
// with the router's probability as its confidence. (Tried with made-up tier probabilities, the
// file gave every answer ~1e-20: the classifier's probabilities on GSM8K vary little, so their
// weights are large, and only the classifier it was trained with may feed it.)
class LearnedEstimator : public Pipeline_ {
 protected:
  static constexpr const char* kMixtral = "mistralai/Mixtral-8x7B-Instruct-v0.1";
  LearnedEstimator() {
    const char* env = std::getenv("TRIAGE_DATA_DIR");
    dir = (env && *env ? std::filesystem::path(env)
                       : std::filesystem::path(TRIAGE_SOURCE_DIR) / ".." / "shared" / "data") /
          "replay" / "gsm8k";
    estimator_file = std::filesystem::path(TRIAGE_SOURCE_DIR) / "models" / "router_gsm8k_after.bin";
    // The trained classifier the file was trained with: its tier probabilities are features.
    classifier = classify::MakeRouterClassifier(
                     std::filesystem::path(TRIAGE_SOURCE_DIR) / "models" / "classifier.bin", 0)
                     .classify;
    const auto set = replay::ReadReplaySet(dir);
    const auto router = route::LearnedRouter::Load(estimator_file);
    if (!router) throw std::runtime_error(router.error);
    for (std::size_t i = 0; i < set.items.size() && i < 100; ++i) {
      const auto& item = set.items[i];
      const auto* outcome = set.Find(item.id, kMixtral);
      if (!outcome || !outcome->response || !item.text ||
          verify::CheckSteps(*outcome->response).verdict.outcome == verify::Outcome::kFailed)
        continue;
      const route::RouterTask task{
          *item.text, classifier(*item.text).probabilities, {{"domain", "math"}}};
      // The engine judges the text without a self-report line, trimmed (route/confidence.hpp).
      const auto seen = route::ParseSelfReport(*outcome->response).text;
      const route::RouterAnswer answer{seen, {}};
      const Pick pick{item.id, *item.text, *router.router->Predict(kMixtral, task, &answer)};
      if (trusted.id.empty() || pick.p > trusted.p) trusted = pick;
      if (doubted.id.empty() || pick.p < doubted.p) doubted = pick;
    }
    threshold = (trusted.p + doubted.p) / 2;
    adjust = [this](Config& c) {
      for (const auto& [model, recorded] :
           {std::pair{"sim-standard", kMixtral}, {"sim-reasoning", "gpt-4-1106-preview"}}) {
        auto& m = c.models.at(model);
        m.provider = "replay";
        m.replay_dir = dir.string();
        m.replay_model = recorded;
      }
      c.answer_estimator = estimator_file.string();
      c.routing.thresholds["math"] = route::Thresholds{threshold, 0.5, 0.5};
      for (const auto tier : core::kAllTiers)
        c.routing.plans["math." + std::string(core::ToString(tier))] =
            std::get<route::Plan>(route::ParsePlan("cascade(standard) -> escalate(reasoning)"));
    };
  }
  std::string SubmitItem(const std::string& item, const std::string& text) {
    const json body = {{"task", text},
                       {"domain", "math"},
                       {"callback_url", receiver->url()},
                       {"metadata", {{"sim", {{"replay_item", item}}}}}};
    const auto res = Post(body.dump());
    EXPECT_EQ(res.status, 202) << res.body;
    return json::parse(res.body).at("id").get<std::string>();
  }
  struct Pick {
    std::string id, text;
    double p = 0;
  };
  std::filesystem::path dir, estimator_file;
  Pick trusted, doubted;
  double threshold = 0;
};

TEST_F(LearnedEstimator, TheRoutersProbabilityDecidesWhetherTheCascadeAcceptsOrEscalates) {
  ASSERT_GT(trusted.p, doubted.p + 0.05) << "the router should tell some answers apart";
  const auto accepted = SubmitItem(trusted.id, trusted.text);
  const auto escalated = SubmitItem(doubted.id, doubted.text);
  ASSERT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == 2; }, std::chrono::seconds(60)));
  const auto a = Job(accepted), e = Job(escalated);
  ASSERT_EQ(a["state"], "completed") << a.dump(2);
  ASSERT_EQ(e["state"], "completed") << e.dump(2);
  const auto& a_steps = a["decision"]["steps"];
  ASSERT_EQ(a_steps.size(), 1u) << a["decision"].dump(2);
  EXPECT_EQ(a_steps[0]["outcome"], "accepted");
  EXPECT_NEAR(a_steps[0]["confidence"].get<double>(), trusted.p, 1e-9);
  EXPECT_EQ(a["decision"]["answered_by"]["rung"], "standard");
  const auto& e_steps = e["decision"]["steps"];
  ASSERT_EQ(e_steps.size(), 2u) << e["decision"].dump(2);
  EXPECT_EQ(e_steps[0]["outcome"], "next");
  EXPECT_NEAR(e_steps[0]["confidence"].get<double>(), doubted.p, 1e-9);
  EXPECT_EQ(e["decision"]["answered_by"]["rung"], "reasoning");
  // The confidence recorded on the attempt is the router's too.
  EXPECT_NEAR(a["attempts"][0]["confidence"].get<double>(), trusted.p, 1e-6);  // stored rounded
}

}  // namespace
}  // namespace triage::app

namespace triage::app {
namespace {

// The whole hostile corpus (tests/hostile/) against the running service, over HTTP and straight
// on Kafka, with good jobs between the bad ones: each bad body gets its error (a dead letter on
// Kafka), each valid one is taken, and every good job completes.
TEST_F(Pipeline_, TheHostileCorpusGetsItsErrorsAndGoodJobsBesideItComplete) {
  const auto cases = hostile::SubmissionCases(config.limits.max_task_bytes);
  std::vector<std::string> good;
  int accepted = 0, bad = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    if (i % 10 == 0) good.push_back(Submit("What is 2 + 3?", "easy", "5"));
    const auto res = Post(c.body);
    if (c.code.empty()) {
      // 200: the same idempotency key as an earlier case, the same job.
      EXPECT_TRUE(res.status == 202 || res.status == 200) << c.name << ": " << res.body;
      ++accepted;
      continue;
    }
    ++bad;
    const int status = c.code == "too_large" ? 413 : c.code == "unknown_domain" ? 422 : 400;
    EXPECT_EQ(res.status, status) << c.name << ": " << res.body;
    const auto error = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(error.is_object()) << c.name << ": " << res.body;
    EXPECT_EQ(error["error"]["code"], c.code) << c.name << ": " << res.body;
  }
  // The same bodies as Kafka envelopes, the envelope-only cases too: every bad one a dead
  // letter with its reason.
  std::atomic<int> letters{0};
  std::mutex mutex;
  std::map<std::string, int> reasons;
  queue::Consumer dlq(config.kafka, {config.topic_prefix + "-dlq", {config.topics().dlq}, 64, 6000},
                      [&](queue::Message m, queue::Consumer::Done done) {
                        std::lock_guard lock(mutex);
                        ++reasons[json::parse(m.payload)["reason"].get<std::string>()];
                        ++letters;
                        done();
                      });
  dlq.Start();
  auto on_kafka = cases;
  for (const auto& c : hostile::EnvelopeCases()) on_kafka.push_back(c);
  std::map<std::string, int> expected_reasons;
  for (const auto& c : on_kafka) {
    // The broker refuses messages over its limit; the API's 413 covers what cannot be produced.
    if (c.body.size() > 512 * 1024) continue;
    producer->Produce(config.topics().jobs, "k", c.body, [](std::string) {});
    if (!c.code.empty()) ++expected_reasons[c.code];
  }
  int expected_letters = 0;
  for (const auto& [code, n] : expected_reasons) expected_letters += n;
  ASSERT_TRUE(
      t::WaitFor([&] { return letters.load() >= expected_letters; }, std::chrono::seconds(120)))
      << letters.load() << " of " << expected_letters << " dead letters";
  dlq.Stop();
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(reasons, expected_reasons);
  }
  ASSERT_TRUE(t::WaitFor([&] { return receiver->DistinctJobs() == good.size(); },
                         std::chrono::seconds(120)));
  for (const auto& id : good) EXPECT_EQ(Job(id)["state"], "completed") << id;
  // Every accepted hostile-but-valid job (over HTTP and Kafka) reaches a final state too.
  pqxx::connection conn(schema.dsn());
  EXPECT_TRUE(t::WaitFor(
      [&] {
        return pqxx::work(conn)
                   .exec(
                       "SELECT count(*) FROM jobs WHERE state NOT IN "
                       "('completed', 'failed', 'expired', 'cancelled')")[0][0]
                   .as<int>() == 0;
      },
      std::chrono::seconds(120)));
  EXPECT_GE(pqxx::work(conn).exec("SELECT count(*) FROM jobs")[0][0].as<int>(),
            static_cast<int>(good.size()) + accepted);
  EXPECT_GT(bad, 100);
}

// Webhook receivers that misbehave, each on its own loopback port: one trickles its answer a
// byte at a time, one never answers, one answers 300 MB, one redirects, one resets the
// connection. Their jobs complete and their deliveries fail with a reason; the good receiver
// still gets every other job's webhook, and the redirect is not followed.
class HostileReceivers {
 public:
  enum class Kind { kTrickle, kSilent, kHuge, kRedirect, kReset };
  HostileReceivers(std::string redirect_to) : redirect_to_(std::move(redirect_to)) {
    for (auto kind : {Kind::kTrickle, Kind::kSilent, Kind::kHuge, Kind::kRedirect, Kind::kReset}) {
      auto& a = acceptors_.emplace_back(
          io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
      ports_.push_back(a.local_endpoint().port());
      boost::asio::co_spawn(io_, Serve(a, kind), boost::asio::detached);
    }
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HostileReceivers() {
    io_.stop();
    thread_.join();
  }
  std::string Url(Kind kind) const {
    return "http://127.0.0.1:" + std::to_string(ports_[static_cast<int>(kind)]) + "/hook";
  }

 private:
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::acceptor& acceptor, Kind kind) {
    namespace net = boost::asio;
    for (int n = 0; n < 100; ++n) {  // bounded: the test's retries are far fewer
      auto socket = std::make_shared<net::ip::tcp::socket>(
          co_await acceptor.async_accept(net::use_awaitable));
      net::co_spawn(io_, Answer(socket, kind), net::detached);
    }
  }
  boost::asio::awaitable<void> Answer(std::shared_ptr<boost::asio::ip::tcp::socket> socket,
                                      Kind kind) {
    namespace net = boost::asio;
    std::array<char, 4096> buf{};
    auto [ec, n] =
        co_await socket->async_read_some(net::buffer(buf), net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    net::steady_timer timer(io_);
    const auto write = [&](std::string_view text) -> net::awaitable<bool> {
      auto [wec, w] = co_await net::async_write(*socket, net::buffer(text.data(), text.size()),
                                                net::as_tuple(net::use_awaitable));
      co_return !wec;
    };
    switch (kind) {
      case Kind::kTrickle:
        for (char c : std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) {
          if (!co_await write(std::string_view(&c, 1))) co_return;
          timer.expires_after(std::chrono::milliseconds(400));
          co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        }
        break;
      case Kind::kSilent:
        timer.expires_after(std::chrono::seconds(60));
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        break;
      case Kind::kHuge: {
        if (!co_await write("HTTP/1.1 200 OK\r\nContent-Length: 314572800\r\n\r\n")) co_return;
        const std::string chunk(64 * 1024, '0');
        for (int i = 0; i < 300 * 16; ++i)  // 300 MB, unless the client leaves first
          if (!co_await write(chunk)) co_return;
        break;
      }
      case Kind::kRedirect:
        co_await write("HTTP/1.1 302 Found\r\nLocation: " + redirect_to_ +
                       "\r\nContent-Length: 0\r\n\r\n");
        break;
      case Kind::kReset:
        socket->set_option(net::socket_base::linger(true, 0));
        socket->close();
        break;
    }
  }

  std::string redirect_to_;
  boost::asio::io_context io_;
  std::deque<boost::asio::ip::tcp::acceptor> acceptors_;  // stable: Serve holds each by reference
  std::vector<unsigned short> ports_;
  std::thread thread_;
};

class HostileWebhooks : public Pipeline_ {
 protected:
  HostileWebhooks() {
    adjust = [](Config& c) {
      c.webhook_timeout_ms = 2000;
      c.notify_max_in_flight = 16;
    };
  }
};

TEST_F(HostileWebhooks, MisbehavingReceiversNeitherBlockNorLoseOtherDeliveries) {
  HostileReceivers hostile(receiver->url());
  using Kind = HostileReceivers::Kind;
  std::map<std::string, Kind> bad;  // job id -> its receiver
  for (auto kind : {Kind::kTrickle, Kind::kSilent, Kind::kHuge, Kind::kRedirect, Kind::kReset}) {
    json body = {{"task", "What is 4 + 4?"},
                 {"domain", "math"},
                 {"callback_url", hostile.Url(kind)},
                 {"metadata", {{"sim", {{"difficulty", "easy"}, {"expected_answer", "8"}}}}}};
    const auto res = Post(body.dump());
    ASSERT_EQ(res.status, 202) << res.body;
    bad[json::parse(res.body)["id"].get<std::string>()] = kind;
  }
  std::vector<std::string> good;
  for (int i = 0; i < 20; ++i)
    good.push_back(Submit("What is 1 + " + std::to_string(i) + "?", "easy", std::to_string(1 + i)));
  ASSERT_TRUE(
      t::WaitFor([&] { return receiver->DistinctJobs() == good.size(); }, std::chrono::seconds(90)))
      << receiver->DistinctJobs() << " of " << good.size();
  // Every hostile delivery was tried and failed with a reason (the 300 MB answer is cut off at
  // the client's body limit), none was followed elsewhere.
  pqxx::connection conn(schema.dsn());
  for (const auto& [id, kind] : bad) {
    EXPECT_EQ(Job(id)["state"], "completed") << id;
    ASSERT_TRUE(t::WaitFor(
        [&] {
          auto r = pqxx::work(conn).exec_params(
              "SELECT webhook_attempts FROM outbox WHERE job_id = $1", id);
          return !r.empty() && r[0][0].as<int>() >= 1;
        },
        std::chrono::seconds(60)))
        << "kind " << static_cast<int>(kind);
    const auto row = pqxx::work(conn).exec_params(
        "SELECT webhook_done_at IS NOT NULL AND NOT webhook_dead, coalesce(last_error, '') "
        "FROM outbox WHERE job_id = $1",
        id)[0];
    EXPECT_FALSE(row[0].as<bool>()) << "kind " << static_cast<int>(kind) << " counted delivered";
    EXPECT_FALSE(row[1].as<std::string>().empty()) << "kind " << static_cast<int>(kind);
  }
  for (const auto& r : receiver->Received()) {
    const auto data_id = json::parse(r.body())["data"]["id"].get<std::string>();
    EXPECT_FALSE(bad.contains(data_id)) << "a redirect was followed for " << data_id;
  }
}

}  // namespace
}  // namespace triage::app

namespace triage::app {
namespace {

// The sum of every sample of `name` (any labels) in a Prometheus exposition.
double SumOf(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + "{", 0) == 0 || line.rfind(name + " ", 0) == 0)
      sum += std::stod(line.substr(line.rfind(' ') + 1));
  return sum;
}

TEST_F(Pipeline_, MetricsCountWhatFlowedThroughTheService) {
  std::vector<std::string> ids;
  ids.push_back(Submit("What is 17 + 25?", "easy", "42"));
  ids.push_back(Submit("What is 3 * 4?", "easy", "12"));
  ids.push_back(Submit("How many ways can 6 people sit around a round table?", "hard", "120"));
  ASSERT_TRUE(
      t::WaitFor([&] { return receiver->DistinctJobs() == ids.size(); }, std::chrono::seconds(60)));
  std::string text;
  ASSERT_TRUE(t::WaitFor(
      [&] {
        const auto res = Get("/metrics");
        text = res.body;
        return res.status == 200 && SumOf(text, "triage_webhook_deliveries_total") >= 3;
      },
      std::chrono::seconds(30)))
      << text;
  EXPECT_EQ(SumOf(text, "triage_jobs_accepted_total"), 3);
  EXPECT_EQ(SumOf(text, "triage_jobs_finished_total"), 3);
  EXPECT_EQ(SumOf(text, "triage_job_duration_seconds_count"), 3);
  // Every attempt recorded with the job is a model call the metrics counted.
  int attempts = 0;
  core::Micros cost = 0;
  for (const auto& id : ids) {
    const auto job = Job(id);
    attempts += static_cast<int>(job["attempts"].size());
    cost += job["cost_micros"].get<core::Micros>();
  }
  EXPECT_EQ(SumOf(text, "triage_model_calls_total"), attempts);
  EXPECT_EQ(SumOf(text, "triage_job_cost_micro_dollars_total"), static_cast<double>(cost));
  EXPECT_NE(
      text.find(
          "triage_jobs_finished_total{domain=\"math\",route=\"reasoning\",state=\"completed\""),
      std::string::npos)
      << text;
  // Truth that arrives later: one job judged right, one judged against a gold answer it misses.
  EXPECT_EQ(Send("POST", "/v1/jobs/" + ids[0] + "/feedback", R"({"correct": true})").status, 201);
  // The simulated model is sometimes wrong (a slip: 3 * 4 = 13), so the gold is one its answer
  // misses, whatever it answered.
  const auto missed = Job(ids[1])["answer"] == "13" ? "14" : "13";
  EXPECT_EQ(Send("POST", "/v1/jobs/" + ids[1] + "/feedback",
                 json{{"gold", missed}}.dump()).status,
            201);
  const auto judged = Get("/metrics").body;
  EXPECT_EQ(SumOf(judged, "triage_feedback_total"), 2);
  EXPECT_NE(judged.find("correct=\"true\""), std::string::npos) << judged;
  EXPECT_NE(judged.find("correct=\"false\""), std::string::npos) << judged;
  EXPECT_EQ(SumOf(judged, "triage_feedback_cost_micro_dollars_total"),
            static_cast<double>(Job(ids[0])["cost_micros"].get<core::Micros>() +
                                Job(ids[1])["cost_micros"].get<core::Micros>()));
}

// Gauges measured from outside the process (Kafka, the outbox), sampled often; a router that
// takes one job at a time on slower simulated calls, so the jobs topic backs up.
class Backlog : public Pipeline_ {
 protected:
  Backlog() {
    adjust = [](Config& c) {
      c.metrics_sample_interval_ms = 100;
      c.router_max_in_flight = 1;
      // Refused webhooks retry every 200 ms at most until the gate opens, and never give up.
      c.webhook_retry.max_attempts = 1000;
      c.webhook_retry.max_delay = std::chrono::milliseconds(200);
      c.SetSimTimeScale(0.2);       // inline answers in 100–400 ms
      c.reaper_grace_seconds = 60;  // jobs waiting their turn on the topic are not re-sent
    };
  }
};

TEST_F(Backlog, LagAndOutboxDepthRiseWhileWorkPilesUpAndFallToZeroOnceDrained) {
  // Webhooks refused with 503 until the gate opens.
  std::atomic<bool> open{false};
  std::atomic<int> delivered{0};
  http::Server gate(io, {"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
                    [&](http::Request req) -> boost::asio::awaitable<http::Response> {
                      if (!open)
                        co_return http::JsonResponse(req, http::Status::service_unavailable, "{}");
                      ++delivered;
                      co_return http::JsonResponse(req, http::Status::ok, "{}");
                    });
  gate.Start();
  const auto url = "http://127.0.0.1:" + std::to_string(gate.Port()) + "/hook";
  constexpr int kJobs = 8;
  for (int i = 0; i < kJobs; ++i) {
    json body = {{"task", "What is 2 + " + std::to_string(i) + "?"},
                 {"domain", "math"},
                 {"callback_url", url},
                 {"metadata",
                  {{"sim", {{"difficulty", "easy"}, {"expected_answer", std::to_string(2 + i)}}}}}};
    ASSERT_EQ(Post(body.dump()).status, 202);
  }
  const std::string lag = "triage_kafka_consumer_lag_messages{group=\"" + config.router_group +
                          "\",topic=\"" + config.topics().jobs + "\"}";
  const std::string paused = "triage_kafka_paused_partitions{group=\"" + config.router_group +
                             "\",topic=\"" + config.topics().jobs + "\"}";
  const std::string webhook_depth = "triage_outbox_depth_rows{waiting_for=\"webhook\"}";
  // One job at a time: the rest wait on the topic, and the consumer is paused at its limit.
  double seen_lag = 0, seen_paused = 0, seen_depth = 0;
  EXPECT_TRUE(t::WaitFor(
      [&] {
        const auto text = Get("/metrics").body;
        seen_lag = std::max(seen_lag, SumOf(text, lag));
        seen_paused = std::max(seen_paused, SumOf(text, paused));
        seen_depth = std::max(seen_depth, SumOf(text, webhook_depth));
        return seen_lag >= 2 && seen_paused >= 1 && seen_depth >= 2;
      },
      std::chrono::seconds(30)))
      << "lag " << seen_lag << ", paused " << seen_paused << ", webhook depth " << seen_depth;
  open = true;
  ASSERT_TRUE(t::WaitFor([&] { return delivered >= kJobs; }, std::chrono::seconds(60)))
      << delivered << " of " << kJobs << " delivered";
  // Drained: nothing behind on the topic, nothing paused, nothing waiting in the outbox.
  std::string text;
  EXPECT_TRUE(t::WaitFor(
      [&] {
        text = Get("/metrics").body;
        return SumOf(text, lag) == 0 && SumOf(text, paused) == 0 &&
               SumOf(text, "triage_outbox_depth_rows") == 0;
      },
      std::chrono::seconds(30)))
      << text;
  EXPECT_EQ(t::UncommittedMessages(config, config.router_group, config.topics().jobs,
                                   config.jobs_partitions),
            0);
  // Every inline call went through the cache (each task new: all misses), and the standard
  // model's breaker stayed closed.
  EXPECT_EQ(SumOf(text, "triage_cache_lookups_total{domain=\"math\",result=\"miss\"}"), kJobs)
      << text;
  EXPECT_EQ(SumOf(text, "triage_model_breaker_state{model=\"sim-standard\"}"), 0) << text;
  EXPECT_NE(text.find("triage_model_breaker_state{model=\"sim-standard\"}"), std::string::npos);
  gate.Stop();
}

}  // namespace
}  // namespace triage::app
