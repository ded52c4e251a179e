#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace seckill {

// The memory store's one-time submission tokens, at 16 bytes a token.
//
// A token is 32 lowercase hex characters: a serial (16) and a tag (16), the first 8 bytes of
// HMAC-SHA256(key, serial || sale id || 0x1f || user id) under a key drawn at random for this
// log (OpenSSL's libcrypto, a keyed context kept per thread). The tag binds the token to its shopper and sale, so neither is stored: per token the log
// keeps its expiry and one word of state (fresh, in flight, or used with the first use's
// answer), in a deque indexed by serial, which drops expired tokens from its front. Forging a
// token for someone else means guessing a 64-bit tag. Thread-safe.
class TokenLog {
 public:
  // A used token's answer: a code in the top 4 bits, 60 bits of payload (an order key of
  // MemoryOrderRepository, or kOtherId with the id kept beside).
  static constexpr uint64_t kFresh = 0;
  static constexpr uint64_t kInFlight = 1;
  static constexpr int kCodeShift = 60;
  static constexpr uint64_t kPayloadMask = (uint64_t{1} << kCodeShift) - 1;
  static constexpr uint64_t kOtherId = kPayloadMask;

  TokenLog();
  TokenLog(const TokenLog&) = delete;
  TokenLog& operator=(const TokenLog&) = delete;

  // A fresh token for `user` in `sale`, valid until `expires`. Drops expired tokens as it goes
  // (at most once a second per shard). Empty if OpenSSL failed.
  std::string issue(std::string_view sale, std::string_view user, absl::Time now,
                    absl::Time expires);

  enum class Begin { kInvalid, kInFlight, kUsed, kStarted };
  struct Use {
    Begin kind = Begin::kInvalid;
    uint64_t serial = 0;
    uint64_t answer = 0;    // kUsed: the first use's answer
    std::string other_id;   // kUsed with payload kOtherId: the order id
  };
  // Checks `token` for `user` in `sale` at `now`. A fresh token is marked in flight (kStarted)
  // when `start` is true, else only reported fresh (kStarted, nothing changed).
  Use begin(std::string_view token, std::string_view sale, std::string_view user,
            absl::Time now, bool start);
  // Ends a use begun with kStarted: `answer` (code != 0) makes the token used with that answer
  // (and `other_id` when its payload is kOtherId); kFresh makes it usable again.
  void finish(uint64_t serial, uint64_t answer, std::string_view other_id = {});

  // Tokens held (not yet dropped).
  size_t size() const;

 private:
  static constexpr size_t kShards = 16;
  struct Slot {
    int64_t expires_ns;
    uint64_t state;  // kFresh, kInFlight, or an answer
  };
  struct alignas(64) Shard {  // a cache line of its own: no false sharing between threads
    mutable absl::Mutex mu;
    std::deque<Slot> slots ABSL_GUARDED_BY(mu);  // slots[i]: position first + i
    uint64_t first ABSL_GUARDED_BY(mu) = 0;
    absl::flat_hash_map<uint64_t, std::string> other_ids ABSL_GUARDED_BY(mu);  // by serial
    int64_t next_sweep_ns ABSL_GUARDED_BY(mu) = INT64_MIN;
  };
  // The tag of (serial, sale, user) into `out`; false if OpenSSL failed.
  bool tag(uint64_t serial, std::string_view sale, std::string_view user, uint64_t& out) const;

  std::string key_;  // 32 random bytes
  uint64_t id_;      // unique per log: what a thread's keyed MAC context belongs to
  std::array<Shard, kShards> shards_;
};

}  // namespace seckill
