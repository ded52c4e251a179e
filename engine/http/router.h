#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace seckill::http {

// The shopper API's routes; also the `route` label of the request metrics.
enum class Route : uint8_t {
  kSale,      // GET  /api/v1/sales/{sale}
  kToken,     // POST /api/v1/sales/{sale}/tokens
  kOrder,     // POST /api/v1/sales/{sale}/orders
  kPay,       // POST /api/v1/orders/{order}/pay
  kCancel,    // POST /api/v1/orders/{order}/cancel
  kGetOrder,  // GET  /api/v1/orders/{order}
  kMetrics,   // GET  /metrics
  kHealthz,   // GET  /healthz
  kOther,     // anything else (unknown paths, unparsable requests)
};
inline constexpr size_t kRouteCount = 9;

// "sale", "token", "order", "pay", "cancel", "get_order", "metrics", "healthz", "other".
std::string_view routeName(Route r);

// The request methods the API distinguishes.
enum class Method : uint8_t { kGet, kPost, kOther };

struct RouteMatch {
  enum class Status : uint8_t { kFound, kNotFound, kMethodNotAllowed };
  Status status = Status::kNotFound;
  Route route = Route::kOther;
  // The {sale} or {order} path segment (may be empty or malformed: the handler
  // validates it); a view into the matched target.
  std::string_view id;
  // The method the route accepts, for the Allow header of a 405.
  std::string_view allow;
};

// Matches an origin-form request target against the shopper API. The query
// string and fragment are ignored; paths are matched exactly (no trailing
// slash, no percent-decoding: valid ids never need escaping).
RouteMatch matchRoute(Method method, std::string_view target);

}  // namespace seckill::http
