// The floor of the rate-limited path: the least an HTTP server can do and still answer
// bench/run-ratelimit-compare's flood the way the engine does. It is not a server anyone should
// run; it measures what the kernel and wrk leave to the server on this machine.
//
//   seckill_floor_server PORT [THREADS] [RATE] [BURST]
//
// Per thread: its own SO_REUSEPORT listening socket and edge-triggered epoll set (as the
// engine's workers), non-blocking sockets, one recv and one send per request. A request is
// taken as complete at "\r\n\r\n" plus its Content-Length (the only header read); nothing else
// is parsed. One global token bucket (RATE/s, BURST) behind a spin lock decides: 200
// {"ok":true} for a token, else the engine's own 429 (same status line, headers and body
// length, a fixed Date). Prints "ready" when it listens; stops on SIGTERM or SIGINT.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/floor/floor_common.h"

namespace seckill::bench_floor {
namespace {

void serve(int listener, Bucket& bucket) {
  const int ep = ::epoll_create1(0);
  epoll_event ev{.events = EPOLLIN, .data = {.fd = listener}};
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::unordered_map<int, std::string> pending;  // a connection's unanswered bytes
  std::vector<epoll_event> ready(256);
  char buf[16384];
  std::string out;  // the answers to several pipelined requests, reused
  while (!g_stop.load(std::memory_order_relaxed)) {
    const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    for (int i = 0; i < n; ++i) {
      const int fd = ready[i].data.fd;
      if (fd == listener) {
        for (;;) {
          const int c = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
          if (c < 0) break;
          const int one = 1;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event cev{.events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data = {.fd = c}};
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      bool closed = false;
      std::string& in = pending[fd];
      size_t direct = 0;  // the usual case: one read, nothing pending; answered from `buf`
      for (;;) {  // edge-triggered: read until EAGAIN, or a short read says the socket is empty
        const ssize_t got = ::recv(fd, buf, sizeof(buf), 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
          closed = true;
          break;
        }
        if (got < 0) break;
        if (in.empty() && static_cast<size_t>(got) < sizeof(buf)) {
          direct = static_cast<size_t>(got);
          break;
        }
        in.append(buf, static_cast<size_t>(got));
        if (static_cast<size_t>(got) < sizeof(buf)) break;
      }
      const std::string_view data = direct > 0 ? std::string_view(buf, direct) : std::string_view(in);
      size_t used = 0;
      size_t answers = 0;
      std::string_view last;
      for (size_t len; (len = requestLength(data.substr(used))) != 0; used += len) {
        if (answers == 1) out.assign(last);
        last = bucket.take() ? kAdmitted : kLimited;
        if (answers >= 1) out.append(last);
        ++answers;
      }
      const std::string_view reply = answers == 1 ? last : std::string_view(out);
      if (answers > 0 && ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) closed = true;
      // What is left of a request that is not all there waits in `in`.
      std::string rest(data.substr(used));
      in.swap(rest);
      if (closed || (ready[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        ::close(fd);
        pending.erase(fd);
      }
    }
  }
  ::close(ep);
}

}  // namespace
}  // namespace seckill::bench_floor

int main(int argc, char** argv) {
  return seckill::bench_floor::run(argc, argv, seckill::bench_floor::serve);
}
