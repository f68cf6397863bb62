// The engine with a fake checker and scripted models: no clock, no I/O.
#include "route/engine.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "route/offline.hpp"
#include "route/record.hpp"

namespace triage::route {
namespace {

using core::JobState;
using core::VerificationStatus;
using verify::Outcome;

// Answers are the text after the last "ANSWER "; `truth` says which answers verify, `wrong`
// which fail; anything else has nothing to check. Equivalence folds "0.5" into "1/2".
class FakeChecker : public Checker {
 public:
  std::set<std::string> truth, wrong;
  static std::string AnswerOf(const std::string& text) {
    const auto at = text.rfind("ANSWER ");
    return at == std::string::npos ? "" : text.substr(at + 7);
  }
  static std::string Canonical(std::string a) { return a == "0.5" ? "1/2" : a; }
  Checked Check(const std::string& response) const override {
    const auto answer = AnswerOf(response);
    if (answer.empty()) return {"", verify::Unparseable("no answer")};
    if (truth.contains(Canonical(answer))) return {answer, verify::Pass("matches gold")};
    if (wrong.contains(Canonical(answer))) return {answer, verify::Fail("differs from gold")};
    return {answer, {Outcome::kNoClaims, "nothing to check"}};
  }
  verify::VoteResult Vote(const std::vector<std::string>& responses) const override {
    verify::VoteResult out;
    for (std::size_t i = 0; i < responses.size(); ++i) {
      const auto key = Canonical(AnswerOf(responses[i]));
      if (key.empty()) {
        ++out.unreadable;
        continue;
      }
      auto it = std::find_if(out.classes.begin(), out.classes.end(),
                             [&](const auto& c) { return Canonical(c.representative) == key; });
      if (it == out.classes.end())
        out.classes.push_back({AnswerOf(responses[i]), {i}});
      else
        it->members.push_back(i);
    }
    std::stable_sort(out.classes.begin(), out.classes.end(),
                     [](auto& a, auto& b) { return a.members.size() > b.members.size(); });
    if (!out.classes.empty()) {
      out.has_winner = true;
      out.winner_index = out.classes[0].members[0];
      out.share = double(out.classes[0].members.size()) / double(responses.size());
    }
    return out;
  }
};

Ladder TestLadder() {
  return {{{"small", "m-small", false, 100, std::chrono::milliseconds(200)},
           {"standard", "m-standard", false, 1'000, std::chrono::milliseconds(1'000)},
           {"reasoning", "m-reasoning", true, 50'000, std::chrono::milliseconds(60'000)}}};
}

Plan PlanOf(std::string_view spec) { return std::get<Plan>(ParsePlan(spec)); }

CallResult Says(std::string text, core::Micros cost = 10) {
  return {"m", std::move(text), "", false, cost, std::chrono::milliseconds(5), std::nullopt};
}
CallResult Fails(std::string why) { return {"m", std::nullopt, std::move(why), false, 0, {}, {}}; }

// Runs the engine as a driver would: each CallModels takes the next scripted results of its
// rung; stops at HandOff or Finish. `calls` records what was asked.
struct Driver {
  const Engine& engine;
  std::map<std::string, std::deque<CallResult>> scripts;
  std::vector<CallModels> calls;
  Budget budget;
  std::int64_t now_ms = 0;
  std::int64_t per_call_ms = 0;  // virtual time each call takes

  Action Run(Progress& p, Executor executor) {
    for (int guard = 0; guard < 100; ++guard) {
      auto action = engine.Next(p, executor, budget, now_ms);
      const auto* call = std::get_if<CallModels>(&action);
      if (!call) return action;
      calls.push_back(*call);
      std::vector<CallResult> results;
      for (int i = 0; i < call->count; ++i) {
        auto& q = scripts[call->rung];
        EXPECT_FALSE(q.empty()) << "unscripted call to " << call->rung;
        results.push_back(q.empty() ? Fails("unscripted") : q.front());
        if (!q.empty()) q.pop_front();
      }
      now_ms += per_call_ms;
      engine.Observe(p, *call, std::move(results));
    }
    ADD_FAILURE() << "the engine did not stop";
    return Finish{};
  }
};

