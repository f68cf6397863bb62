// Python code verification in a sandbox: a candidate program run against tests (HumanEval
// check(), MBPP asserts) in a separate process with its own temp dir, setrlimit limits (CPU,
// address space, file size, processes), a wall-clock kill, a scrubbed environment, fresh
// network, mount and pid namespaces (no network, every file system but the temp dir read-only,
// every process it starts killed with it) and either a throwaway uid (as root) or a user
// namespace mapping only the caller's own uid (without root).
// Thread-safe (each call clones its own child); blocks the caller up to limits.wall_clock.
// Never throws. When that confinement cannot be had the program is not run: kCrashed with a
// reason starting "sandbox unavailable: " that names what is missing, and isolation "none".
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
  int max_processes = 16;                           // processes the program may have at once
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
  std::string isolation;    // protections in force, e.g. "rlimits,...,pidns,ro-root,uid"; "none"
  std::string output_tail;  // last bytes of stdout+stderr, for people
};

// Runs `candidate` (Python source) and then the tests.
CodeResult RunPythonTests(std::string_view candidate, const CodeTests& tests,
                          const SandboxLimits& limits = {});

// Runs a whole Python program (its own asserts); passed when it exits 0.
CodeResult RunPythonProgram(std::string_view program, const SandboxLimits& limits = {});

}  // namespace triage::verify
