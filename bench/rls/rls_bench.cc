// seckill_rls_bench: what a rate-limit decision costs over Envoy's RLS protocol and in-process,
// on the same rules and descriptors (bench/run-rls-bench runs it and prints the figures).
//
//   seckill_rls_bench rules
//       prints the [[rule]] tables the engine must run (the ones `inprocess` builds).
//   seckill_rls_bench grpc --target HOST:PORT [--channels C] [--outstanding N]
//       [--duration S | --calls N] [--warmup S]
//       a closed loop of ShouldRateLimit calls (callback stub; C channels, N calls in flight on
//       each), one descriptor per call [("remote_address", one of 1024 addresses)]. Prints
//       decisions per second, latency percentiles and a "RESULT ..." line.
//   seckill_rls_bench inprocess [--path decider|check] [--duration S | --calls N] [--threads T]
//       the same decisions without gRPC: `decider` through RlsDecider (request proto -> rules
//       -> response proto, what the service does per call), `check` through
//       RateLimiter::check on pre-built RequestInfos (the core alone). Prints decisions per
//       second, CPU ns per decision and a "RESULT ..." line. Under callgrind only the measured
//       loop is collected (run with --collect-atstart=no).
//   seckill_rls_bench wait --target HOST:PORT [--timeout S]
//       waits until the service answers (exit 0) or the timeout passes (exit 1).
#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>  // valgrind-dev: collect only the measured loop under callgrind
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/clock.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/rls/descriptor_mapping.h"
#include "engine/rls/rls_decider.h"
#include "envoy/service/ratelimit/v3/rls.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

namespace envoy_rls = ::envoy::service::ratelimit::v3;
using SteadyClock = std::chrono::steady_clock;

constexpr char kDomain[] = "bench";
constexpr int kAddresses = 1024;

// A global layer over the domain and a per-address token bucket under it: every decision walks
// two rules, one of them keyed (the usual per-client limit). Loose enough that all pass.
constexpr char kRulesToml[] = R"([[rule]]
path = "/bench/**"
rate = 1000000000
burst = 1000000000

[[rule]]
path = "/bench/remote_address/*"
scope = "header:remote_address"
rate = 100000
burst = 100000
)";

std::vector<seckill::ratelimit::RuleSpec> benchRules() {
  seckill::ratelimit::RuleSpec all;
  all.path = "/bench/**";
  all.rate = 1'000'000'000;
  all.burst = 1'000'000'000;
  seckill::ratelimit::RuleSpec per_address;
  per_address.path = "/bench/remote_address/*";
  per_address.scope = seckill::ratelimit::ScopeKind::kHeader;
  per_address.header = "remote_address";
  per_address.rate = 100'000;
  per_address.burst = 100'000;
  return {all, per_address};
}

std::string address(int i) { return absl::StrCat("10.0.", i / 256, ".", i % 256); }

std::vector<envoy_rls::RateLimitRequest> benchRequests() {
  std::vector<envoy_rls::RateLimitRequest> out(kAddresses);
  for (int i = 0; i < kAddresses; ++i) {
    out[i].set_domain(kDomain);
    auto* e = out[i].add_descriptors()->add_entries();
    e->set_key("remote_address");
    e->set_value(address(i));
  }
  return out;
}

double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Args {
  std::map<std::string, std::string> kv;
  std::string get(const std::string& k, const std::string& dflt) const {
    auto it = kv.find(k);
    return it == kv.end() ? dflt : it->second;
  }
  int64_t num(const std::string& k, int64_t dflt) const {
    int64_t v = dflt;
    auto it = kv.find(k);
    if (it != kv.end() && !absl::SimpleAtoi(it->second, &v)) {
      std::fprintf(stderr, "--%s: not a number: %s\n", k.c_str(), it->second.c_str());
      std::exit(2);
    }
    return v;
  }
};

Args parseArgs(int argc, char** argv, int from) {
  Args a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "bad argument: %s\n", argv[i]);
      std::exit(2);
    }
    a.kv[k.substr(2)] = argv[++i];
  }
  return a;
}

// -------------------------------------------------------------------------------------- grpc

