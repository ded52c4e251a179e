#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace seckill {

// pending_payment -> paid, or pending_payment -> cancelled (unit returned).
// paid and cancelled are final.
enum class OrderState : uint8_t { kPendingPayment, kPaid, kCancelled };
std::string_view orderStateName(OrderState s);

// Why an order was cancelled.
enum class CancelReason : uint8_t { kNone, kShopper, kExpired };
std::string_view cancelReasonName(CancelReason r);

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

// Makes order ids unique across engine nodes: "<node>-<sequence>" in base 36,
// where the node part is random per process. Thread-safe, lock-free.
class OrderIdGenerator {
 public:
  // `node_seed` picks the node part; pass a random value in production.
  explicit OrderIdGenerator(uint64_t node_seed);
  std::string next();

 private:
  std::string node_;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace seckill