class EngineTest : public ::testing::Test {
 protected:
  Engine Make(std::string_view spec, Thresholds t = {0.8, 0.6, 0.5}) {
    return Engine(PlanOf(spec), TestLadder(), t, checker);
  }
  FakeChecker checker;
};

TEST_F(EngineTest, CascadeKeepsAVerifiedConfidentAnswer) {
  checker.truth = {"42"};
  const auto engine = Make("cascade(standard) -> escalate(reasoning)");
  Driver d{engine, {{"standard", {Says("6 * 7\nANSWER 42\nCONFIDENCE: 90")}}}};
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kRouter));
  EXPECT_EQ(finish.state, JobState::kCompleted);
  EXPECT_EQ(finish.answer, "42");
  EXPECT_EQ(finish.verification, VerificationStatus::kVerified);
  EXPECT_FALSE(finish.degraded);
  ASSERT_EQ(p.trail.size(), 1u);
  EXPECT_EQ(p.trail[0].outcome, "accepted");
  EXPECT_EQ(p.trail[0].confidence, 0.9);
  EXPECT_EQ(p.spent, 10);
}

TEST_F(EngineTest, CascadeEscalatesBelowTheConfidenceThresholdAndTheWorkerResumes) {
  checker.truth = {"42"};
  const auto engine = Make("cascade(standard) -> escalate(reasoning)");
  Driver router{engine, {{"standard", {Says("ANSWER 42\nCONFIDENCE: 60")}}}};
  Progress p;
  const auto handoff = std::get<HandOff>(router.Run(p, Executor::kRouter));
  EXPECT_EQ(handoff.rung, "reasoning");
  EXPECT_EQ(handoff.stage, 1);
  ASSERT_EQ(p.trail.size(), 1u);
  EXPECT_EQ(p.trail[0].outcome, "next");
  EXPECT_EQ(p.trail[0].reason, "confidence 0.60 below 0.80");
  // The worker gets the recorded progress (a copy, as if read back from the database).
  Progress resumed = p;
  Driver worker{engine, {{"reasoning", {Says("long thought\nANSWER 42")}}}};
  const auto finish = std::get<Finish>(worker.Run(resumed, Executor::kWorker));
  EXPECT_EQ(finish.answer, "42");
  EXPECT_EQ(finish.sample, 1);
  EXPECT_EQ(resumed.samples.size(), 2u);  // the whole trail: the cheap attempt and the reasoning
  EXPECT_EQ(resumed.trail.size(), 2u);
  EXPECT_EQ(worker.calls.at(0).model, "m-reasoning");
}

TEST_F(EngineTest, AConfidentWrongAnswerIsNotKept) {
  checker.wrong = {"41"};
  const auto engine = Make("cascade(standard) -> direct(small)");
  checker.truth = {"42"};
  Driver d{engine,
           {{"standard", {Says("ANSWER 41\nCONFIDENCE: 99")}}, {"small", {Says("ANSWER 42")}}}};
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kRouter));
  EXPECT_EQ(finish.answer, "42");
  EXPECT_EQ(p.trail[0].reason, "failed: differs from gold");
}

TEST_F(EngineTest, MissingConfidenceTakesTheConfiguredDefaultAndLogProbsWin) {
  const auto engine = Make("cascade(standard) -> direct(small)", {0.8, 0.6, 0.85});
  Driver d{engine, {{"standard", {Says("ANSWER 7\nCONFIDENCE: unsure")}}}};
  Progress p;
  EXPECT_EQ(std::get<Finish>(d.Run(p, Executor::kRouter)).answer, "7");  // default 0.85 >= 0.8
  EXPECT_EQ(p.samples[0].confidence, 0.85);

  auto logprobs = Says("ANSWER 7\nCONFIDENCE: 99");
  logprobs.confidence = 0.3;  // the token log-probabilities say otherwise: they are believed
  Driver d2{engine, {{"standard", {logprobs}}, {"small", {Says("ANSWER 8")}}}};
  Progress p2;
  EXPECT_EQ(std::get<Finish>(d2.Run(p2, Executor::kRouter)).answer, "8");
  EXPECT_EQ(p2.trail[0].reason, "confidence 0.30 below 0.80");
}

