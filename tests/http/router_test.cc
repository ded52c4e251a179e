#include "engine/http/router.h"

#include "gtest/gtest.h"

namespace seckill::http {
namespace {

using Status = RouteMatch::Status;

TEST(RouterTest, MatchesEveryRouteWithItsMethod) {
  struct Case {
    Method method;
    const char* target;
    Route route;
    const char* id;
  };
  const Case cases[] = {
      {Method::kGet, "/api/v1/sales/phone-drop", Route::kSale, "phone-drop"},
      {Method::kPost, "/api/v1/sales/phone-drop/tokens", Route::kToken, "phone-drop"},
      {Method::kPost, "/api/v1/sales/phone-drop/orders", Route::kOrder, "phone-drop"},
      {Method::kPost, "/api/v1/orders/abc-1/pay", Route::kPay, "abc-1"},
      {Method::kPost, "/api/v1/orders/abc-1/cancel", Route::kCancel, "abc-1"},
      {Method::kGet, "/api/v1/orders/abc-1", Route::kGetOrder, "abc-1"},
      {Method::kGet, "/metrics", Route::kMetrics, ""},
      {Method::kGet, "/healthz", Route::kHealthz, ""},
  };
  for (const Case& c : cases) {
    RouteMatch m = matchRoute(c.method, c.target);
    EXPECT_EQ(m.status, Status::kFound) << c.target;
    EXPECT_EQ(m.route, c.route) << c.target;
    EXPECT_EQ(m.id, c.id) << c.target;
  }
}

TEST(RouterTest, IgnoresQueryAndFragment) {
  RouteMatch m = matchRoute(Method::kPost, "/api/v1/sales/s1/orders?x=1&y=/2");
  EXPECT_EQ(m.status, Status::kFound);
  EXPECT_EQ(m.route, Route::kOrder);
  EXPECT_EQ(m.id, "s1");
  m = matchRoute(Method::kGet, "/healthz#top");
  EXPECT_EQ(m.route, Route::kHealthz);
}

TEST(RouterTest, WrongMethodOnKnownRouteIs405WithAllow) {
  RouteMatch m = matchRoute(Method::kGet, "/api/v1/sales/s1/orders");
  EXPECT_EQ(m.status, Status::kMethodNotAllowed);
  EXPECT_EQ(m.route, Route::kOrder);
  EXPECT_EQ(m.allow, "POST");
  m = matchRoute(Method::kPost, "/api/v1/sales/s1");
  EXPECT_EQ(m.status, Status::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET");
  m = matchRoute(Method::kOther, "/healthz");
  EXPECT_EQ(m.status, Status::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET");
}

TEST(RouterTest, UnknownPathsAreNotFound) {
  for (const char* t : {"/", "", "/api/v1/sales", "/api/v1/sales/s1/refunds",
                        "/api/v1/sales/s1/orders/", "/api/v1/orders/o1/pay/now", "/api/v2/sales/s1",
                        "/metrics/", "/healthzz", "http://host/healthz", "*"}) {
    EXPECT_EQ(matchRoute(Method::kGet, t).status, Status::kNotFound) << t;
    EXPECT_EQ(matchRoute(Method::kPost, t).status, Status::kNotFound) << t;
  }
}

TEST(RouterTest, EmptyOrOddIdsStillMatchForTheHandlerToReject) {
  RouteMatch m = matchRoute(Method::kGet, "/api/v1/sales/");
  EXPECT_EQ(m.status, Status::kFound);
  EXPECT_EQ(m.id, "");
  m = matchRoute(Method::kPost, "/api/v1/sales/a%20b/orders");
  EXPECT_EQ(m.status, Status::kFound);
  EXPECT_EQ(m.id, "a%20b");
}

TEST(RouterTest, RouteNames) {
  EXPECT_EQ(routeName(Route::kSale), "sale");
  EXPECT_EQ(routeName(Route::kToken), "token");
  EXPECT_EQ(routeName(Route::kOrder), "order");
  EXPECT_EQ(routeName(Route::kPay), "pay");
  EXPECT_EQ(routeName(Route::kCancel), "cancel");
  EXPECT_EQ(routeName(Route::kGetOrder), "get_order");
  EXPECT_EQ(routeName(Route::kMetrics), "metrics");
  EXPECT_EQ(routeName(Route::kHealthz), "healthz");
  EXPECT_EQ(routeName(Route::kOther), "other");
}

}  // namespace
}  // namespace seckill::http
