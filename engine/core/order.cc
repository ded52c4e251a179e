#include "engine/core/order.h"

#include <algorithm>

#include "engine/core/strings.h"

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

namespace {
std::atomic<uint64_t> next_generator_instance{1};
}  // namespace

OrderIdGenerator::OrderIdGenerator(uint64_t node_seed)
    : node_(base36(node_seed & 0xFFFFFFFFFFFFull)),
      instance_(next_generator_instance.fetch_add(1, std::memory_order_relaxed)) {}

std::string OrderIdGenerator::next(std::string_view sale_id) {
  struct Block {
    uint64_t instance = 0;  // never a generator's
    uint64_t next = 0;
    uint64_t end = 0;
  };
  thread_local Block block;
  if (block.instance != instance_ || block.next == block.end) {
    block.instance = instance_;
    block.next = seq_.fetch_add(kBlock, std::memory_order_relaxed) + 1;
    block.end = block.next + kBlock;
  }
  uint64_t seq = block.next++;
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  char digits[16];  // base 36, least significant first
  size_t n = 0;
  do {
    digits[n++] = kDigits[seq % 36];
    seq /= 36;
  } while (seq != 0);
  // Sized once and written in place: one allocation (none for a short id).
  std::string id(node_.size() + 1 + n + 1 + sale_id.size(), '-');
  char* p = id.data();
  p = std::copy(node_.begin(), node_.end(), p) + 1;
  while (n > 0) *p++ = digits[--n];
  std::copy(sale_id.begin(), sale_id.end(), p + 1);
  return id;
}

bool isValidOrderId(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    if (!isIdByte(c)) return false;
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