TEST_F(EngineTest, AStageMayOverrideTheDomainThreshold) {
  const auto engine = Make("cascade(standard, confidence=0.5) -> direct(small)");
  Driver d{engine, {{"standard", {Says("ANSWER 7\nCONFIDENCE: 60")}}}};
  Progress p;
  EXPECT_EQ(std::get<Finish>(d.Run(p, Executor::kRouter)).answer, "7");
}

TEST_F(EngineTest, BestOfNCallsInParallelAndTheFirstVerifiedSampleWins) {
  checker.truth = {"5"};
  checker.wrong = {"4", "6"};
  const auto engine = Make("best_of_n(standard, n=4) -> escalate(reasoning)");
  Driver d{
      engine,
      {{"standard", {Says("ANSWER 4"), Says("ANSWER 5"), Says("ANSWER 6"), Says("ANSWER 5")}}}};
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kRouter));
  ASSERT_EQ(d.calls.size(), 1u);
  EXPECT_EQ(d.calls[0].count, 4);
  EXPECT_TRUE(d.calls[0].sampled);
  EXPECT_EQ(finish.sample, 1);
  EXPECT_EQ(finish.verification, VerificationStatus::kVerified);
  EXPECT_EQ(p.spent, 40);  // every sample is paid for
}

TEST_F(EngineTest, SequentialBestOfNStopsAtTheFirstVerifiedSample) {
  checker.truth = {"5"};
  const auto engine = Make("best_of_n(standard, n=4, parallel=false) -> escalate(reasoning)");
  Driver d{engine, {{"standard", {Says("ANSWER 4"), Says("ANSWER 5"), Says("ANSWER 5")}}}};
  Progress p;
  EXPECT_EQ(std::get<Finish>(d.Run(p, Executor::kRouter)).sample, 1);
  EXPECT_EQ(d.calls.size(), 2u);
  EXPECT_EQ(d.calls[1].first_sample, 1);
  EXPECT_EQ(p.spent, 20);
}

TEST_F(EngineTest, BestOfNWithNothingVerifiedMovesOn) {
  checker.wrong = {"4"};
  const auto engine = Make("best_of_n(standard, n=2) -> escalate(reasoning)");
  Driver d{engine, {{"standard", {Says("ANSWER 4"), Says("no answer at all")}}}};
  Progress p;
  EXPECT_TRUE(std::holds_alternative<HandOff>(d.Run(p, Executor::kRouter)));
  EXPECT_EQ(p.trail.back().reason, "none of 2 samples verified");
}

TEST_F(EngineTest, SelfConsistencyGroupsByEquivalenceNotByText) {
  const auto engine = Make("self_consistency(standard, n=5) -> escalate(reasoning)");
  Driver d{engine,
           {{"standard",
             {Says("ANSWER 0.5"), Says("ANSWER 3"), Says("ANSWER 1/2"), Says("ANSWER 0.5"),
              Says("ANSWER 3")}}}};
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kRouter));
  EXPECT_EQ(finish.answer, "0.5");  // three of the first four agree: 0.5, 1/2, 0.5
  EXPECT_EQ(finish.verification, VerificationStatus::kUnverified);  // a majority proves nothing
  EXPECT_EQ(p.trail[0].confidence, 0.6);
  EXPECT_EQ(p.trail[0].reason,
            "majority of 5, settled by 3 of 4 samples (share >= 0.60); unverified: nothing to "
            "check");
  EXPECT_EQ(p.trail[0].samples, (std::vector<int>{0, 1, 2, 3}));  // the fifth is not bought
}

TEST_F(EngineTest, SelfConsistencyBelowTheShareMovesOnAndFailedCallsCountAgainst) {
  const auto engine = Make("self_consistency(standard, n=5) -> escalate(reasoning)");
  Driver d{engine,
           {{"standard",
             {Says("ANSWER 2"), Fails("timeout"), Says("ANSWER 2"), Says("ANSWER 7"),
              Fails("timeout")}}}};
  Progress p;
  EXPECT_TRUE(std::holds_alternative<HandOff>(d.Run(p, Executor::kRouter)));
  EXPECT_EQ(p.trail[0].reason, "vote share 0.40 below 0.60");
}

