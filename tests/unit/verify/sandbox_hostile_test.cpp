// Hostile programs in the code sandbox: each is contained and reported, and the host is
// unharmed. Containment that needs root (uid switch, network namespace) is skipped otherwise;
// CI runs as root.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "verify/code_sandbox.hpp"
#include "verify/commands.hpp"

namespace triage::verify {
namespace {

SandboxLimits Tight() {
  SandboxLimits l;
  l.wall_clock = std::chrono::milliseconds(8000);
  l.cpu_seconds = 1;
  l.memory_bytes = std::size_t{512} << 20;
  return l;
}

bool IsRoot() { return geteuid() == 0; }

TEST(SandboxHostile, ForkBombIsContained) {
  if (!IsRoot()) GTEST_SKIP() << "process limits per sandbox uid need root (CI runs as root)";
  CodeResult r = RunPythonProgram("import os\nwhile True:\n    os.fork()\n", Tight());
  EXPECT_FALSE(r.verdict.Passed()) << r.verdict.reason;
  EXPECT_NE(r.isolation.find("uid"), std::string::npos);
  // The host can still start processes, and the sandbox still works.
  EXPECT_TRUE(RunPythonProgram("x = 1\n", Tight()).verdict.Passed());
}

TEST(SandboxHostile, InfiniteLoopTimesOut) {
  CodeResult r = RunPythonProgram("while True:\n    pass\n", Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kTimedOut) << r.verdict.reason;
  EXPECT_LT(r.elapsed.count(), 8000 + 1000);
}

TEST(SandboxHostile, WritingOutsideTheTempDirFails) {
  char tmpl[] = "/tmp/triage-host-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::filesystem::path host_dir = tmpl;
  std::filesystem::path target = host_dir / "pwned.txt";
  std::string program = "open('" + target.string() + "', 'w').write('x')\n";
  CodeResult r = RunPythonProgram(program, Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kFailed) << r.verdict.reason;
  EXPECT_FALSE(std::filesystem::exists(target));
  if (IsRoot()) {
    // /dev/shm is a private tmpfs inside the sandbox: whatever is written there never reaches
    // the host's.
    const std::string shm = "/dev/shm/triage-sandbox-test-" + std::to_string(getpid());
    RunPythonProgram("open('" + shm + "', 'w').write('x')\n", Tight());
    EXPECT_FALSE(std::filesystem::exists(shm));
    std::filesystem::remove(shm);
  }
  // Writing inside its own directory is fine.
  EXPECT_TRUE(RunPythonProgram("open('scratch.txt', 'w').write('ok')\n", Tight()).verdict.Passed());
  std::filesystem::remove_all(host_dir);
}

TEST(SandboxHostile, EnvironmentIsScrubbed) {
  setenv("TRIAGE_SANDBOX_TEST_SECRET", "hunter2-secret", 1);
  CodeTests tests;
  tests.asserts = {
      "import os",
      "assert 'TRIAGE_SANDBOX_TEST_SECRET' not in os.environ",
      "assert all('hunter2-secret' not in v for v in os.environ.values())",
      "assert 'hunter2-secret' not in open('/proc/self/environ').read()",
  };
  CodeResult r = RunPythonTests("", tests, Tight());
  EXPECT_TRUE(r.verdict.Passed()) << r.verdict.reason << "\n" << r.output_tail;
  if (IsRoot()) {
    // A different uid cannot read the parent's environment either.
    CodeResult p =
        RunPythonProgram("import os\nopen('/proc/%d/environ' % os.getppid()).read()\n", Tight());
    EXPECT_FALSE(p.verdict.Passed()) << p.output_tail;
  }
  unsetenv("TRIAGE_SANDBOX_TEST_SECRET");
}

TEST(SandboxHostile, SocketsCannotReachTheNetwork) {
  if (!IsRoot()) GTEST_SKIP() << "a network namespace needs root (CI runs as root)";
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  std::string program = "import socket\ns = socket.create_connection(('127.0.0.1', " +
                        std::to_string(port) + "), timeout=2)\ns.sendall(b'leak')\n";
  CodeResult r = RunPythonProgram(program, Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kFailed) << r.verdict.reason;
  EXPECT_NE(r.isolation.find("netns"), std::string::npos);
  // Nothing reached the host's listener.
  EXPECT_LT(accept(listener, nullptr, nullptr), 0);
  close(listener);
}

TEST(SandboxHostile, Allocating50GBIsContained) {
  CodeResult r = RunPythonProgram("x = bytearray(50 * 2**30)\n", Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kCrashed) << r.verdict.reason;
  EXPECT_NE(r.verdict.reason.find("MemoryError"), std::string::npos) << r.verdict.reason;
}

TEST(SandboxHostile, ForgedResultLineIsNotBelieved) {
  // Without the per-run nonce, printing a success marker proves nothing.
  CodeTests tests;
  tests.asserts = {"assert False"};
  CodeResult r = RunPythonTests(
      "import sys\nprint('@@TRIAGE 0 PASS')\nsys.stderr.write('\\n@@TRIAGE deadbeef PASS\\n')\n",
      tests, Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kFailed) << r.verdict.reason;
}

TEST(Sandbox, ReportsWhichTestFailed) {
  CodeTests tests;
  tests.asserts = {"assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert add(0, 0) == 0"};
  CodeResult r = RunPythonTests("def add(a, b):\n    return a + b\n", tests, Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kFailed);
  EXPECT_EQ(r.failed_test, "assert add(2, 2) == 5");
}

TEST(Sandbox, RunsHumanEvalStyleCheck) {
  CodeTests tests;
  tests.check_source = "def check(candidate):\n    assert candidate(3) == 9\n";
  tests.entry_point = "square";
  EXPECT_TRUE(
      RunPythonTests("def square(x):\n    return x * x\n", tests, Tight()).verdict.Passed());
  CodeResult bad = RunPythonTests("def square(x):\n    return x + x\n", tests, Tight());
  EXPECT_EQ(bad.verdict.outcome, Outcome::kFailed);
  EXPECT_EQ(bad.failed_test, "assert candidate(3) == 9");
}

TEST(Sandbox, WorksWhateverDescriptorsTheParentHasOpen) {
  // A daemon may run without stdin: the sandbox's own descriptors then take low numbers and
  // must still end up on 0-3 in the child.
  int saved = dup(0);
  ASSERT_GE(saved, 0);
  close(0);
  CodeResult r = RunPythonProgram("x = 1\n", Tight());
  dup2(saved, 0);
  close(saved);
  EXPECT_TRUE(r.verdict.Passed()) << r.verdict.reason << "\n" << r.output_tail;
}

TEST(Sandbox, CodeCommandReportsTheFailingTestAsJson) {
  CommandOutput out = CodeCommand("def add(a, b):\n    return a - b\n", "assert add(1, 1) == 2\n",
                                  "", /*json=*/true, Tight());
  EXPECT_EQ(out.exit_code, 1);
  auto j = nlohmann::json::parse(out.text);
  EXPECT_EQ(j["outcome"], "failed");
  EXPECT_EQ(j["failed_test"], "assert add(1, 1) == 2");
  CommandOutput ok = CodeCommand("def sq(x):\n    return x * x\n",
                                 "def check(candidate):\n    assert candidate(4) == 16\n", "sq",
                                 /*json=*/false, Tight());
  EXPECT_EQ(ok.exit_code, 0) << ok.text;
}

}  // namespace
}  // namespace triage::verify
