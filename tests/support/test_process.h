#pragma once

// What the fixtures that run real processes (redis-server, mariadbd, the
// seckill-engine binary) share: a free loopback port, a binary on PATH, a
// child process with its output in files, bounded waits, a temp directory.
// Plain POSIX and the standard library (no abseil, no gtest), so any test
// target can include it.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace seckill::testing {

// Binds a TCP socket to 127.0.0.1:`port` and closes it again. Returns the
// port bound (the kernel's choice when `port` is 0), or 0 if it cannot be
// bound.
inline uint16_t bindLoopbackPort(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof addr;
  uint16_t out = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    out = ntohs(addr.sin_port);
  }
  ::close(fd);
  return out;
}

// A loopback port that was free a moment ago, or 0. Someone else may take it
// before the server binds it: callers retry on a new port.
inline uint16_t freeLoopbackPort() { return bindLoopbackPort(0); }

// The path of the first of `names` (tried in order) that is executable in a
// directory of $PATH or, after those, of `extra_dirs`; "" if none is.
inline std::string findBinary(std::initializer_list<std::string_view> names,
                              std::initializer_list<std::string_view> extra_dirs = {}) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    for (size_t colon; (colon = rest.find(':')) != std::string_view::npos;
         rest.remove_prefix(colon + 1)) {
      dirs.emplace_back(rest.substr(0, colon));
    }
    dirs.emplace_back(rest);
  }
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  for (std::string_view name : names) {
    for (const std::string& dir : dirs) {
      std::string candidate = dir + "/" + std::string(name);
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return {};
}

// The path of `name` in the first directory of $PATH that has it executable,
// or "".
inline std::string findOnPath(std::string_view name) { return findBinary({name}); }

// Starts `argv` (argv[0] is the binary's path; the environment is inherited)
// with stdin from /dev/null, stdout truncated into `stdout_path` and stderr
// into `stderr_path` (the same open file when the paths are equal, so the two
// streams interleave). Returns the child's pid, or -1 if it cannot be started.
inline pid_t spawnProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
                          const std::string& stderr_path) {
  if (argv.empty()) return -1;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  constexpr int kOutFlags = O_WRONLY | O_CREAT | O_TRUNC;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), kOutFlags, 0644);
  if (stderr_path == stdout_path) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), kOutFlags, 0644);
  }
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Starts `argv` with stdout and stderr both into `log` ("/dev/null" drops
// them); see above.
inline pid_t spawnProcess(const std::vector<std::string>& argv,
                          const std::string& log = "/dev/null") {
  return spawnProcess(argv, log, log);
}

// Waits up to `timeout` for `pid` to exit. True, with the child reaped and
// `status` set, if it did; false on timeout or when `pid` is no child of ours.
inline bool waitExit(pid_t pid, std::chrono::milliseconds timeout, int& status) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// SIGKILL (a crash: no shutdown code runs) and wait for `pid`. Returns its wait
// status.
inline int killAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

enum class Startup {
  kReady,     // `ready` returned true
  kExited,    // the process exited first (reaped)
  kTimedOut,  // neither within the timeout; the process still runs
};

// Polls a starting server process: every `poll` checks whether `pid` has
// exited (then `status` holds its wait status) and otherwise whether `ready()`
// is true, until `timeout` has passed.
template <typename Ready>
Startup awaitStartup(pid_t pid, std::chrono::milliseconds timeout, std::chrono::milliseconds poll,
                     Ready&& ready, int* status = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int s = 0;
    if (::waitpid(pid, &s, WNOHANG) == pid) {
      if (status != nullptr) *status = s;
      return Startup::kExited;
    }
    if (ready()) return Startup::kReady;
    std::this_thread::sleep_for(poll);
  }
  return Startup::kTimedOut;
}

// The whole content of a file; "" if it cannot be read.
inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last `n` bytes of a file (a server's log for an error message).
inline std::string readFileTail(const std::string& path, size_t n) {
  std::string out = readFile(path);
  return out.size() > n ? out.substr(out.size() - n) : out;
}

// A private directory `<parent>/<prefix>-XXXXXX`, removed with everything in it
// on destruction. path() is empty if it could not be created.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "seckill-test",
                   const std::filesystem::path& parent = std::filesystem::temp_directory_path()) {
    std::string tmpl = (parent / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to `name` in the directory; returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = path_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace seckill::testing
