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

// A mount the child remounts read-only, with the per-mount flags it already has: inside a user
// namespace a remount may not drop them (EPERM), so they are passed again.
struct MountPoint {
  std::string path;
  unsigned long keep_flags = 0;
};

// Every mount point but the pseudo file systems, "/" first, read from /proc/self/mountinfo on
// each run (a file system mounted since the last run is protected too): the child remounts them
// read-only (it may not allocate, so the list is prepared here).
std::vector<MountPoint> MountsToProtect() {
  std::vector<MountPoint> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point, options;
    if (!(fields >> id >> parent >> devno >> root >> point >> options)) continue;
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
    // Pseudo file systems (a path such as /proc2 or /system is not one of them).
    auto under = [&decoded](std::string_view top) {
      return decoded == top || decoded.rfind(std::string(top) + "/", 0) == 0;
    };
    if (under("/proc") || under("/sys") || decoded == "/dev" || under("/dev/pts") ||
        decoded == "/dev/shm")
      continue;
    MountPoint m{decoded, 0};
    std::istringstream opts(options);
    for (std::string opt; std::getline(opts, opt, ',');) {
      if (opt == "nosuid") m.keep_flags |= MS_NOSUID;
      if (opt == "nodev") m.keep_flags |= MS_NODEV;
      if (opt == "noexec") m.keep_flags |= MS_NOEXEC;
    }
    if (decoded == "/")
      mounts.insert(mounts.begin(), m);
    else
      mounts.push_back(m);
  }
  return mounts;
}

// How the child is confined. As root: new network, mount and pid namespaces and a throwaway uid.
// Otherwise the same namespaces inside a new user namespace that maps only the caller's own uid
// and gid, so the program gains nothing on the host. Either all of it or the program does not
// run: there is no partial confinement.
struct Confinement {
  bool root;
  unsigned long clone_flags;
  const char* isolation;
};

Confinement ChooseConfinement(bool root) {
  constexpr unsigned long kNamespaces = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID;
  if (root) return {true, kNamespaces, "rlimits,tempdir,env,netns,mntns,pidns,ro-root,uid"};
  return {false, kNamespaces | CLONE_NEWUSER,
          "rlimits,tempdir,env,userns,netns,mntns,pidns,ro-root"};
}

std::string Unavailable(bool root, int err) {
  std::string why = std::strerror(err);
  if (root)
    return "sandbox unavailable: running as root but cannot create network, mount and pid "
           "namespaces (clone: " +
           why + "); the program is not run unconfined";
  return "sandbox unavailable: cannot create a user namespace with network, mount and pid "
         "namespaces as an unprivileged user (clone: " +
         why +
         "); allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0, and "
         "kernel.unprivileged_userns_clone=1 where it exists) or run as root; the program is "
         "not run unconfined";
}

// Reports a failed set-up step (and errno) to the parent; the program never runs.
[[noreturn]] void ChildFail(int status_fd, const char* what, const char* detail = "") {
  unsigned char buf[2] = {0xFF, static_cast<unsigned char>(errno & 0xFF)};
  (void)!write(status_fd, buf, 2);
  (void)!write(status_fd, what, std::strlen(what));
  (void)!write(status_fd, detail, std::strlen(detail));
  // Ends the text: when the program's set-up fails, the init's 'W' record follows it.
  (void)!write(status_fd, "\n", 1);
  _exit(127);
}

