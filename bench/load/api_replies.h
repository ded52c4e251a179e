#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace seckill::load {

// GET /api/v1/sales/{sale}.
struct SaleSnapshot {
  std::string id;
  int64_t stock_total = 0;
  int64_t stock_left = 0;
  std::string state;

  int64_t sold() const { return stock_total - stock_left; }
};

// The order counts of /metrics: seckill_orders{state="..."}, all sales together.
struct OrderCounts {
  int64_t pending_payment = 0;
  int64_t paid = 0;
  int64_t cancelled = 0;

  int64_t all() const { return pending_payment + paid + cancelled; }
};

// Parsers of the engine's answers; InvalidArgument when the body is not what
// the API documents.
absl::StatusOr<SaleSnapshot> parseSaleJson(std::string_view body);
// POST .../tokens: the "token".
absl::StatusOr<std::string> parseTokenJson(std::string_view body);
// POST .../orders (201) and the order routes: the "order_id".
absl::StatusOr<std::string> parseOrderIdJson(std::string_view body);
// GET /api/v1/orders/{order}: the "state" (pending_payment, paid, cancelled).
absl::StatusOr<std::string> parseOrderStateJson(std::string_view body);

// Reads seckill_orders{state="pending_payment"|"paid"|"cancelled"} from
// Prometheus text. NotFound when none of the three is present.
absl::StatusOr<OrderCounts> parseOrderCounts(std::string_view prometheus);

// Reads seckill_stock_left{sale="<sale>"}; nullopt when absent.
std::optional<int64_t> parseStockLeft(std::string_view prometheus, std::string_view sale);

}  // namespace seckill::load
