// Hangs and overload on the real binary (docs/hardening.md):
//  - a backend that hangs (redis-server, mariadbd stopped with SIGSTOP, then
//    SIGCONT): every request answers within its deadline (503 with
//    Retry-After, the breaker opening), the HTTP threads stay free, service
//    returns by itself, nothing is oversold and every 201 is kept;
//  - offered load 10x what the engine admits (open loop): the excess is shed
//    with 429/503, the admitted requests' p99 stays near its half-load value,
//    memory stays bounded, every request is answered;
//  - two engines on one Redis, one killed -9 mid-storm: the survivor keeps
//    selling and the sale ends exact once the dead node's orders expire.
// The short forms run here; bench/run-hardening runs the long ones through the
// same tests with the SECKILL_HARDENING_* variables below.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/e2e/engine_process.h"
#include "tests/e2e/storm.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/redis_server.h"

namespace seckill::e2e {
namespace {

using http::testing::Reply;
using http::testing::TestClient;
using seckill::testing::MariadbServer;
using seckill::testing::RedisServer;
using Ms = std::chrono::milliseconds;

constexpr char kDb[] = "seckill_hardening";

// A tunable of the long forms: the environment variable, else `fallback`.
int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int out = fallback;
  if (v == nullptr || !absl::SimpleAtoi(v, &out) || out <= 0) return fallback;
  return out;
}

// One measured figure, on stdout where bench/run-hardening collects it.
void figure(const std::string& name, double value, const char* unit) {
  std::printf("figure %s = %.2f %s\n", name.c_str(), value, unit);
  std::fflush(stdout);
}

int64_t toInt(const absl::StatusOr<std::string>& s) {
  int64_t v = -1;
  if (!s.ok() || !absl::SimpleAtoi(*s, &v)) return -1;
  return v;
}

double msSince(Clock::time_point from, Clock::time_point to = Clock::now()) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// The value at quantile q (0..1) of `v` (sorted here); 0 when empty.
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Resident memory of the process `pid` in KiB (VmRSS); -1 when unreadable.
int64_t rssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kib = -1;
      std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kib)) return kib;
    }
  }
  return -1;
}