// Writes `text` to an existing /proc file; system calls only (runs in the child).
bool WriteProcFile(const char* path, std::string_view text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

CodeResult Run(const std::string& candidate, const std::string& tests,
               const SandboxLimits& limits) {
  CodeResult result;
  result.isolation = "none";
  auto started = Clock::now();
  char dir_template[] = "/tmp/triage-sandbox-XXXXXX";
  if (!mkdtemp(dir_template)) {
    result.verdict = {Outcome::kCrashed, "sandbox: cannot create a temp dir"};
    return result;
  }
  const std::filesystem::path dir = dir_template;
  const Confinement confinement = ChooseConfinement(geteuid() == 0);
  const unsigned uid = confinement.root ? SandboxUid() : geteuid();
  std::string nonce = RandomNonce();
  bool files_ok = WriteFile(dir / "harness.py", kHarness) &&
                  WriteFile(dir / "candidate.py", candidate) && WriteFile(dir / "tests.py", tests);
  if (confinement.root) {
    for (const char* f : {"", "harness.py", "candidate.py", "tests.py"})
      (void)!chown((dir / f).c_str(), uid, uid);
  }
  chmod(dir.c_str(), 0700);
  const std::string out_path = (dir / "output.txt").string();
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (confinement.root && out_fd >= 0) (void)!fchown(out_fd, uid, uid);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int nonce_pipe[2] = {-1, -1}, status_pipe[2] = {-1, -1};
  if (!files_ok || out_fd < 0 || null_fd < 0 || pipe2(nonce_pipe, O_CLOEXEC) != 0 ||
      pipe2(status_pipe, O_CLOEXEC) != 0) {
    result.verdict = {Outcome::kCrashed, "sandbox: cannot prepare files or pipes"};
    std::filesystem::remove_all(dir);
    return result;
  }
  // The nonce is in the pipe before the clone and the write end closed: written after it, to a
  // child already gone (a failed exec), the write raised SIGPIPE and killed the caller.
  const bool nonce_sent =
      write(nonce_pipe[1], nonce.data(), nonce.size()) == static_cast<ssize_t>(nonce.size());
  close(nonce_pipe[1]);
  nonce_pipe[1] = -1;
  if (!nonce_sent) {
    result.verdict = {Outcome::kCrashed, "sandbox: cannot pass the run's nonce"};
    for (int fd : {out_fd, null_fd, nonce_pipe[0], status_pipe[0], status_pipe[1]}) close(fd);
    std::filesystem::remove_all(dir);
    return result;
  }
  // Everything the child needs is built before the clone: after it only system calls are safe.
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
  const std::vector<MountPoint> mounts = MountsToProtect();
  const std::string uid_map = std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1";
  const std::string gid_map = std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1";

  // clone rather than fork + unshare: the child itself must be the first process of the new pid
  // namespace, so that every process the program starts dies with it.
  pid_t pid = static_cast<pid_t>(
      syscall(SYS_clone, confinement.clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) {
    result.verdict = {Outcome::kCrashed, Unavailable(confinement.root, errno)};
    close(out_fd);
    close(null_fd);
    for (int fd : {nonce_pipe[0], status_pipe[0], status_pipe[1]}) close(fd);
    std::filesystem::remove_all(dir);
    return result;
  }
  if (pid == 0) {
    // --- child, pid 1 of its pid namespace: system calls only ---
    // Above the descriptors about to be rearranged (0-3), so it survives until exec.
    int status_fd = fcntl(status_pipe[1], F_DUPFD_CLOEXEC, 10);
    if (status_fd < 0) _exit(127);
    // An unprivileged process may map only its own ids, and gid_map only once setgroups is
    // denied.
    if (!confinement.root && (!WriteProcFile("/proc/self/uid_map", uid_map) ||
                              !WriteProcFile("/proc/self/setgroups", "deny") ||
                              !WriteProcFile("/proc/self/gid_map", gid_map)))
      ChildFail(status_fd, "user namespace id maps");
    // Private mounts; the temp dir stays writable, every other file system becomes read-only,
    // nosuid and nodev, /dev/shm is a fresh private tmpfs, and /proc shows only this namespace's
    // processes. A path that cannot be reached (ENOENT, or EACCES for the unprivileged user)
    // cannot be written through either.
    constexpr unsigned long kReadOnly = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      ChildFail(status_fd, "make the mounts private");
    if (mount(dir_str.c_str(), dir_str.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      ChildFail(status_fd, "bind-mount the temp dir");
    for (const auto& m : mounts) {
      if (mount(nullptr, m.path.c_str(), nullptr, kReadOnly | m.keep_flags, nullptr) != 0 &&
          errno != ENOENT && errno != EACCES)
        ChildFail(status_fd, "remount read-only ", m.path.c_str());
    }
    if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777") != 0 &&
        errno != ENOENT)
      ChildFail(status_fd, "mount a private /dev/shm");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      ChildFail(status_fd, "mount a private /proc");
    // This process stays as the namespace's init: the program runs in a child, so it keeps
    // ordinary signal semantics (SIGXCPU), and its exit status is relayed through the status
    // pipe. It is a copy of the caller, holding its memory and environment: the program may not
    // read them through /proc/1 nor ptrace it (a different uid, or capabilities the program
    // lacks), and, not relying on that alone, it is not dumpable. A raw clone again, as glibc's
    // fork may wait on locks another thread of the caller held.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    pid_t program =
        static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (program < 0) ChildFail(status_fd, "fork the program");
    if (program > 0) {
      // Reap everything (orphans are re-parented here) until the program itself ends.
      int program_status = 0;
      while (true) {
        pid_t done = wait4(-1, &program_status, 0, nullptr);
        if (done == program) break;
        if (done < 0 && errno != EINTR) ChildFail(status_fd, "wait for the program");
      }
      unsigned char record[1 + sizeof program_status] = {'W'};
      std::memcpy(record + 1, &program_status, sizeof program_status);
      (void)!write(status_fd, record, sizeof record);
      _exit(0);
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
    // Counted per uid, and inside a user namespace per (namespace, uid), where the init above
    // counts too: either way only the program's own processes.
    rl = {nproc + (confinement.root ? 0 : 1), nproc + (confinement.root ? 0 : 1)};
    setrlimit(RLIMIT_NPROC, &rl);
    if (confinement.root) {
      if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setgid, uid) != 0 ||
          syscall(SYS_setuid, uid) != 0)
        ChildFail(status_fd, "setuid");
    }
    // Without root the program keeps the caller's uid inside its user namespace: it is not uid
    // 0 there, so execve leaves it no capabilities.
    // Any source may already sit on a target number (fd numbers depend on what other threads
    // hold open, and dup2(3, 3) keeps close-on-exec): copy the sources above 10 first.
    int hi_null = fcntl(null_fd, F_DUPFD_CLOEXEC, 10);
    int hi_out = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
    int hi_nonce = fcntl(nonce_pipe[0], F_DUPFD_CLOEXEC, 10);
    if (hi_null < 0 || hi_out < 0 || hi_nonce < 0 || dup2(hi_null, 0) < 0 || dup2(hi_out, 1) < 0 ||
        dup2(hi_out, 2) < 0 || dup2(hi_nonce, 3) < 0)
      ChildFail(status_fd, "dup2");
    // Only now: the caller's descriptors (a service holds many) occupy numbers up to its own
    // limit until exec closes them, so a lower limit set earlier left no room to move these.
    rl = {64, 64};
    setrlimit(RLIMIT_NOFILE, &rl);
    unsigned char ok = 0;
    (void)!write(status_fd, &ok, 1);
    execve(argv[0], const_cast<char* const*>(argv.data()), const_cast<char* const*>(envp.data()));
    ChildFail(status_fd, "execve ", argv[0]);
  }
  // --- parent ---
  close(out_fd);
  close(null_fd);
  close(nonce_pipe[0]);
  close(status_pipe[1]);
  // Wall clock: poll a pidfd, or fall back to waiting in short slices. Killing the child, pid 1
  // of its namespace, kills every process the program started; wait4 returns once they are gone.
  bool timed_out = false;
  int init_status = 0;
  struct rusage usage {};
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  auto deadline = started + limits.wall_clock;
  while (true) {
    pid_t done = wait4(pid, &init_status, WNOHANG, &usage);
    if (done == pid) break;
    auto now = Clock::now();
    if (now >= deadline) {
      timed_out = true;
      kill(pid, SIGKILL);
      wait4(pid, &init_status, 0, &usage);
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
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::string output = Tail(out_path, 16384);
  std::filesystem::remove_all(dir);
  result.output_tail = output.size() > 2048 ? output.substr(output.size() - 2048) : output;

  // Every process that held the status pipe is gone now. It holds: 0 once the program is
  // about to exec; 0xFF, errno and the step when set-up failed; 'W' and the program's wait
  // status when it ended.
  std::string status;
  char buf[256];
  ssize_t got;
  while ((got = read(status_pipe[0], buf, sizeof buf)) > 0)
    status.append(buf, static_cast<std::size_t>(got));
  close(status_pipe[0]);
  const bool started_ok = !status.empty() && status[0] == 0;
  const std::size_t next = started_ok ? 1 : 0;
  if (!started_ok || (status.size() > next && static_cast<unsigned char>(status[next]) == 0xFF)) {
    std::string why = status.size() >= next + 2
                          ? status.substr(next + 2, status.find('\n', next + 2) - (next + 2)) +
                                ": " + std::strerror(static_cast<unsigned char>(status[next + 1]))
                          : std::string("no report from the sandbox");
    result.verdict = {Outcome::kCrashed, "sandbox unavailable: set-up failed: " + why +
                                             "; the program is not run unconfined"};
    return result;
  }
  result.isolation = confinement.isolation;
  double cpu_used = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                    (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  if (timed_out) {
    result.verdict = {Outcome::kTimedOut,
                      "wall-clock limit of " + std::to_string(limits.wall_clock.count()) + " ms"};
    return result;
  }
  int wstatus = 0;
  if (status.size() < next + 1 + sizeof wstatus || status[next] != 'W') {
    result.verdict = {Outcome::kCrashed, "sandbox: its init ended without the program's status"};
    return result;
  }
  std::memcpy(&wstatus, status.data() + next + 1, sizeof wstatus);
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
