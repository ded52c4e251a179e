// redis_reply_fuzz: what the Redis client does with the bytes a server answers.
//
// The input is read three ways:
// - as RESP from the wire (unless it declares an array of more than 65536 elements, see
//   declaresHugeArray): hiredis's reader (redisReaderCreate/Feed/GetReply) turns it into
//   replies, and each goes through the client's own conversion (redis_internal::fromHiredis)
//   and then through every reply reader: asInt, asString, redis_cluster::parseClusterSlots,
//   and, for an error reply, redis_cluster::parseRedirect;
// - as an order record (the value of an order in the sale's records hash):
//   redis_internal::parseOrderRecord;
// - as a string reply for asInt / asString.
//
// Invariants:
// - an error reply becomes Unavailable (transient states) or Internal, prefixed "redis: ";
// - a CLUSTER SLOTS reply is accepted only with every range inside [0, 16383], first <= last,
//   as the server sent them (no truncation), and a master port in 1..65535; a redirect the
//   same for its slot and port;
// - parseOrderRecord returns an Order whose encodeOrderRecord parses back to the same order,
//   or an error;
// - asInt of a string agrees with its decimal value, and asString(integer) reads back;
// - never a crash, undefined behaviour or a leak.
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/core/order.h"
#include "engine/store/redis/redis_client.h"
#include "engine/store/redis/redis_cluster.h"
#include "engine/store/redis/redis_reply_util.h"
#include "tests/fuzz/fuzz_check.h"

namespace seckill::fuzz {
namespace {

using redis_internal::asInt;
using redis_internal::asString;

std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// The int64 values a CLUSTER SLOTS range was sent with, if it has the shape.
bool rangeAsSent(const RedisReply& range, int64_t& first, int64_t& last, int64_t& port) {
  if (range.type != RedisReply::Type::kArray || range.elements.size() < 3) return false;
  const RedisReply& master = range.elements[2];
  if (master.type != RedisReply::Type::kArray || master.elements.size() < 2) return false;
  first = range.elements[0].integer;
  last = range.elements[1].integer;
  port = master.elements[1].integer;
  return true;
}

void checkClusterSlots(const RedisReply& reply) {
  absl::StatusOr<std::vector<redis_cluster::SlotRange>> ranges =
      redis_cluster::parseClusterSlots(reply, "10.0.0.9");
  if (!ranges.ok()) {
    FUZZ_CHECK(sv(ranges.status().message()).starts_with("redis: "), ranges.status().ToString());
    return;
  }
  FUZZ_CHECK(ranges->size() == reply.elements.size(), "ranges lost");
  for (size_t i = 0; i < ranges->size(); ++i) {
    const redis_cluster::SlotRange& r = (*ranges)[i];
    int64_t first = 0, last = 0, port = 0;
    FUZZ_CHECK(rangeAsSent(reply.elements[i], first, last, port), "accepted a malformed range");
    FUZZ_CHECK(first == r.first && last == r.last,
               absl::StrCat("slots ", first, "-", last, " accepted as ", r.first, "-", r.last));
    FUZZ_CHECK(0 <= r.first && r.first <= r.last && r.last < redis_cluster::kSlots,
               absl::StrCat("slots ", r.first, "-", r.last));
    FUZZ_CHECK(port == r.master.port && r.master.port >= 1 && r.master.port <= 65535,
               absl::StrCat("master port ", port, " accepted as ", r.master.port));
    FUZZ_CHECK(!r.master.host.empty(), "a master without a host");
  }
}

void checkRedirect(std::string_view error) {
  const std::optional<redis_cluster::Redirect> r = redis_cluster::parseRedirect(error);
  if (!r) return;
  FUZZ_CHECK(error.starts_with(r->ask ? "ASK " : "MOVED "), std::string(error));
  FUZZ_CHECK(r->slot >= 0 && r->slot < redis_cluster::kSlots, absl::StrCat("slot ", r->slot));
  FUZZ_CHECK(r->target.port >= 1 && r->target.port <= 65535,
             absl::StrCat("redirect to port ", r->target.port, ": ", std::string(error)));
}

void checkScalars(const RedisReply& reply, int depth) {
  const std::optional<int64_t> v = asInt(reply);
  const std::string s = asString(reply);
  if (reply.type == RedisReply::Type::kInteger) {
    FUZZ_CHECK(v == reply.integer, "asInt of an integer");
    int64_t back = 0;
    FUZZ_CHECK(absl::SimpleAtoi(s, &back) && back == reply.integer, s);
  } else if (v) {
    int64_t direct = 0;
    FUZZ_CHECK(absl::SimpleAtoi(reply.str, &direct) && direct == *v, reply.str);
  }
  if (depth < 4) {
    for (const RedisReply& e : reply.elements) checkScalars(e, depth + 1);
  }
}

// True iff `bytes` declares an array of more than 65536 elements. hiredis 0.14 allocates the
// element table of a declared multi-bulk length before any element arrives (3.6 GB for
// "*449292296"): a server can make its client allocate at will, which no caller can bound.
// The engine trusts its Redis with that; the fuzz target leaves such inputs to hiredis.
bool declaresHugeArray(std::string_view bytes) {
  for (size_t at = bytes.find('*'); at != std::string_view::npos; at = bytes.find('*', at + 1)) {
    size_t digits = at + 1;
    while (digits < bytes.size() && bytes[digits] >= '0' && bytes[digits] <= '9') ++digits;
    if (digits - at - 1 > 5) return true;
    int64_t n = 0;
    if (digits > at + 1 && absl::SimpleAtoi(absl::string_view(bytes.data() + at + 1, digits - at - 1), &n) &&
        n > 65536) {
      return true;
    }
  }
  return false;
}

void fuzzWire(std::string_view bytes) {
  if (declaresHugeArray(bytes)) return;
  redisReader* reader = redisReaderCreate();
  FUZZ_CHECK(reader != nullptr);
  if (redisReaderFeed(reader, bytes.data(), bytes.size()) == REDIS_OK) {
    for (int n = 0; n < 64; ++n) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader, &raw) != REDIS_OK || raw == nullptr) break;
      const redisReply& r = *static_cast<redisReply*>(raw);
      absl::StatusOr<RedisReply> reply = redis_internal::fromHiredis(r);
      if (!reply.ok()) {
        FUZZ_CHECK(r.type == REDIS_REPLY_ERROR, "a non-error reply refused");
        FUZZ_CHECK(reply.status().code() == absl::StatusCode::kInternal ||
                       reply.status().code() == absl::StatusCode::kUnavailable,
                   reply.status().ToString());
        FUZZ_CHECK(sv(reply.status().message()).starts_with("redis: "), reply.status().ToString());
        checkRedirect(std::string_view(r.str, r.len));
      } else {
        FUZZ_CHECK(r.type != REDIS_REPLY_ERROR, "an error reply taken for a value");
        if (r.type == REDIS_REPLY_ARRAY) {
          FUZZ_CHECK(reply->elements.size() <= r.elements, "array grew");
        }
        checkScalars(*reply, 0);
        checkClusterSlots(*reply);
      }
      freeReplyObject(raw);
    }
  }
  redisReaderFree(reader);
}

