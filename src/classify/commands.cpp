#include "classify/commands.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace triage::classify {
namespace {

constexpr int kK = core::kTierCount;

std::string_view SplitName(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kHeldOut:
      return "heldout";
    case Split::kAll:
      break;
  }
  return "all";
}

std::string Fixed(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Loads items, printing why on failure; nullopt means "exit 2".
std::optional<std::vector<LabeledItem>> LoadItems(const std::vector<std::filesystem::path>& data,
                                                  const std::filesystem::path& config_path,
                                                  Split split, std::ostream& out,
                                                  std::ostream& err) {
  if (data.empty()) {
    err << "error: no --data files given\n";
    return std::nullopt;
  }
  auto config = LoadClassifierConfig(config_path);
  if (auto* e = std::get_if<std::string>(&config)) {
    err << "error: " << *e << "\nHint: pass --config or run from the project root\n";
    return std::nullopt;
  }
  LoadStats stats;
  auto items = LoadLabeledItems(data, std::get<ClassifierConfig>(config), split, &stats);
  if (auto* e = std::get_if<std::string>(&items)) {
    err << "error: " << *e << "\n";
    return std::nullopt;
  }
  out << "read " << stats.read << " records: " << std::get<0>(items).size() << " in split "
      << SplitName(split) << ", " << stats.other_split << " in the other split, " << stats.unmapped
      << " with no label rule (skipped)\n";
  if (std::get<0>(items).empty()) {
    err << "error: no labelled items in split " << SplitName(split)
        << "\nHint: check [[classifier.labels]] in " << config_path.string() << "\n";
    return std::nullopt;
  }
  return std::move(std::get<0>(items));
}

void PrintMatrix(std::ostream& out, const ConfusionMatrix& m) {
  out << "    gold \\ predicted   trivial      easy    medium      hard  reasoning\n";
  for (int g = 0; g < kK; ++g) {
    char line[160];
    std::snprintf(line, sizeof line, "    %-18s %8zu %9zu %9zu %9zu %10zu\n",
                  std::string(core::ToString(static_cast<core::Tier>(g))).c_str(), m.counts[g][0],
                  m.counts[g][1], m.counts[g][2], m.counts[g][3], m.counts[g][4]);
    out << line;
  }
}

std::string MatrixJson(const ConfusionMatrix& m) {
  std::string s = "[";
  for (int g = 0; g < kK; ++g) {
    s += g ? ",[" : "[";
    for (int p = 0; p < kK; ++p) s += (p ? "," : "") + std::to_string(m.counts[g][p]);
    s += "]";
  }
  return s + "]";
}

std::string FiguresJson(const ConfusionMatrix& m) {
  std::string s = "{\"items\":" + std::to_string(m.Total()) +
                  ",\"accuracy\":" + Fixed(m.Accuracy()) + ",\"macro_f1\":" + Fixed(m.MacroF1()) +
                  ",\"macro_f1_gold_tiers\":" + Fixed(m.MacroF1GoldTiers()) + ",\"f1\":{";
  bool first = true;
  for (auto tier : core::kAllTiers)
    if (auto f1 = m.F1(tier)) {
      s += (first ? "\"" : ",\"") + std::string(core::ToString(tier)) + "\":" + Fixed(*f1);
      first = false;
    }
  return s + "},\"confusion\":" + MatrixJson(m) + "}";
}

void PrintRow(std::ostream& out, const std::string& name, const EvalFigures& f) {
  char line[200];
  std::snprintf(line, sizeof line,
                "%-13s %6zu  %6.1f %6.1f   %6.1f %6.1f %+7.1f   %6.1f %6.1f %+7.1f\n", name.c_str(),
                f.model.Total(), 100 * f.model.Accuracy(), 100 * f.heuristic.Accuracy(),
                100 * f.model.MacroF1(), 100 * f.heuristic.MacroF1(),
                100 * (f.model.MacroF1() - f.heuristic.MacroF1()), 100 * f.model.MacroF1GoldTiers(),
                100 * f.heuristic.MacroF1GoldTiers(),
                100 * (f.model.MacroF1GoldTiers() - f.heuristic.MacroF1GoldTiers()));
  out << line;
}

}  // namespace

