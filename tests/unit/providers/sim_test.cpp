#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "providers/sim.hpp"

namespace triage::providers {
namespace {

SimOptions Standard(double scale = 1.0) {
  return {"sim-standard", StandardSimProfile(), {3'000'000, 3'000'000, 300'000}, 42, scale};
}

ModelRequest Request(std::string job, std::string difficulty, int attempt = 0) {
  ModelRequest r;
  r.prompt = "How many ways can 5 books be arranged?";
  r.job_id = std::move(job);
  r.attempt = attempt;
  r.sim_hints = {{"difficulty", std::move(difficulty)}, {"expected_answer", "120"}};
  return r;
}

TEST(Sim, IsDeterministicPerSeedJobModelAndAttempt) {
  const auto a = Simulate(Standard(), Request("job-1", "medium"));
  const auto b = Simulate(Standard(), Request("job-1", "medium"));
  EXPECT_EQ(a.correct, b.correct);
  EXPECT_EQ(a.answer, b.answer);
  EXPECT_EQ(a.usage.output, b.usage.output);
  EXPECT_EQ(a.latency, b.latency);
  int differing = 0;
  for (int i = 0; i < 50; ++i) {
    const auto c = Simulate(Standard(), Request("job-1", "medium", i + 1));
    differing += c.usage.output != a.usage.output;
  }
  EXPECT_GT(differing, 40);  // another attempt is another draw
}

TEST(Sim, AccuracyFollowsTheProfileByDifficulty) {
  const std::map<std::string, double> expected = {{"easy", 0.95}, {"medium", 0.60}, {"hard", 0.20}};
  for (const auto& [difficulty, accuracy] : expected) {
    int correct = 0;
    constexpr int kJobs = 20000;
    for (int i = 0; i < kJobs; ++i)
      correct += Simulate(Standard(), Request("job-" + std::to_string(i), difficulty)).correct;
    EXPECT_NEAR(static_cast<double>(correct) / kJobs, accuracy, 0.015) << difficulty;
  }
}

TEST(Sim, WrongAnswersDifferFromTheExpectedOne) {
  for (int i = 0; i < 500; ++i) {
    const auto o = Simulate(Standard(), Request("job-" + std::to_string(i), "hard"));
    EXPECT_EQ(o.correct, o.answer == "120");
  }
}

TEST(Sim, TokensAndScaledLatencyStayInTheProfileRanges) {
  for (int i = 0; i < 500; ++i) {
    const auto o = Simulate(Standard(0.01), Request("job-" + std::to_string(i), "easy"));
    EXPECT_GE(o.usage.output, 375);
    EXPECT_LE(o.usage.output, 625);
    EXPECT_GE(o.latency.count(), 5);    // 0.5 s × 0.01
    EXPECT_LE(o.latency.count(), 20);   // 2 s × 0.01
  }
}

TEST(Sim, ReasoningModelsSplitTokensIntoHiddenReasoning) {
  SimOptions o{"sim-reasoning", ReasoningSimProfile(), {15'000'000, 15'000'000, 0}, 1, 1.0};
  const auto out = Simulate(o, Request("job", "hard"));
  EXPECT_GT(out.usage.reasoning, out.usage.output);
  EXPECT_GE(out.latency, std::chrono::milliseconds(15'000));
}

TEST(Pricing, ReasoningIsBilledAsOutputAndCachedInputAtItsOwnPrice) {
  core::Usage u;
  u.input = 1000;
  u.cached_read = 400;
  u.output = 200;
  u.reasoning = 800;
  const Pricing p{3'000'000, 15'000'000, 300'000};
  // 600 fresh × $3/M + 400 cached × $0.3/M + 1000 out × $15/M = 1800 + 120 + 15000 micro-dollars
  EXPECT_EQ(CostOf(u, p), 16'920);
}

TEST(SimModel, WaitsItsLatencyAndFailsPastTheDeadline) {
  boost::asio::io_context io;
  SimModel model(Standard(0.001));
  auto ok = boost::asio::co_spawn(
      io, model.Complete(Request("job-x", "easy"), std::chrono::steady_clock::now() + std::chrono::seconds(5)),
      boost::asio::use_future);
  auto late = boost::asio::co_spawn(
      io, model.Complete(Request("job-x", "easy"), std::chrono::steady_clock::now()),
      boost::asio::use_future);
  io.run();
  const auto response = ok.get();
  EXPECT_TRUE(response.simulated);
  EXPECT_NE(response.text.find("The answer is"), std::string::npos);
  EXPECT_THROW(late.get(), ModelError);
}

}  // namespace
}  // namespace triage::providers