TEST_F(EngineTest, SelfConsistencyStopsOnceTheMajorityIsSettled) {
  const auto engine = Make("self_consistency(standard, n=5) -> escalate(reasoning)");
  Driver d{engine, {{"standard", {Says("ANSWER 8"), Says("ANSWER 8"), Says("ANSWER 8")}}}};
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kRouter));
  EXPECT_EQ(finish.answer, "8");
  ASSERT_EQ(d.calls.size(), 1u);
  EXPECT_EQ(d.calls[0].count, 3);         // three of five agreeing settle a 0.6 share
  EXPECT_EQ(p.trail[0].confidence, 0.6);  // all that is known of the share of five
  EXPECT_EQ(p.spent, 30);
}

TEST_F(EngineTest, SelfConsistencyStopsOnceTheShareIsOutOfReach) {
  const auto engine = Make("self_consistency(standard, n=5) -> escalate(reasoning)");
  Driver d{
      engine,
      {{"standard", {Says("ANSWER 1"), Says("ANSWER 2"), Says("ANSWER 3"), Says("ANSWER 4")}}}};
  Progress p;
  EXPECT_TRUE(std::holds_alternative<HandOff>(d.Run(p, Executor::kRouter)));
  ASSERT_EQ(d.calls.size(), 2u);
  EXPECT_EQ(d.calls[1].count, 1);
  EXPECT_EQ(d.calls[1].first_sample, 3);
  EXPECT_EQ(p.trail[0].reason,
            "vote share cannot reach 0.60: the largest group has 1 of 4 samples, 1 to come");
}

TEST_F(EngineTest, WithoutEarlyStopAllSamplesAreTakenAtOnce) {
  const auto engine =
      Make("self_consistency(standard, n=5, early_stop=false) -> escalate(reasoning)");
  Driver d{engine, {{"standard", std::deque<CallResult>(5, Says("ANSWER 8"))}}};
  Progress p;
  EXPECT_EQ(std::get<Finish>(d.Run(p, Executor::kRouter)).answer, "8");
  ASSERT_EQ(d.calls.size(), 1u);
  EXPECT_EQ(d.calls[0].count, 5);
  EXPECT_EQ(p.trail[0].reason, "majority of 5 (share 1.00); unverified: nothing to check");
}

// Stopping early changes what is paid, never what is decided: over every sequence of five
// samples drawn from a right, a wrong, an unchecked and an unreadable answer and a failed call,
// at several shares, both runs end the same way with the same answer.
TEST_F(EngineTest, EarlyStopDecidesAsTheFullVoteWould) {
  checker.truth = {"1"};
  checker.wrong = {"2"};
  const std::vector<CallResult> kinds = {Says("ANSWER 1"), Says("ANSWER 2"), Says("ANSWER 3"),
                                         Says("no answer"), Fails("timeout")};
  int saved = 0, runs = 0;
  for (const char* share : {"0", "0.4", "0.5", "0.6", "0.8", "1"}) {
    const std::string tail = ", share=" + std::string(share) + ") -> escalate(reasoning)";
    const auto early = Make("self_consistency(standard, n=5" + tail);
    const auto full = Make("self_consistency(standard, n=5, early_stop=false" + tail);
    for (int code = 0; code < 5 * 5 * 5 * 5 * 5; ++code) {
      std::deque<CallResult> script;
      for (int i = 0, c = code; i < 5; ++i, c /= 5) script.push_back(kinds[c % 5]);
      Driver a{early, {{"standard", script}}}, b{full, {{"standard", script}}};
      Progress pa, pb;
      const auto ra = a.Run(pa, Executor::kRouter), rb = b.Run(pb, Executor::kRouter);
      ASSERT_EQ(ra.index(), rb.index()) << share << " " << code;
      if (const auto* fa = std::get_if<Finish>(&ra)) {
        const auto& fb = std::get<Finish>(rb);
        ASSERT_EQ(fa->answer, fb.answer) << share << " " << code;
        ASSERT_EQ(fa->verification, fb.verification) << share << " " << code;
      }
      ASSERT_EQ(pa.accepted, pb.accepted) << share << " " << code;
      ASSERT_EQ(pa.stage, pb.stage) << share << " " << code;
      saved += static_cast<int>(pb.samples.size() - pa.samples.size());
      ++runs;
    }
  }
  EXPECT_GT(saved, runs / 4);  // 7,725 samples of 93,750 not bought (random votes rarely settle)
}

