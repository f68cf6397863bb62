// Conformance: HumanEval and MBPP canonical solutions pass their tests in the sandbox, and a
// deliberately broken variant of each (results perturbed) fails. By default a fixed
// representative subset runs (every 8th task) to keep the unit run short on 2 cores; set
// TRIAGE_VERIFY_FULL_CODE=1 for all 164 + 974 tasks.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <future>
#include <iostream>
#include <thread>

#include "test_data.hpp"
#include "verify/code_sandbox.hpp"

namespace triage::verify {
namespace {

struct Task {
  std::string id;
  std::string program;   // the canonical solution
  std::string function;  // the function the tests call
  CodeTests tests;
};

// Appended to a correct program: rebinds the tested function so every result is wrong.
std::string BreakProgram(const std::string& program, const std::string& function) {
  return program + R"PY(

def __triage_perturb(r):
    if isinstance(r, bool): return not r
    if isinstance(r, int): return r + 1
    if isinstance(r, float): return r + 1.5
    if isinstance(r, str): return r + "\x00"
    if isinstance(r, list): return r + [object()]
    if isinstance(r, tuple): return r + (object(),)
    if isinstance(r, (set, frozenset)): return set(r) | {object()}
    if isinstance(r, dict):
        d = dict(r); d[object()] = 0; return d
    if r is None: return 0
    return object()
)PY" +
         "__triage_orig = " + function + "\ndef " + function +
         "(*a, **k):\n    return __triage_perturb(__triage_orig(*a, **k))\n";
}

bool FullRun() {
  const char* v = std::getenv("TRIAGE_VERIFY_FULL_CODE");
  return v && std::string(v) == "1";
}

std::vector<Task> LoadTasks() {
  std::vector<Task> tasks;
  for (const auto& row : testing::ReadJsonl("code/humaneval.jsonl")) {
    Task t;
    t.id = row["id"].get<std::string>();
    t.program = row["text"].get<std::string>() + row["canonical_solution"].get<std::string>();
    t.function = row["entry_point"].get<std::string>();
    t.tests.check_source = row["test"].get<std::string>();
    t.tests.entry_point = t.function;
    tasks.push_back(std::move(t));
  }
  for (const auto& row : testing::ReadJsonl("code/mbpp.jsonl")) {
    Task t;
    t.id = row["id"].get<std::string>();
    t.program = row["canonical_solution"].get<std::string>();
    t.tests.setup = row["test_setup_code"].get<std::string>();
    for (const auto& a : row["test_list"]) t.tests.asserts.push_back(a.get<std::string>());
    // The tested function: a def in the solution that the first assert calls.
    const std::string& first = t.tests.asserts.empty() ? std::string() : t.tests.asserts.front();
    std::size_t pos = 0;
    while ((pos = t.program.find("def ", pos)) != std::string::npos) {
      pos += 4;
      std::size_t paren = t.program.find('(', pos);
      if (paren == std::string::npos) break;
      std::string name = t.program.substr(pos, paren - pos);
      name.erase(std::remove(name.begin(), name.end(), ' '), name.end());
      // "assert is_Diff (12345) == False": spaces may sit before the parenthesis.
      for (std::size_t at = first.find(name); at != std::string::npos;
           at = first.find(name, at + 1)) {
        if (at > 0 &&
            (std::isalnum(static_cast<unsigned char>(first[at - 1])) || first[at - 1] == '_'))
          continue;  // "last" inside "sort_list_last"
        std::size_t k = at + name.size();
        while (k < first.size() && first[k] == ' ') ++k;
        if (k < first.size() && first[k] == '(') t.function = name;
      }
      if (!t.function.empty()) break;
    }
    tasks.push_back(std::move(t));
  }
  return tasks;
}

TEST(CodeConformance, CanonicalSolutionsPassAndBrokenVariantsFail) {
  auto all = LoadTasks();
  ASSERT_EQ(all.size(), 164u + 974u);
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (FullRun() || i % 8 == 0) tasks.push_back(all[i]);
  SandboxLimits limits;
  limits.wall_clock = std::chrono::milliseconds(20000);
  limits.cpu_seconds = 10;
  std::vector<std::string> canonical_failures(tasks.size()), broken_passes(tasks.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < tasks.size(); i = next++) {
      const Task& t = tasks[i];
      CodeResult ok = RunPythonTests(t.program, t.tests, limits);
      if (!ok.verdict.Passed())
        canonical_failures[i] = t.id + ": " + std::string(ToString(ok.verdict.outcome)) + " " +
                                ok.verdict.reason + "\n--- output ---\n" + ok.output_tail;
      if (t.function.empty()) {
        broken_passes[i] = t.id + ": tested function not found";
        continue;
      }
      CodeResult bad = RunPythonTests(BreakProgram(t.program, t.function), t.tests, limits);
      if (bad.verdict.Passed()) broken_passes[i] = t.id + ": broken variant passed";
    }
  };
  unsigned workers = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w) pool.emplace_back(worker);
  for (auto& th : pool) th.join();
  int canonical_ok = 0, broken_ok = 0;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (canonical_failures[i].empty())
      ++canonical_ok;
    else
      std::cout << "CANONICAL FAILED " << canonical_failures[i] << "\n";
    if (broken_passes[i].empty())
      ++broken_ok;
    else
      std::cout << "BROKEN NOT CAUGHT " << broken_passes[i] << "\n";
  }
  std::cout << (FullRun() ? "full" : "subset (every 8th)") << " run: canonical passed "
            << canonical_ok << "/" << tasks.size() << ", broken variants failed " << broken_ok
            << "/" << tasks.size() << "\n";
  EXPECT_EQ(canonical_ok, static_cast<int>(tasks.size()));
  EXPECT_EQ(broken_ok, static_cast<int>(tasks.size()));
}

}  // namespace
}  // namespace triage::verify
