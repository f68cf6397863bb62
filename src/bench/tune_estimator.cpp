#include "bench/tune_estimator.hpp"

#include <fmt/core.h>

#include "classify/dataset.hpp"
#include "learn/binary_metrics.hpp"

namespace triage::bench {
namespace {

// One judged answer: its job's task and the answer, built into rows on demand (the estimator in
// service may lay its features out differently).
struct Judged {
  const TuneJob* job;
  const TuneAttempt* attempt;
  double target;
  bool held_out;
};

route::RouterTask TaskOf(
    const TuneJob& job, const EstimatorTuneOptions& o,
    std::map<std::string, std::optional<std::array<double, core::kTierCount>>>& tiers_by_job) {
  auto [it, fresh] = tiers_by_job.try_emplace(job.id);
  if (fresh && o.tiers && !job.task.empty()) it->second = o.tiers(job.task);
  return {job.task, it->second, {{"domain", job.domain}}};
}

std::string Fixed(std::optional<double> x) { return x ? fmt::format("{:.3f}", *x) : "-"; }

}  // namespace

EstimatorTuning RetrainEstimator(const std::vector<TuneJob>& jobs, const EstimatorTuneOptions& o) {
  EstimatorTuning t;
  std::map<std::string, std::vector<Judged>> by_model;
  std::vector<std::vector<std::pair<std::string, std::string>>> labels;
  for (const auto& job : jobs) {
    const bool held_out = classify::IsHeldOut(job.id);
    if (!held_out) labels.push_back({{"domain", job.domain}});
    for (const auto& a : job.attempts) {
      const auto right = JudgeAttempt(job, a);
      if (!right) continue;
      ++t.judged;
      if (!a.response) {
        ++t.without_text;
        continue;
      }
      by_model[a.model].push_back({&job, &a, *right ? 1.0 : 0.0, held_out});
    }
  }

  route::RouterFeatureConfig features;
  if (o.current) {
    features = o.current->features();
  } else {
    features.text = {learn::kRouterHashBits, learn::kRouterCharNgramMin, learn::kRouterCharNgramMax,
                     true};
  }
  features.kind = route::RouterKind::kAfter;
  features.vocabulary = learn::BuildVocabulary(labels);

  std::map<std::string, std::optional<std::array<double, core::kTierCount>>> tiers;
  const auto row = [&](const Judged& j, const route::RouterFeatureConfig& f) {
    const auto task = TaskOf(*j.job, o, tiers);
    const route::RouterAnswer answer{*j.attempt->response, {}};
    return route::BuildRouterRow(f, task, &answer);
  };
  const auto id_of = [&](const std::string& model) {
    const auto it = o.ids.find(model);
    return it == o.ids.end() ? model : it->second;
  };

  std::vector<learn::RouterExample> examples;
  for (const auto& [model, judged] : by_model) {
    EstimatorModelFigures m;
    m.model = model;
    m.id = id_of(model);
    for (const auto& j : judged) {
      (j.held_out ? m.held_out : m.train) += 1;
      (j.held_out ? m.held_out_right : m.train_right) += static_cast<int>(j.target);
    }
    const auto each = [&](int n, int right) { return std::min(right, n - right) >= o.min_class; };
    if (m.train < o.min_train || !each(m.train, m.train_right) ||
        !each(m.held_out, m.held_out_right))
      m.refused = fmt::format(
          "{} judged answers to train on ({} right) and {} held out ({} right); it needs at "
          "least {} to train on and {} right and {} wrong on each side",
          m.train, m.train_right, m.held_out, m.held_out_right, o.min_train, o.min_class,
          o.min_class);
    else
      for (const auto& j : judged)
        if (!j.held_out) examples.push_back({m.id, row(j, features), j.target});
    t.models.push_back(std::move(m));
  }
  if (examples.empty()) {
    t.refused = t.judged == 0 ? "no answer is judged by its job's feedback"
                              : "no model has enough judged answers with their text";
    return t;
  }

  auto params = learn::TrainRouter(examples, features, o.params, o.metadata);
  const route::LearnedRouter retrained(params);
  std::vector<std::string> worse;
  for (auto& m : t.models) {
    const bool current_knows = o.current && o.current->Has(m.id);
    if (m.refused) {
      if (current_knows) worse.push_back(m.model + " (the estimator in service knows it)");
      continue;
    }
    std::vector<learn::Scored> mine, theirs;
    for (const auto& j : by_model.at(m.model)) {
      if (!j.held_out) continue;
      mine.push_back({*retrained.Predict(m.id, row(j, features)), j.target});
      if (current_knows)
        theirs.push_back({*o.current->Predict(m.id, row(j, o.current->features())), j.target});
    }
    const auto report = learn::EvaluateBinary(mine);
    m.auc = report.auc;
    m.brier = report.brier;
    m.brier_base = report.brier_base;
    if (current_knows) {
      const auto current = learn::EvaluateBinary(theirs);
      m.current_auc = current.auc;
      m.current_brier = current.brier;
    }
    if (m.brier >= m.brier_base)
      worse.push_back(m.model + " (no better than its base rate)");
    else if (m.current_auc && m.auc && *m.auc < *m.current_auc)
      worse.push_back(m.model + " (ranks its answers worse than the estimator in service)");
  }
  if (!worse.empty()) {
    std::string list;
    for (const auto& w : worse) list += (list.empty() ? "" : ", ") + w;
    t.refused = "the retrained estimator would be worse for " + list;
    return t;
  }
  t.params = std::move(params);
  return t;
}

std::string FormatEstimator(const EstimatorTuning& t, const std::string& path) {
  std::string out = fmt::format(
      "\n# answer estimator: {} judged answers, {} of them without their text (left out); "
      "trained on the jobs outside the held-out split, scored on the held-out ones\n",
      t.judged, t.without_text);
  for (const auto& m : t.models) {
    out += fmt::format("#   {}{}: {} to train on ({} right), {} held out ({} right)", m.model,
                       m.id == m.model ? "" : " (" + m.id + ")", m.train, m.train_right, m.held_out,
                       m.held_out_right);
    if (m.refused) {
      out += "; not trained: " + *m.refused + "\n";
      continue;
    }
    out += fmt::format(": AUC {}, Brier {} (base rate {})", Fixed(m.auc), Fixed(m.brier),
                       Fixed(m.brier_base));
    if (m.current_brier)
      out += fmt::format("; in service: AUC {}, Brier {}", Fixed(m.current_auc),
                         Fixed(m.current_brier));
    out += "\n";
  }
  if (t.refused) return out + "# not proposed: " + *t.refused + "\n";
  if (path.empty()) return out + "# proposed, not written: pass --estimator-out FILE to write it\n";
  return out + fmt::format(
                   "# the thresholds above were tuned on the confidences the estimator in service "
                   "gave; tune them again once outcomes under this one accrue\n[strategy]\n"
                   "answer_estimator = \"{}\"\n",
                   path);
}

}  // namespace triage::bench