int RunTrain(const TrainOptions& options, std::ostream& out, std::ostream& err) {
  if (options.out.empty()) {
    err << "error: --out is required\n";
    return 2;
  }
  if (auto e = Validate(options.params.features); !e.empty()) {
    err << "error: " << e << "\n";
    return 2;
  }
  const auto items = LoadItems(options.data, options.config, options.split, out, err);
  if (!items) return 2;
  std::vector<TrainingExample> examples;
  std::array<size_t, kK> per_tier{};
  for (const auto& item : *items) {
    examples.push_back({item.text, item.tier});
    ++per_tier[static_cast<int>(item.tier)];
  }
  out << "training on " << examples.size() << " items:";
  for (int c = 0; c < kK; ++c)
    out << " " << core::ToString(static_cast<core::Tier>(c)) << "=" << per_tier[c];
  out << "\n";

  const auto& p = options.params;
  std::ostringstream meta;
  meta << "triage classifier train; format=" << kModelFormatVersion << "; items=" << examples.size()
       << "; split=" << SplitName(options.split) << "; data=";
  for (size_t i = 0; i < options.data.size(); ++i)
    meta << (i ? "," : "") << options.data[i].filename().string();
  meta << "; hash_bits=" << p.features.hash_bits << "; char_ngrams=" << p.features.char_ngram_min
       << "-" << p.features.char_ngram_max << "; word_bigrams=" << p.features.word_bigrams
       << "; epochs=" << p.epochs << "; learning_rate=" << p.learning_rate << "; l2=" << p.l2
       << "; class_weight_power=" << p.class_weight_power << "; seed=" << p.seed;

  const auto start = std::chrono::steady_clock::now();
  const auto params = TrainModel(examples, p, meta.str());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto bytes = SerializeModel(params);
  {
    std::ofstream file(options.out, std::ios::binary | std::ios::trunc);
    if (!file.write(bytes.data(), static_cast<std::streamsize>(bytes.size())) || !file.flush()) {
      err << "error: cannot write model to " << options.out.string() << "\n";
      return 1;
    }
  }
  out << "trained in " << Fixed(seconds, 2) << " s; wrote " << bytes.size() << " bytes to "
      << options.out.string() << "\n";
  return 0;
}

core::Tier ApplyConfidenceCut(const Classification& c, double cut) {
  const int tier = static_cast<int>(c.tier);
  if (!c.probabilities || (*c.probabilities)[tier] >= cut || tier + 1 >= kK) return c.tier;
  return static_cast<core::Tier>(tier + 1);
}

EvalReport Evaluate(const std::vector<LabeledItem>& items, const TrainedClassifier& classifier,
                    double confidence_cut) {
  EvalReport report;
  for (const auto& item : items) {
    const auto model = ApplyConfidenceCut(classifier.Classify(item.text, 0), confidence_cut);
    const auto heuristic = AnalyzeHeuristic(item.text).tier;
    for (auto* f : {&report.overall, &report.by_group[item.group]}) {
      f->model.Add(item.tier, model);
      f->heuristic.Add(item.tier, heuristic);
    }
  }
  return report;
}

int RunEval(const EvalOptions& options, std::ostream& out, std::ostream& err) {
  auto loaded = TrainedClassifier::Load(options.model);
  if (!loaded) {
    err << "error: " << loaded.error << "\n";
    return 2;
  }
  std::ostringstream log;
  const auto items =
      LoadItems(options.data, options.config, options.split, options.json ? log : out, err);
  if (!items) return 2;
  const auto report = Evaluate(*items, *loaded.classifier, options.confidence_cut);

  if (options.json) {
    out << "{\"split\":\"" << SplitName(options.split)
        << "\",\"heldout_percent\":" << kHeldOutPercent
        << ",\"model\":" << JsonQuote(options.model.string())
        << ",\"confidence_cut\":" << Fixed(options.confidence_cut, 3)
        << ",\"tiers\":[\"trivial\",\"easy\",\"medium\",\"hard\",\"requires_reasoning\"]"
        << ",\"overall\":{\"model\":" << FiguresJson(report.overall.model)
        << ",\"heuristic\":" << FiguresJson(report.overall.heuristic) << "},\"by_source\":{";
    bool first = true;
    for (const auto& [group, f] : report.by_group) {
      out << (first ? "" : ",") << JsonQuote(group) << ":{\"model\":" << FiguresJson(f.model)
          << ",\"heuristic\":" << FiguresJson(f.heuristic) << "}";
      first = false;
    }
    out << "}}\n";
    return 0;
  }
  out << "split " << SplitName(options.split) << " (held out: " << kHeldOutPercent
      << "% of items by hash of id), model " << options.model.string() << "\n";
  if (options.confidence_cut > 0)
    out << "model tiers with probability below " << options.confidence_cut
        << " moved one tier up (--confidence-cut)\n";
  out << "figures in %; macro-F1 averages F1 over tiers seen as gold or predicted (sklearn's\n"
      << "default); macro-F1 gold averages over the gold tiers only\n\n"
      << "source         items  accuracy       macro-F1               macro-F1 gold\n"
      << "                       model  heur.   model  heur.  margin   model  heur.  margin\n";
  PrintRow(out, "overall", report.overall);
  for (const auto& [group, f] : report.by_group) PrintRow(out, group, f);
  out << "\nper-tier F1 (model / heuristic):\n";
  for (auto tier : core::kAllTiers) {
    const auto m = report.overall.model.F1(tier), h = report.overall.heuristic.F1(tier);
    out << "    " << core::ToString(tier) << ": " << (m ? Fixed(*m, 3) : "-") << " / "
        << (h ? Fixed(*h, 3) : "-") << "\n";
  }
  out << "\nconfusion matrix, trained model (overall):\n";
  PrintMatrix(out, report.overall.model);
  out << "confusion matrix, seed heuristic (overall):\n";
  PrintMatrix(out, report.overall.heuristic);
  return 0;
}