TEST_F(EngineTest, OfflineEveryRungIsCalledInPlaceAndAStepTakesItsSlowestCall) {
  checker.truth = {"5"};
  const auto engine =
      Make("self_consistency(standard, n=3, early_stop=false) -> escalate(reasoning)");
  std::vector<std::pair<std::string, int>> asked;
  const auto run = RunOffline(engine, [&](const CallModels& call, int sample) {
    asked.emplace_back(call.rung, sample);
    auto r = Says(call.rung == "reasoning" ? "ANSWER 5" : "ANSWER " + std::to_string(sample));
    r.latency = std::chrono::milliseconds(100 * (sample + 1));
    return r;
  });
  // Three disagreeing samples (0, 1, 2 at once: 300 ms), then the reasoning rung (400 ms).
  EXPECT_EQ(asked, (std::vector<std::pair<std::string, int>>{
                       {"standard", 0}, {"standard", 1}, {"standard", 2}, {"reasoning", 3}}));
  EXPECT_EQ(run.latency_ms, 700);
  EXPECT_EQ(run.finish.answer, "5");
  EXPECT_EQ(run.finish.verification, VerificationStatus::kVerified);
  EXPECT_EQ(run.progress.spent, 40);
}

// A learned estimate of the answer, when there is one, decides before the self-report.
TEST_F(EngineTest, AnAnswerEstimatorsConfidenceComesFirst) {
  struct Doubtful : AnswerEstimator {
    std::optional<double> Estimate(const std::string& model,
                                   const std::string& response) const override {
      if (model != "m") return std::nullopt;
      return response.find("ANSWER 42") != std::string::npos ? 0.3 : 0.95;
    }
  } estimator;
  checker.truth = {"42", "43"};
  const Engine engine(PlanOf("cascade(standard, confidence=0.5) -> escalate(reasoning)"),
                      TestLadder(), {0.8, 0.6, 0.5}, checker, &estimator);
  Driver d{engine, {{"standard", {Says("ANSWER 42\nCONFIDENCE: 90")}}}};
  Progress p;
  EXPECT_TRUE(std::holds_alternative<HandOff>(d.Run(p, Executor::kRouter)));
  EXPECT_EQ(p.samples[0].confidence, 0.3);
  Driver sure{engine, {{"standard", {Says("ANSWER 43\nCONFIDENCE: 10")}}}};
  Progress q;
  EXPECT_EQ(std::get<Finish>(sure.Run(q, Executor::kRouter)).answer, "43");
}

TEST_F(EngineTest, AMajorityThatFailsVerificationIsNotKept) {
  checker.wrong = {"2"};
  const auto engine = Make("self_consistency(standard, n=3) -> escalate(reasoning)");
  Driver d{engine, {{"standard", {Says("ANSWER 2"), Says("ANSWER 2"), Says("ANSWER 3")}}}};
  Progress p;
  EXPECT_TRUE(std::holds_alternative<HandOff>(d.Run(p, Executor::kRouter)));
  EXPECT_EQ(p.trail[0].reason, "the majority answer fails: differs from gold");
}

