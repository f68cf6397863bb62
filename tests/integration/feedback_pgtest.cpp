// POST /v1/jobs/{id}/feedback through the real HTTP server and PostgreSQL: what is stored, the
// repeat and the conflicting repeat, another tenant's job, jobs not yet final, and bad bodies.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "app/pipeline.hpp"
#include "core/ids.hpp"
#include "store/feedback.hpp"
#include "support.hpp"

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;

class Feedback_ : public t::PipelineTest {
 protected:
  void SetUp() override { Start(Roles{true, false, false, false}); }

  // A job of `tenant` left queued, or completed with `answer` (none: ended without one).
  std::string PlantJob(bool finish, std::optional<std::string> answer = "42",
                       const std::string& tenant = "default") {
    store::NewJob job;
    job.id = core::NewUuidV7();
    job.tenant = tenant;
    job.task = {"What is 6 * 7?", "math"};
    job.source = "http";
    pqxx::connection c(config.postgres.dsn);
    store::InsertJob(c, job);
    if (!finish) return job.id;
    const auto token = store::LeaseForInline(c, job.id, "easy", {}, 60);
    store::Completion done;
    done.state = answer ? core::JobState::kCompleted : core::JobState::kFailed;
    done.answer = answer;
    done.event_json = "{}";
    EXPECT_TRUE(store::CompleteJob(c, job.id, *token, done));
    return job.id;
  }
  // A JSON request's headers, as `tenant` when one is named.
  static std::vector<std::pair<std::string, std::string>> As(const std::string& tenant) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"content-type", "application/json"}};
    if (!tenant.empty()) headers.emplace_back("x-tenant", tenant);
    return headers;
  }
  http::ClientResponse Feedback(const std::string& id, const std::string& body,
                                const std::string& tenant = "") {
    return Send("POST", "/v1/jobs/" + id + "/feedback", body, As(tenant));
  }
  std::int64_t StoredRows() {
    pqxx::connection c(config.postgres.dsn);
    return pqxx::work(c).exec1("SELECT count(*) FROM feedback")[0].as<std::int64_t>();
  }
};

TEST_F(Feedback_, StoresCorrectnessAndAnswersTheSameFeedbackAgainWithTheStoredRecord) {
  const auto id = PlantJob(true);
  const auto first = Feedback(id, R"({"correct": true})");
  ASSERT_EQ(first.status, 201) << first.body << first.error;
  const auto body = json::parse(first.body);
  EXPECT_EQ(body["job_id"], id);
  EXPECT_EQ(body["feedback"], json({{"correct", true}}));
  EXPECT_FALSE(body["created_at"].get<std::string>().empty());
  const auto again = Feedback(id, R"({"correct":true})");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, first.body);  // the very record, its time included
  EXPECT_EQ(StoredRows(), 1);
}

TEST_F(Feedback_, StoresAGoldAsSentAndRefusesANumberThatWouldNotBe) {
  const auto id = PlantJob(true);
  const auto number = Feedback(id, R"({"gold": 4.50})");  // the parser would keep 4.5
  EXPECT_EQ(number.status, 400);
  EXPECT_EQ(json::parse(number.body)["error"]["field"], "gold");
  const auto res = Feedback(id, R"({"gold": "4.50"})");
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(json::parse(res.body)["feedback"], json({{"gold", "4.50"}}));
  pqxx::connection c(config.postgres.dsn);
  EXPECT_EQ(pqxx::work(c).exec1("SELECT gold FROM feedback")[0].as<std::string>(), "4.50");
}

TEST_F(Feedback_, RefusesDifferentFeedbackNamingTheStoredOneWhichStays) {
  const auto id = PlantJob(true);
  ASSERT_EQ(Feedback(id, R"({"correct": true})").status, 201);
  for (const auto* other : {R"({"correct": false})", R"({"gold": "41"})"}) {
    const auto res = Feedback(id, other);
    EXPECT_EQ(res.status, 409) << other;
    const auto error = json::parse(res.body)["error"];
    EXPECT_EQ(error["code"], "feedback_exists");
    EXPECT_EQ(error["existing"]["feedback"], json({{"correct", true}})) << res.body;
  }
  EXPECT_EQ(Feedback(id, R"({"correct": true})").status, 200);
  pqxx::connection c(config.postgres.dsn);
  EXPECT_TRUE(pqxx::work(c).exec1("SELECT correct FROM feedback")[0].as<bool>());
}

