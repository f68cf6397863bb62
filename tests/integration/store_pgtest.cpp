// The repositories against the real Postgres: idempotency, leases, exactly-once completion.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "core/ids.hpp"
#include "store/db.hpp"
#include "store/jobs.hpp"
#include "store/migrations.hpp"
#include "support.hpp"

namespace triage::store {
namespace {

NewJob Job(std::string tenant = "acme", std::optional<std::string> key = std::nullopt) {
  NewJob j;
  j.id = core::NewUuidV7();
  j.tenant = std::move(tenant);
  j.task = {"What is 2 + 2?", "math"};
  j.source = "http";
  j.callback_url = "http://127.0.0.1:1/hook";
  j.idempotency_key = std::move(key);
  j.metadata_json = R"({"k": "v"})";
  return j;
}

Completion Done(std::string answer) {
  Completion c;
  c.answer = std::move(answer);
  c.result_json = R"({"text": "4"})";
  AttemptRecord a;
  a.role = "inline";
  a.model = "sim-standard";
  a.provider = "sim";
  a.usage.input = 10;
  a.usage.output = 500;
  a.cost_micros = 1530;
  a.latency_ms = 12;
  a.confidence = 0.9;
  c.attempts.push_back(a);
  c.event_json = R"({"type": "job.completed"})";
  return c;
}

class StorePg : public ::testing::Test {
 protected:
  testing::FreshSchema schema;
  pqxx::connection conn{schema.dsn()};
};

TEST_F(StorePg, MigrationsAreIdempotent) {
  EXPECT_TRUE(Migrate(conn).empty());  // FreshSchema applied them already
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM schema_migrations")[0][0].as<int>(),
            static_cast<int>(EmbeddedMigrations().size()));
}

TEST_F(StorePg, InsertsAJobAndReadsItBack) {
  const auto job = Job();
  const auto inserted = InsertJob(conn, job);
  EXPECT_TRUE(inserted.inserted);
  const auto read = GetJob(conn, job.id, true);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->state, core::JobState::kQueued);
  EXPECT_EQ(read->task.text, job.task.text);
  EXPECT_EQ(read->callback_url, job.callback_url);
  EXPECT_EQ(read->metadata_json, R"({"k": "v"})");
  EXPECT_FALSE(GetJob(conn, core::NewUuidV7(), false).has_value());
}

TEST_F(StorePg, IdempotencyKeyReturnsTheFirstJobPerTenant) {
  const auto first = InsertJob(conn, Job("acme", "order-1"));
  const auto again = InsertJob(conn, Job("acme", "order-1"));
  const auto other_tenant = InsertJob(conn, Job("globex", "order-1"));
  EXPECT_TRUE(first.inserted);
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(again.id, first.id);
  EXPECT_TRUE(other_tenant.inserted);
  EXPECT_NE(other_tenant.id, first.id);
  const auto same_id = Job();
  InsertJob(conn, same_id);
  EXPECT_FALSE(InsertJob(conn, same_id).inserted);  // a redelivered Kafka envelope
}

TEST_F(StorePg, TakingALeaseAgainWithItsOwnTokenFindsItAndAnyOtherTokenDoesNot) {
  // What a holder does after its lease's commit was in doubt: ask again with the same token.
  const auto job = Job();
  InsertJob(conn, job);
  const auto mine = core::NewUuidV7();
  EXPECT_EQ(LeaseForInline(conn, job.id, "easy", {}, 60, mine), mine);
  EXPECT_EQ(LeaseForInline(conn, job.id, "easy", {}, 60, mine), mine);
  EXPECT_FALSE(LeaseForInline(conn, job.id, "easy", {}, 60, core::NewUuidV7()).has_value());
  EXPECT_FALSE(LeaseForInline(conn, job.id, "easy", {}, 60).has_value());
  EXPECT_TRUE(CompleteJob(conn, job.id, mine, Done("4")));
  EXPECT_FALSE(LeaseForInline(conn, job.id, "easy", {}, 60, mine).has_value());  // final now

  auto hard = Job();
  InsertJob(conn, hard);
  ASSERT_TRUE(MarkReasoningQueued(conn, hard.id, "hard", {}));
  const auto worker = core::NewUuidV7();
  EXPECT_EQ(LeaseForReasoning(conn, hard.id, 60, worker), worker);
  EXPECT_EQ(LeaseForReasoning(conn, hard.id, 60, worker), worker);
  EXPECT_FALSE(LeaseForReasoning(conn, hard.id, 60, core::NewUuidV7()).has_value());
}

