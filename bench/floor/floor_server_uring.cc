// The rate-limited path's floor on io_uring: floor_server.cc's work, with each worker's
// receives, sends and accepts going through one ring, so one io_uring_enter covers a whole
// batch of answers instead of a recv and a send each. It answers whether a different way of
// talking to the kernel moves the floor (docs/benchmarks.md: it does not, on this machine).
// Built only where liburing is installed (Debian: liburing-dev); not a dependency of seckill.
//
//   seckill_floor_server_uring PORT [THREADS] [RATE] [BURST]
//
// Per thread: its own SO_REUSEPORT socket and ring (single issuer, deferred task running), a
// multishot accept, then per connection one receive in flight at a time; a complete request
// queues its answer's send and the next receive in the same submission. Stops on SIGTERM.

#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "bench/floor/floor_common.h"

namespace seckill::bench_floor {
namespace {

struct Conn {
  explicit Conn(int f) : fd(f) {}
  int fd;
  size_t have = 0;
  char buf[4096];
};

// A completion's user data: the connection's address with the operation in its low bits.
enum Op : uint64_t { kAccept = 0, kRecv = 1, kSend = 2 };

class Ring {
 public:
  Ring() {
    io_uring_params p{};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(4096, &ring_, &p) < 0) {
      std::fprintf(stderr, "floor_server_uring: io_uring_queue_init failed\n");
      std::exit(1);
    }
  }
  ~Ring() { io_uring_queue_exit(&ring_); }
  io_uring_sqe* next(Op op, Conn* c) {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    if (s == nullptr) {  // the submission queue is full: hand it over and take a fresh one
      io_uring_submit(&ring_);
      s = io_uring_get_sqe(&ring_);
    }
    io_uring_sqe_set_data64(s, reinterpret_cast<uint64_t>(c) | op);
    return s;
  }
  io_uring* get() { return &ring_; }

 private:
  io_uring ring_;
};

void receive(Ring& ring, Conn* c) {
  io_uring_prep_recv(ring.next(kRecv, c), c->fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
}

void serve(int listener, Bucket& bucket) {
  Ring ring;
  io_uring_prep_multishot_accept(ring.next(kAccept, nullptr), listener, nullptr, nullptr, 0);
  __kernel_timespec tick{.tv_sec = 0, .tv_nsec = 100'000'000};
  while (!g_stop.load(std::memory_order_relaxed)) {
    io_uring_cqe* first = nullptr;
    io_uring_submit_and_wait_timeout(ring.get(), &first, 1, &tick, nullptr);
    io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(ring.get(), head, cqe) {
      ++seen;
      const auto op = static_cast<Op>(cqe->user_data & 7);
      Conn* c = reinterpret_cast<Conn*>(cqe->user_data & ~uint64_t{7});
      if (op == kAccept) {
        if (cqe->res < 0) continue;
        auto* fresh = new Conn(cqe->res);
        const int one = 1;
        ::setsockopt(fresh->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        receive(ring, fresh);
      } else if (op == kRecv) {
        if (cqe->res <= 0 || c->have + static_cast<size_t>(cqe->res) >= sizeof(c->buf)) {
          ::close(c->fd);  // closed, failed, or a request larger than this floor takes
          delete c;
          continue;
        }
        c->have += static_cast<size_t>(cqe->res);
        // wrk sends one request at a time per connection: one answer per receive at most.
        const size_t len = requestLength(std::string_view(c->buf, c->have));
        if (len != 0) {
          const std::string_view reply = bucket.take() ? kAdmitted : kLimited;
          io_uring_prep_send(ring.next(kSend, c), c->fd, reply.data(), reply.size(), MSG_NOSIGNAL);
          std::memmove(c->buf, c->buf + len, c->have - len);
          c->have -= len;
        }
        receive(ring, c);
      }
      // kSend: the answers are constants; nothing to release.
    }
    io_uring_cq_advance(ring.get(), seen);
  }
}

}  // namespace
}  // namespace seckill::bench_floor

int main(int argc, char** argv) {
  return seckill::bench_floor::run(argc, argv, seckill::bench_floor::serve);
}
