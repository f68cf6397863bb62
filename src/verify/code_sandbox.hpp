// Python code verification in a sandbox: a candidate program run against tests (HumanEval
// check(), MBPP asserts) in a separate process with its own temp dir, setrlimit limits (CPU,
// address space, file size, processes), a wall-clock kill, a scrubbed environment, and -- when
// the process may (root, as in CI) -- a fresh network namespace, a private read-only root mount
// and a throwaway uid whose every process is killed afterwards.
// Thread-safe (each call forks its own child); blocks the caller up to limits.wall_clock.
// Never throws; a sandbox that cannot be set up is reported as kCrashed with the reason.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "verify/verdict.hpp"

namespace triage::verify {

struct SandboxLimits {
  std::chrono::milliseconds wall_clock{10000};
  int cpu_seconds = 5;
  std::size_t memory_bytes = std::size_t{1} << 30;  // address space
  std::size_t file_bytes = std::size_t{16} << 20;   // largest file the program may write
  int max_processes = 16;                           // per sandbox uid (when run as root)
  std::string python = "/usr/bin/python3";
};

struct CodeTests {
  std::string setup;                 // MBPP test_setup_code (may be empty)
  std::vector<std::string> asserts;  // MBPP: one statement each
  std::string check_source;          // HumanEval: defines check(candidate)
  std::string entry_point;           // HumanEval: the function passed to check()
};

struct CodeResult {
  Verdict verdict;          // kPassed / kFailed (which test) / kTimedOut / kCrashed
  std::string failed_test;  // the failing assert's source line, when known
  int exit_code = -1;
  int signal = 0;
  std::chrono::milliseconds elapsed{0};
  std::string isolation;    // which protections were active, e.g. "netns,mntns,uid,rlimits"
  std::string output_tail;  // last bytes of stdout+stderr, for people
};

// Runs `candidate` (Python source) and then the tests.
CodeResult RunPythonTests(std::string_view candidate, const CodeTests& tests,
                          const SandboxLimits& limits = {});

// Runs a whole Python program (its own asserts); passed when it exits 0.
CodeResult RunPythonProgram(std::string_view program, const SandboxLimits& limits = {});

}  // namespace triage::verify