TEST_F(StorePg, OnlyOneHolderLeasesAndOnlyItCompletes) {
  const auto job = Job();
  InsertJob(conn, job);
  const auto token = LeaseForInline(conn, job.id, "easy", {"question:what is"}, 60);
  ASSERT_TRUE(token.has_value());
  EXPECT_FALSE(LeaseForInline(conn, job.id, "easy", {}, 60).has_value());
  EXPECT_FALSE(CompleteJob(conn, job.id, core::NewUuidV7(), Done("5")));  // a stranger's token
  EXPECT_TRUE(CompleteJob(conn, job.id, *token, Done("4")));
  EXPECT_FALSE(CompleteJob(conn, job.id, *token, Done("4")));  // a second completion
  const auto read = GetJob(conn, job.id, true);
  EXPECT_EQ(read->state, core::JobState::kCompleted);
  EXPECT_EQ(read->answer, "4");
  EXPECT_EQ(read->cost_micros, 1530);
  EXPECT_EQ(read->tier, "easy");
  EXPECT_EQ(read->tier_reasons, std::vector<std::string>{"question:what is"});
  ASSERT_EQ(read->attempts.size(), 1u);
  EXPECT_EQ(read->attempts[0].usage.output, 500);
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM outbox")[0][0].as<int>(), 1);
}

TEST_F(StorePg, AnExpiredLeaseCanBeTakenOverAndTheOldHolderLosesIt) {
  const auto job = Job();
  InsertJob(conn, job);
  const auto old_token = LeaseForInline(conn, job.id, "easy", {}, 0);  // expires at once
  ASSERT_TRUE(old_token.has_value());
  const auto new_token = LeaseForInline(conn, job.id, "easy", {}, 60);
  ASSERT_TRUE(new_token.has_value());
  EXPECT_FALSE(CompleteJob(conn, job.id, *old_token, Done("4")));
  EXPECT_TRUE(CompleteJob(conn, job.id, *new_token, Done("4")));
}

TEST_F(StorePg, EscalationKeepsTheInlineAttemptAndHandsTheJobToTheWorker) {
  const auto job = Job();
  InsertJob(conn, job);
  const auto token = LeaseForInline(conn, job.id, "easy", {}, 60);
  ASSERT_TRUE(EscalateToReasoning(conn, job.id, *token, Done("?").attempts));
  const auto worker_token = LeaseForReasoning(conn, job.id, 60);
  ASSERT_TRUE(worker_token.has_value());
  auto reasoning = Done("4");
  reasoning.attempts[0].role = "reasoning";
  reasoning.attempts[0].cost_micros = 120'000;
  ASSERT_TRUE(CompleteJob(conn, job.id, *worker_token, reasoning));
  const auto read = GetJob(conn, job.id, true);
  ASSERT_EQ(read->attempts.size(), 2u);
  EXPECT_EQ(read->attempts[0].role, "inline");
  EXPECT_EQ(read->attempts[1].role, "reasoning");
  EXPECT_EQ(read->cost_micros, 121'530);  // the job pays for both
}

TEST_F(StorePg, ReasoningLeaseNeedsTheHandOff) {
  const auto job = Job();
  InsertJob(conn, job);
  EXPECT_FALSE(LeaseForReasoning(conn, job.id, 60).has_value());  // still queued
  ASSERT_TRUE(MarkReasoningQueued(conn, job.id, "hard", {}));
  EXPECT_FALSE(MarkReasoningQueued(conn, job.id, "hard", {}));
  EXPECT_TRUE(LeaseForReasoning(conn, job.id, 60).has_value());
}

TEST_F(StorePg, OutboxRowsAreClaimedOnceUntilTheirLeaseEnds) {
  const auto job = Job();
  InsertJob(conn, job);
  const auto token = LeaseForInline(conn, job.id, "easy", {}, 60);
  ASSERT_TRUE(CompleteJob(conn, job.id, *token, Done("4")));
  auto claimed = ClaimOutbox(conn, 10, 60);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].webhook_id, "msg_" + job.id);
  EXPECT_FALSE(claimed[0].kafka_published);
  EXPECT_TRUE(ClaimOutbox(conn, 10, 60).empty());
  EXPECT_TRUE(MarkKafkaPublished(conn, claimed[0].id, claimed[0].lease_token));
  EXPECT_TRUE(MarkWebhookFailed(conn, claimed[0].id, claimed[0].lease_token, "HTTP 500", 0, false));
  claimed = ClaimOutbox(conn, 10, 60);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_TRUE(claimed[0].kafka_published);
  EXPECT_EQ(claimed[0].webhook_attempts, 1);
  EXPECT_TRUE(MarkWebhookDelivered(conn, claimed[0].id, claimed[0].lease_token));
  // The lease ended with the delivery: a late second report of the same claim changes nothing.
  EXPECT_FALSE(RetryOutboxLater(conn, claimed[0].id, claimed[0].lease_token, 0));
  EXPECT_TRUE(ClaimOutbox(conn, 10, 60).empty());  // nothing left to do
}

