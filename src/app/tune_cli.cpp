#include "app/tune_cli.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "app/answer_estimation.hpp"
#include "app/commands.hpp"
#include "bench/tune.hpp"
#include "bench/tune_estimator.hpp"
#include "route/router_model.hpp"
#include "store/feedback.hpp"

namespace triage::app {
namespace {

// The attempt that gave the job's answer: the decision trail's answered_by.sample.
std::optional<int> AnsweredSample(const store::JobRecord& job) {
  if (!job.decision_json) return std::nullopt;
  const auto d = nlohmann::json::parse(*job.decision_json, nullptr, false);
  if (!d.is_object() || !d.contains("answered_by") || !d["answered_by"].is_object()) return {};
  const auto& s = d["answered_by"]["sample"];
  if (!s.is_number_integer()) return std::nullopt;
  return s.get<int>();
}

bench::TuneJob TuneJobOf(const store::JobWithFeedback& row) {
  const auto& j = row.job;
  bench::TuneJob t;
  t.id = j.id;
  t.task = j.task.text;
  t.domain = j.task.domain;
  t.answer = j.answer;
  t.answered_sample = AnsweredSample(j);
  t.correct = row.feedback.correct;
  t.gold = row.feedback.gold;
  for (const auto& a : j.attempts)
    t.attempts.push_back({a.model, a.sample, a.answer, a.response, a.verdict, a.confidence,
                          static_cast<double>(a.cost_micros) / 1e6,
                          static_cast<double>(a.latency_ms) / 1000.0});
  return t;
}

// Retrains the answer estimator on the jobs and writes it to flags.estimator_out when proposed.
bench::EstimatorTuning TuneEstimator(const std::vector<bench::TuneJob>& jobs,
                                     const TuneFlags& flags, const Config& config) {
  const auto classify = RouterClassifier();  // the service's, for the same tier probabilities
  const auto current = LoadAnswerEstimation(config, classify);
  bench::EstimatorTuneOptions options;
  options.current = current ? current->router.get() : nullptr;
  options.tiers = [&](std::string_view text) { return classify(text).probabilities; };
  for (const auto& [name, model] : config.models) options.ids.emplace(name, EstimatorId(model));
  options.metadata = "triage tune --since " + flags.since + ": " + std::to_string(jobs.size()) +
                     " jobs with feedback; retrained on the jobs outside the held-out split";
  auto tuning = bench::RetrainEstimator(jobs, options);
  if (tuning.params && !flags.estimator_out.empty()) {
    std::ofstream file(flags.estimator_out, std::ios::binary);
    file << route::SerializeRouter(*tuning.params);
    if (!file) throw std::runtime_error("cannot write " + flags.estimator_out);
  }
  return tuning;
}

}  // namespace

int RunTune(const TuneFlags& flags, const Config& config, std::ostream& out, std::ostream& err) {
  const auto target = bench::ParseTarget(flags.target);
  if (const auto* e = std::get_if<std::string>(&target)) {
    err << "triage tune: --target: " << *e << "\n";
    return 2;
  }
  const auto window = bench::ParseWindow(flags.since);
  if (const auto* e = std::get_if<std::string>(&window)) {
    err << "triage tune: --since: " << *e << "\n";
    return 2;
  }
  if (flags.min_outcomes && *flags.min_outcomes < 1) {
    err << "triage tune: --min-outcomes must be at least 1\n";
    return 2;
  }
  pqxx::connection conn(config.postgres.dsn);
  const auto rows =
      store::JobsWithFeedback(conn, std::get<std::int64_t>(window),
                              flags.domain.empty() ? std::nullopt : std::optional(flags.domain));
  std::vector<bench::TuneJob> jobs;
  for (const auto& row : rows) jobs.push_back(TuneJobOf(row));

  bench::TuneOptions options;
  options.target = std::get<bench::Target>(target);
  options.target_text = flags.target;
  options.min_outcomes = flags.min_outcomes;
  options.seed = flags.seed;
  for (const auto& rung : config.routing.ladder.rungs)
    options.rungs.emplace(rung.model, std::pair(rung.name, rung.queued));
  options.header = "triage tune --since " + flags.since +
                   (flags.domain.empty() ? "" : " --domain " + flags.domain) + ": " +
                   std::to_string(jobs.size()) + " jobs with feedback; seed " +
                   std::to_string(flags.seed);
  const auto domains = bench::Tune(jobs, options);
  const auto estimator = TuneEstimator(jobs, flags, config);
  const auto snippet = bench::FormatSnippet(domains, options) +
                       bench::FormatEstimator(estimator, flags.estimator_out);
  if (flags.out.empty()) {
    out << snippet;
  } else {
    std::ofstream file(flags.out, std::ios::binary);
    file << snippet;
    if (!file) throw std::runtime_error("cannot write " + flags.out);
  }
  bool tuned = estimator.params.has_value();
  if (estimator.refused)
    err << "triage tune: answer estimator not retrained: " << *estimator.refused << "\n";
  for (const auto& d : domains) {
    tuned = tuned || !d.refused;
    if (d.refused)
      err << "triage tune: domain " << d.domain << " not tuned: " << *d.refused << "\n";
  }
  if (domains.empty())
    err << "triage tune: no job with feedback created in the last " << flags.since
        << (flags.domain.empty() ? "" : " in domain " + flags.domain) << "\n";
  return tuned ? 0 : 3;
}

void AddTuneCommands(CLI::App& app) {
  auto flags = std::make_shared<TuneFlags>();
  auto* c = app.add_subcommand(
      "tune", "Thresholds per domain from the outcomes of production jobs with feedback");
  c->add_option("--since", flags->since, "Jobs created within this window: 7d, 12h, 30m, 90s")
      ->capture_default_str();
  c->add_option("--target", flags->target,
                "Quality to keep: accuracy>=F*strong (of the strong model's) or accuracy>=A")
      ->required();
  c->add_option("--domain", flags->domain, "Only this domain (default: each domain in the data)");
  c->add_option("--min-outcomes", flags->min_outcomes,
                "Outcomes a domain needs (default: from the target, docs/benchmarks.md)");
  c->add_option("--out", flags->out, "Write the config snippet here (default: standard output)");
  c->add_option("--estimator-out", flags->estimator_out,
                "Write a retrained answer estimator here when the outcomes allow and it is no "
                "worse than the one in service (default: not written)");
  c->add_option("--seed", flags->seed, "Seed of the draws for outcomes not recorded")
      ->capture_default_str();
  c->callback([flags, &app] {
    int rc = 1;
    try {
      const auto config = LoadConfig(app.get_option("--config")->as<std::string>());
      rc = RunTune(*flags, config, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "triage tune: " << e.what() << "\n";
    }
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace triage::app