// This test's child processes named `comm` (/proc/<pid>/comm), oldest first.
std::vector<pid_t> childrenNamed(const std::string& comm) {
  std::vector<pid_t> out;
  const pid_t self = ::getpid();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // pid (comm) state ppid ...
    const size_t open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    if (text.substr(open + 1, close - open - 1) != comm) continue;
    std::vector<std::string> rest = absl::StrSplit(text.substr(close + 2), ' ');
    int ppid = 0;
    if (rest.size() > 1 && absl::SimpleAtoi(rest[1], &ppid) && ppid == self) out.push_back(pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The state letter of process `pid` (/proc/<pid>/stat: 'T' stopped, 'S'
// sleeping, ...); '?' when unreadable.
char processState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? '?' : text[close + 2];
}

// SIGSTOP on construction, SIGCONT on resume() or destruction (so a failing
// test never leaves a stopped server behind). Until then it keeps the process
// stopped: a SIGCONT from elsewhere is undone within about 5 ms, and counted.
class Freeze {
 public:
  explicit Freeze(pid_t pid) : pid_(pid) {
    ::kill(pid_, SIGSTOP);
    keeper_ = std::thread([this] {
      bool seen_stopped = false;  // SIGSTOP takes effect when the process is next scheduled
      while (!resumed_.load()) {
        std::this_thread::sleep_for(Ms(5));
        const char state = processState(pid_);
        if (state == 'T' || state == 't') {
          seen_stopped = true;
        } else if (!resumed_.load() && state != '?') {
          ::kill(pid_, SIGSTOP);
          if (seen_stopped) ++restops_;
          seen_stopped = false;
        }
      }
    });
  }
  ~Freeze() { resume(); }
  Freeze(const Freeze&) = delete;
  Freeze& operator=(const Freeze&) = delete;
  void resume() {
    if (resumed_.exchange(true)) return;
    keeper_.join();
    ::kill(pid_, SIGCONT);
  }
  // How often the process was found running and stopped again.
  int restops() const { return restops_.load(); }

 private:
  const pid_t pid_;
  std::atomic<bool> resumed_{false};
  std::atomic<int> restops_{0};
  std::thread keeper_;
};

// One request of a load below: what it got and how long it took.
struct Sample {
  uint16_t port = 0;
  int status = 0;     // 0: no answer within the client's timeout
  std::string error;  // the JSON "error" field
  bool retry_after = false;
  double at_ms = 0;  // when it was sent (due, for the open loop), from the load's start
  double latency_ms = 0;
  std::string user;
  std::string order_id;
};

// Shoppers placing orders, each thread on its own keep-alive connection with
// fresh users, until stop(): closed loop (`pause` between requests), spread
// round-robin over `ports`. A reply later than `timeout` counts as status 0.
class Shoppers {
 public:
  Shoppers(std::vector<uint16_t> ports, std::string sale, int threads, std::string prefix,
           Ms pause = Ms(2), Ms timeout = Ms(10000))
      : start_(Clock::now()) {
    for (int t = 0; t < threads; ++t) {
      pool_.emplace_back([this, t, ports, sale, prefix, pause, timeout] {
        const uint16_t port = ports[static_cast<size_t>(t) % ports.size()];
        TestClient c(port, timeout);
        for (int n = 0; !stop_.load(); ++n) {
          Sample s;
          s.port = port;
          s.user = absl::StrCat(prefix, "-", t, "-", n);
          const auto sent = Clock::now();
          Reply r = c.post("/api/v1/sales/" + sale + "/orders", s.user);
          s.at_ms = msSince(start_, sent);
          s.latency_ms = msSince(sent);
          s.status = r.status;
          s.error = r.str("error");
          s.retry_after = !r.header("Retry-After").empty();
          s.order_id = r.str("order_id");
          if (r.status == 0 || !r.keep_alive) c.connect();
          {
            std::lock_guard<std::mutex> lock(mu_);
            if (r.status == 201) ++created_;
            samples_.push_back(std::move(s));
          }
          std::this_thread::sleep_for(r.status == 0 ? Ms(20) : pause);
        }
      });
    }
  }
  ~Shoppers() { stop(); }
  Shoppers(const Shoppers&) = delete;
  Shoppers& operator=(const Shoppers&) = delete;

  // Stops and joins the threads; every sample so far.
  std::vector<Sample> stop() {
    stop_ = true;
    for (std::thread& t : pool_) t.join();
    pool_.clear();
    std::lock_guard<std::mutex> lock(mu_);
    return samples_;
  }
  int64_t created() {
    std::lock_guard<std::mutex> lock(mu_);
    return created_;
  }
  Clock::time_point startTime() const { return start_; }

 private:
  const Clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Sample> samples_;
  int64_t created_ = 0;
  std::vector<std::thread> pool_;
};

// Polls GET `path` every 50 ms until stop(); the slowest answer and the
// failures (status != 200 or none) show whether an HTTP thread was blocked.
class Prober {
 public:
  Prober(uint16_t port, std::string path) {
    thread_ = std::thread([this, port, path] {
      TestClient c(port, Ms(10000));
      while (!stop_.load()) {
        const auto sent = Clock::now();
        const int status = c.get(path).status;
        const double ms = msSince(sent);
        {
          std::lock_guard<std::mutex> lock(mu_);
          worst_ms_ = std::max(worst_ms_, ms);
          ++probes_;
          if (status != 200) {
            ++failures_;
            c.connect();
          }
        }
        std::this_thread::sleep_for(Ms(50));
      }
    });
  }
  ~Prober() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  double worstMs() {
    std::lock_guard<std::mutex> lock(mu_);
    return worst_ms_;
  }
  int probes() {
    std::lock_guard<std::mutex> lock(mu_);
    return probes_;
  }
  int failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  double worst_ms_ = 0;
  int probes_ = 0;
  int failures_ = 0;
  std::thread thread_;
};

// The Redis side of one sale's books.
struct Books {
  int64_t left = -1;
  int64_t pending = 0;
  int64_t paid = 0;
  int64_t cancelled = 0;
};

Books redisBooks(const RedisServer& redis, const std::string& sale) {
  Books b;
  b.left = toInt(redis.query({"GET", "sk:{" + sale + "}:stock"}));
  auto count = [&](const char* state) {
    int64_t v = toInt(redis.query({"HGET", "sk:{" + sale + "}:counts", state}));
    return v < 0 ? 0 : v;
  };
  b.pending = count("pending");
  b.paid = count("paid");
  b.cancelled = count("cancelled");
  return b;
}

// Every 201 among `samples`: user -> order id; a second 201 for one user or
// one order id for two users fails the test.
std::map<std::string, std::string> acknowledged(const std::vector<Sample>& samples) {
  std::map<std::string, std::string> out;
  std::set<std::string> ids;
  for (const Sample& s : samples) {
    if (s.status != 201) continue;
    EXPECT_FALSE(s.order_id.empty()) << s.user;
    EXPECT_TRUE(out.emplace(s.user, s.order_id).second) << "two 201s for " << s.user;
    EXPECT_TRUE(ids.insert(s.order_id).second) << "order id " << s.order_id << " given twice";
  }
  return out;
}

// Every acknowledged order answers GET with its own shopper.
void expectAllKept(uint16_t port, const std::map<std::string, std::string>& orders) {
  TestClient c(port);
  int lost = 0;
  for (const auto& [user, id] : orders) {
    Reply r = c.get("/api/v1/orders/" + id, user);
    if (r.status != 200 || r.str("order_id") != id) {
      if (lost++ < 5)
        ADD_FAILURE() << "acknowledged order " << id << " of " << user << ": " << r.status << " "
                      << r.body;
    }
  }
  EXPECT_EQ(lost, 0) << "of " << orders.size() << " acknowledged orders";
}

std::string redisStore(int port, const std::string& timeout) {
  return absl::StrCat("[store]\nkind = \"redis\"\nredis = \"tcp://127.0.0.1:", port,
                      "\"\ntimeout = \"", timeout, "\"\n");
}

// The breaker of the short forms: opens after 10 failed calls of the last 40,
// probes again after 1 s.
constexpr char kBreaker[] =
    "[breaker]\nwindow_calls = 40\nmin_calls = 10\nfailure_ratio = 0.5\nopen_for = \"1s\"\n";

class HardeningE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_.enableAof();
    absl::Status s = redis_.start();
    ASSERT_TRUE(s.ok()) << s;
    // INFO server names the process: "process_id:<pid>\r\n".
    absl::StatusOr<std::string> info = redis_.query({"INFO", "server"});
    ASSERT_TRUE(info.ok()) << info.status();
    const size_t at = info->find("process_id:");
    ASSERT_NE(at, std::string::npos);
    int pid = -1;
    (void)absl::SimpleAtoi(info->substr(at + 11, info->find('\r', at) - at - 11), &pid);
    redis_pid_ = pid;
    ASSERT_GT(redis_pid_, 0);
  }

  // How long a backend stays stopped (the issue: 10 s; the suite: 4 s).
  static Ms hang() { return Ms(1000 * envInt("SECKILL_HARDENING_HANG_S", 4)); }

  RedisServer redis_;
  pid_t redis_pid_ = -1;
};

