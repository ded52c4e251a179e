#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace seckill::testing {

// Runs one command against 127.0.0.1:`port` on a fresh connection. The reply
// as text (string, status, integer, "(nil)", "ERR:<msg>", arrays as lines),
// or an error status when the server cannot be reached.
inline absl::StatusOr<std::string> queryRedisPort(int port, const std::vector<std::string>& argv);

// A real three-master Redis Cluster on loopback for tests: three
// `redis-server --cluster-enabled yes` on free ports, each in its own temp
// directory without persistence, joined with `redis-cli --cluster create
// --cluster-replicas 0`. start() returns once every node reports
// cluster_state:ok and sees all three masters; the destructor kills the
// servers (SIGKILL) and removes the directories. Fails (never skips) when
// redis-server or redis-cli is not on PATH. Runs as root or as a normal user.
class RedisCluster {
 public:
  static constexpr int kMasters = 3;

  RedisCluster() {
    for (Node& n : nodes_) {
      char tmpl[] = "/tmp/seckill-rcluster-XXXXXX";
      if (char* d = mkdtemp(tmpl)) n.dir = d;
    }
  }
  ~RedisCluster() {
    for (int i = 0; i < kMasters; ++i) stop(i);
    for (Node& n : nodes_) {
      std::error_code ec;
      if (!n.dir.empty()) std::filesystem::remove_all(n.dir, ec);
    }
  }
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  absl::Status start() {
    std::string server = findOnPath("redis-server");
    std::string cli = findOnPath("redis-cli");
    if (server.empty() || cli.empty()) {
      return absl::FailedPreconditionError(
          "redis-server / redis-cli not found on PATH: install the redis-server and "
          "redis-tools packages to run the Redis Cluster tests");
    }
    for (int i = 0; i < kMasters; ++i) {
      if (nodes_[i].dir.empty()) return absl::InternalError("mkdtemp failed");
      absl::Status s = absl::UnavailableError("redis-server did not start");
      for (int attempt = 0; attempt < 5 && !s.ok(); ++attempt) {
        nodes_[i].port = freePort();
        s = startNode(i);
      }
      if (!s.ok()) return s;
    }
    std::vector<std::string> args = {cli, "--cluster", "create"};
    for (const Node& n : nodes_) args.push_back(absl::StrCat("127.0.0.1:", n.port));
    for (const char* a : {"--cluster-replicas", "0", "--cluster-yes"}) args.push_back(a);
    pid_t pid = spawn(args, nodes_[0].dir + "/cluster-create.log");
    if (pid < 0) return absl::InternalError("fork failed");
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::InternalError(absl::StrCat("redis-cli --cluster create failed, see ",
                                              nodes_[0].dir, "/cluster-create.log"));
    }
    return awaitStable(std::chrono::seconds(20));
  }

  // Restarts a stopped node on its port with its nodes.conf (it rejoins) and
  // waits for the cluster to be whole again.
  absl::Status restart(int i) {
    absl::Status s = absl::UnavailableError("not started");
    for (int attempt = 0; attempt < 20 && !s.ok(); ++attempt) {
      s = startNode(i);
      if (!s.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!s.ok()) return s;
    return awaitStable(std::chrono::seconds(20));
  }

  // Kills node i (SIGKILL) and reaps it. Idempotent.
  void stop(int i) {
    Node& n = nodes_[i];
    if (n.pid <= 0) return;
    kill(n.pid, SIGKILL);
    int status = 0;
    waitpid(n.pid, &status, 0);
    n.pid = -1;
  }

  int port(int i) const { return nodes_[i].port; }
  // "tcp://127.0.0.1:p1,tcp://127.0.0.1:p2,tcp://127.0.0.1:p3": a seed list.
  std::string seeds() const {
    std::vector<std::string> out;
    for (const Node& n : nodes_) out.push_back(absl::StrCat("tcp://127.0.0.1:", n.port));
    return absl::StrJoin(out, ",");
  }

  absl::StatusOr<std::string> query(int i, const std::vector<std::string>& argv) const {
    return queryRedisPort(nodes_[i].port, argv);
  }

  std::string nodeId(int i) const {
    absl::StatusOr<std::string> id = query(i, {"CLUSTER", "MYID"});
    return id.ok() ? *id : std::string();
  }

  // The index of the master owning each slot according to node `asked`
  // (CLUSTER NODES); -1 for a slot nobody serves.
  std::vector<int> slotOwners(int asked = 0) const {
    std::vector<int> owners(16384, -1);
    absl::StatusOr<std::string> nodes = query(asked, {"CLUSTER", "NODES"});
    if (!nodes.ok()) return owners;
    std::vector<std::string> ids;
    for (int i = 0; i < kMasters; ++i) ids.push_back(nodeId(i));
    for (absl::string_view line : absl::StrSplit(*nodes, '\n')) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      if (f.size() < 9) continue;
      int owner = static_cast<int>(std::find(ids.begin(), ids.end(), f[0]) - ids.begin());
      if (owner >= kMasters) continue;
      for (size_t k = 8; k < f.size(); ++k) {
        if (f[k].empty() || f[k][0] == '[') continue;  // [slot->-id]: migration in progress
        std::vector<std::string> range = absl::StrSplit(f[k], '-');
        int first = std::atoi(range[0].c_str());
        int last = range.size() > 1 ? std::atoi(range[1].c_str()) : first;
        for (int slot = first; slot <= last && slot < 16384; ++slot) owners[slot] = owner;
      }
    }
    return owners;
  }
  int ownerOf(int slot, int asked = 0) const { return slotOwners(asked)[slot]; }

  // Migration, step by step (the Redis Cluster specification's order):
  // IMPORTING on the target, MIGRATING on the source...
  absl::Status beginMigration(int slot, int from, int to) {
    std::string s = std::to_string(slot);
    absl::Status st = expectOk(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", nodeId(from)});
    if (!st.ok()) return st;
    return expectOk(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", nodeId(to)});
  }
  // ...MIGRATE every key of the slot...
  absl::Status migrateKeys(int slot, int from, int to) {
    while (true) {
      absl::StatusOr<std::string> keys =
          query(from, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
      if (!keys.ok()) return keys.status();
      std::vector<std::string> names = absl::StrSplit(*keys, '\n', absl::SkipEmpty());
      if (names.empty()) return absl::OkStatus();
      std::vector<std::string> argv = {"MIGRATE", "127.0.0.1", std::to_string(port(to)), "", "0",
                                       "5000",    "KEYS"};
      argv.insert(argv.end(), names.begin(), names.end());
      absl::Status st = expectOk(from, argv);
      if (!st.ok()) return st;
    }
  }
  // ...and SETSLOT NODE on every master.
  absl::Status finishMigration(int slot, int to) {
    std::string id = nodeId(to);
    for (int i = 0; i < kMasters; ++i) {
      absl::Status st = expectOk(i, {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", id});
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }
  absl::Status moveSlot(int slot, int from, int to) {
    absl::Status st = beginMigration(slot, from, to);
    if (st.ok()) st = migrateKeys(slot, from, to);
    if (st.ok()) st = finishMigration(slot, to);
    return st;
  }

 private:
  struct Node {
    std::string dir;
    int port = 0;
    pid_t pid = -1;
  };

  absl::Status expectOk(int i, const std::vector<std::string>& argv) const {
    absl::StatusOr<std::string> r = query(i, argv);
    if (!r.ok()) return r.status();
    if (*r != "OK" && *r != "NOKEY") {
      return absl::InternalError(absl::StrCat(argv[0], " ", argv[1], " on node ", i, ": ", *r));
    }
    return absl::OkStatus();
  }

  // Every node: cluster_state:ok and three masters with slots in CLUSTER SLOTS.
  absl::Status awaitStable(std::chrono::seconds limit) const {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      bool ok = true;
      for (int i = 0; ok && i < kMasters; ++i) {
        absl::StatusOr<std::string> info = query(i, {"CLUSTER", "INFO"});
        ok = info.ok() && absl::StrContains(*info, "cluster_state:ok") &&
             absl::StrContains(*info, "cluster_slots_ok:16384") &&
             absl::StrContains(*info, "cluster_known_nodes:3");
      }
      if (ok) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return absl::UnavailableError("redis cluster did not reach cluster_state:ok");
  }

  absl::Status startNode(int i) {
    Node& n = nodes_[i];
    std::string port = std::to_string(n.port);
    std::vector<std::string> args = {findOnPath("redis-server"),
                                     "--port",
                                     port,
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     n.dir,
                                     "--cluster-enabled",
                                     "yes",
                                     "--cluster-config-file",
                                     n.dir + "/nodes.conf",
                                     "--cluster-node-timeout",
                                     "5000",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--daemonize",
                                     "no",
                                     "--logfile",
                                     n.dir + "/redis.log"};
    n.pid = spawn(args, "/dev/null");
    if (n.pid < 0) return absl::InternalError("fork failed");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(n.pid, &status, WNOHANG) == n.pid) {  // exited: port taken?
        n.pid = -1;
        return absl::UnavailableError(absl::StrCat("redis-server exited on port ", n.port));
      }
      absl::StatusOr<std::string> pong = query(i, {"PING"});
      if (pong.ok() && *pong == "PONG") return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop(i);
    return absl::UnavailableError(absl::StrCat("redis-server did not answer PING on ", n.port));
  }

  // Starts `args` with stdin from /dev/null and stdout/stderr to `log`.
  static pid_t spawn(std::vector<std::string> args, const std::string& log) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in >= 0) dup2(in, 0);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }

  static std::string findOnPath(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return {};
    for (absl::string_view d : absl::StrSplit(path, ':')) {
      std::string candidate = absl::StrCat(d, "/", name);
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return {};
  }

  // A port the kernel just handed out (bind to port 0), released for redis.
  // Redis Cluster also listens on port + 10000 (the bus): both must be free.
  static int freePort() {
    for (int attempt = 0; attempt < 50; ++attempt) {
      int port = bindable(0);
      if (port > 0 && port + 10000 <= 65535 && bindable(port + 10000) > 0) return port;
    }
    return 0;
  }

  static int bindable(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    socklen_t len = sizeof(addr);
    int out = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      out = ntohs(addr.sin_port);
    }
    close(fd);
    return out;
  }

  Node nodes_[kMasters];
};

namespace redis_cluster_detail {

inline std::string text(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r.str, r.len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r.integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ERROR:
      return "ERR:" + std::string(r.str, r.len);
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (size_t i = 0; i < r.elements; ++i) absl::StrAppend(&out, text(*r.element[i]), "\n");
      return out;
    }
  }
  return {};
}

}  // namespace redis_cluster_detail

inline absl::StatusOr<std::string> queryRedisPort(int port, const std::vector<std::string>& argv) {
  timeval tv{.tv_sec = 2, .tv_usec = 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err != 0) {
    if (c != nullptr) redisFree(c);
    return absl::UnavailableError("cannot connect");
  }
  redisSetTimeout(c, tv);
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  if (r == nullptr) {
    redisFree(c);
    return absl::UnavailableError("no reply");
  }
  std::string out = redis_cluster_detail::text(*r);
  freeReplyObject(r);
  redisFree(c);
  return out;
}

}  // namespace seckill::testing
