#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/store/redis/redis_client.h"
#include "engine/store/redis/redis_endpoint.h"

// Redis Cluster arithmetic and reply parsing, free of I/O: the pieces
// RedisClient's cluster mode is built from, tested on their own.
namespace seckill::redis_cluster {

inline constexpr int kSlots = 16384;

// CRC16-CCITT (XMODEM: poly 0x1021, init 0, no reflection), the key hash of
// the Redis Cluster specification: crc16("123456789") == 0x31C3.
uint16_t crc16(std::string_view data);

// The slot of a RedisClient route: crc16(route) & 16383. A route IS the hash
// tag content of the command's keys (the sale id for every key `sk:{<sale>}:*`),
// so routeSlot("s1") == keySlot("sk:{s1}:stock").
inline int routeSlot(std::string_view route) { return crc16(route) & (kSlots - 1); }

// The slot of a full key, with the specification's hash tag rule: the part
// between the first '{' and the next '}' if that is non-empty, else the key.
int keySlot(std::string_view key);

// One line of CLUSTER SLOTS: slots [first, last] are served by `master`.
struct SlotRange {
  int first = 0;
  int last = 0;
  RedisEndpoint master;
};

// Parses a CLUSTER SLOTS reply. A master reported with an empty host ("" or
// "?": the node does not know its own address) gets `asked_host`, the host the
// question was sent to.
absl::StatusOr<std::vector<SlotRange>> parseClusterSlots(const RedisReply& reply,
                                                         std::string_view asked_host);

// A -MOVED or -ASK error reply, parsed: "MOVED 3999 127.0.0.1:6381".
struct Redirect {
  bool ask = false;  // ASK: this command only, the map is unchanged
  int slot = 0;
  RedisEndpoint target;  // host may be empty: same host as the node that answered
};

// The redirect an error message describes, or nullopt for any other error.
std::optional<Redirect> parseRedirect(std::string_view error);

}  // namespace seckill::redis_cluster