// Redis stopped mid-storm. The store's reply timeout is the deadline of an
// order request: each answers 201 or 503 (with Retry-After) within it plus
// slack, never waiting for the SIGCONT; the breaker opens; /healthz answers
// throughout; afterwards orders flow again by themselves and the books balance.
TEST_F(HardeningE2eTest, RedisHangAnswersWithinTheDeadlineAndRecovers) {
  constexpr int kStock = 100000;
  const std::string body =
      redisStore(redis_.port(), "300ms") + kBreaker +
      "[orders]\ncancel_poll = \"1h\"\n[[sale]]\nid = \"drop\"\nstock = " + std::to_string(kStock) +
      "\npay_timeout = \"1h\"\n";
  EngineProcess engine;
  ASSERT_TRUE(engine.start(body));

  Shoppers shoppers({engine.port()}, "drop", 4, "h", Ms(5));
  ASSERT_TRUE(eventually([&] { return shoppers.created() >= 100; })) << "no orders before the hang";
  const double stopped_at = msSince(shoppers.startTime());
  Prober health(engine.port(), "/healthz");
  Prober metrics(engine.port(), "/metrics");
  {
    Freeze freeze(redis_pid_);
    std::this_thread::sleep_for(hang());
    freeze.resume();
    figure("redis_hang.sigcont_from_elsewhere", freeze.restops(), "");
  }
  const double resumed_at = msSince(shoppers.startTime());
  health.stop();
  metrics.stop();
  // Service returns by itself: 201s again (the breaker probes, then closes).
  const int64_t created_at_resume = shoppers.created();
  EXPECT_TRUE(eventually([&] { return shoppers.created() >= created_at_resume + 50; }))
      << "no orders after SIGCONT";
  std::vector<Sample> samples = shoppers.stop();

  // During the hang (and the answers it held up).
  int during = 0, unavailable = 0, circuit_open = 0, late = 0, no_retry_after = 0, odd = 0,
      sold_while_stopped = 0;
  double worst = 0;
  std::vector<double> recovered_after;  // first 201 sent after the resume
  for (const Sample& s : samples) {
    const bool held = s.at_ms + s.latency_ms > stopped_at && s.at_ms < resumed_at;
    if (!held) continue;
    ++during;
    worst = std::max(worst, s.latency_ms);
    // Nothing can be sold while Redis is stopped (else the hang did not happen).
    const double answered_at = s.at_ms + s.latency_ms;
    if (s.status == 201 && answered_at > stopped_at + 200 && answered_at < resumed_at - 200) {
      ++sold_while_stopped;
    }
    // The deadline is 300 ms; a request held for the whole hang would take
    // seconds. 2 s of slack for a loaded machine.
    if (s.latency_ms > 2300) ++late;
    if (s.status == 503) {
      (s.error == "circuit_open" ? circuit_open : unavailable)++;
      if (!s.retry_after) ++no_retry_after;
    } else if (s.status != 201) {
      if (odd++ < 3) ADD_FAILURE() << "during the hang: " << s.status << " " << s.error;
    }
  }
  for (const Sample& s : samples) {
    if (s.status == 201 && s.at_ms >= resumed_at) recovered_after.push_back(s.at_ms - resumed_at);
  }
  std::sort(recovered_after.begin(), recovered_after.end());
  EXPECT_GT(during, 20);
  EXPECT_EQ(sold_while_stopped, 0);
  EXPECT_EQ(late, 0) << "slowest answer during the hang: " << worst << " ms";
  EXPECT_GT(unavailable, 0);
  EXPECT_GT(circuit_open, 0) << "the breaker never opened";
  EXPECT_EQ(no_retry_after, 0) << "503s without Retry-After";
  EXPECT_EQ(health.failures(), 0);
  EXPECT_GT(health.probes(), 10);
  EXPECT_LT(health.worstMs(), 1000) << "/healthz held up during the hang";
  EXPECT_EQ(metrics.failures(), 0);
  EXPECT_LT(metrics.worstMs(), 1000) << "/metrics held up during the hang";
  figure("redis_hang.requests_during", during, "");
  figure("redis_hang.slowest_answer", worst, "ms");
  figure("redis_hang.unavailable_503", unavailable, "");
  figure("redis_hang.circuit_open_503", circuit_open, "");
  figure("redis_hang.healthz_worst", health.worstMs(), "ms");
  figure("redis_hang.first_201_after_sigcont",
         recovered_after.empty() ? -1 : recovered_after.front(), "ms");

  // The books: initial = paid + pending + left; every 201 kept, once.
  std::map<std::string, std::string> orders = acknowledged(samples);
  const Books b = redisBooks(redis_, "drop");
  EXPECT_EQ(b.left + b.pending + b.paid, kStock);
  EXPECT_GE(b.pending + b.paid, static_cast<int64_t>(orders.size()));
  EXPECT_EQ(b.cancelled, 0);
  expectAllKept(engine.port(), orders);
  figure("redis_hang.acknowledged", static_cast<double>(orders.size()), "");
  figure("redis_hang.orders_in_redis", static_cast<double>(b.pending + b.paid), "");
  EXPECT_TRUE(engine.stop());
}

