// Hostile programs in the code sandbox: each is contained and reported, and the host is
// unharmed. ctest runs this binary twice: as the user running ctest (root in CI) and, through
// run_unprivileged.sh, as an unprivileged user. The sandbox confines differently on the two paths
// (a throwaway uid, or a user namespace); every test asserts containment on the path it runs on.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// What the sandbox must report on the path this process takes.
std::string ExpectedIsolation() {
  return IsRoot() ? "rlimits,tempdir,env,netns,mntns,pidns,ro-root,uid"
                  : "rlimits,tempdir,env,userns,netns,mntns,pidns,ro-root";
}

// A host directory anyone may write to, like /tmp: neither the sandbox's uid nor file
// permissions keep the program out, only the sandbox's read-only mounts.
std::filesystem::path WorldWritableDir() {
  char tmpl[] = "/tmp/triage-host-XXXXXX";
  if (!mkdtemp(tmpl)) return {};
  chmod(tmpl, 01777);
  return tmpl;
}

std::string Quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

TEST(SandboxHostile, ReportsTheProtectionsOfItsPath) {
  CodeResult r = RunPythonProgram("x = 1\n", Tight());
  EXPECT_TRUE(r.verdict.Passed()) << r.verdict.reason << "\n" << r.output_tail;
  EXPECT_EQ(r.isolation, ExpectedIsolation());
}

TEST(SandboxHostile, ForkBombIsContained) {
  CodeResult r = RunPythonProgram("import os\nwhile True:\n    os.fork()\n", Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kFailed) << r.verdict.reason;
  // The process limit stops it, not the clock.
  EXPECT_NE(r.verdict.reason.find("BlockingIOError"), std::string::npos) << r.verdict.reason;
  // The host can still start processes, and the sandbox still works.
  EXPECT_TRUE(RunPythonProgram("x = 1\n", Tight()).verdict.Passed());
}

