#include "app/bench_cli.hpp"

#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "bench/report.hpp"
#include "classify/router_classifier.hpp"
#include "replay/split.hpp"

namespace triage::app {
namespace {

struct BenchFlags {
  bench::BenchOptions options;  // the flags that are the bench's own options bind to it
  std::string data, profiles, split = "all";
  std::string classifier = "models/classifier.bin", svg, router_before, router_after;
  bool json = false, csv = false;
};

void Run(const BenchFlags& f) {
  auto options = f.options;
  const auto split = replay::ParseReplaySplit(f.split);
  if (!split) throw std::invalid_argument("--split must be test, train or all");
  options.split = *split;
  const auto set = replay::ReadReplaySet(f.data);
  const auto profiles_path =
      f.profiles.empty() ? std::filesystem::path("bench") / (set.dir.filename().string() + ".toml")
                         : std::filesystem::path(f.profiles);
  const auto profiles = replay::LoadProfiles(profiles_path);
  std::string classifier_note;
  if (!f.classifier.empty()) {
    auto classifier = classify::MakeRouterClassifier(f.classifier, 0);
    options.classify = classifier.classify;
    classifier_note = "difficulty tiers: " + classifier.note;
  }
  // The learned router: the files given, else the shipped ones for this set where they exist.
  std::vector<std::string> router_notes;
  const auto load = [&](std::string path, const char* kind,
                        std::shared_ptr<const route::LearnedRouter>& into) {
    const auto shipped = std::filesystem::path("models") /
                         ("router_" + set.dir.filename().string() + "_" + kind + ".bin");
    if (path.empty() && std::filesystem::exists(shipped)) path = shipped.string();
    if (path.empty() || path == "none") return;
    auto loaded = route::LearnedRouter::Load(path);
    if (!loaded) throw std::runtime_error(loaded.error);
    into = loaded.router;
    router_notes.push_back(std::string("learned router (") + kind + " the call): " + path);
  };
  load(f.router_before, "before", options.before);
  load(f.router_after, "after", options.after);
  auto report = bench::RunBench(set, profiles, options);
  report.assumptions.insert(report.assumptions.end(), router_notes.begin(), router_notes.end());
  report.assumptions.insert(
      report.assumptions.begin(),
      "profiles: " + profiles_path.string() + "; seed " + std::to_string(f.options.seed));
  if (!classifier_note.empty()) report.assumptions.push_back(classifier_note);
  if (!f.svg.empty()) {
    std::ofstream out(f.svg, std::ios::binary);
    out << bench::ToSvg(report);
    if (!out) throw std::runtime_error("cannot write " + f.svg);
  }
  std::cout << (f.json  ? bench::ToJson(report)
                : f.csv ? bench::ToCsv(report)
                        : bench::FormatTable(report));
}

}  // namespace

void AddBenchCommands(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  auto* c = app.add_subcommand(
      "bench", "Routing strategies through the engine on a replay set of recorded outcomes");
  c->add_option("--data", flags->data, "Replay set folder (items.jsonl, outcomes.jsonl)")
      ->required();
  c->add_option("--profiles", flags->profiles,
                "Per-model prices, tokens and latencies (default bench/<set folder>.toml)");
  c->add_option("--split", flags->split, "test (the held-out split), train or all")
      ->capture_default_str();
  c->add_option("--seed", flags->options.seed,
                "Seed of p_correct draws, latency spreads, the stand-in "
                "verifier")
      ->capture_default_str();
  c->add_option("--samples", flags->options.samples, "n of best-of-n and self-consistency")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  c->add_option("--keep", flags->options.keep,
                "With --split test: pick each sweep's threshold on the train split as the cheapest "
                "keeping this share of the strong model's accuracy")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  c->add_option("--cheap", flags->options.cheap,
                "The cheap model (default: the cheapest on the hull)");
  c->add_option("--strong", flags->options.strong, "The strong model (default: the most accurate)");
  c->add_option(
       "--verifier-precision", flags->options.verifier.precision,
       "Stand-in verifier for sets without answers: share of passed answers that are right")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  c->add_option("--verifier-recall", flags->options.verifier.recall,
                "Stand-in verifier: share of right answers it passes")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  c->add_option("--classifier", flags->classifier,
                "Difficulty classifier for the hybrid by tier (\"\": none)")
      ->capture_default_str();
  c->add_option("--router-before", flags->router_before,
                "Learned router, before the call (default models/router_<set>_before.bin where it "
                "exists; \"none\": not run)");
  c->add_option("--router-after", flags->router_after,
                "Learned router, after the call (default models/router_<set>_after.bin where it "
                "exists; \"none\": not run)");
  c->add_option("--svg", flags->svg, "Write the accuracy-against-cost curves to this SVG file");
  auto* json = c->add_flag("--json", flags->json, "Print the report as JSON");
  c->add_flag("--csv", flags->csv, "Print the report as CSV")->excludes(json);
  c->callback([flags] {
    try {
      Run(*flags);
    } catch (const std::exception& e) {
      std::cerr << "triage bench: " << e.what() << "\n";
      throw CLI::RuntimeError(2);
    }
  });
}

}  // namespace triage::app