TEST_F(EngineTest, TheSeedsEasyMathChainRunsEveryStageInTurn) {
  checker.truth = {"12"};
  const auto engine =
      Make("cascade(standard) -> self_consistency(standard, n=3) -> escalate(reasoning)");
  Driver router{engine,
                {{"standard",
                  {Says("ANSWER 11\nCONFIDENCE: 40"), Says("ANSWER 11"), Says("ANSWER 12"),
                   Says("ANSWER 13")}}}};
  Progress p;
  ASSERT_TRUE(std::holds_alternative<HandOff>(router.Run(p, Executor::kRouter)));
  Driver worker{engine, {{"reasoning", {Says("ANSWER 12")}}}};
  const auto finish = std::get<Finish>(worker.Run(p, Executor::kWorker));
  EXPECT_EQ(finish.answer, "12");
  EXPECT_EQ(finish.verification, VerificationStatus::kVerified);
  ASSERT_EQ(p.trail.size(), 3u);
  EXPECT_EQ(p.trail[0].reason, "confidence 0.40 below 0.80");
  EXPECT_EQ(p.trail[1].reason, "vote share 0.33 below 0.60");
  EXPECT_EQ(p.trail[2].outcome, "accepted");
  EXPECT_EQ(p.trail[1].samples, (std::vector<int>{1, 2, 3}));
}

TEST_F(EngineTest, AStageThatCannotMeetTheDeadlineIsNotStartedAndTheBestAnswerReturns) {
  const auto engine = Make("cascade(standard) -> escalate(reasoning)");
  Driver router{engine, {{"standard", {Says("ANSWER 9\nCONFIDENCE: 30")}}}};
  Progress p;
  ASSERT_TRUE(std::holds_alternative<HandOff>(router.Run(p, Executor::kRouter)));
  // The worker picks it up with 20 s left; the reasoning rung expects 60 s.
  const Budget budget{100'000, std::nullopt};
  const auto finish = std::get<Finish>(engine.Next(p, Executor::kWorker, budget, 80'000));
  EXPECT_EQ(finish.state, JobState::kCompleted);
  EXPECT_TRUE(finish.degraded);
  EXPECT_EQ(finish.answer, "9");
  EXPECT_EQ(finish.reason, "deadline: stage 2 (escalate on reasoning) expects 60.0 s, 20.0 s left");
}

TEST_F(EngineTest, WithNoAnswerYetAnUnmeetableDeadlineExpiresTheJob) {
  const auto engine = Make("cascade(standard)");
  const auto finish = std::get<Finish>(engine.Next({}, Executor::kRouter, {500, std::nullopt}, 0));
  EXPECT_EQ(finish.state, JobState::kExpired);
  EXPECT_FALSE(finish.sample.has_value());
  EXPECT_EQ(
      finish.reason,
      "deadline: stage 1 (cascade on standard) expects 1.0 s, 0.5 s left; no model was called");
}

TEST_F(EngineTest, AStageThatWouldBreakTheCostCapIsNotStarted) {
  const auto engine = Make("self_consistency(small, n=5, early_stop=false) -> escalate(reasoning)");
  Driver d{engine,
           {{"small",
             {Says("ANSWER 1"), Says("ANSWER 2"), Says("ANSWER 3"), Says("ANSWER 4"),
              Says("ANSWER 5")}}}};
  d.budget.max_cost = 20'000;  // $0.02: five small calls fit, the reasoning call does not
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kWorker));
  EXPECT_TRUE(finish.degraded);
  EXPECT_EQ(finish.reason,
            "budget: stage 2 (escalate on reasoning) expects $0.050000, $0.019950 left of the "
            "job's max_cost_usd");
  EXPECT_EQ(d.calls.size(), 1u);
}

TEST_F(EngineTest, WhenEveryStageDeclinesTheBestAnswerIsReturnedVerifiedFirst) {
  checker.truth = {"3"};
  checker.wrong = {"5"};
  const auto engine = Make("cascade(small) -> best_of_n(standard, n=2) -> cascade(standard)");
  Driver d{engine,
           {{"small", {Says("ANSWER 3\nCONFIDENCE: 10")}},
            {"standard", {Says("ANSWER 5"), Says("ANSWER 5"), Says("ANSWER 5")}}}};
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kWorker));
  EXPECT_EQ(finish.answer, "3");  // verified (if unsure) beats confident and wrong
  EXPECT_EQ(finish.sample, 0);
  EXPECT_FALSE(finish.degraded);
  EXPECT_EQ(finish.reason, "no stage accepted an answer; the best one is returned");
}

