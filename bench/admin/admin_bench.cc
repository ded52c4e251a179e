// seckill_admin_bench: figures of the admin API that no load generator gives.
//
//   seckill_admin_bench ring
//       bytes the stats history holds for one hour of a busy engine (every route, the 16
//       busiest rules, 64 sales, both breakers each second): the fixed memory of the ring.
//   seckill_admin_bench apply-latency --admin HOST:PORT --token-file F --http HOST:PORT
//       [--follower-http HOST:PORT] [--rounds N]
//       time from sending a rule change (Rules.PutRule) until the engine's HTTP side obeys it:
//       a rule that allows no more orders, then one that allows them again, N times each; with
//       --follower-http also until a second engine on the same Redis obeys. Prints the median
//       and the maximum, and one "RESULT ..." line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "console/client/admin_client.h"
#include "engine/admin/stats_history.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = ::seckill::admin::v1;

int ring() {
  seckill::admin::StatsHistory history;
  const absl::Time t0 = absl::Now();
  for (uint64_t second = 1; second <= 2 * history.capacity(); ++second) {
    seckill::StatsSample s;
    s.seq = second;
    s.at = t0 + absl::Seconds(static_cast<int64_t>(second));
    for (const char* r : {"sale", "token", "order", "pay", "cancel", "get_order", "metrics", "healthz", "other"}) {
      s.routes.push_back({.route = r, .requests = 1000, .status_2xx = 900, .status_4xx = 90, .status_5xx = 10});
    }
    for (size_t i = 0; i < seckill::StatsSample::kTopRules; ++i) {
      s.rules.push_back({.id = absl::StrCat("POST /api/v1/sales/*/orders header:x-tenant /s #", i), .passed = 10});
    }
    for (size_t i = 0; i < seckill::StatsSample::kMaxSales; ++i) {
      s.sales.push_back({.id = absl::StrCat("sale-of-the-day-", i), .left = 5, .total = 10, .state = "sold_out"});
    }
    s.breakers = {{"stock_store", "half_open", "metrics_only"}, {"order_store", "closed", "normal"}};
    history.push(s);
  }
  const size_t bytes = history.bytes();
  std::printf("stats history: %zu seconds held in %zu bytes (%.1f MiB per hour, %zu bytes per second)\n",
              history.capacity(), bytes, static_cast<double>(bytes) / (1 << 20), bytes / history.capacity());
  std::printf("RESULT ring_seconds=%zu ring_bytes=%zu\n", history.capacity(), bytes);
  return 0;
}

// One POST of an order on a fresh connection; the HTTP status (0: no answer).
int postOrder(const std::string& host, int port, const std::string& user) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  int status = 0;
  const std::string req = absl::StrCat("POST /api/v1/sales/bench/orders HTTP/1.1\r\nHost: b\r\nX-User-Id: ", user,
                                       "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
    char buf[64] = {};
    if (::recv(fd, buf, sizeof buf - 1, 0) >= 12) (void)absl::SimpleAtoi(std::string(buf + 9, 3), &status);
  }
  ::close(fd);
  return status;
}

bool splitHostPort(const std::string& s, std::string& host, int& port) {
  const size_t colon = s.rfind(':');
  return colon != std::string::npos && (host = s.substr(0, colon), absl::SimpleAtoi(s.substr(colon + 1), &port));
}

double medianMs(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int applyLatency(int argc, char** argv) {
  std::string admin, token_file, http, follower;
  int rounds = 20;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--admin") admin = v;
    else if (k == "--token-file") token_file = v;
    else if (k == "--http") http = v;
    else if (k == "--follower-http") follower = v;
    else if (k == "--rounds") (void)absl::SimpleAtoi(v, &rounds);
  }
  std::string host, fhost;
  int port = 0, fport = 0;
  if (admin.empty() || token_file.empty() || !splitHostPort(http, host, port) ||
      (!follower.empty() && !splitHostPort(follower, fhost, fport))) {
    std::fprintf(stderr, "usage: seckill_admin_bench apply-latency --admin HOST:PORT --token-file F --http HOST:PORT [--follower-http HOST:PORT] [--rounds N]\n");
    return 2;
  }
  absl::StatusOr<std::string> token = seckill::client::readTokenFile(token_file);
  if (!token.ok()) {
    std::fprintf(stderr, "%s\n", std::string(token.status().message()).c_str());
    return 1;
  }
  seckill::client::ConnectOptions o;
  o.target = admin;
  o.token = *token;
  std::unique_ptr<seckill::client::AdminClient> client = *seckill::client::AdminClient::create(o);
  std::vector<double> local_ms, follower_ms;
  int user = 0;
  for (int r = 0; r < 2 * rounds; ++r) {
    // Even rounds close the door (no order allowed per hour), odd rounds open it again.
    const bool closing = r % 2 == 0;
    absl::StatusOr<v1::ListRulesResponse> rules = client->listRules();
    if (!rules.ok()) {
      std::fprintf(stderr, "Rules.List: %s\n", std::string(rules.status().message()).c_str());
      return 1;
    }
    v1::PutRuleRequest put;
    v1::Rule* rule = put.mutable_rule();
    rule->set_id("apply-latency");
    rule->set_path("/api/v1/sales/*/orders");
    rule->set_rate(closing ? 1 : 1'000'000);
    rule->set_burst(closing ? 1 : 1'000'000);
    rule->set_per(closing ? v1::HOUR : v1::SECOND);
    rule->set_algorithm(closing ? v1::SLIDING_LOG : v1::TOKEN_BUCKET);
    put.set_expected_version(rules->version());
    const auto t0 = Clock::now();
    absl::StatusOr<v1::ApplyRulesResponse> applied = client->call(&v1::Rules::Stub::PutRule, put);
    if (!applied.ok()) {
      std::fprintf(stderr, "Rules.PutRule: %s\n", std::string(applied.status().message()).c_str());
      return 1;
    }
    // Obeyed: closing, a request is refused (after the one the fresh log admits); opening, a
    // request goes through.
    auto obeyed = [&](const std::string& h, int p) {
      for (;;) {
        const int s = postOrder(h, p, absl::StrCat("u", ++user));
        if (closing ? s == 429 : s == 201) return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (Clock::now() - t0 > std::chrono::seconds(10)) return -1.0;
      }
    };
    const double local = obeyed(host, port);
    const double remote = follower.empty() ? 0 : obeyed(fhost, fport);
    if (local < 0 || remote < 0) {
      std::fprintf(stderr, "round %d: not obeyed within 10 s\n", r);
      return 1;
    }
    local_ms.push_back(local);
    if (!follower.empty()) follower_ms.push_back(remote);
  }
  std::printf("rule apply until the HTTP side obeys: median %.2f ms, max %.2f ms over %zu changes\n",
              medianMs(local_ms), *std::max_element(local_ms.begin(), local_ms.end()), local_ms.size());
  std::printf("RESULT apply_median_ms=%.3f apply_max_ms=%.3f changes=%zu", medianMs(local_ms),
              *std::max_element(local_ms.begin(), local_ms.end()), local_ms.size());
  if (!follower_ms.empty()) {
    std::printf(" follower_median_ms=%.3f follower_max_ms=%.3f", medianMs(follower_ms),
                *std::max_element(follower_ms.begin(), follower_ms.end()));
  }
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "ring") return ring();
  if (mode == "apply-latency") return applyLatency(argc, argv);
  std::fprintf(stderr, "usage: seckill_admin_bench ring | apply-latency ...\n");
  return 2;
}