void fuzzOrderRecord(std::string_view record) {
  absl::StatusOr<Order> order = redis_internal::parseOrderRecord("s1", "s1-o1", record);
  if (!order.ok()) {
    FUZZ_CHECK(order.status().code() == absl::StatusCode::kInternal, order.status().ToString());
    return;
  }
  FUZZ_CHECK(order->id == "s1-o1" && order->sale_id == "s1" && !order->user_id.empty());
  const std::string encoded = redis_internal::encodeOrderRecord(*order);
  absl::StatusOr<Order> back = redis_internal::parseOrderRecord("s1", "s1-o1", encoded);
  FUZZ_CHECK(back.ok(), absl::StrCat("encodeOrderRecord wrote what parseOrderRecord refuses: ",
                                     encoded));
  FUZZ_CHECK(back->user_id == order->user_id && back->state == order->state &&
                 back->cancel_reason == order->cancel_reason &&
                 back->created_at == order->created_at && back->pay_before == order->pay_before &&
                 back->updated_at == order->updated_at,
             absl::StrCat("the order changed through its record: ", encoded));
  FUZZ_CHECK(redis_internal::encodeOrderRecord(*back) == encoded, encoded);
}

void fuzzString(std::string_view text) {
  RedisReply reply;
  reply.type = RedisReply::Type::kString;
  reply.str = std::string(text);
  checkScalars(reply, 0);
  reply.type = RedisReply::Type::kStatus;
  checkScalars(reply, 0);
}

}  // namespace
}  // namespace seckill::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  seckill::fuzz::fuzzWire(bytes);
  seckill::fuzz::fuzzOrderRecord(bytes);
  seckill::fuzz::fuzzString(bytes);
  return 0;
}