TEST_F(EngineTest, FailedCallsMoveOnAndNothingAnsweredFailsTheJob) {
  const auto engine = Make("direct(small) -> direct(standard)");
  Driver d{engine, {{"small", {Fails("HTTP 503")}}, {"standard", {Fails("timeout")}}}};
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kWorker));
  EXPECT_EQ(finish.state, JobState::kFailed);
  EXPECT_EQ(p.trail[0].reason, "the call failed: HTTP 503");
  EXPECT_EQ(p.trail[1].reason, "the call failed: timeout");
}

TEST_F(EngineTest, TheDriverCanStopEarlyWithTheBestAnswerSoFar) {
  const auto engine = Make("cascade(standard) -> escalate(reasoning)");
  Driver router{engine, {{"standard", {Says("ANSWER 9\nCONFIDENCE: 30")}}}};
  Progress p;
  router.Run(p, Executor::kRouter);
  const auto finish = engine.Degrade(p, "deadline: the reasoning call ran out of time");
  EXPECT_TRUE(finish.degraded);
  EXPECT_EQ(finish.answer, "9");
  EXPECT_EQ(finish.reason, "deadline: the reasoning call ran out of time");
}

TEST_F(EngineTest, ProgressSurvivesTheTripThroughItsJsonAndTheWorkerResumesFromIt) {
  checker.truth = {"12"};
  const auto engine =
      Make("cascade(standard) -> self_consistency(standard, n=2) -> escalate(reasoning)");
  auto failed = Fails("HTTP 500");
  Driver router{engine,
                {{"standard", {Says("ANSWER 11\nCONFIDENCE: 40"), Says("ANSWER 1/2"), failed}}}};
  Progress p;
  ASSERT_TRUE(std::holds_alternative<HandOff>(router.Run(p, Executor::kRouter)));
  const auto text = ProgressToJson(engine.plan(), p);
  const auto back = ProgressFromJson(text);
  ASSERT_TRUE(back.has_value()) << text;
  EXPECT_EQ(back->first, engine.plan());
  EXPECT_EQ(back->second, p);
  EXPECT_FALSE(ProgressFromJson("{}").has_value());
  EXPECT_FALSE(ProgressFromJson("not json").has_value());

  Driver worker{engine, {{"reasoning", {Says("ANSWER 12")}}}};
  auto resumed = back->second;
  const auto finish = std::get<Finish>(worker.Run(resumed, Executor::kWorker));
  const auto decision = DecisionJson(engine.plan(), resumed, finish);
  EXPECT_EQ(decision["answered_by"]["rung"], "reasoning");
  EXPECT_EQ(decision["answered_by"]["verdict"], "passed");
  EXPECT_EQ(decision["steps"].size(), 3u);
  EXPECT_EQ(decision["steps"][1]["reason"], "vote share 0.50 below 0.60");
  EXPECT_EQ(decision["degraded"], false);
}

TEST_F(EngineTest, AReasoningCallThatRunsOutOfTimeReturnsTheBestAnswerDegraded) {
  const auto engine = Make("cascade(standard) -> escalate(reasoning)");
  auto late = Fails("deadline passed");
  late.timed_out = true;
  Driver d{engine, {{"standard", {Says("ANSWER 9\nCONFIDENCE: 30")}}, {"reasoning", {late}}}};
  Progress p;
  const auto finish = std::get<Finish>(d.Run(p, Executor::kWorker));
  EXPECT_TRUE(finish.degraded);
  EXPECT_EQ(finish.answer, "9");
  EXPECT_EQ(finish.reason,
            "deadline: the call on reasoning ran out of time; the best answer so far is returned");
}

TEST(ValidatePlan, NamesAMissingRungAndAnEscalationToAnUnqueuedRung) {
  EXPECT_EQ(ValidatePlan(PlanOf("cascade(huge)"), TestLadder()),
            "stage 1 (cascade on huge): no rung named 'huge' on the ladder");
  EXPECT_EQ(ValidatePlan(PlanOf("direct(small) -> escalate(standard)"), TestLadder()),
            "stage 2 (escalate on standard): escalate() needs a rung served by the reasoning queue "
            "(queued = true)");
  EXPECT_EQ(ValidatePlan(PlanOf("direct(small) -> escalate(reasoning)"), TestLadder()),
            std::nullopt);
}

}  // namespace
}  // namespace triage::route