TEST_F(Feedback_, AnotherTenantsJobAnswersExactlyAsAMissingJob) {
  const auto id = PlantJob(true, "42", "acme");
  const auto theirs = Feedback(id, R"({"correct": false})", "other");
  const auto missing = Feedback(core::NewUuidV7(), R"({"correct": false})", "other");
  EXPECT_EQ(theirs.status, 404);
  EXPECT_EQ(theirs.body, missing.body);
  EXPECT_EQ(Send("GET", "/v1/jobs/" + id, "", As("other")).body, missing.body);  // as GET answers
  EXPECT_EQ(StoredRows(), 0);
  EXPECT_EQ(Feedback(id, R"({"correct": false})", "acme").status, 201);
}

TEST_F(Feedback_, RefusesFeedbackOnAJobNotYetFinal) {
  const auto queued = PlantJob(false);
  const auto res = Feedback(queued, R"({"gold": "42"})");
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(json::parse(res.body)["error"]["code"], "not_final") << res.body;
  {
    pqxx::connection c(config.postgres.dsn);
    ASSERT_TRUE(store::LeaseForInline(c, queued, "easy", {}, 60));
  }
  EXPECT_EQ(Feedback(queued, R"({"gold": "42"})").status, 409);  // running
  EXPECT_EQ(StoredRows(), 0);
}

TEST_F(Feedback_, AJobWithoutAnAnswerTakesAGoldButNoJudgement) {
  const auto id = PlantJob(true, std::nullopt);
  const auto judged = Feedback(id, R"({"correct": true})");
  EXPECT_EQ(judged.status, 409);
  EXPECT_EQ(json::parse(judged.body)["error"]["code"], "no_answer");
  EXPECT_EQ(Feedback(id, R"({"gold": "42"})").status, 201);
}

TEST_F(Feedback_, BadInputGetsA4xxNamingTheFieldAndStoresNothing) {
  const auto id = PlantJob(true);
  struct Case {
    std::string body;
    int status;
    std::string code, field;
  };
  const std::vector<Case> cases = {
      {"{", 400, "invalid_json", ""},
      {"[true]", 400, "not_an_object", ""},
      {"{}", 400, "missing_field", "correct"},
      {R"({"correct": "yes"})", 400, "invalid_field", "correct"},
      {R"({"correct": null})", 400, "invalid_field", "correct"},
      {R"({"gold": ""})", 400, "invalid_field", "gold"},
      {R"({"gold": ["4"]})", 400, "invalid_field", "gold"},
      {R"({"correct": true, "gold": "42"})", 400, "invalid_field", "gold"},
      {R"({"correct": true, "correct": false})", 400, "invalid_json", "correct"},
      {R"({"correct": true, "note": "x"})", 400, "unknown_field", "note"},
      {R"({"gold": ")" + std::string(store::kMaxGoldBytes + 1, '7') + R"("})", 413, "too_large",
       "gold"},
  };
  for (const auto& c : cases) {
    const auto res = Feedback(id, c.body);
    EXPECT_EQ(res.status, c.status) << c.body.substr(0, 60) << " -> " << res.body;
    const auto error = json::parse(res.body)["error"];
    EXPECT_EQ(error["code"], c.code) << c.body.substr(0, 60);
    if (!c.field.empty()) EXPECT_EQ(error["field"], c.field) << c.body.substr(0, 60);
  }
  EXPECT_EQ(Feedback("not-a-uuid", R"({"correct": true})").status, 400);
  EXPECT_EQ(Send("GET", "/v1/jobs/" + id + "/feedback", "").status, 405);
  EXPECT_EQ(StoredRows(), 0);
  EXPECT_EQ(Feedback(id, R"({"gold": "42"})").status, 201);  // nothing was stored before
}

}  // namespace
}  // namespace triage::app
