#include "verify/code_sandbox.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

namespace triage::verify {
namespace {

using Clock = std::chrono::steady_clock;

// The harness reads a per-run nonce from fd 3 and closes it before any candidate code runs, so
// a candidate cannot forge the result line.
constexpr char kHarness[] = R"PY(import os, sys, traceback
nonce = os.read(3, 64).decode()
os.close(3)
def report(kind, detail=""):
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os.write(2, ("\n@@TRIAGE " + nonce + " " + kind + " " + detail.replace("\n", " ")[:300] + "\n").encode())
def failing_line(tb, path):
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == path:
            line = lineno
    return line
ns = {"__name__": "__triage_candidate__"}
try:
    with open("candidate.py") as f:
        exec(compile(f.read(), "candidate.py", "exec"), ns)
except MemoryError:
    report("CRASH", "MemoryError (memory limit) while loading the candidate"); os._exit(3)
except BaseException as e:
    report("FAIL", "candidate did not load: " + type(e).__name__ + ": " + str(e)); os._exit(2)
try:
    with open("tests.py") as f:
        tests = f.read()
    exec(compile(tests, "tests.py", "exec"), ns)
except MemoryError:
    report("CRASH", "MemoryError (memory limit)"); os._exit(3)
except RecursionError as e:
    report("FAIL", "RecursionError"); os._exit(1)
except BaseException as e:
    lineno = failing_line(e.__traceback__, "tests.py")
    text = tests.splitlines()[lineno - 1].strip() if lineno else ""
    report("FAIL", str(lineno or 0) + " " + type(e).__name__ + " | " + text); os._exit(1)
report("PASS")
os._exit(0)
)PY";

std::string RandomNonce() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream out;
  out << std::hex << rng() << rng();
  return out.str();
}

unsigned SandboxUid() {
  static std::atomic<unsigned> counter{0};
  return 200000u + ((static_cast<unsigned>(getpid()) & 0xFFFFu) << 8) + (counter++ & 0xFFu);
}

bool WriteFile(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return static_cast<bool>(out);
}

std::string Tail(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg()));
  std::size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string out(size - start, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

// Every mount point but the pseudo file systems, read once from /proc/self/mountinfo: the child
// remounts them read-only (it may not allocate, so the list is prepared here).
const std::vector<std::string>& WritableCandidates() {
  static std::once_flag once;
  static std::vector<std::string> mounts;
  std::call_once(once, [] {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string id, parent, devno, root, point;
      if (!(fields >> id >> parent >> devno >> root >> point)) continue;
      // Octal escapes (\040 for a space) as the kernel writes them.
      std::string decoded;
      for (std::size_t i = 0; i < point.size(); ++i) {
        if (point[i] == '\\' && i + 3 < point.size()) {
          decoded += static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8));
          i += 3;
        } else {
          decoded += point[i];
        }
      }
      if (decoded == "/" || decoded.rfind("/proc", 0) == 0 || decoded.rfind("/sys", 0) == 0 ||
          decoded == "/dev" || decoded.rfind("/dev/pts", 0) == 0 || decoded == "/dev/shm")
        continue;
      mounts.push_back(decoded);
    }
  });
  return mounts;
}

// Isolation bits the child reports back before exec.
enum : unsigned char { kNetNs = 1, kMountNs = 2, kUid = 4, kReadOnlyRoot = 8 };

[[noreturn]] void ChildFail(int status_fd, const char* what) {
  unsigned char buf[2] = {0xFF, static_cast<unsigned char>(errno & 0xFF)};
  (void)!write(status_fd, buf, 2);
  (void)!write(status_fd, what, std::strlen(what));
  _exit(127);
}