// A notifier paused past its lease (the chaos run's SIGSTOP) wakes up and reports the attempt it
// had started as failed after the next holder delivered the webhook: its report must not undo
// that delivery (it reopened the row, so the webhook was sent again).
TEST_F(StorePg, AnOutboxHolderWhoseLeaseLapsedCannotUndoTheNextHoldersWork) {
  const auto job = Job();
  InsertJob(conn, job);
  const auto token = LeaseForInline(conn, job.id, "easy", {}, 60);
  ASSERT_TRUE(CompleteJob(conn, job.id, *token, Done("4")));
  const auto stale = ClaimOutbox(conn, 10, -1);  // a lease that ran out a second ago
  ASSERT_EQ(stale.size(), 1u);
  const auto current = ClaimOutbox(conn, 10, 60);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_TRUE(MarkKafkaPublished(conn, current[0].id, current[0].lease_token));
  EXPECT_TRUE(MarkWebhookDelivered(conn, current[0].id, current[0].lease_token));
  EXPECT_FALSE(MarkWebhookFailed(conn, stale[0].id, stale[0].lease_token, "timeout", 0, false));
  EXPECT_FALSE(RetryOutboxLater(conn, stale[0].id, stale[0].lease_token, 0));
  EXPECT_TRUE(ClaimOutbox(conn, 10, 60).empty());  // delivered: not to be sent again
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec("SELECT webhook_attempts FROM outbox")[0][0].as<int>(), 1);
}

// A process stopped inside a transaction (the chaos run's SIGSTOPped notifier, caught between its
// claim's UPDATE and COMMIT) holds the rows' locks for as long as it is stopped, and SKIP LOCKED
// hides them from every other claimer: the server must end such a session.
TEST_F(StorePg, AStalledTransactionIsEndedSoItsRowsCanBeClaimedElsewhere) {
  const auto job = Job();
  InsertJob(conn, job);
  const auto token = LeaseForInline(conn, job.id, "easy", {}, 60);
  ASSERT_TRUE(CompleteJob(conn, job.id, *token, Done("4")));
  DbOptions options{schema.dsn(), 1};
  options.idle_in_transaction_timeout_ms = 300;
  Db db(options);
  bool claimed_elsewhere = false;
  try {
    db.RunBlocking([&](pqxx::connection& c) {
      if (claimed_elsewhere) return;  // the retry after the server ended the session
      pqxx::work tx(c);
      tx.exec("SELECT id FROM outbox FOR UPDATE");  // a claim in progress holds the row
      // ... and its holder stalls here, sending nothing, while another notifier claims.
      claimed_elsewhere = testing::WaitFor([&] { return !ClaimOutbox(conn, 10, 60).empty(); },
                                           std::chrono::seconds(10));
      tx.commit();
    });
  } catch (const std::exception&) {
    // The stalled session was ended: its commit fails, as a resumed process's would.
  }
  EXPECT_TRUE(claimed_elsewhere);
}

TEST_F(StorePg, TheReaperFindsLostJobsWaitingLongerBetweenEachResend) {
  const auto job = Job();
  InsertJob(conn, job);
  {
    pqxx::work tx(conn);
    tx.exec("UPDATE jobs SET updated_at = now() - interval '1 hour'");
    tx.commit();
  }
  auto stuck = ClaimStuckJobs(conn, 30, 100);
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_EQ(stuck[0].id, job.id);
  EXPECT_EQ(stuck[0].topic_role, "jobs");
  EXPECT_TRUE(ClaimStuckJobs(conn, 30, 100).empty());  // stamped: not again at once
  // A waiting job is most likely behind a backlog: each re-send waits twice the one before.
  const auto aged = [&](int seconds) {
    pqxx::work tx(conn);
    tx.exec("UPDATE jobs SET updated_at = now() - interval '" + std::to_string(seconds) +
            " seconds'");
    tx.commit();
    return ClaimStuckJobs(conn, 30, 100).size();
  };
  EXPECT_EQ(aged(45), 0u);  // one re-send so far: 60 s now
  EXPECT_EQ(aged(61), 1u);
  EXPECT_EQ(aged(100), 0u);  // two: 120 s
  EXPECT_EQ(aged(121), 1u);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(aged(100 * 3600), 1u);  // eight re-sends now
  EXPECT_EQ(aged(3839), 0u);  // the wait stops growing at 128 grace periods (64 min)
  EXPECT_EQ(aged(3841), 1u);
  const auto expired = Job();
  InsertJob(conn, expired);
  const auto dead_holder = LeaseForInline(conn, expired.id, "easy", {}, 0);
  stuck = ClaimStuckJobs(conn, 30, 100);
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_EQ(stuck[0].id, expired.id);
  // Back in its queue: a new holder takes it and the dead one can no longer complete it.
  EXPECT_EQ(GetJob(conn, expired.id, false)->state, core::JobState::kQueued);
  const auto new_holder = LeaseForInline(conn, expired.id, "easy", {}, 60);
  ASSERT_TRUE(new_holder.has_value());
  EXPECT_FALSE(CompleteJob(conn, expired.id, *dead_holder, Done("4")));
  EXPECT_TRUE(CompleteJob(conn, expired.id, *new_holder, Done("4")));
}

}  // namespace
}  // namespace triage::store
