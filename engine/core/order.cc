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
    case CancelReason::kDuplicate: return "duplicate";
  }
  return "";
}

std::optional<OrderState> orderStateFromInt(int64_t v) {
  if (v < 0 || v > static_cast<int64_t>(OrderState::kCancelled)) return std::nullopt;
  return static_cast<OrderState>(v);
}

std::optional<CancelReason> cancelReasonFromInt(int64_t v) {
  if (v < 0 || v > static_cast<int64_t>(CancelReason::kDuplicate)) return std::nullopt;
  return static_cast<CancelReason>(v);
}

OrderIdGenerator::OrderIdGenerator(uint64_t node_seed)
    : node_(base36(node_seed & 0xFFFFFFFFFFFFull)) {}

std::string OrderIdGenerator::next(std::string_view sale_id) {
  uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  std::string id;
  id.reserve(node_.size() + 15 + sale_id.size());
  id += node_;
  id.push_back('-');
  id += base36(seq);
  id.push_back('-');
  id += sale_id;
  return id;
}

bool isValidOrderId(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string_view> saleOfOrderId(std::string_view id) {
  size_t first = id.find('-');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  size_t second = id.find('-', first + 1);
  if (second == std::string_view::npos || second == first + 1 || second + 1 >= id.size()) {
    return std::nullopt;
  }
  return id.substr(second + 1);
}

}  // namespace seckill
