#include "learn/router_commands.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "replay/grade.hpp"

namespace triage::learn {
namespace {

constexpr int kValidationEnd = 2 * classify::kHeldOutPercent;  // buckets [20, 40)

std::string Fixed(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The set, read and graded, or a message.
struct Loaded {
  replay::ReplaySet set;
  std::vector<double> expected;
};
std::optional<Loaded> LoadSet(const std::filesystem::path& dir, RouterSplit split,
                              std::ostream& err) {
  try {
    auto all = replay::ReadReplaySet(dir);
    Loaded l{replay::SelectItems(all, [&](const replay::Item& i) { return InSplit(i.id, split); }),
             {}};
    if (l.set.items.empty()) {
      err << "replay set " << dir.string() << " has no items in split " << ToString(split) << "\n";
      return std::nullopt;
    }
    l.expected = replay::ExpectedCorrect(l.set);
    return l;
  } catch (const replay::ReplayError& e) {
    err << e.what() << "\n";
    return std::nullopt;
  }
}

// The classifier, or nullptr when `path` is empty; false on a file that cannot be used.
bool LoadClassifier(const std::filesystem::path& path,
                    std::shared_ptr<const classify::TrainedClassifier>& out, std::ostream& err) {
  if (path.empty()) return true;
  auto loaded = classify::TrainedClassifier::Load(path);
  if (!loaded) {
    err << loaded.error << "\nHint: pass --classifier \"\" to train without tier probabilities\n";
    return false;
  }
  out = loaded.classifier;
  return true;
}

}  // namespace

std::optional<RouterSplit> ParseRouterSplit(std::string_view name) {
  if (name == "train") return RouterSplit::kTrain;
  if (name == "fit") return RouterSplit::kFit;
  if (name == "validation") return RouterSplit::kValidation;
  if (name == "test" || name == "heldout") return RouterSplit::kTest;
  if (name == "all") return RouterSplit::kAll;
  return std::nullopt;
}

std::string_view ToString(RouterSplit split) {
  switch (split) {
    case RouterSplit::kTrain:
      return "train";
    case RouterSplit::kFit:
      return "fit";
    case RouterSplit::kValidation:
      return "validation";
    case RouterSplit::kTest:
      return "test";
    case RouterSplit::kAll:
      break;
  }
  return "all";
}

bool InSplit(std::string_view id, RouterSplit split) {
  const int bucket = classify::SplitBucket(id);
  switch (split) {
    case RouterSplit::kTrain:
      return bucket >= classify::kHeldOutPercent;
    case RouterSplit::kFit:
      return bucket >= kValidationEnd;
    case RouterSplit::kValidation:
      return bucket >= classify::kHeldOutPercent && bucket < kValidationEnd;
    case RouterSplit::kTest:
      return bucket < classify::kHeldOutPercent;
    case RouterSplit::kAll:
      break;
  }
  return true;
}

ItemTask TaskOf(const replay::Item& item, const classify::TrainedClassifier* classifier) {
  const auto text = item.text.value_or("");
  return TaskOf(item, classifier && !text.empty() ? classifier->Classify(text, 0).probabilities
                                                  : std::nullopt);
}

ItemTask TaskOf(const replay::Item& item,
                std::optional<std::array<double, core::kTierCount>> tier_probabilities) {
  ItemTask t;
  t.text = item.text.value_or("");
  t.tier_probabilities = tier_probabilities;
  if (!item.domain.empty()) t.labels.emplace_back("domain", item.domain);
  if (item.difficulty) t.labels.emplace_back("difficulty", *item.difficulty);
  for (const auto& [key, value] : item.labels) t.labels.emplace_back(key, value);
  return t;
}

int RunRouterTrain(const RouterTrainOptions& o, std::ostream& out, std::ostream& err) {
  if (o.split != RouterSplit::kTrain && o.split != RouterSplit::kFit) {
    err << "router train: --split must be train or fit (never train on the items you report)\n";
    return 2;
  }
  route::RouterFeatureConfig config;
  config.kind = o.kind;
  config.text = {o.hash_bits, o.char_ngram_min, o.char_ngram_max, o.word_bigrams};
  config.answer_text = o.answer_text;
  if (auto e = classify::Validate(config.text); !e.empty()) {
    err << "router train: " << e << "\n";
    return 2;
  }
  std::shared_ptr<const classify::TrainedClassifier> classifier;
  if (!LoadClassifier(o.classifier, classifier, err)) return 2;
  const auto started = std::chrono::steady_clock::now();
  auto loaded = LoadSet(o.data, o.split, err);
  if (!loaded) return 2;
  const auto& set = loaded->set;

  std::map<std::string, ItemTask, std::less<>> tasks;
  std::vector<std::vector<std::pair<std::string, std::string>>> labels;
  for (const auto& item : set.items) {
    auto& t = tasks[item.id] = TaskOf(item, classifier.get());
    labels.push_back(t.labels);
  }
  config.vocabulary = BuildVocabulary(labels);

  std::vector<RouterExample> examples;
  size_t without_response = 0;
  for (size_t i = 0; i < set.outcomes.size(); ++i) {
    const auto& oc = set.outcomes[i];
    const auto view = tasks.find(oc.item)->second.View();
    if (o.kind == route::RouterKind::kAfter) {
      if (!oc.response) {
        ++without_response;
        continue;
      }
      const route::RouterAnswer answer{*oc.response, {}};
      examples.push_back(
          {oc.model, route::BuildRouterRow(config, view, &answer), loaded->expected[i]});
    } else {
      examples.push_back(
          {oc.model, route::BuildRouterRow(config, view, nullptr), loaded->expected[i]});
    }
  }
  if (examples.empty()) {
    err << "router train: no outcome in " << o.data.string()
        << " records a response; an \"after\" model needs answer texts\n";
    return 2;
  }

  const std::string set_name = o.data.filename().empty() ? o.data.parent_path().filename().string()
                                                         : o.data.filename().string();
  const std::string metadata =
      "triage router train: kind " + std::string(ToString(o.kind)) + ", replay set " + set_name +
      ", split " + std::string(ToString(o.split)) + ", " + std::to_string(examples.size()) +
      " outcomes, tier probabilities " +
      (classifier ? "from " + o.classifier.filename().string() : std::string("off")) + ", epochs " +
      std::to_string(o.params.epochs) + ", seed " + std::to_string(o.params.seed);
  const auto params = TrainRouter(examples, config, o.params, metadata);
  const auto bytes = route::SerializeRouter(params);
  const auto path = o.out.empty()
                        ? std::filesystem::path("models") /
                              ("router_" + set_name + "_" + std::string(ToString(o.kind)) + ".bin")
                        : o.out;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream file(path, std::ios::binary);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file) {
    err << "router train: cannot write " << path.string() << "\n";
    return 2;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "read " << set.items.size() << " items of split " << ToString(o.split) << ", "
      << set.outcomes.size() << " outcomes";
  if (without_response) out << " (" << without_response << " without a response: skipped)";
  out << "\nvocabulary: " << config.vocabulary.size() << " labels";
  for (const auto& v : config.vocabulary) out << " " << v;
  out << "\n";
  for (const auto& m : params.models)
    out << "model " << m.name << ": " << m.rows << " rows, training accuracy "
        << Fixed(m.positive_share) << "\n";
  out << "trained in " << Fixed(seconds, 2) << " s; wrote " << bytes.size() << " bytes to "
      << path.string() << "\n";
  return 0;
}

std::vector<ModelFigures> EvaluateRouter(const replay::ReplaySet& set,
                                         const std::vector<double>& expected,
                                         const route::LearnedRouter& router,
                                         const classify::TrainedClassifier* classifier, int bins) {
  std::map<std::string, ItemTask, std::less<>> tasks;
  for (const auto& item : set.items) tasks[item.id] = TaskOf(item, classifier);
  std::map<std::string, std::vector<Scored>> scored;
  for (size_t i = 0; i < set.outcomes.size(); ++i) {
    const auto& oc = set.outcomes[i];
    if (!router.Has(oc.model)) continue;
    const auto view = tasks.find(oc.item)->second.View();
    std::optional<double> p;
    if (router.kind() == route::RouterKind::kAfter) {
      if (!oc.response) continue;
      const route::RouterAnswer answer{*oc.response, {}};
      p = router.Predict(oc.model, view, &answer);
    } else {
      p = router.Predict(oc.model, view);
    }
    scored[oc.model].push_back({*p, expected[i]});
  }
  std::vector<ModelFigures> figures;
  for (const auto& model : set.models)
    if (auto it = scored.find(model); it != scored.end())
      figures.push_back({model, EvaluateBinary(it->second, bins)});
  return figures;
}

int RunRouterEval(const RouterEvalOptions& o, std::ostream& out, std::ostream& err) {
  if (o.bins < 1 || o.bins > 100) {
    err << "router eval: --bins must be in [1, 100]\n";
    return 2;
  }
  const auto loaded_router = route::LearnedRouter::Load(o.model);
  if (!loaded_router) {
    err << loaded_router.error << "\n";
    return 2;
  }
  std::shared_ptr<const classify::TrainedClassifier> classifier;
  if (!LoadClassifier(o.classifier, classifier, err)) return 2;
  auto loaded = LoadSet(o.data, o.split, err);
  if (!loaded) return 2;
  const auto& router = *loaded_router.router;
  const auto figures =
      EvaluateRouter(loaded->set, loaded->expected, router, classifier.get(), o.bins);
  if (figures.empty()) {
    err << "router eval: the router knows none of the set's models (it has:";
    for (const auto& m : router.models()) err << " " << m;
    err << ")\n";
    return 2;
  }

  if (o.json) {
    nlohmann::ordered_json j;
    j["kind"] = std::string(ToString(router.kind()));
    j["split"] = std::string(ToString(o.split));
    j["items"] = loaded->set.items.size();
    j["trained"] = router.params().metadata;
    auto& models = j["models"] = nlohmann::ordered_json::array();
    for (const auto& f : figures) {
      const auto& r = f.report;
      nlohmann::ordered_json m;
      m["model"] = f.model;
      m["count"] = r.count;
      m["base_rate"] = r.base_rate;
      m["auc"] = r.auc ? nlohmann::ordered_json(*r.auc) : nlohmann::ordered_json(nullptr);
      m["brier"] = r.brier;
      m["brier_base"] = r.brier_base;
      m["log_loss"] = r.log_loss;
      auto& bins = m["bins"] = nlohmann::ordered_json::array();
      for (const auto& b : r.bins)
        bins.push_back({{"lower", b.lower},
                        {"upper", b.upper},
                        {"count", b.count},
                        {"mean_predicted", b.mean_predicted},
                        {"observed", b.observed}});
      models.push_back(std::move(m));
    }
    out << j.dump(2) << "\n";
    return 0;
  }
  out << "router (" << ToString(router.kind()) << "): " << router.params().metadata << "\n";
  out << "split " << ToString(o.split) << ": " << loaded->set.items.size() << " items\n";
  for (const auto& f : figures) {
    const auto& r = f.report;
    out << "\n"
        << f.model << ": " << r.count << " outcomes, observed accuracy " << Fixed(r.base_rate)
        << "\n";
    out << "  AUC " << (r.auc ? Fixed(*r.auc) : std::string("n/a (one outcome only)")) << "  Brier "
        << Fixed(r.brier, 4) << " (base rate alone " << Fixed(r.brier_base, 4) << ")  log loss "
        << Fixed(r.log_loss, 4) << "\n";
    out << "  predicted      count  mean predicted  observed\n";
    for (const auto& b : r.bins) {
      char line[96];
      std::snprintf(line, sizeof line, "  [%.2f, %.2f%c  %5zu  %14s  %8s\n", b.lower, b.upper,
                    b.upper >= 1 ? ']' : ')', b.count,
                    b.count ? Fixed(b.mean_predicted).c_str() : "-",
                    b.count ? Fixed(b.observed).c_str() : "-");
      out << line;
    }
  }
  return 0;
}

}  // namespace triage::learn
