// Math verification throughput on the shared equivalence cases (Math-Verify's 268 + hendrycks
// 16), one core, next to Hugging Face Math-Verify (Python, SymPy) on the same cases in the same
// run. Math-Verify comes from bench/verify/setup_math_verify.sh (a venv under .local/).
// Data: $TRIAGE_DATA_DIR, else ../shared/data next to the project.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "verify/math_equivalence.hpp"

namespace {

using triage::verify::MathOptions;

std::filesystem::path DataDir() {
  if (const char* env = std::getenv("TRIAGE_DATA_DIR"); env && *env) return env;
  return std::filesystem::path(TRIAGE_SOURCE_DIR) / ".." / "shared" / "data";
}

const std::vector<std::string> kCaseFiles = {"verify/math_verify_cases.jsonl",
                                             "verify/hendrycks_equivalence_cases.jsonl"};

struct Case {
  std::string gold, pred;
  bool expected;
  MathOptions options;
};

std::vector<Case> LoadCases() {
  std::vector<Case> cases;
  for (const auto& file : kCaseFiles) {
    std::ifstream in(DataDir() / file);
    std::string line;
    bool hendrycks = file.find("hendrycks") != std::string::npos;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto row = nlohmann::json::parse(line);
      Case c{row["gold"], row["pred"], row["equivalent"], {}};
      const std::string call = row.value("upstream_call", "");
      if (call.find("match_types") != std::string::npos) {
        c.options.extract.latex = call.find("'latex'") != std::string::npos;
        c.options.extract.expr = call.find("'expr'") != std::string::npos;
      }
      c.options.extract.hashes = false;
      c.options.precision = row.value("precision", 6);
      c.options.strict = row.value("strict", true);
      c.options.allow_set_relation_comp = row.value("allow_set_relation_comp", false);
      if (hendrycks) {
        c.options.extract_answer = false;
        c.options.ordered_lists = true;
      } else {
        c.options.gold_is_solution = true;  // upstream parses (extracts) the gold as well
      }
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

double g_triage_seconds_per_check = 0;

void BM_TriageVerifyMath(benchmark::State& state) {
  static const auto cases = LoadCases();
  if (cases.empty()) {
    state.SkipWithError("shared cases not found (set TRIAGE_DATA_DIR)");
    return;
  }
  int agree = 0;
  for (auto _ : state) {
    agree = 0;
    for (const auto& c : cases) {
      auto v = triage::verify::VerifyMath(c.gold, c.pred, c.options);
      agree += v.Passed() == c.expected;
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(cases.size()));
  state.counters["cases"] = static_cast<double>(cases.size());
  state.counters["agreement"] = static_cast<double>(agree) / static_cast<double>(cases.size());
  // kIsRate divides by CPU time here (no UseRealTime), matching the Python side's CPU timing.
  state.counters["checks_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * cases.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TriageVerifyMath)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Math-Verify in a child Python process that times its own loop in CPU time (interpreter
// start-up and the SymPy import are excluded); reported as manual time per pass over the cases.
void BM_MathVerifyPython(benchmark::State& state) {
  const auto root = std::filesystem::path(TRIAGE_SOURCE_DIR);
  const auto python = root / ".local" / "math-verify-venv" / "bin" / "python";
  if (!std::filesystem::exists(python)) {
    state.SkipWithError("Math-Verify not installed: run bench/verify/setup_math_verify.sh");
    return;
  }
  std::string cmd =
      python.string() + " " + (root / "bench" / "verify" / "math_verify_bench.py").string();
  for (const auto& file : kCaseFiles) cmd += " " + (DataDir() / file).string();
  cmd += " --repeats 1 2>/dev/null";
  double per_check = 0, agreement = 0, cases = 0;
  for (auto _ : state) {
    FILE* pipe = popen(cmd.c_str(), "r");
    if (!pipe) {
      state.SkipWithError("cannot start python");
      return;
    }
    std::string out;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, pipe)) out += buf;
    pclose(pipe);
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (j.is_discarded() || !j.contains("seconds_per_check")) {
      state.SkipWithError(("Math-Verify run failed: " + out).c_str());
      return;
    }
    per_check = j["seconds_per_check"].get<double>();
    cases = j["cases"].get<double>();
    agreement = j["agreement"].get<double>() / cases;
    state.SetIterationTime(per_check * cases);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(cases));
  state.counters["cases"] = cases;
  state.counters["agreement"] = agreement;
  state.counters["checks_per_s"] = per_check > 0 ? 1.0 / per_check : 0;
  if (g_triage_seconds_per_check > 0)
    state.counters["triage_speedup_x"] = per_check / g_triage_seconds_per_check;
}
BENCHMARK(BM_MathVerifyPython)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // Measure ours once up front (process CPU time, as the Python side does) so the Python row
  // can print the ratio in the same run.
  {
    auto cases = LoadCases();
    if (!cases.empty()) {
      std::clock_t start = std::clock();
      int passes = 0;
      while (std::clock() - start < 2 * CLOCKS_PER_SEC) {
        for (const auto& c : cases)
          benchmark::DoNotOptimize(triage::verify::VerifyMath(c.gold, c.pred, c.options));
        ++passes;
      }
      double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
      g_triage_seconds_per_check = seconds / (passes * static_cast<double>(cases.size()));
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
