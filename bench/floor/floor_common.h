// What both floor servers share: the answers, the one global bucket, where a request ends,
// the listening sockets and main(). See floor_server.cc.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

namespace seckill::bench_floor {

inline constexpr std::string_view kAdmitted =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
    "{\"ok\":true}";
inline constexpr std::string_view kLimited =
    "HTTP/1.1 429 Too Many Requests\r\n"
    "Date: Sat, 05 Dec 2026 16:53:44 GMT\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 24\r\n"
    "Retry-After: 1\r\n"
    "RateLimit-Policy: \"POST /api/v1/sales/*/orders global token_bucket 1000/s\";q=100;w=1\r\n"
    "RateLimit: \"POST /api/v1/sales/*/orders global token_bucket 1000/s\";r=0;t=1\r\n"
    "\r\n"
    "{\"error\":\"rate_limited\"}";

// RATE tokens a second up to BURST, refilled from the monotonic clock on each take.
class Bucket {
 public:
  Bucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  bool take() {
    while (lock_.exchange(true, std::memory_order_acquire)) {
    }
    const double now = seconds();
    tokens_ = std::min(burst_, tokens_ + (now - last_) * rate_);
    last_ = now;
    const bool ok = tokens_ >= 1.0;
    if (ok) tokens_ -= 1.0;
    lock_.store(false, std::memory_order_release);
    return ok;
  }

 private:
  static double seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::atomic<bool> lock_{false};
  const double rate_;
  const double burst_;
  double tokens_;
  double last_ = seconds();
};

// Bytes of the first complete request at the front of `buf`, or 0 if it is not all there.
inline size_t requestLength(std::string_view buf) {
  const size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  size_t body = 0;
  const std::string_view head = buf.substr(0, end);
  for (size_t at = head.find('\n'); at != std::string_view::npos; at = head.find('\n', at + 1)) {
    constexpr std::string_view kName = "content-length:";
    std::string_view line = head.substr(at + 1, kName.size());
    if (line.size() == kName.size() &&
        std::equal(line.begin(), line.end(), kName.begin(),
                   [](char a, char b) { return (a | 0x20) == b; })) {
      size_t from = at + 1 + kName.size();
      while (from < head.size() && head[from] == ' ') ++from;
      std::from_chars(head.data() + from, head.data() + head.size(), body);
      break;
    }
  }
  const size_t total = end + 4 + body;
  return buf.size() >= total ? total : 0;
}

// A non-blocking socket listening on 127.0.0.1:`port` with SO_REUSEPORT: one per thread.
inline int listenOn(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 4096) != 0) {
    std::perror("floor_server: bind/listen");
    std::exit(1);
  }
  return fd;
}

// Set by SIGTERM and SIGINT; each worker's loop ends when it is.
inline std::atomic<bool> g_stop{false};

// Both servers' main(): PORT [THREADS] [RATE] [BURST]; one listening socket and one thread
// per worker, each running serve(listener, bucket); "ready" on stdout once all of them listen.
template <class Serve>
int run(int argc, char** argv, Serve serve) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS] [RATE] [BURST]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const double rate = argc > 3 ? std::atof(argv[3]) : 1000;
  const double burst = argc > 4 ? std::atof(argv[4]) : 100;
  struct sigaction sa{};
  sa.sa_handler = [](int) { g_stop = true; };
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  Bucket bucket(rate, burst);
  std::vector<int> listeners;
  for (int t = 0; t < threads; ++t) listeners.push_back(listenOn(port));
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<std::thread> workers;
  for (int fd : listeners) workers.emplace_back([fd, &bucket, serve] { serve(fd, bucket); });
  for (std::thread& w : workers) w.join();
  return 0;
}

}  // namespace seckill::bench_floor