// MariaDB stopped mid-sale: orders go on (the unit and the stream entry are
// one Redis script); reads and payments, which need the database, answer
// within their deadline (503 with Retry-After, the order-store breaker
// opening) instead of waiting for the SIGCONT; afterwards every 201 is a row,
// once, and the books balance.
TEST_F(HardeningE2eTest, MariadbHangAnswersWithinTheDeadlineAndRecovers) {
  MariadbServer db;
  absl::Status s = db.start();
  ASSERT_TRUE(s.ok()) << s;
  s = db.createDatabase(kDb);
  ASSERT_TRUE(s.ok()) << s;
  const std::string pid_file = readFile(db.dir() + "/mysqld.pid");
  int db_pid = -1;
  (void)absl::SimpleAtoi(pid_file.substr(0, pid_file.find('\n')), &db_pid);
  ASSERT_GT(db_pid, 0);

  constexpr int kStock = 100000;
  const std::string body =
      redisStore(redis_.port(), "2s") + kBreaker +
      absl::StrCat("[orders]\nkind = \"mysql\"\nmysql = \"", db.url(kDb),
                   "\"\npool = 4\nwriters = 1\nbatch = 200\ncancel_poll = \"1h\"\n",
                   "[[sale]]\nid = \"drop\"\nstock = ", kStock, "\npay_timeout = \"1h\"\n");
  EngineProcess engine;
  ASSERT_TRUE(engine.start(body));

  Shoppers shoppers({engine.port()}, "drop", 2, "m", Ms(10));
  ASSERT_TRUE(eventually([&] { return shoppers.created() >= 40; }));
  // Orders to read and pay during the hang (persisted already).
  std::vector<std::pair<std::string, std::string>> known;
  {
    std::vector<Sample> first = shoppers.stop();
    for (const auto& [user, id] : acknowledged(first)) known.emplace_back(user, id);
    ASSERT_TRUE(eventually([&] {
      return toInt(db.scalar("SELECT COUNT(*) FROM orders", kDb)) ==
             static_cast<int64_t>(known.size());
    }));
  }
  Shoppers during_hang({engine.port()}, "drop", 2, "n", Ms(10));
  Prober health(engine.port(), "/healthz");

  std::vector<Sample> reads;  // GET and pay of persisted orders during the hang
  int64_t created_before = 0;
  {
    Freeze freeze(db_pid);
    const auto frozen_at = Clock::now();
    created_before = during_hang.created();
    std::vector<std::thread> readers;
    std::mutex mu;
    // Enough readers that the breaker sees its 10 calls by the first deadline.
    constexpr int kReaders = 12;
    for (int t = 0; t < kReaders; ++t) {
      readers.emplace_back([&, t] {
        TestClient c(engine.port(), Ms(30000));
        for (size_t i = static_cast<size_t>(t); Clock::now() - frozen_at < hang() - Ms(500);
             i += kReaders) {
          const auto& [user, id] = known[i % known.size()];
          const bool pay = i % 2 == 1;
          const auto sent = Clock::now();
          Reply r = pay ? c.post("/api/v1/orders/" + id + "/pay", user)
                        : c.get("/api/v1/orders/" + id, user);
          Sample s;
          s.status = r.status;
          s.error = r.str("error");
          s.retry_after = !r.header("Retry-After").empty();
          s.latency_ms = msSince(sent);
          {
            std::lock_guard<std::mutex> lock(mu);
            reads.push_back(std::move(s));
          }
          if (r.status == 0) c.connect();
          std::this_thread::sleep_for(Ms(20));
        }
      });
    }
    for (std::thread& t : readers) t.join();
    std::this_thread::sleep_until(frozen_at + hang());
    freeze.resume();
    figure("mariadb_hang.sigcont_from_elsewhere", freeze.restops(), "");
  }
  health.stop();
  const int64_t created_during = during_hang.created() - created_before;

  int answered_503 = 0, circuit_open = 0, late = 0, no_retry_after = 0, odd = 0;
  double worst = 0;
  for (const Sample& r : reads) {
    worst = std::max(worst, r.latency_ms);
    // The deadline of an order-store call is 2 s; a call held for the whole
    // hang would take longer. 1.5 s of slack for a loaded machine.
    if (r.latency_ms > 3500) ++late;
    if (r.status == 503) {
      ++answered_503;
      if (r.error == "circuit_open") ++circuit_open;
      if (!r.retry_after) ++no_retry_after;
    } else if (r.status != 200 && r.status != 409) {  // 409: paid by an earlier request
      if (odd++ < 3) ADD_FAILURE() << "during the hang: " << r.status << " " << r.error;
    }
  }
  EXPECT_GT(reads.size(), 5u);
  EXPECT_EQ(late, 0) << "slowest read or pay during the hang: " << worst << " ms";
  EXPECT_GT(answered_503, 0);
  EXPECT_GT(circuit_open, 0) << "the order-store breaker never opened";
  EXPECT_EQ(no_retry_after, 0);
  EXPECT_GT(created_during, 20) << "orders stopped while the database hung";
  EXPECT_EQ(health.failures(), 0);
  EXPECT_LT(health.worstMs(), 1000);
  figure("mariadb_hang.reads_and_pays_during", static_cast<double>(reads.size()), "");
  figure("mariadb_hang.slowest_read_or_pay", worst, "ms");
  figure("mariadb_hang.answered_503", answered_503, "");
  figure("mariadb_hang.circuit_open_503", circuit_open, "");
  figure("mariadb_hang.orders_created_during", static_cast<double>(created_during), "");
  figure("mariadb_hang.healthz_worst", health.worstMs(), "ms");

  // Service returns by itself: a read answers 200 again.
  const auto resumed = Clock::now();
  EXPECT_TRUE(eventually([&] {
    TestClient c(engine.port());
    return c.get("/api/v1/orders/" + known[0].second, known[0].first).status == 200;
  }));
  figure("mariadb_hang.first_read_after_sigcont", msSince(resumed), "ms");
  std::vector<Sample> samples = during_hang.stop();

  // The books: every 201 is a row, once; initial = paid + pending + left.
  std::map<std::string, std::string> orders = acknowledged(samples);
  for (const auto& [user, id] : known) orders.emplace(user, id);
  const int64_t created = toInt(redis_.query({"GET", "sk:{drop}:stock"}));
  ASSERT_GE(created, 0);
  const int64_t in_redis = kStock - created;
  EXPECT_TRUE(eventually([&] {
    return toInt(db.scalar("SELECT COUNT(*) FROM orders", kDb)) == in_redis;
  })) << toInt(db.scalar("SELECT COUNT(*) FROM orders", kDb))
      << " rows, " << in_redis << " orders";
  EXPECT_GE(in_redis, static_cast<int64_t>(orders.size()));
  int missing = 0;
  for (const auto& [user, id] : orders) {
    if (toInt(db.scalar(absl::StrCat("SELECT COUNT(*) FROM orders WHERE id = '", id,
                                     "' AND user_id = '", user, "'"),
                        kDb)) != 1) {
      if (missing++ < 5) ADD_FAILURE() << "acknowledged order " << id << " is not one row";
    }
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(toInt(db.scalar("SELECT COUNT(DISTINCT user_id) FROM orders", kDb)),
            toInt(db.scalar("SELECT COUNT(*) FROM orders", kDb)));
  EXPECT_EQ(toInt(db.scalar("SELECT COUNT(*) FROM orders WHERE state <> 2", kDb)) +
                toInt(redis_.query({"GET", "sk:{drop}:stock"})),
            kStock);
  figure("mariadb_hang.acknowledged", static_cast<double>(orders.size()), "");
  EXPECT_TRUE(engine.stop());
}

// An open-loop load of `rate` order attempts per second for `seconds` on
// `threads` connections: request k of a thread is due at k / (rate/threads)
// and its latency runs from then (a late send counts: no coordinated
// omission). No answer within 10 s counts as status 0.
std::vector<Sample> openLoop(uint16_t port, const std::string& sale, int rate, int seconds,
                             int threads, const std::string& prefix) {
  std::vector<Sample> all;
  std::mutex mu;
  std::vector<std::thread> pool;
  const auto start = Clock::now() + Ms(100);
  const double per_thread = static_cast<double>(rate) / threads;
  const int64_t each = static_cast<int64_t>(per_thread * seconds);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      TestClient c(port, Ms(10000));
      std::vector<Sample> mine;
      mine.reserve(static_cast<size_t>(each));
      const double offset_us = 1e6 / per_thread * t / threads;  // stagger the threads
      for (int64_t k = 0; k < each; ++k) {
        const auto due = start + std::chrono::microseconds(static_cast<int64_t>(
                                     offset_us + 1e6 * static_cast<double>(k) / per_thread));
        std::this_thread::sleep_until(due);
        Sample s;
        s.user = absl::StrCat(prefix, "-", t, "-", k);
        Reply r = c.post("/api/v1/sales/" + sale + "/orders", s.user);
        s.latency_ms = msSince(due);
        s.at_ms = msSince(start, due);
        s.status = r.status;
        s.error = r.str("error");
        s.retry_after = !r.header("Retry-After").empty();
        s.order_id = r.str("order_id");
        if (r.status == 0 || !r.keep_alive) c.connect();
        mine.push_back(std::move(s));
      }
      std::lock_guard<std::mutex> lock(mu);
      all.insert(all.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& th : pool) th.join();
  return all;
}

struct LoadFigures {
  int64_t sent = 0, admitted = 0, shed = 0, no_answer = 0, other = 0;
  double admitted_p50 = 0, admitted_p99 = 0, max = 0;
  std::string first_other;
};

LoadFigures summarize(const std::vector<Sample>& samples) {
  LoadFigures f;
  std::vector<double> admitted;
  for (const Sample& s : samples) {
    ++f.sent;
    f.max = std::max(f.max, s.latency_ms);
    if (s.status == 201) {
      ++f.admitted;
      admitted.push_back(s.latency_ms);
    } else if (s.status == 429 || s.status == 503) {
      ++f.shed;
      EXPECT_TRUE(s.retry_after) << s.status << " without Retry-After";
    } else if (s.status == 0) {
      ++f.no_answer;
    } else if (f.other++ == 0) {
      f.first_other = absl::StrCat(s.status, " ", s.error);
    }
  }
  f.admitted_p50 = quantile(admitted, 0.5);
  f.admitted_p99 = quantile(admitted, 0.99);
  return f;
}

// What the engine admits is set by a global rate rule on the order path (what
// an operator sizes to the backends). At half that rate every attempt is
// admitted; at ten times it the engine sheds the excess with 429 at once, the
// admitted attempts keep their latency, every attempt is answered, and the
// engine's memory does not grow with the offered load.
TEST_F(HardeningE2eTest, TenfoldOverloadIsShedNotQueued) {
  const int rate = envInt("SECKILL_HARDENING_ADMIT_RATE", 150);
  const int seconds = envInt("SECKILL_HARDENING_OVERLOAD_S", 6);
  const int threads = envInt("SECKILL_HARDENING_CLIENT_THREADS", 8);
  // burst = rate/2: half load stays admitted through a client stalled for
  // half a second by a busy machine (its late sends go out bunched).
  const std::string body =
      redisStore(redis_.port(), "1s") +
      absl::StrCat("[orders]\ncancel_poll = \"1h\"\n[[sale]]\nid = \"drop\"\nstock = 10000000\n",
                   "pay_timeout = \"1h\"\n[[rule]]\npath = \"/api/v1/sales/*/orders\"\n",
                   "method = \"POST\"\nrate = ", rate, "\nburst = ", std::max(1, rate / 2), "\n");
  EngineProcess engine;
  ASSERT_TRUE(engine.start(body, 2, "max_connections = 256\n"));
  std::vector<pid_t> pids = childrenNamed("seckill-engine");
  ASSERT_EQ(pids.size(), 1u);
  const pid_t pid = pids[0];

  (void)openLoop(engine.port(), "drop", rate / 2, 1, threads, "warm");  // connections, allocator
  const int64_t rss_before = rssKib(pid);
  int64_t rss_peak = rss_before;
  const int64_t expected_admitted = static_cast<int64_t>(rate) * seconds;

  // A round: half load, then ten times, the engine's memory sampled
  // meanwhile. What holds whatever the machine does is checked on every
  // round; the latency comparison and the admitted count, which a neighbour
  // stalling this machine for a second can spoil, on the best of up to three
  // rounds: a real queue fails all three.
  LoadFigures half, over;
  double best_ratio = 1e9;
  for (int round = 0; round < 3; ++round) {
    const std::string tag = absl::StrCat("r", round);
    std::atomic<bool> done{false};
    std::thread sampler([&] {
      while (!done.load()) {
        rss_peak = std::max(rss_peak, rssKib(pid));
        std::this_thread::sleep_for(Ms(100));
      }
    });
    LoadFigures h =
        summarize(openLoop(engine.port(), "drop", rate / 2, seconds, threads, "half" + tag));
    LoadFigures o =
        summarize(openLoop(engine.port(), "drop", rate * 10, seconds, threads, "over" + tag));
    done = true;
    sampler.join();
    for (const LoadFigures* f : {&h, &o}) {
      EXPECT_EQ(f->other, 0) << f->first_other;
      EXPECT_EQ(f->no_answer, 0) << "requests with no answer within 10 s";
      EXPECT_LT(f->max, 5000) << "a request waited " << f->max << " ms";
    }
    // Shed, not collapsed: at most `rate` per second admitted (the burst on
    // top), the rest refused at once.
    EXPECT_LE(o.admitted, expected_admitted * 11 / 10 + rate);
    EXPECT_GE(o.shed, o.sent * 8 / 10);
    // The admitted requests' p99 against the half-load one. On a shared
    // 2-core machine a p99 of a few milliseconds swings tenfold with the
    // neighbours' load, so the half-load figure counts as at least 50 ms; a
    // queue that grew with the offered load would put the p99 at seconds.
    const double ratio = o.admitted_p99 / std::max(h.admitted_p99, 50.0);
    const bool timely =
        ratio <= 3 && h.admitted >= h.sent * 95 / 100 && o.admitted >= expected_admitted * 8 / 10;
    if (ratio < best_ratio || timely) {
      best_ratio = ratio;
      half = h;
      over = o;
    }
    figure("overload.round_p99_ratio_to_max_half_50ms", ratio, "x");
    if (timely) break;
  }
  // Half load is all admitted (a token bucket at `rate`, burst rate/2).
  EXPECT_GE(half.admitted, half.sent * 95 / 100);
  EXPECT_GE(over.admitted, expected_admitted * 8 / 10);
  EXPECT_LE(over.admitted_p99, 3 * std::max(half.admitted_p99, 50.0))
      << "half-load p99 " << half.admitted_p99 << " ms";
  // Memory: the overload costs no more than a few MB (an admitted order's
  // records are in Redis; connections are capped; nothing queues).
  EXPECT_LT(rss_peak - rss_before, 64 * 1024)
      << "RSS " << rss_before << " KiB before, " << rss_peak << " KiB peak";

  figure("overload.admit_rate", rate, "/s");
  figure("overload.half.offered", static_cast<double>(half.sent) / seconds, "/s");
  figure("overload.half.admitted_p50", half.admitted_p50, "ms");
  figure("overload.half.admitted_p99", half.admitted_p99, "ms");
  figure("overload.tenfold.offered", static_cast<double>(over.sent) / seconds, "/s");
  figure("overload.tenfold.admitted", static_cast<double>(over.admitted) / seconds, "/s");
  figure("overload.tenfold.shed", static_cast<double>(over.shed) / seconds, "/s");
  figure("overload.tenfold.admitted_p50", over.admitted_p50, "ms");
  figure("overload.tenfold.admitted_p99", over.admitted_p99, "ms");
  figure("overload.tenfold.max_latency", over.max, "ms");
  figure("overload.p99_ratio", over.admitted_p99 / std::max(half.admitted_p99, 0.001), "x");
  figure("overload.rss_before", static_cast<double>(rss_before) / 1024, "MiB");
  figure("overload.rss_peak", static_cast<double>(rss_peak) / 1024, "MiB");
  EXPECT_TRUE(engine.stop());
}

// Two engines on one Redis, one killed -9 mid-storm. The survivor keeps
// selling; the dead node's unpaid orders expire (the cancel queue is in
// Redis, so the survivor's consumer returns their units); then the rest of the
// stock sells out exactly: paid + left = initial, and every 201 is kept once.
TEST_F(HardeningE2eTest, SurvivorOfAKill9SellsOnAndTheSaleEndsExact) {
  const int stock = envInt("SECKILL_HARDENING_KILL_STOCK", 3000);
  const std::string body = redisStore(redis_.port(), "2s") +
                           "[orders]\ncancel_poll = \"100ms\"\n[[sale]]\nid = \"drop\"\nstock = " +
                           std::to_string(stock) + "\npay_timeout = \"3s\"\n";
  EngineProcess a, b;
  ASSERT_TRUE(a.start(body));
  ASSERT_TRUE(b.start(body));

  Shoppers storm({a.port(), b.port()}, "drop", 6, "k", Ms(1));
  ASSERT_TRUE(eventually([&] { return storm.created() >= stock / 10; }));
  a.kill9();
  const double killed_at = msSince(storm.startTime());
  const int64_t created_at_kill = storm.created();
  EXPECT_TRUE(eventually([&] { return storm.created() >= created_at_kill + stock / 10; }))
      << "the survivor stopped selling";
  std::vector<Sample> samples = storm.stop();

  int64_t survivor_after_kill = 0, dead_before_kill = 0;
  for (const Sample& s : samples) {
    if (s.status != 201) continue;
    if (s.port == b.port() && s.at_ms > killed_at) ++survivor_after_kill;
    if (s.port == a.port()) ++dead_before_kill;
  }
  EXPECT_GT(survivor_after_kill, 0);
  EXPECT_GT(dead_before_kill, 0);
  std::map<std::string, std::string> orders = acknowledged(samples);

  // Pay a third of them through the survivor, at once (pay_timeout is 3 s).
  TestClient c(b.port());
  int64_t paid = 0, i = 0;
  for (const auto& [user, id] : orders) {
    if (i++ % 3 != 0) continue;
    if (c.post("/api/v1/orders/" + id + "/pay", user).status == 200) ++paid;
  }
  EXPECT_GT(paid, 0);
  // Every unpaid order expires, the dead node's included, and its unit comes back: a second
  // step after the order's cancel (release_unit.lua, guarded by the buyer's binding), so the
  // books are read once both have settled; a unit lost for good times this out.
  EXPECT_TRUE(eventually(
      [&] {
        const Books b = redisBooks(redis_, "drop");
        return b.pending == 0 && b.left + b.paid == stock;
      },
      std::chrono::seconds(60)))
      << redisBooks(redis_, "drop").pending << " orders still pending";
  Books books = redisBooks(redis_, "drop");
  EXPECT_EQ(books.paid, paid);
  EXPECT_EQ(books.left + books.paid, stock) << "units lost or oversold";
  expectAllKept(b.port(), orders);

  // The rest sells out exactly, on the survivor; each order is paid at once,
  // so none expires meanwhile.
  std::atomic<int64_t> sold{0}, sold_out{0}, other{0};
  {
    std::vector<std::thread> buyers;
    const int64_t users = books.left + 200;
    for (int t = 0; t < 4; ++t) {
      buyers.emplace_back([&, t] {
        TestClient buyer(b.port());
        for (int64_t u = t; u < users; u += 4) {
          const std::string user = absl::StrCat("end-", u);
          Reply r = buyer.post("/api/v1/sales/drop/orders", user);
          if (r.status == 410) {
            ++sold_out;
          } else if (r.status != 201 ||
                     buyer.post("/api/v1/orders/" + r.str("order_id") + "/pay", user).status !=
                         200) {
            ++other;
          } else {
            ++sold;
          }
        }
      });
    }
    for (std::thread& t : buyers) t.join();
  }
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(sold.load(), books.left);
  EXPECT_EQ(sold_out.load(), 200);
  const int64_t left_before_the_end = books.left;
  books = redisBooks(redis_, "drop");
  EXPECT_EQ(books.left, 0);
  EXPECT_EQ(books.pending, 0);
  EXPECT_EQ(books.paid, stock);

  figure("kill9.acknowledged_before_kill", static_cast<double>(created_at_kill), "");
  figure("kill9.survivor_201_after_kill", static_cast<double>(survivor_after_kill), "");
  figure("kill9.paid", static_cast<double>(paid), "");
  figure("kill9.expired_returned", static_cast<double>(orders.size() - paid), "");
  figure("kill9.sold_at_the_end", static_cast<double>(left_before_the_end), "");
  EXPECT_TRUE(b.stop());
}

}  // namespace
}  // namespace seckill::e2e