CodeResult Run(const std::string& candidate, const std::string& tests,
               const SandboxLimits& limits) {
  CodeResult result;
  auto started = Clock::now();
  char dir_template[] = "/tmp/triage-sandbox-XXXXXX";
  if (!mkdtemp(dir_template)) {
    result.verdict = {Outcome::kCrashed, "sandbox: cannot create a temp dir"};
    return result;
  }
  const std::filesystem::path dir = dir_template;
  const bool root = geteuid() == 0;
  const unsigned uid = root ? SandboxUid() : getuid();
  std::string nonce = RandomNonce();
  bool files_ok = WriteFile(dir / "harness.py", kHarness) &&
                  WriteFile(dir / "candidate.py", candidate) && WriteFile(dir / "tests.py", tests);
  if (root) {
    for (const char* f : {"", "harness.py", "candidate.py", "tests.py"})
      (void)!chown((dir / f).c_str(), uid, uid);
  }
  chmod(dir.c_str(), 0700);
  const std::string out_path = (dir / "output.txt").string();
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (root && out_fd >= 0) (void)!fchown(out_fd, uid, uid);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int nonce_pipe[2] = {-1, -1}, status_pipe[2] = {-1, -1};
  if (!files_ok || out_fd < 0 || null_fd < 0 || pipe2(nonce_pipe, O_CLOEXEC) != 0 ||
      pipe2(status_pipe, O_CLOEXEC) != 0) {
    result.verdict = {Outcome::kCrashed, "sandbox: cannot prepare files or pipes"};
    std::filesystem::remove_all(dir);
    return result;
  }
  // Everything the child needs is built before fork: after fork only system calls are safe.
  std::string dir_str = dir.string();
  std::string home = "HOME=" + dir_str;
  std::array<const char*, 6> envp = {
      "PATH=/usr/local/bin:/usr/bin:/bin", home.c_str(), "LANG=C.UTF-8", "PYTHONHASHSEED=0",
      "PYTHONDONTWRITEBYTECODE=1",         nullptr};
  std::array<const char*, 5> argv = {limits.python.c_str(), "-I", "-B", "harness.py", nullptr};
  const rlim_t cpu = static_cast<rlim_t>(std::max(1, limits.cpu_seconds));
  const rlim_t mem = static_cast<rlim_t>(limits.memory_bytes);
  const rlim_t fsize = static_cast<rlim_t>(limits.file_bytes);
  const rlim_t nproc = static_cast<rlim_t>(std::max(1, limits.max_processes));
  const std::vector<std::string>& other_mounts = WritableCandidates();

  pid_t pid = fork();
  if (pid < 0) {
    result.verdict = {Outcome::kCrashed, "sandbox: fork failed"};
    std::filesystem::remove_all(dir);
    return result;
  }
  if (pid == 0) {
    // --- child: system calls only ---
    // Above the descriptors about to be rearranged (0-3), so it survives until exec.
    int status_fd = fcntl(status_pipe[1], F_DUPFD_CLOEXEC, 10);
    if (status_fd < 0) _exit(127);
    unsigned char bits = 0;
    setpgid(0, 0);
    if (root) {
      if (unshare(CLONE_NEWNET) == 0) bits |= kNetNs;
      if (unshare(CLONE_NEWNS) == 0) {
        bits |= kMountNs;
        // Private mounts; the temp dir stays writable, every other file system becomes
        // read-only and nosuid, and /dev/shm is a fresh private tmpfs.
        constexpr unsigned long kReadOnly = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
            mount(dir_str.c_str(), dir_str.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0 &&
            mount(nullptr, "/", nullptr, kReadOnly, nullptr) == 0) {
          bits |= kReadOnlyRoot;
          for (const auto& point : other_mounts)
            if (point != dir_str) mount(nullptr, point.c_str(), nullptr, kReadOnly, nullptr);
          mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777");
        }
      }
    }
    if (chdir(dir_str.c_str()) != 0) ChildFail(status_fd, "chdir");
    // setuid binaries (su, passwd) must not raise the program's privileges.
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    struct rlimit rl;
    rl = {cpu, cpu + 1};
    setrlimit(RLIMIT_CPU, &rl);
    rl = {mem, mem};
    setrlimit(RLIMIT_AS, &rl);
    rl = {fsize, fsize};
    setrlimit(RLIMIT_FSIZE, &rl);
    rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    rl = {64, 64};
    setrlimit(RLIMIT_NOFILE, &rl);
    if (root) {
      rl = {nproc, nproc};
      setrlimit(RLIMIT_NPROC, &rl);
      if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setgid, uid) != 0 ||
          syscall(SYS_setuid, uid) != 0)
        ChildFail(status_fd, "setuid");
      bits |= kUid;
    }
    // Any source may already sit on a target number (fd numbers depend on what other threads
    // hold open, and dup2(3, 3) keeps close-on-exec): copy the sources above 10 first.
    int hi_null = fcntl(null_fd, F_DUPFD_CLOEXEC, 10);
    int hi_out = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
    int hi_nonce = fcntl(nonce_pipe[0], F_DUPFD_CLOEXEC, 10);
    if (hi_null < 0 || hi_out < 0 || hi_nonce < 0 || dup2(hi_null, 0) < 0 || dup2(hi_out, 1) < 0 ||
        dup2(hi_out, 2) < 0 || dup2(hi_nonce, 3) < 0)
      ChildFail(status_fd, "dup2");
    unsigned char ok[2] = {0, bits};
    (void)!write(status_fd, ok, 2);
    execve(argv[0], const_cast<char* const*>(argv.data()), const_cast<char* const*>(envp.data()));
    ChildFail(status_fd, "execve");
  }
  // --- parent ---
  close(out_fd);
  close(null_fd);
  close(nonce_pipe[0]);
  close(status_pipe[1]);
  (void)!write(nonce_pipe[1], nonce.data(), nonce.size());
  close(nonce_pipe[1]);
  std::string status;
  char buf[256];
  ssize_t got;
  while ((got = read(status_pipe[0], buf, sizeof buf)) > 0)
    status.append(buf, static_cast<std::size_t>(got));
  close(status_pipe[0]);
  unsigned char bits = status.size() >= 2 && static_cast<unsigned char>(status[0]) == 0
                           ? static_cast<unsigned char>(status[1])
                           : 0;
  // Wall clock: poll a pidfd, or fall back to waiting in short slices.
  bool timed_out = false;
  int wstatus = 0;
  struct rusage usage {};
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  auto deadline = started + limits.wall_clock;
  while (true) {
    pid_t done = wait4(pid, &wstatus, WNOHANG, &usage);
    if (done == pid) break;
    auto now = Clock::now();
    if (now >= deadline) {
      timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      wait4(pid, &wstatus, 0, &usage);
      break;
    }
    int remaining =
        static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) +
        1;
    if (pidfd >= 0) {
      struct pollfd pfd = {pidfd, POLLIN, 0};
      poll(&pfd, 1, remaining);
    } else {
      struct timespec ts = {0, 2'000'000};
      nanosleep(&ts, nullptr);
    }
  }
  if (pidfd >= 0) close(pidfd);
  // Whatever the program left behind dies with it: its process group, and (as root) every
  // process of its throwaway uid, including ones that escaped the group.
  kill(-pid, SIGKILL);
  if (root) {
    pid_t killer = fork();
    if (killer == 0) {
      if (syscall(SYS_setuid, uid) == 0) kill(-1, SIGKILL);
      _exit(0);
    }
    if (killer > 0) waitpid(killer, nullptr, 0);
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::string isolation = "rlimits,tempdir,env";
  if (bits & kNetNs) isolation += ",netns";
  if (bits & kMountNs) isolation += ",mntns";
  if (bits & kReadOnlyRoot) isolation += ",ro-root";
  if (bits & kUid) isolation += ",uid";
  result.isolation = isolation;
  std::string output = Tail(out_path, 16384);
  std::filesystem::remove_all(dir);
  result.output_tail = output.size() > 2048 ? output.substr(output.size() - 2048) : output;

  if (!status.empty() && static_cast<unsigned char>(status[0]) == 0xFF) {
    result.verdict = {Outcome::kCrashed, "sandbox setup failed: " + status.substr(2)};
    return result;
  }
  double cpu_used = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                    (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  if (timed_out) {
    result.verdict = {Outcome::kTimedOut,
                      "wall-clock limit of " + std::to_string(limits.wall_clock.count()) + " ms"};
    return result;
  }
  if (WIFSIGNALED(wstatus)) {
    result.signal = WTERMSIG(wstatus);
    if (result.signal == SIGXCPU || (result.signal == SIGKILL && cpu_used >= limits.cpu_seconds)) {
      result.verdict = {Outcome::kTimedOut,
                        "CPU limit of " + std::to_string(limits.cpu_seconds) + " s"};
    } else {
      result.verdict = {Outcome::kCrashed,
                        std::string("killed by signal ") + strsignal(result.signal)};
    }
    return result;
  }
  result.exit_code = WEXITSTATUS(wstatus);
  const std::string marker = "@@TRIAGE " + nonce + " ";
  std::size_t at = output.rfind(marker);
  if (at == std::string::npos) {
    result.verdict = {Outcome::kCrashed, "exited with code " + std::to_string(result.exit_code) +
                                             " before the tests finished"};
    return result;
  }
  std::string line = output.substr(at + marker.size());
  line = line.substr(0, line.find('\n'));
  if (line.rfind("PASS", 0) == 0 && result.exit_code == 0) {
    result.verdict = Pass("all tests passed");
  } else if (line.rfind("CRASH", 0) == 0) {
    result.verdict = {Outcome::kCrashed, line.substr(6)};
  } else if (line.rfind("FAIL", 0) == 0) {
    std::string detail = line.size() > 5 ? line.substr(5) : "";
    auto bar = detail.find(" | ");
    if (bar != std::string::npos) result.failed_test = detail.substr(bar + 3);
    result.verdict = Fail("test failed: " + detail);
  } else {
    result.verdict = {Outcome::kCrashed, "unexpected harness output: " + line};
  }
  return result;
}

}  // namespace

CodeResult RunPythonTests(std::string_view candidate, const CodeTests& tests,
                          const SandboxLimits& limits) {
  std::string source = tests.setup;
  if (!source.empty() && source.back() != '\n') source += '\n';
  for (const auto& a : tests.asserts) source += a + "\n";
  if (!tests.check_source.empty()) {
    source += tests.check_source;
    source += "\ncheck(" +
              (tests.entry_point.empty() ? std::string("candidate") : tests.entry_point) + ")\n";
  }
  return Run(std::string(candidate), source, limits);
}

CodeResult RunPythonProgram(std::string_view program, const SandboxLimits& limits) {
  return Run(std::string(program), "", limits);
}

}  // namespace triage::verify
