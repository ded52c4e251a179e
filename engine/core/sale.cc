#include "engine/core/sale.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {

absl::StatusOr<StockStrategy> parseStockStrategy(std::string_view name) {
  if (name == "atomic") return StockStrategy::kAtomic;
  if (name == "fifo") return StockStrategy::kFifo;
  if (name == "optimistic") return StockStrategy::kOptimistic;
  if (name == "counter_gate") return StockStrategy::kCounterGate;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown strategy \"", av(name), "\" (expected atomic | fifo | optimistic | counter_gate)"));
}

std::string_view stockStrategyName(StockStrategy s) {
  switch (s) {
    case StockStrategy::kAtomic: return "atomic";
    case StockStrategy::kFifo: return "fifo";
    case StockStrategy::kOptimistic: return "optimistic";
    case StockStrategy::kCounterGate: return "counter_gate";
  }
  return "atomic";
}

std::string_view saleStateName(SaleState s) {
  switch (s) {
    case SaleState::kScheduled: return "scheduled";
    case SaleState::kOpen: return "open";
    case SaleState::kSoldOut: return "sold_out";
    case SaleState::kClosed: return "closed";
  }
  return "closed";
}

bool isValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!isIdByte(c)) return false;
  }
  return true;
}

absl::Status SaleSpec::validate() const {
  if (!isValidId(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sale id \"", id, "\" must be 1-64 chars of [A-Za-z0-9_-]"));
  }
  if (stock < 0) {
    return absl::InvalidArgumentError(absl::StrCat("sale ", id, ": stock must be >= 0"));
  }
  if (strategy == StockStrategy::kCounterGate && stock > int64_t{0x7fffffff}) {
    return absl::InvalidArgumentError(
        absl::StrCat("sale ", id, ": stock must be <= 2147483647 with strategy counter_gate"));
  }
  if (pay_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("sale ", id, ": pay_timeout must be > 0"));
  }
  if (dedup_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("sale ", id, ": dedup_ttl must be > 0"));
  }
  if (token_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("sale ", id, ": token_ttl must be > 0"));
  }
  if (opens_at && closes_at && *closes_at <= *opens_at) {
    return absl::InvalidArgumentError(
        absl::StrCat("sale ", id, ": closes_at must be after opens_at"));
  }
  return absl::OkStatus();
}

SaleState saleStateAt(const SaleSpec& sale, absl::Time now, int64_t stock_left) {
  if (sale.opens_at && now < *sale.opens_at) return SaleState::kScheduled;
  if (sale.closes_at && now >= *sale.closes_at) return SaleState::kClosed;
  if (stock_left <= 0) return SaleState::kSoldOut;
  return SaleState::kOpen;
}

}  // namespace seckill
