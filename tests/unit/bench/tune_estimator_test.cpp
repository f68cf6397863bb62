// Retraining the answer estimator from production outcomes (bench/tune_estimator.hpp): it learns
// a planted signal, scores the held-out jobs, refuses too few outcomes saying how many, and never
// proposes a file that would drop a model the estimator in service knows.
#include "bench/tune_estimator.hpp"

#include <gtest/gtest.h>

#include "classify/dataset.hpp"

namespace triage::bench {
namespace {

// `n` math jobs "What is i + 1?" with a gold, each answered once by `model`: right answers show
// their working, wrong ones slip in the step and hedge. One job in three is wrong.
std::vector<TuneJob> Jobs(int n, const std::string& model = "cheap", bool keep_text = true) {
  std::vector<TuneJob> jobs;
  for (int i = 0; i < n; ++i) {
    TuneJob job;
    job.id = "job-" + std::to_string(i);
    job.task = "What is " + std::to_string(i) + " + 1?";
    job.domain = "math";
    job.gold = std::to_string(i + 1);
    const bool right = i % 3 != 0;
    const auto answer = std::to_string(right ? i + 1 : i + 2);
    TuneAttempt a;
    a.model = model;
    a.sample = 0;
    a.answer = answer;
    a.verdict = "no_claims";
    if (keep_text)
      a.response = right ? std::to_string(i) + " + 1 = " + answer + "\n#### " + answer
                         : "I think maybe " + std::to_string(i) + " + 1 = " + answer +
                               ", but I am not sure.\n#### " + answer;
    job.attempts.push_back(a);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

TEST(RetrainEstimator, LearnsAPlantedSignalAndScoresItOnTheHeldOutJobs) {
  const auto jobs = Jobs(600);
  EstimatorTuneOptions options;
  options.ids = {{"cheap", "vendor/cheap-1"}};
  const auto t = RetrainEstimator(jobs, options);
  ASSERT_FALSE(t.refused) << *t.refused;
  ASSERT_TRUE(t.params);
  EXPECT_EQ(t.judged, 600);
  EXPECT_EQ(t.without_text, 0);
  ASSERT_EQ(t.models.size(), 1u);
  const auto& m = t.models[0];
  EXPECT_EQ(m.id, "vendor/cheap-1");
  int held_out = 0;
  for (const auto& j : jobs) held_out += classify::IsHeldOut(j.id);
  EXPECT_EQ(m.held_out, held_out);
  EXPECT_EQ(m.train + m.held_out, 600);
  ASSERT_TRUE(m.auc);
  EXPECT_GT(*m.auc, 0.95);
  EXPECT_LT(m.brier, m.brier_base);
  // The file keeps the predictor under the model's id, and tells a slip from working.
  const route::LearnedRouter router(*t.params);
  EXPECT_TRUE(router.Has("vendor/cheap-1"));
  const route::RouterTask task{"What is 41 + 1?", std::nullopt, {{"domain", "math"}}};
  const route::RouterAnswer good{"41 + 1 = 42\n#### 42", {}};
  const route::RouterAnswer bad{"I think maybe 41 + 1 = 43, but I am not sure.\n#### 43", {}};
  EXPECT_GT(*router.Predict("vendor/cheap-1", task, &good),
            *router.Predict("vendor/cheap-1", task, &bad));
  // Same jobs, same options: the same file.
  EXPECT_EQ(route::SerializeRouter(*RetrainEstimator(jobs, options).params),
            route::SerializeRouter(*t.params));
  const auto text = FormatEstimator(t, "models/tuned.bin");
  EXPECT_NE(text.find("[strategy]\nanswer_estimator = \"models/tuned.bin\"\n"), std::string::npos)
      << text;
  EXPECT_NE(FormatEstimator(t, "").find("pass --estimator-out FILE"), std::string::npos);
}

TEST(RetrainEstimator, RefusesTooFewOutcomesSayingHowMany) {
  const auto t = RetrainEstimator(Jobs(60), {});
  ASSERT_TRUE(t.refused);
  EXPECT_FALSE(t.params);
  ASSERT_EQ(t.models.size(), 1u);
  ASSERT_TRUE(t.models[0].refused);
  EXPECT_NE(t.models[0].refused->find("at least 100 to train on"), std::string::npos)
      << *t.models[0].refused;
  const auto text = FormatEstimator(t, "x.bin");
  EXPECT_NE(text.find("# not proposed:"), std::string::npos) << text;
  EXPECT_EQ(text.find("answer_estimator ="), std::string::npos) << text;
}

TEST(RetrainEstimator, AnswersWhoseTextWasNotKeptAreCountedAndLeftOut) {
  const auto t = RetrainEstimator(Jobs(300, "cheap", false), {});
  EXPECT_EQ(t.judged, 300);
  EXPECT_EQ(t.without_text, 300);
  ASSERT_TRUE(t.refused);
  EXPECT_FALSE(t.params);
}

TEST(RetrainEstimator, IsComparedWithTheEstimatorInServiceAndNeverDropsAModelItKnows) {
  // An estimator in service trained on the same planted outcomes: the retrained one is as good,
  // so it is proposed...
  auto jobs = Jobs(600);
  const auto first = RetrainEstimator(jobs, {});
  ASSERT_TRUE(first.params);
  const route::LearnedRouter current(*first.params);
  EstimatorTuneOptions options;
  options.current = &current;
  const auto again = RetrainEstimator(jobs, options);
  ASSERT_TRUE(again.params) << again.refused.value_or("");
  ASSERT_TRUE(again.models[0].current_auc);
  EXPECT_GE(*again.models[0].auc, *again.models[0].current_auc);
  // ...but not when a model the one in service knows has too few outcomes to be retrained.
  auto few = Jobs(600, "strong");
  few.resize(30);
  for (auto& j : few) j.id = "other-" + j.id;
  jobs.insert(jobs.end(), few.begin(), few.end());
  const route::LearnedRouter both([&] {
    auto all = Jobs(600, "strong");
    auto cheap = Jobs(600);
    for (auto& j : all) j.id = "s-" + j.id;
    all.insert(all.end(), cheap.begin(), cheap.end());
    return *RetrainEstimator(all, {}).params;
  }());
  options.current = &both;
  const auto dropped = RetrainEstimator(jobs, options);
  ASSERT_TRUE(dropped.refused);
  EXPECT_NE(dropped.refused->find("strong (the estimator in service knows it)"), std::string::npos)
      << *dropped.refused;
  EXPECT_FALSE(dropped.params);
}

}  // namespace
}  // namespace triage::bench
