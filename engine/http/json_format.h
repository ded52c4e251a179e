#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "engine/core/order.h"
#include "engine/core/sale.h"

// Response bodies of the shopper API, built by direct appends: the hot path
// never builds a JSON DOM. Every function appends to `out`.
namespace seckill::http {

// A JSON string literal (with the quotes). Escapes '"', '\\' and control
// characters; other bytes, UTF-8 included, are copied as they are.
void appendJsonString(std::string& out, std::string_view s);

// A decimal integer.
void appendInt(std::string& out, int64_t v);

// RFC 3339 in UTC, "2026-11-28T10:00:00Z"; milliseconds are added only when
// non-zero ("2026-11-28T10:00:00.250Z", truncated, not rounded).
void appendRfc3339(std::string& out, absl::Time t);
std::string formatRfc3339(absl::Time t);

// The quoted RFC 3339 time, or `null` when absent or not finite.
void appendJsonTime(std::string& out, std::optional<absl::Time> t);

// {"error":"<error>"} or, with a message, {"error":"<error>","message":"<message>"}.
void appendErrorJson(std::string& out, std::string_view error, std::string_view message = {});

// {"id","name","stock_total","stock_left","state","opens_at","closes_at"}.
void appendSaleJson(std::string& out, const SaleSpec& sale, int64_t stock_left, SaleState state);

// {"token","expires_in_s"}; the ttl in whole seconds, rounded up.
void appendTokenJson(std::string& out, std::string_view token, absl::Duration ttl);

// The 201 body of a new order: {"order_id","sale_id","user_id","state":"pending_payment",
// "pay_before"}. The state is always pending_payment: a replay repeats the original answer.
void appendCreatedOrderJson(std::string& out, const Order& order);

// An order as it is now: {"order_id","sale_id","user_id","state","pay_before","created_at"}
// plus "cancel_reason" when cancelled.
void appendOrderJson(std::string& out, const Order& order);

}  // namespace seckill::http