class Loop {
 public:
  Loop(const std::string& target, int channels, int outstanding, int64_t calls)
      : requests_(benchRequests()), calls_(calls) {
    for (int c = 0; c < channels; ++c) {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", c);  // distinct channels: distinct connections
      stubs_.push_back(envoy_rls::RateLimitService::NewStub(
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
      for (int i = 0; i < outstanding; ++i) {
        slots_.push_back(std::make_unique<Slot>(this, c, static_cast<int>(slots_.size())));
      }
    }
  }

  // Runs until `stop` is set (or the call budget is spent) and every call has come back.
  void run(std::atomic<bool>& stop) {
    stop_ = &stop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = static_cast<int>(slots_.size());
    }
    for (auto& s : slots_) s->issue();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return running_ == 0; });
  }

  uint64_t ok() const { return ok_.load(); }
  uint64_t over() const { return over_.load(); }
  uint64_t errors() const { return errors_.load(); }
  std::vector<uint32_t> latencies() const {
    std::vector<uint32_t> all;
    for (const auto& s : slots_) all.insert(all.end(), s->micros.begin(), s->micros.end());
    return all;
  }
  void clearStats() {
    ok_ = over_ = errors_ = 0;
    for (auto& s : slots_) s->micros.clear();
  }
  void setBudget(int64_t calls) {
    calls_ = calls;
    issued_ = 0;
  }

 private:
  struct Slot {
    Slot(Loop* loop, int channel, int index) : loop(loop), channel(channel), next(index * 7) {}
    void issue() {
      if (loop->stop_->load(std::memory_order_relaxed) ||
          (loop->calls_ > 0 && loop->issued_.fetch_add(1) >= loop->calls_)) {
        loop->slotDone();
        return;
      }
      ctx = std::make_unique<grpc::ClientContext>();
      ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      const envoy_rls::RateLimitRequest& req = loop->requests_[next++ % kAddresses];
      t0 = SteadyClock::now();
      loop->stubs_[channel]->async()->ShouldRateLimit(ctx.get(), &req, &resp,
                                                      [this](grpc::Status s) { done(s); });
    }
    void done(const grpc::Status& s) {
      micros.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0).count()));
      if (!s.ok()) {
        if (loop->errors_.fetch_add(1) < 3) {
          std::fprintf(stderr, "call failed: %s\n", s.error_message().c_str());
        }
      } else if (resp.overall_code() == envoy_rls::RateLimitResponse::OK) {
        loop->ok_.fetch_add(1, std::memory_order_relaxed);
      } else {
        loop->over_.fetch_add(1, std::memory_order_relaxed);
      }
      issue();
    }
    Loop* loop;
    int channel;
    size_t next;
    std::unique_ptr<grpc::ClientContext> ctx;
    envoy_rls::RateLimitResponse resp;
    SteadyClock::time_point t0;
    std::vector<uint32_t> micros;
  };

  void slotDone() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--running_ == 0) cv_.notify_all();
  }

  const std::vector<envoy_rls::RateLimitRequest> requests_;
  std::vector<std::unique_ptr<envoy_rls::RateLimitService::Stub>> stubs_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<bool>* stop_ = nullptr;
  int64_t calls_;
  std::atomic<int64_t> issued_{0};
  std::atomic<uint64_t> ok_{0}, over_{0}, errors_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;
};

double percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

int runGrpc(const Args& a) {
  const std::string target = a.get("target", "");
  if (target.empty()) {
    std::fprintf(stderr, "grpc: --target HOST:PORT is required\n");
    return 2;
  }
  const int channels = static_cast<int>(a.num("channels", 2));
  const int outstanding = static_cast<int>(a.num("outstanding", 32));
  const int64_t calls = a.num("calls", 0);
  const double seconds = static_cast<double>(a.num("duration", 5));
  const double warmup = static_cast<double>(a.num("warmup", 1));
  Loop loop(target, channels, outstanding, 0);
  auto timed = [&](double s) {
    std::atomic<bool> stop{false};
    std::thread timer([&] {
      std::this_thread::sleep_for(std::chrono::duration<double>(s));
      stop = true;
    });
    loop.run(stop);
    timer.join();
  };
  if (warmup > 0) timed(warmup);
  loop.clearStats();
  const auto t0 = SteadyClock::now();
  const double cpu0 = cpuSeconds();
  if (calls > 0) {
    loop.setBudget(calls);
    std::atomic<bool> never{false};
    loop.run(never);
  } else {
    timed(seconds);
  }
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double client_cpu = cpuSeconds() - cpu0;
  std::vector<uint32_t> lat = loop.latencies();
  const uint64_t n = loop.ok() + loop.over();
  const double dps = static_cast<double>(n) / elapsed;
  const double p50 = percentile(lat, 0.5), p99 = percentile(lat, 0.99);
  std::printf("grpc: %llu decisions in %.2f s: %.0f decisions/s (%d channels x %d in flight), "
              "latency p50 %.0f us p99 %.0f us, %llu over limit, %llu errors, client CPU %.2f s\n",
              static_cast<unsigned long long>(n), elapsed, dps, channels, outstanding, p50, p99,
              static_cast<unsigned long long>(loop.over()),
              static_cast<unsigned long long>(loop.errors()), client_cpu);
  std::printf("RESULT mode=grpc decisions=%llu seconds=%.3f dps=%.0f p50_us=%.0f p99_us=%.0f "
              "errors=%llu channels=%d outstanding=%d\n",
              static_cast<unsigned long long>(n), elapsed, dps, p50, p99,
              static_cast<unsigned long long>(loop.errors()), channels, outstanding);
  return loop.errors() == 0 && n > 0 ? 0 : 1;
}

int runWait(const Args& a) {
  const std::string target = a.get("target", "");
  const auto deadline = SteadyClock::now() + std::chrono::seconds(a.num("timeout", 30));
  auto stub = envoy_rls::RateLimitService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  const envoy_rls::RateLimitRequest req = benchRequests()[0];
  while (SteadyClock::now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    envoy_rls::RateLimitResponse resp;
    if (stub->ShouldRateLimit(&ctx, req, &resp).ok()) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "wait: %s does not answer\n", target.c_str());
  return 1;
}

