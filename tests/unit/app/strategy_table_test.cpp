#include "app/strategy_table.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/percentile.hpp"
#include "providers/sim.hpp"
#include "route/record.hpp"

namespace triage::app {
namespace {

core::Tier TierOf(const Problem& p) {
  if (p.difficulty == "easy") return core::Tier::kEasy;
  if (p.difficulty == "medium") return core::Tier::kMedium;
  return core::Tier::kHard;
}

std::vector<OfflineJob> Jobs(int count) {
  std::vector<OfflineJob> jobs;
  int i = 0;
  for (auto& p : GenerateWorkload(count, 7)) {
    const auto tier = TierOf(p);
    jobs.push_back({"job-" + std::to_string(i++), std::move(p), tier});
  }
  return jobs;
}

struct Table {
  std::vector<StrategyRow> rows;  // DemoStrategies' order, then the two oracles
  const StrategyRow& Named(const std::string& name) const {
    for (const auto& r : rows)
      if (r.name == name) return r;
    throw std::out_of_range("no row " + name);
  }
};

Table RunAll(const std::vector<OfflineJob>& jobs, const Config& config) {
  const auto models = OfflineModelsOf(config);
  Table t;
  for (const auto& s : DemoStrategies(config.routing, "math"))
    t.rows.push_back(RunStrategy(jobs, s, models));
  std::vector<const StrategyRow*> direct = {&t.rows[0], &t.rows[1]};
  std::vector<const StrategyRow*> all;
  for (const auto& r : t.rows) all.push_back(&r);
  auto by_rung = CheapestCorrect("oracle: rung", jobs, direct, models.ladder);
  auto by_call = CheapestCorrect("oracle: call", jobs, all, models.ladder);
  t.rows.push_back(std::move(by_rung));
  t.rows.push_back(std::move(by_call));
  return t;
}

class StrategyTableTest : public ::testing::Test {
 protected:
  Config config = LoadConfig("");
  std::vector<OfflineJob> jobs = Jobs(200);
};

TEST_F(StrategyTableTest, TheSameJobsAndSeedGiveTheSameTableAndAnotherSeedAnother) {
  const auto a = FormatStrategyTable(RunAll(jobs, config).rows, 1.0);
  EXPECT_EQ(a, FormatStrategyTable(RunAll(jobs, config).rows, 1.0));
  auto other = config;
  other.sim_seed += 1;
  EXPECT_NE(a, FormatStrategyTable(RunAll(jobs, other).rows, 1.0));
}

TEST_F(StrategyTableTest, StandardForAllIsAsAccurateAsTheSimsMixWithinABinomialBand) {
  const auto& profile = config.models.at(config.standard_model).profile;
  double expected = 0, variance = 0;
  for (const auto& job : jobs) {
    const double p = profile.accuracy[static_cast<std::size_t>(
        *providers::ParseSimDifficulty(job.problem.difficulty))];
    expected += p;
    variance += p * (1 - p);
  }
  const auto row = RunAll(jobs, config).Named("standard for all");
  EXPECT_EQ(row.count, 200);
  EXPECT_NEAR(row.correct, expected, 4 * std::sqrt(variance));
  // The reasoning rung is never reached, nothing escalates past the only stage.
  EXPECT_EQ(row.reached_queued, 0);
}

TEST_F(StrategyTableTest, ReasoningForAllCostsMoreAndIsMoreAccurateThanStandardForAll) {
  const auto t = RunAll(jobs, config);
  const auto& standard = t.Named("standard for all");
  const auto& reasoning = t.Named("reasoning for all");
  EXPECT_GT(reasoning.cost, 3 * standard.cost);
  EXPECT_GT(reasoning.correct, standard.correct);
  EXPECT_EQ(reasoning.reached_queued, 200);
  EXPECT_GT(reasoning.p50_s, standard.p50_s);
}

TEST_F(StrategyTableTest, NoRowIsMoreAccurateThanTheOracles) {
  const auto t = RunAll(jobs, config);
  const auto& by_rung = t.Named("oracle: rung");
  const auto& by_call = t.Named("oracle: call");
  for (const auto& r : t.rows) EXPECT_GE(by_call.correct, r.correct) << r.name;
  EXPECT_GE(by_rung.correct, t.Named("standard for all").correct);
  EXPECT_GE(by_rung.correct, t.Named("reasoning for all").correct);
  // One call per job, never dearer than the top rung for all.
  EXPECT_LT(by_rung.cost, t.Named("reasoning for all").cost);
  for (const auto& job : by_call.jobs) EXPECT_EQ(job.progress.samples.size(), 1u);
}

// Every call is recomputed from the sim by its model and sample index: the row's cost is the
// sum of exactly those calls.
TEST_F(StrategyTableTest, ARowsCostIsTheSumOfItsCallsCosts) {
  const auto t = RunAll(jobs, config);
  for (const auto& row : t.rows) {
    core::Micros sum = 0;
    int calls = 0;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      std::set<int> indexes;
      for (const auto& s : row.jobs[j].progress.samples) {
        const auto& m = config.models.at(s.call.model);
        providers::ModelRequest request;
        request.prompt = jobs[j].problem.text;
        request.job_id = jobs[j].id;
        request.sample = s.index;
        request.sim_hints = SimHints(jobs[j].problem);
        const auto outcome = providers::Simulate(
            {m.name, m.profile, m.pricing, config.sim_seed, config.sim_time_scale}, request);
        EXPECT_EQ(s.call.cost, providers::CostOf(outcome.usage, m.pricing));
        EXPECT_EQ(s.call.text, outcome.text);
        sum += providers::CostOf(outcome.usage, m.pricing);
        ++calls;
        if (row.name.starts_with("oracle")) continue;
        EXPECT_TRUE(indexes.insert(s.index).second) << row.name << ": a sample drawn twice";
      }
    }
    EXPECT_EQ(row.cost, sum) << row.name;
    EXPECT_GE(calls, row.count) << row.name;
  }
  // best-of-4 draws one to four standard samples, then at most one reasoning call.
  for (const auto& job : t.Named("best-of-4").jobs) {
    EXPECT_GE(job.progress.samples.size(), 4u);
    EXPECT_LE(job.progress.samples.size(), 5u);
  }
}

TEST_F(StrategyTableTest, EscalationsAreCountedByReasonAndReachTheReasoningRung) {
  const auto t = RunAll(jobs, config);
  const auto& cascade = t.Named("cascade");
  EXPECT_GT(cascade.reasons.at("confidence"), 0);
  EXPECT_EQ(cascade.escalated, cascade.reached_queued);
  int steps = 0;
  for (const auto& [kind, n] : cascade.reasons) steps += n;
  EXPECT_EQ(steps, cascade.escalated);  // one stage to pass from
  const auto& sc = t.Named("self-consistency");
  EXPECT_GT(sc.reasons.at("vote share"), 0);
  EXPECT_EQ(sc.escalated, sc.reached_queued);
  // A last stage that accepts nothing is no escalation: the plan ends, the best answer returned.
  const auto& reasoning = t.Named("reasoning for all");
  EXPECT_EQ(reasoning.escalated, 0);
  EXPECT_TRUE(reasoning.reasons.empty());
  EXPECT_GT(reasoning.unaccepted, 0);
}

// The engine checks with step checks only: an answer computed correctly to a wrong result
// passes them, so some accepted, verified answers are wrong. A checker given the true answer
// would verify none of those.
TEST_F(StrategyTableTest, TheEnginesCheckerIsNotGivenTheTrueAnswers) {
  // The table is kept: a reference into the temporary one dangled (caught by ASan).
  const auto table = RunAll(jobs, config);
  const auto& row = table.Named("standard for all");
  int verified_but_wrong = 0;
  for (const auto& job : row.jobs)
    verified_but_wrong +=
        job.finish.verification == core::VerificationStatus::kVerified && !job.correct;
  EXPECT_GT(verified_but_wrong, 0);
}

TEST_F(StrategyTableTest, RefusesARungWhoseModelIsNotSimulated) {
  auto models = OfflineModelsOf(config);
  models.models.at(config.reasoning_model).provider = "openai";
  const auto strategies = DemoStrategies(config.routing, "math");
  EXPECT_THROW(RunStrategy(jobs, strategies[0], models), std::invalid_argument);
}

TEST(ReasonKind, GroupsTheEnginesReasonsByKind) {
  EXPECT_EQ(route::ReasonKind("confidence 0.72 below 0.80"), "confidence");
  EXPECT_EQ(route::ReasonKind("failed: step 2 states 12 but 3 * 5 = 15"), "verify failed");
  EXPECT_EQ(route::ReasonKind("none of 4 samples verified"), "none verified");
  EXPECT_EQ(route::ReasonKind("vote share 0.40 below 0.60"), "vote share");
  EXPECT_EQ(route::ReasonKind("the call failed: timeout"), "call failed");
  EXPECT_EQ(route::ReasonKind("something new: detail"), "other");  // a bounded set of labels
}

StrategyRow Totals(std::string name, int correct, core::Micros cost) {
  StrategyRow r;
  r.name = std::move(name);
  r.count = 100;
  r.correct = correct;
  r.cost = cost;
  return r;
}

TEST(FormatGoal, JudgesTheRowAgainstTheTopRungForAllAndNamesTheOraclesGap) {
  const auto low = Totals("low", 60, 100), top = Totals("top", 90, 1000);
  const auto oracle = Totals("oracle", 95, 200);
  const auto met = FormatGoal(Totals("row", 89, 400), low, top, {&oracle});
  EXPECT_NE(met.find("98.9% of top's 90.0% (goal >= 98%: met)"), std::string::npos) << met;
  EXPECT_NE(met.find("96.7% of the accuracy gain over low"), std::string::npos) << met;
  EXPECT_NE(met.find("40.0% of top's $0.001000 (goal <= 50%: met)"), std::string::npos) << met;
  EXPECT_NE(met.find("vs oracle (95.0%, $0.000200): -6.0 points of accuracy, 2.00x its cost"),
            std::string::npos)
      << met;
  const auto missed = FormatGoal(Totals("row", 88, 501), low, top, {});
  EXPECT_NE(missed.find("(goal >= 98%: missed)"), std::string::npos) << missed;
  EXPECT_NE(missed.find("(goal <= 50%: missed)"), std::string::npos) << missed;
}

TEST(Percentile, TakesTheNearestRank) {
  EXPECT_EQ(core::Percentile({3, 1, 2}, 0.5), 2);
  EXPECT_EQ(core::Percentile({}, 0.5), 0);
  EXPECT_EQ(core::Percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.95), 10);
}

}  // namespace
}  // namespace triage::app
