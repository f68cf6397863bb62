// The simulated model: deterministic per (job, model, sample), accuracy by difficulty, how
// samples and models relate (correlated correctness, a shared wrong answer), worked steps the
// project's own step checker judges, and the self-reported confidence.
#include "providers/sim.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "verify/extract.hpp"
#include "verify/steps.hpp"

namespace triage::providers {
namespace {

SimOptions Standard(double scale = 1.0) {
  return {"sim-standard", StandardSimProfile(), {3'000'000, 3'000'000, 300'000}, 42, scale};
}
SimOptions Reasoning() {
  return {"sim-reasoning", ReasoningSimProfile(), {15'000'000, 15'000'000, 0}, 42, 1.0};
}

// A worked solution in the workload's format: prose, checkable steps, the last one the answer.
constexpr const char* kSteps = R"(["Two packs of 6:", "2 * 6 = 12", "30 + 12 = 42"])";

ModelRequest Request(std::string job, std::string difficulty, int sample = 0) {
  ModelRequest r;
  r.prompt = "Maria has 30 cards and buys 2 packs of 6. How many cards does she have?";
  r.job_id = std::move(job);
  r.sample = sample;
  r.sim_hints = {
      {"difficulty", std::move(difficulty)}, {"expected_answer", "42"}, {"steps", kSteps}};
  return r;
}

std::string Job(int i) { return "job-" + std::to_string(i); }

// Half-width of a band that a binomial proportion leaves less than once in ~15,000 runs.
double Band(double p, int n) { return 4.0 * std::sqrt(p * (1 - p) / n); }

TEST(Sim, IsDeterministicPerSeedJobModelAndSample) {
  const auto a = Simulate(Standard(), Request("job-1", "medium"));
  auto retried = Request("job-1", "medium");
  retried.attempt = 3;  // a retry of the same sample is the same sample
  for (const auto& b :
       {Simulate(Standard(), Request("job-1", "medium")), Simulate(Standard(), retried)}) {
    EXPECT_EQ(a.correct, b.correct);
    EXPECT_EQ(a.text, b.text);
    EXPECT_EQ(a.usage.output, b.usage.output);
    EXPECT_EQ(a.latency, b.latency);
  }
  int differing = 0;
  for (int i = 1; i <= 50; ++i) {
    const auto c = Simulate(Standard(), Request("job-1", "medium", i));
    differing += c.usage.output != a.usage.output;
  }
  EXPECT_GT(differing, 40);  // another sample is another draw
  auto other_seed = Standard();
  other_seed.seed = 43;
  int seed_differs = 0;
  for (int i = 0; i < 50; ++i)
    seed_differs += Simulate(other_seed, Request(Job(i), "medium")).usage.output !=
                    Simulate(Standard(), Request(Job(i), "medium")).usage.output;
  EXPECT_GT(seed_differs, 40);
}

TEST(Sim, AccuracyFollowsTheProfileByDifficulty) {
  constexpr int kJobs = 20000;
  for (const auto& options : {Standard(), Reasoning()}) {
    for (int d = 0; d < 3; ++d) {
      static const char* kNames[] = {"easy", "medium", "hard"};
      const double accuracy = options.profile.accuracy[d];
      int correct = 0;
      for (int i = 0; i < kJobs; ++i)
        correct += Simulate(options, Request(Job(i), kNames[d], i % 7)).correct;
      EXPECT_NEAR(static_cast<double>(correct) / kJobs, accuracy, Band(accuracy, kJobs))
          << options.name << " " << kNames[d];
    }
  }
}

TEST(Sim, WithoutCorrelationSamplesOfAJobAreIndependentDraws) {
  auto o = Standard();
  o.profile.same_job_correlation = o.profile.cross_model_correlation = 0;
  constexpr int kSamples = 2000;
  int correct = 0, both = 0;
  bool previous = false;
  for (int s = 0; s < kSamples; ++s) {
    const bool now = Simulate(o, Request("one-job", "medium", s)).correct;
    correct += now;
    both += s > 0 && now && previous;
    previous = now;
  }
  EXPECT_NEAR(correct / double(kSamples), 0.60, Band(0.60, kSamples));
  EXPECT_NEAR(both / double(kSamples - 1), 0.36, Band(0.36, kSamples - 1));  // P(right)^2
}

// With the defaults some jobs are hard for every sample: best-of-5 on medium (accuracy 0.6)
// solves fewer jobs than five independent draws (1 - 0.4^5 = 99%) would, and a hard job the
// standard model got right is easier for the reasoning model too (about 83% right vs 69% after
// a standard failure). Marginal accuracy stays as configured.
TEST(Sim, SameJobCorrelationMakesSomeJobsHardForEverySampleAndModel) {
  constexpr int kJobs = 2000;
  int any_of_five = 0, correct = 0;
  int standard_right = 0, both_right = 0, standard_wrong = 0, reasoning_right_after_wrong = 0;
  for (int i = 0; i < kJobs; ++i) {
    bool any = false;
    for (int s = 0; s < 5; ++s) {
      const bool right = Simulate(Standard(), Request(Job(i), "medium", s)).correct;
      any |= right;
      correct += right;
    }
    any_of_five += any;
    const bool s_right = Simulate(Standard(), Request(Job(i), "hard")).correct;
    const bool r_right = Simulate(Reasoning(), Request(Job(i), "hard")).correct;
    (s_right ? standard_right : standard_wrong) += 1;
    (s_right ? both_right : reasoning_right_after_wrong) += r_right;
  }
  EXPECT_NEAR(correct / (5.0 * kJobs), 0.60, Band(0.60, kJobs));  // samples of a job correlate
  EXPECT_LT(any_of_five / double(kJobs), 0.95);
  EXPECT_GT(any_of_five / double(kJobs), 0.80);
  EXPECT_GT(both_right / double(standard_right),
            reasoning_right_after_wrong / double(standard_wrong) + 0.05);
}

TEST(Sim, WrongAnswersDifferFromTheExpectedOneAndArePlausible) {
  for (int i = 0; i < 2000; ++i) {
    const auto o = Simulate(Standard(), Request(Job(i), "hard"));
    EXPECT_EQ(o.correct, o.answer == "42");
    const long long value = std::stoll(o.answer);
    EXPECT_GE(value, 0) << "a count stays a count";
    EXPECT_LE(value, 63) << "within 50% of 42";
  }
}

TEST(Sim, CorrelatedErrorsRepeatTheJobsWrongAnswerAtTheConfiguredRate) {
  for (const double rho : {0.0, 0.5, 1.0}) {
    auto standard = Standard(), reasoning = Reasoning();
    standard.profile.error_correlation = reasoning.profile.error_correlation = rho;
    int wrong = 0, shared = 0;
    for (int i = 0; i < 400; ++i) {
      std::set<std::string> shared_answers;
      for (int s = 0; s < 10; ++s) {
        for (const auto& options : {standard, reasoning}) {
          const auto o = Simulate(options, Request(Job(i), "hard", s));
          if (o.correct) continue;
          ++wrong;
          shared += o.shared_wrong;
          if (o.shared_wrong) shared_answers.insert(o.answer);
        }
      }
      EXPECT_LE(shared_answers.size(), 1u) << "one shared wrong answer per job, every model";
    }
    EXPECT_NEAR(shared / double(wrong), rho, Band(0.5, wrong)) << rho;
  }
}

// Self-consistency's failure mode: with a high error correlation the wrong answer can win the
// vote on hard jobs (more wrong votes agree than right ones).
TEST(Sim, MajoritiesCanBeWrong) {
  int wrong_majorities = 0;
  for (int i = 0; i < 200; ++i) {
    std::map<std::string, int> votes;
    for (int s = 0; s < 5; ++s) ++votes[Simulate(Standard(), Request(Job(i), "hard", s)).answer];
    const auto top = std::max_element(votes.begin(), votes.end(),
                                      [](auto& a, auto& b) { return a.second < b.second; });
    wrong_majorities += top->first != "42";
  }
  EXPECT_GT(wrong_majorities, 100);
}

int ParsedConfidence(const std::string& text) {
  static const std::regex line(R"(\nCONFIDENCE: (\d{1,3})\n)");
  std::smatch m;
  return std::regex_search(text, m, line) ? std::stoi(m[1]) : -1;
}

TEST(Sim, TheTextParsesToTheIntendedAnswerAndItsStepsJudgeAsIntended) {
  int slipped = 0, caught_wrong = 0, uncaught_wrong = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto o = Simulate(Standard(), Request(Job(i), "medium"));
    const auto extraction = verify::ExtractAnswer(o.text);
    ASSERT_TRUE(extraction) << o.text;
    EXPECT_EQ(extraction->answer, o.answer) << o.text;
    EXPECT_EQ(extraction->method, verify::ExtractionMethod::kAnswerIs) << o.text;
    const auto steps = verify::CheckSteps(o.text);
    EXPECT_EQ(steps.verdict.outcome == verify::Outcome::kFailed, o.slipped) << o.text;
    EXPECT_GE(steps.claims.size(), 2u) << o.text;
    EXPECT_EQ(ParsedConfidence(o.text), std::lround(o.confidence * 100)) << o.text;
    slipped += o.slipped;
    if (!o.correct) (o.slipped ? caught_wrong : uncaught_wrong) += 1;
  }
  // Wrong answers: slip_share (0.2) of them show a slip a step check catches.
  const int wrong = caught_wrong + uncaught_wrong;
  EXPECT_NEAR(caught_wrong / double(wrong), 0.2, Band(0.2, wrong));
  EXPECT_GT(slipped, caught_wrong);  // some right answers carry a slip too (slip_when_right)
}

TEST(Sim, SlipSettingsDecideWhatTheStepCheckerSees) {
  auto all_slips = Standard();
  all_slips.profile.slip_share = 1.0;
  all_slips.profile.slip_when_right = 1.0;
  auto no_slips = Standard();
  no_slips.profile.slip_share = 0.0;
  no_slips.profile.slip_when_right = 0.0;
  for (int i = 0; i < 500; ++i) {
    const auto a = Simulate(all_slips, Request(Job(i), "medium"));
    EXPECT_EQ(verify::CheckSteps(a.text).verdict.outcome, verify::Outcome::kFailed) << a.text;
    EXPECT_EQ(verify::ExtractAnswer(a.text)->answer, a.answer);
    const auto b = Simulate(no_slips, Request(Job(i), "medium"));
    // A wrong answer without a slip is a correctly computed wrong step: nothing to catch.
    EXPECT_EQ(verify::CheckSteps(b.text).verdict.outcome, verify::Outcome::kPassed) << b.text;
    EXPECT_EQ(b.correct, verify::ExtractAnswer(b.text)->answer == "42") << b.text;
    EXPECT_EQ(a.correct, b.correct);  // the slip settings change the text, not the outcome
  }
}

TEST(Sim, WithoutStepsTheTextIsTheConfidenceAndTheAnswer) {
  auto r = Request("job-1", "easy");
  r.sim_hints.erase("steps");
  const auto o = Simulate(Standard(), r);
  EXPECT_EQ(o.text, "CONFIDENCE: " + std::to_string(std::lround(o.confidence * 100)) +
                        "\nThe answer is " + o.answer + ".");
  EXPECT_FALSE(o.slipped);
}

TEST(Sim, ConfidenceFollowsTheConfiguredCalibration) {
  double right_sum = 0, wrong_sum = 0;
  int right = 0, wrong = 0, confident_wrong = 0;
  for (int i = 0; i < 4000; ++i) {
    const auto o = Simulate(Standard(), Request(Job(i), "medium"));
    EXPECT_GE(o.confidence, 0.0);
    EXPECT_LE(o.confidence, 1.0);
    (o.correct ? right_sum : wrong_sum) += o.confidence;
    (o.correct ? right : wrong) += 1;
    confident_wrong += !o.correct && o.confidence >= 0.8;
  }
  // Means 0.85 / 0.75 with spread 0.10: the standard error of a mean is 0.10 / sqrt(n).
  EXPECT_NEAR(right_sum / right, 0.85, 4 * 0.10 / std::sqrt(right));
  EXPECT_NEAR(wrong_sum / wrong, 0.75, 4 * 0.10 / std::sqrt(wrong));
  // Overconfident, as the seed warns: about 30% of wrong answers claim 80 or more.
  EXPECT_GT(confident_wrong / double(wrong), 0.2);

  auto exact = Standard();
  exact.profile.confidence_spread = 0;
  exact.profile.confidence_right = 0.9;
  exact.profile.confidence_wrong = 0.3;
  for (int i = 0; i < 100; ++i) {
    const auto o = Simulate(exact, Request(Job(i), "medium"));
    EXPECT_DOUBLE_EQ(o.confidence, o.correct ? 0.9 : 0.3);
    EXPECT_EQ(ParsedConfidence(o.text), o.correct ? 90 : 30);
  }
}

TEST(Sim, RefusesHintsItCannotRead) {
  auto bad_steps = Request("job-1", "easy");
  bad_steps.sim_hints["steps"] = R"({"not": "a list"})";
  EXPECT_THROW(Simulate(Standard(), bad_steps), ModelError);
  auto bad_difficulty = Request("job-1", "trivial");
  try {
    Simulate(Standard(), bad_difficulty);
    ADD_FAILURE() << "an unknown difficulty was accepted";
  } catch (const ModelError& e) {
    EXPECT_FALSE(e.Retryable());
    EXPECT_EQ(e.Kind(), ErrorKind::kRequest);
    EXPECT_NE(std::string(e.what()).find("trivial"), std::string::npos);
  }
}

TEST(Sim, TokensAndScaledLatencyStayInTheProfileRanges) {
  for (int i = 0; i < 500; ++i) {
    const auto o = Simulate(Standard(0.01), Request(Job(i), "easy"));
    EXPECT_GE(o.usage.output, 375);
    EXPECT_LE(o.usage.output, 625);
    EXPECT_GE(o.latency.count(), 5);   // 0.5 s × 0.01
    EXPECT_LE(o.latency.count(), 20);  // 2 s × 0.01
  }
}

TEST(Sim, ReasoningModelsSplitTokensIntoHiddenReasoning) {
  const auto out = Simulate(Reasoning(), Request("job", "hard"));
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
      io,
      model.Complete(Request("job-x", "easy"),
                     std::chrono::steady_clock::now() + std::chrono::seconds(5)),
      boost::asio::use_future);
  auto late = boost::asio::co_spawn(
      io, model.Complete(Request("job-x", "easy"), std::chrono::steady_clock::now()),
      boost::asio::use_future);
  io.run();
  const auto response = ok.get();
  EXPECT_TRUE(response.simulated);
  const auto expected = Simulate(Standard(0.001), Request("job-x", "easy"));
  EXPECT_EQ(response.text, expected.text);
  // The sim reports its confidence in the text, as a model does; `confidence` is for one the
  // provider computes from log-probabilities, which the sim has none of.
  EXPECT_FALSE(response.confidence.has_value());
  EXPECT_THROW(late.get(), ModelError);
}

TEST(SimModel, ACancelledCallEndsAtOnceBillingWhatItHadGenerated) {
  boost::asio::io_context io;
  SimModel model(Reasoning());  // at least 15 s of real waiting
  const auto request = Request("job-x", "hard");
  boost::asio::cancellation_signal cancel;
  auto call = boost::asio::co_spawn(
      io, model.Complete(request, std::chrono::steady_clock::now() + std::chrono::hours(1)),
      boost::asio::bind_cancellation_slot(cancel.slot(), boost::asio::use_future));
  // Runs once the call waits: the caller gives up on it.
  boost::asio::post(io, [&] { cancel.emit(boost::asio::cancellation_type::terminal); });
  io.run();
  try {
    call.get();
    FAIL() << "a cancelled call answered";
  } catch (const ModelError& e) {
    EXPECT_EQ(e.Kind(), ErrorKind::kCancelled) << e.what();
    EXPECT_FALSE(e.Retryable());
    ASSERT_TRUE(e.PartialUsage());
    const auto whole = Simulate(Reasoning(), request).usage;
    EXPECT_EQ(e.PartialUsage()->input, whole.input);  // the prompt was read
    EXPECT_LT(e.PartialUsage()->output + e.PartialUsage()->reasoning,
              whole.output + whole.reasoning);
  }
}

TEST(SimModel, ACutOffCallBillsThePromptAndItsShareOfTheOutput) {
  core::Usage u;
  u.input = 100;
  u.output = 41;
  u.reasoning = 20;
  const auto half = CutOffUsage(u, 0.5);
  EXPECT_EQ(half.input, 100);
  EXPECT_EQ(half.output, 20);  // rounded down
  EXPECT_EQ(half.reasoning, 10);
  EXPECT_EQ(CutOffUsage(u, -1).output, 0);
  EXPECT_EQ(CutOffUsage(u, 2).output, 41);
}

}  // namespace
}  // namespace triage::providers