// The host pids whose command line holds `marker`.
std::vector<pid_t> ProcessesWith(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(marker) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

TEST(SandboxHostile, ProcessesThatLeaveTheGroupAreKilled) {
  // A daemon: a new session, a second fork, then a long sleep under a recognisable name. It says
  // through a pipe when it is up, so the program ends only once the daemon exists.
  const std::string marker = "triage-escapee-" + std::to_string(getpid());
  const std::string program =
      "import os\n"
      "r, w = os.pipe()\n"
      "if os.fork() == 0:\n"
      "    os.setsid()\n"
      "    if os.fork() == 0:\n"
      "        os.set_inheritable(w, True)\n"
      "        code = 'import os, sys, time; os.write(int(sys.argv[1]), b\"r\"); time.sleep(60)'\n"
      "        os.execv('/usr/bin/python3', ['python3', '-c', code, str(w), '" +
      marker +
      "'])\n"
      "    os._exit(0)\n"
      "os.close(w)\n"
      "os.wait()\n"
      "assert os.read(r, 1) == b'r'\n";
  CodeResult r = RunPythonProgram(program, Tight());
  EXPECT_TRUE(r.verdict.Passed()) << r.verdict.reason << "\n" << r.output_tail;
  std::vector<pid_t> survivors = ProcessesWith(marker);
  EXPECT_TRUE(survivors.empty()) << survivors.size() << " process(es) outlived the sandbox";
  for (pid_t pid : survivors) kill(pid, SIGKILL);
}

TEST(SandboxHostile, InfiniteLoopTimesOut) {
  CodeResult r = RunPythonProgram("while True:\n    pass\n", Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kTimedOut) << r.verdict.reason;
  EXPECT_NE(r.verdict.reason.find("CPU limit"), std::string::npos) << r.verdict.reason;
  // A program that waits without using CPU meets the wall clock instead.
  SandboxLimits short_clock = Tight();
  short_clock.wall_clock = std::chrono::milliseconds(1500);
  CodeResult idle = RunPythonProgram("import time\ntime.sleep(3600)\n", short_clock);
  EXPECT_EQ(idle.verdict.outcome, Outcome::kTimedOut) << idle.verdict.reason;
  EXPECT_NE(idle.verdict.reason.find("wall-clock"), std::string::npos) << idle.verdict.reason;
}

TEST(SandboxHostile, WritingOutsideTheTempDirFails) {
  const std::filesystem::path host_dir = WorldWritableDir();
  ASSERT_FALSE(host_dir.empty());
  const std::filesystem::path target = host_dir / "pwned.txt";
  CodeResult r = RunPythonProgram("open(" + Quoted(target) + ", 'w').write('x')\n", Tight());
  EXPECT_EQ(r.verdict.outcome, Outcome::kFailed) << r.verdict.reason;
  EXPECT_NE(r.verdict.reason.find("Read-only file system"), std::string::npos) << r.verdict.reason;
  EXPECT_FALSE(std::filesystem::exists(target));
  // /dev/shm is a private tmpfs inside the sandbox: the write succeeds there and never reaches
  // the host's.
  const std::string shm = "/dev/shm/triage-sandbox-test-" + std::to_string(getpid());
  CodeResult in_shm = RunPythonProgram("open('" + shm + "', 'w').write('x')\n", Tight());
  EXPECT_TRUE(in_shm.verdict.Passed()) << in_shm.verdict.reason;
  EXPECT_FALSE(std::filesystem::exists(shm));
  std::filesystem::remove(shm);
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
  // No process the program can see, this test process included, shows it this process's
  // environment (the one it was started with, which /proc/<pid>/environ holds).
  std::ifstream in("/proc/self/environ", std::ios::binary);
  const std::string own((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(own.empty());
  std::string hex;
  for (unsigned char c : own) {
    constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  const std::string program =
      "import os\n"
      "def environ(path):\n"
      "    try:\n"
      "        return open(path, 'rb').read()\n"
      "    except OSError:\n"
      "        return None\n"
      "host = bytes.fromhex('" +
      hex +
      "')\n"
      "paths = ['/proc/%d/environ' % " +
      std::to_string(getpid()) +
      "] + ['/proc/' + p + '/environ' for p in os.listdir('/proc') if p.isdigit()]\n"
      "leaks = [p for p in paths if environ(p) == host]\n"
      "assert not leaks, leaks\n";
  CodeResult p = RunPythonProgram(program, Tight());
  EXPECT_TRUE(p.verdict.Passed()) << p.verdict.reason << "\n" << p.output_tail;
  unsetenv("TRIAGE_SANDBOX_TEST_SECRET");
}

// A host process with a recognisable command line, blocked reading a pipe; it ends when this
// object closes the pipe.
class HostProcess {
 public:
  explicit HostProcess(const std::string& name) {
    int input[2], exec_done[2];
    if (pipe(input) != 0) return;
    if (pipe2(exec_done, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(input[0], 0);
      close(input[0]);
      close(input[1]);
      execl("/bin/sh", "sh", "-c", "read line", name.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(input[0]);
    close(exec_done[1]);
    feed_ = input[1];
    char byte;
    (void)!read(exec_done[0], &byte, 1);  // EOF once the exec closed the other end
    close(exec_done[0]);
  }
  ~HostProcess() {
    if (feed_ >= 0) close(feed_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

 private:
  pid_t pid_ = -1;
  int feed_ = -1;
};

TEST(SandboxHostile, HostProcessesAreInvisible) {
  const std::string marker = "triage-host-process-" + std::to_string(getpid());
  HostProcess host(marker);
  ASSERT_EQ(ProcessesWith(marker).size(), 1u);
  const std::string program =
      "import os\n"
      "def cmdline(p):\n"
      "    try:\n"
      "        return open('/proc/' + p + '/cmdline', 'rb').read()\n"
      "    except OSError:\n"
      "        return b''\n"
      "seen = [p for p in os.listdir('/proc') if p.isdigit() and b'" +
      marker +
      "' in cmdline(p)]\n"
      "assert not seen, seen\n";
  CodeResult r = RunPythonProgram(program, Tight());
  EXPECT_TRUE(r.verdict.Passed()) << r.verdict.reason << "\n" << r.output_tail;
}

TEST(SandboxHostile, SocketsCannotReachTheNetwork) {
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
  EXPECT_NE(r.verdict.reason.find("Network is unreachable"), std::string::npos) << r.verdict.reason;
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

// Makes every namespace-creating clone/unshare fail with EPERM in this process, as a container's
// seccomp profile or a kernel without (unprivileged) namespaces would.
bool ForbidNamespaces() {
#if defined(__x86_64__)
  constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#else
#error "ForbidNamespaces: add this architecture's AUDIT_ARCH"
#endif
  constexpr unsigned kNamespaces = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID |
                                   CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      // clone3 passes its flags in memory: refuse it as an old kernel would.
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 0, 3),
      // The flags are the first argument of both; its low word on a little-endian machine.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kNamespaces, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

TEST(SandboxHostile, RefusesToRunWhenItCannotConfine) {
  const std::filesystem::path host_dir = WorldWritableDir();
  ASSERT_FALSE(host_dir.empty());
  const std::filesystem::path target = host_dir / "unconfined.txt";
  // The filter cannot be taken back, so the sandbox runs in a child process that reports the
  // result as JSON through a pipe.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    nlohmann::json report = {{"filter", ForbidNamespaces()}};
    if (report["filter"]) {
      CodeResult r = RunPythonProgram("open(" + Quoted(target) + ", 'w').write('x')\n", Tight());
      report["outcome"] = static_cast<int>(r.verdict.outcome);
      report["reason"] = r.verdict.reason;
      report["isolation"] = r.isolation;
    }
    std::string text = report.dump();
    (void)!write(fds[1], text.data(), text.size());
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t got;
  while ((got = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(got));
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  nlohmann::json report = nlohmann::json::parse(text);
  ASSERT_TRUE(report["filter"].get<bool>()) << "could not install the seccomp filter";
  EXPECT_EQ(report["outcome"].get<int>(), static_cast<int>(Outcome::kCrashed)) << text;
  const std::string reason = report["reason"];
  EXPECT_EQ(reason.rfind("sandbox unavailable: ", 0), 0u) << reason;
  EXPECT_NE(reason.find(IsRoot() ? "as root" : "user namespace"), std::string::npos) << reason;
  EXPECT_NE(reason.find("Operation not permitted"), std::string::npos) << reason;
  EXPECT_EQ(report["isolation"], "none");
  // The program never ran.
  EXPECT_FALSE(std::filesystem::exists(target));
  std::filesystem::remove_all(host_dir);
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

TEST(Sandbox, WorksInAProcessHoldingManyDescriptors) {
  // A service holds sockets to its database, broker and clients: more than the program's own
  // limit of 64, on every number from 10 up.
  std::vector<int> held;
  for (int i = 0; i < 100; ++i) held.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  CodeResult r = RunPythonProgram("x = 1\n", Tight());
  for (int fd : held) close(fd);
  EXPECT_TRUE(r.verdict.Passed()) << r.verdict.reason << "\n" << r.output_tail;
}

TEST(Sandbox, ASetUpFailureIsReportedAsReadableText) {
  // The program's own set-up fails (no such interpreter): the reason names the step and the
  // error, and holds none of the bytes the sandbox's init reports the program's end with.
  auto limits = Tight();
  limits.python = "/nonexistent/python3";
  CodeResult r = RunPythonProgram("x = 1\n", limits);
  EXPECT_EQ(r.verdict.outcome, Outcome::kCrashed);
  EXPECT_NE(r.verdict.reason.find("execve /nonexistent/python3: No such file or directory"),
            std::string::npos)
      << r.verdict.reason;
  for (char c : r.verdict.reason)
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(c) << " in: " << r.verdict.reason;
}

// A program that dies at once (here: its interpreter is missing) used to race the caller's
// write of the run's nonce into its pipe; losing the race raised SIGPIPE, which kills a process
// that keeps the default action (this test's, as a service's could be). Many quick deaths in a
// row give the race every chance; the nonce now goes in before the child exists.
TEST(Sandbox, AProgramThatDiesAtOnceNeverTakesTheCallerWithIt) {
  ASSERT_NE(signal(SIGPIPE, SIG_DFL), SIG_ERR);
  auto limits = Tight();
  limits.python = "/nonexistent/python3";
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(RunPythonProgram("x = 1\n", limits).verdict.outcome, Outcome::kCrashed) << i;
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
