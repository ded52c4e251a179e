#include "engine/http/router.h"

#include <algorithm>

namespace seckill::http {
namespace {

constexpr std::string_view kSalesPrefix = "/api/v1/sales/";
constexpr std::string_view kOrdersPrefix = "/api/v1/orders/";

RouteMatch found(Method method, Route route, Method wanted, std::string_view id = {}) {
  RouteMatch m;
  m.route = route;
  m.id = id;
  m.allow = wanted == Method::kGet ? "GET" : "POST";
  m.status = method == wanted ? RouteMatch::Status::kFound : RouteMatch::Status::kMethodNotAllowed;
  return m;
}

}  // namespace

std::string_view routeName(Route r) {
  switch (r) {
    case Route::kSale:
      return "sale";
    case Route::kToken:
      return "token";
    case Route::kOrder:
      return "order";
    case Route::kPay:
      return "pay";
    case Route::kCancel:
      return "cancel";
    case Route::kGetOrder:
      return "get_order";
    case Route::kMetrics:
      return "metrics";
    case Route::kHealthz:
      return "healthz";
    case Route::kOther:
      return "other";
  }
  return "other";
}

RouteMatch matchRoute(Method method, std::string_view target) {
  // The path ends at the query or the fragment (two finds: find_first_of("?#") calls memchr
  // once per byte).
  const std::string_view path = target.substr(0, std::min(target.find('?'), target.find('#')));

  if (path.starts_with(kSalesPrefix)) {
    std::string_view rest = path.substr(kSalesPrefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return found(method, Route::kSale, Method::kGet, rest);
    std::string_view id = rest.substr(0, slash);
    std::string_view action = rest.substr(slash + 1);
    if (action == "orders") return found(method, Route::kOrder, Method::kPost, id);
    if (action == "tokens") return found(method, Route::kToken, Method::kPost, id);
    return {};
  }
  if (path.starts_with(kOrdersPrefix)) {
    std::string_view rest = path.substr(kOrdersPrefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return found(method, Route::kGetOrder, Method::kGet, rest);
    std::string_view id = rest.substr(0, slash);
    std::string_view action = rest.substr(slash + 1);
    if (action == "pay") return found(method, Route::kPay, Method::kPost, id);
    if (action == "cancel") return found(method, Route::kCancel, Method::kPost, id);
    return {};
  }
  if (path == "/metrics") return found(method, Route::kMetrics, Method::kGet);
  if (path == "/healthz") return found(method, Route::kHealthz, Method::kGet);
  return {};
}

}  // namespace seckill::http