// --------------------------------------------------------------------------------- inprocess

int runInProcess(const Args& a) {
  const std::string path = a.get("path", "decider");
  if (path != "decider" && path != "check") {
    std::fprintf(stderr, "inprocess: --path decider | check\n");
    return 2;
  }
  const int threads = static_cast<int>(a.num("threads", 1));
  const int64_t calls = a.num("calls", 0);
  const double seconds = static_cast<double>(a.num("duration", 3));

  seckill::ratelimit::RuleRegistry registry;
  if (auto v = registry.replace(benchRules()); !v.ok()) {
    std::fprintf(stderr, "rules: %s\n", std::string(v.status().message()).c_str());
    return 1;
  }
  seckill::ratelimit::RateLimiter limiter(registry);
  seckill::SystemClock clock;
  seckill::rls::RlsDecider decider(
      seckill::rls::RlsDeps{.clock = clock, .limiter = limiter, .on_shadow = {}},
      seckill::rls::MappingOptions{.domain = kDomain});
  const std::vector<envoy_rls::RateLimitRequest> requests = benchRequests();
  // The core's input for `check`, mapped once.
  std::vector<std::vector<seckill::rls::DescriptorQuery>> mapped(kAddresses);
  for (int i = 0; i < kAddresses; ++i) {
    if (!seckill::rls::mapRequest(requests[i], decider.options(), &mapped[i]).ok()) return 1;
  }

  // Warm-up: every address's state exists before anything is measured.
  for (int round = 0; round < 2; ++round) {
    envoy_rls::RateLimitResponse resp;
    for (const auto& r : requests) decider.decide(r, &resp, [](absl::Status) {});
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> total{0}, ok{0};
  bool measuring = false;
  auto worker = [&](int t) {
    envoy_rls::RateLimitResponse resp;
    uint64_t n = 0, passed = 0;
    size_t next = static_cast<size_t>(t) * 131;
    const int64_t budget = calls > 0 ? calls / threads : 0;
    if (measuring) CALLGRIND_TOGGLE_COLLECT;  // callgrind's collection state is per thread
    while (budget > 0 ? static_cast<int64_t>(n) < budget : !stop.load(std::memory_order_relaxed)) {
      for (int k = 0; k < 64; ++k, ++n, ++next) {
        const size_t i = next % kAddresses;
        if (path == "decider") {
          decider.decide(requests[i], &resp, [](absl::Status) {});
          passed += resp.overall_code() == envoy_rls::RateLimitResponse::OK;
        } else {
          const seckill::ratelimit::Verdict v = limiter.check(mapped[i][0].info(), clock.now());
          passed += v.kind == seckill::ratelimit::Verdict::kAllow;
        }
      }
    }
    if (measuring) CALLGRIND_TOGGLE_COLLECT;
    total += n;
    ok += passed;
  };
  auto timed = [&](double s) {
    stop = false;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
    if (calls == 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(s));
      stop = true;
    }
    for (auto& th : pool) th.join();
  };
  if (calls == 0) timed(0.5);  // warm-up of the threads and caches too
  total = 0;
  ok = 0;
  measuring = true;
  const auto t0 = SteadyClock::now();
  const double cpu0 = cpuSeconds();
  CALLGRIND_ZERO_STATS;
  timed(seconds);
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double cpu = cpuSeconds() - cpu0;
  const uint64_t n = total.load();
  std::printf("inprocess (%s): %llu decisions in %.2f s on %d thread(s): %.0f decisions/s, "
              "%.0f ns CPU per decision, %llu passed\n",
              path.c_str(), static_cast<unsigned long long>(n), elapsed, threads,
              static_cast<double>(n) / elapsed, cpu * 1e9 / static_cast<double>(n),
              static_cast<unsigned long long>(ok.load()));
  std::printf("RESULT mode=inprocess path=%s decisions=%llu seconds=%.3f dps=%.0f cpu_ns=%.0f "
              "threads=%d\n",
              path.c_str(), static_cast<unsigned long long>(n), elapsed,
              static_cast<double>(n) / elapsed, cpu * 1e9 / static_cast<double>(n), threads);
  return n > 0 && ok.load() == n ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // As seckill-engine runs: Debian's abseil checks every Mutex acquisition against a lock-order
  // graph unless told not to, which would bill the in-process figures for a cost the engine
  // does not pay.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (argc < 2) {
    std::fprintf(stderr, "usage: seckill_rls_bench rules | grpc ... | inprocess ... | wait ...\n");
    return 2;
  }
  const std::string mode = argv[1];
  const Args args = parseArgs(argc, argv, 2);
  if (mode == "rules") {
    std::fputs(kRulesToml, stdout);
    return 0;
  }
  if (mode == "grpc") return runGrpc(args);
  if (mode == "inprocess") return runInProcess(args);
  if (mode == "wait") return runWait(args);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
