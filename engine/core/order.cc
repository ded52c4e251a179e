#include "engine/core/order.h"

namespace seckill {
namespace {

std::string base36(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  char buf[16];
  int n = 0;
  do {
    buf[n++] = kDigits[v % 36];
    v /= 36;
  } while (v != 0);
  return std::string(std::make_reverse_iterator(buf + n), std::make_reverse_iterator(buf));
}

}  // namespace

std::string_view orderStateName(OrderState s) {
  switch (s) {
    case OrderState::kPendingPayment: return "pending_payment";
    case OrderState::kPaid: return "paid";
    case OrderState::kCancelled: return "cancelled";
  }
  return "cancelled";
}

std::string_view cancelReasonName(CancelReason r) {
  switch (r) {
    case CancelReason::kNone: return "";
    case CancelReason::kShopper: return "shopper";
    case CancelReason::kExpired: return "expired";
  }
  return "";
}

OrderIdGenerator::OrderIdGenerator(uint64_t node_seed)
    : node_(base36(node_seed & 0xFFFFFFFFFFFFull)) {}

std::string OrderIdGenerator::next() {
  uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  std::string id = node_;
  id.push_back('-');
  id += base36(seq);
  return id;
}

}  // namespace seckill