int RunClassify(const ClassifyOptions& options, std::ostream& out, std::ostream& err) {
  if (options.text == "-") {  // the task on stdin: long texts, or texts with shell metacharacters
    ClassifyOptions from_stdin = options;
    from_stdin.text.assign(std::istreambuf_iterator<char>(std::cin),
                           std::istreambuf_iterator<char>());
    return RunClassify(from_stdin, out, err);
  }
  const auto heuristic = ClassifyHeuristic(options.text);
  std::optional<Classification> model;
  if (!options.model.empty()) {
    auto loaded = TrainedClassifier::Load(options.model);
    if (!loaded) {
      err << "error: " << loaded.error
          << "\nHint: pass --model FILE, or --model \"\" for the heuristic only\n";
      return 2;
    }
    model = loaded.classifier->Classify(options.text, options.top_features);
  }
  if (options.json) {
    out << "{\"heuristic\":{\"tier\":\"" << core::ToString(heuristic.tier) << "\",\"reasons\":[";
    for (size_t i = 0; i < heuristic.reasons.size(); ++i)
      out << (i ? "," : "") << JsonQuote(heuristic.reasons[i]);
    out << "]}";
    if (model) {
      out << ",\"model\":{\"tier\":\"" << core::ToString(model->tier) << "\",\"reasons\":[";
      for (size_t i = 0; i < model->reasons.size(); ++i)
        out << (i ? "," : "") << JsonQuote(model->reasons[i]);
      out << "],\"probabilities\":{";
      for (int c = 0; c < kK; ++c)
        out << (c ? "," : "") << "\"" << core::ToString(static_cast<core::Tier>(c))
            << "\":" << Fixed((*model->probabilities)[c]);
      out << "},\"top_features\":[";
      for (size_t i = 0; i < model->top_features.size(); ++i)
        out << (i ? "," : "") << "{\"name\":" << JsonQuote(model->top_features[i].name)
            << ",\"weight\":" << Fixed(model->top_features[i].weight) << "}";
      out << "]}";
    }
    out << "}\n";
    return 0;
  }
  if (model) {
    out << "tier: " << core::ToString(model->tier) << " (trained model)\n";
    out << "reasons:";
    for (const auto& r : model->reasons) out << " [" << r << "]";
    out << "\n";
    for (int c = 0; c < kK; ++c)
      out << "  p(" << core::ToString(static_cast<core::Tier>(c))
          << ") = " << Fixed((*model->probabilities)[c]) << "\n";
    const auto& p = *model->probabilities;
    const auto argmax = static_cast<core::Tier>(std::max_element(p.begin(), p.end()) - p.begin());
    out << "strongest features (push towards " << core::ToString(argmax) << "):\n";
    for (const auto& f : model->top_features)
      out << "  " << Fixed(f.weight) << "  " << f.name << "\n";
  }
  out << "heuristic: " << core::ToString(heuristic.tier);
  for (const auto& r : heuristic.reasons) out << " [" << r << "]";
  out << "\n";
  return 0;
}

}  // namespace triage::classify
