#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"

namespace seckill::testing {

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

  RedisCluster() = default;
  ~RedisCluster() {
    for (int i = 0; i < kMasters; ++i) stop(i);
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
    pid_t pid = spawnProcess(args, nodes_[0].dir + "/cluster-create.log");
    if (pid < 0) return absl::InternalError("cannot spawn " + cli);
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
    killAndReap(n.pid);
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
    TempDir tmp{"seckill-rcluster", "/tmp"};
    const std::string dir = tmp.path().string();
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

  // Starts node i on its port (its nodes.conf in its directory).
  absl::Status startNode(int i) {
    Node& n = nodes_[i];
    std::vector<std::string> args = {findOnPath("redis-server"),
                                     "--port",
                                     std::to_string(n.port),
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
    absl::StatusOr<pid_t> pid = startRedisProcess(args, n.port);
    if (!pid.ok()) return pid.status();
    n.pid = *pid;
    return absl::OkStatus();
  }

  // A free loopback port for a node. Redis Cluster also listens on port +
  // 10000 (the bus): both must be free.
  static int freePort() {
    for (int attempt = 0; attempt < 50; ++attempt) {
      int port = freeLoopbackPort();
      if (port > 0 && port + 10000 <= 65535 &&
          bindLoopbackPort(static_cast<uint16_t>(port + 10000)) > 0) {
        return port;
      }
    }
    return 0;
  }

  Node nodes_[kMasters];
};

}  // namespace seckill::testing
