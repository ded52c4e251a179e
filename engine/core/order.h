#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace seckill {

// pending_payment -> paid, or pending_payment -> cancelled (unit returned).
// paid and cancelled are final.
enum class OrderState : uint8_t { kPendingPayment, kPaid, kCancelled };
std::string_view orderStateName(OrderState s);

// Why an order was cancelled.
// kDuplicate: refused by the database because another live order of the same
// shopper in the sale holds UNIQUE (sale_id, live_user) (after Redis lost the
// shopper's dedup key; docs/durability.md).
enum class CancelReason : uint8_t { kNone, kShopper, kExpired, kDuplicate };
std::string_view cancelReasonName(CancelReason r);

// The stored number of a state or reason (a database column, a Redis record)
// back to the enum; nullopt when out of range.
std::optional<OrderState> orderStateFromInt(int64_t v);
std::optional<CancelReason> cancelReasonFromInt(int64_t v);

struct Order {
  std::string id;
  std::string sale_id;
  std::string user_id;
  OrderState state = OrderState::kPendingPayment;
  CancelReason cancel_reason = CancelReason::kNone;
  absl::Time created_at;
  absl::Time pay_before;
  absl::Time updated_at;  // time of the last state change
};

// Makes order ids unique across engine nodes: "<node>-<sequence>-<sale id>",
// node and sequence in base 36 ([0-9a-z], no '-'), the node part random per
// process. The id carries its sale so that a sharded store (Redis Cluster:
// one hash slot per sale) can find an order from its id alone.
// Thread-safe, lock-free. Each thread takes its sequence numbers kBlock at a time, so ids
// are unique but not in creation order across threads.
class OrderIdGenerator {
 public:
  // `node_seed` picks the node part; pass a random value in production.
  explicit OrderIdGenerator(uint64_t node_seed);
  std::string next(std::string_view sale_id);

 private:
  // The shared counter's cache line moves between threads once per kBlock orders, not on
  // every order.
  static constexpr uint64_t kBlock = 32;
  std::string node_;
  uint64_t instance_;  // unique per generator: what a thread's block belongs to
  std::atomic<uint64_t> seq_{0};
};

// True iff `s` has the shape of an order id: 1-100 chars of [A-Za-z0-9_-].
bool isValidOrderId(std::string_view s);

// The sale id inside an order id made by OrderIdGenerator; nullopt if `id`
// does not have that shape.
std::optional<std::string_view> saleOfOrderId(std::string_view id);

}  // namespace seckill
