#include "engine/http/shopper_api.h"

#include <array>
#include <atomic>
#include <span>
#include <optional>
#include <utility>
#include <vector>

#include "engine/core/order.h"
#include "engine/core/ratelimit/http_fields.h"
#include "engine/core/sale.h"
#include "engine/http/json_format.h"
#include "nlohmann/json.hpp"

namespace seckill::http {
namespace {

void answerError(Exchange& ex, int status, std::string_view error, std::string_view message = {}) {
  Response& res = ex.response();
  res.status = status;
  res.body.clear();
  appendErrorJson(res.body, error, message);
  ex.finish();
}

bool validUser(const Request& req) { return req.user_id_count == 1 && isValidId(req.user_id); }

bool isBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// True iff `s` is an empty JSON object, "{}" give or take whitespace: the
// common body, answered without building a DOM.
bool isEmptyObject(std::string_view s) {
  const size_t open = s.find_first_not_of(" \t\r\n");
  if (open == std::string_view::npos || s[open] != '{') return false;
  const size_t close = s.find_first_not_of(" \t\r\n", open + 1);
  return close != std::string_view::npos && s[close] == '}' && isBlank(s.substr(close + 1));
}

// Reads the optional JSON object body of an order: {"token": "..."}. Returns
// false after answering 400 when the body is not usable.
bool parseOrderBody(Exchange& ex) {
  Request& req = ex.request();
  req.body_token.clear();
  if (isBlank(req.body) || isEmptyObject(req.body)) return true;
  nlohmann::json doc = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    answerError(ex, 400, "malformed_json", "the body must be a JSON object");
    return false;
  }
  auto it = doc.find("token");
  if (it == doc.end() || it->is_null()) return true;
  if (!it->is_string()) {
    answerError(ex, 400, "malformed_json", "\"token\" must be a string");
    return false;
  }
  req.body_token = it->get_ref<const std::string&>();
  return true;
}

using ratelimit::ceilSeconds;

// Formats the answer of pay / cancel / get: the order now, or the error.
void answerOrderReply(Exchange& ex, const OrderReply& r) {
  Response& res = ex.response();
  if (r.outcome == Outcome::kOk) {
    res.status = 200;
    appendOrderJson(res.body, r.order);
  } else {
    answerOutcome(res, r.outcome);
    if (r.outcome == Outcome::kCircuitOpen) res.retry_after_s = ceilSeconds(r.retry_after);
  }
  ex.finish();
}

}  // namespace

void Request::clear() {
  method = Method::kOther;
  version = 11;
  target.clear();
  user_id.clear();
  user_id_count = 0;
  authorization.clear();
  authorization_count = 0;
  forwarded_for.clear();
  forwarded.clear();
  client_ip = {};
  idempotency_key.clear();
  has_idempotency_key = false;
  body.clear();
  body_token.clear();
  method_name.clear();
  header_count = 0;
}

void Request::addHeader(std::string_view name, std::string_view value) {
  if (header_count >= kMaxExtraHeaders) return;
  if (header_count == headers.size()) headers.emplace_back();
  Field& f = headers[header_count++];
  f.name.assign(name.data(), name.size());
  f.value.assign(value.data(), value.size());
}

void Response::clear() {
  route = Route::kOther;
  status = 200;
  content_type = ContentType::kJson;
  body.clear();
  allow = {};
  retry_after_s = 0;
  ratelimit_policy.clear();
  ratelimit.clear();
  www_authenticate = {};
  replayed = false;
  close = false;
}

void answerOutcome(Response& res, Outcome outcome) {
  res.status = outcomeHttpStatus(outcome);
  res.body.clear();
  appendErrorJson(res.body, outcomeError(outcome));
  if (res.status == 503) res.retry_after_s = 1;
}

void ShopperApi::answerParseError(Response& res, int status) {
  res.route = Route::kOther;
  res.status = status;
  res.body.clear();
  res.close = true;
  switch (status) {
    case 413:
      appendErrorJson(res.body, "body_too_large");
      break;
    case 431:
      appendErrorJson(res.body, "headers_too_large");
      break;
    default:
      res.status = 400;
      appendErrorJson(res.body, "bad_request", "malformed HTTP request");
  }
}

namespace {

// The IETF httpapi RateLimit-Policy / RateLimit header values of a verdict.
void setRateLimitHeaders(Response& res, const ratelimit::Verdict& v) {
  if (!v.has_quota) return;
  res.ratelimit_policy.clear();
  ratelimit::appendRateLimitPolicyField(res.ratelimit_policy, v);
  res.ratelimit.clear();
  ratelimit::appendRateLimitField(res.ratelimit, v);
}

}  // namespace

std::string_view ShopperApi::userHeader() const {
  return deps_.identity != nullptr ? std::string_view(deps_.identity->userHeader())
                                   : std::string_view("x-user-id");
}

bool ShopperApi::identify(Exchange& ex) {
  Request& req = ex.request();
  if (deps_.identity == nullptr) {
    req.client_ip = req.remote_ip;
    return true;
  }
  const identity::ShopperIdentity& id = *deps_.identity;
  const identity::Resolved r = id.resolve(
      identity::RequestCredentials{.peer_ip = req.remote_ip,
                                   .authorization = req.authorization,
                                   .authorization_count = req.authorization_count,
                                   .user_header = req.user_id,
                                   .user_header_count = req.user_id_count,
                                   .forwarded_for = req.forwarded_for,
                                   .forwarded = req.forwarded},
      deps_.clock.now(), req.identity);
  req.client_ip = r.client_ip;
  // kind = "none": the user header as sent; the routes check its form (400 invalid_user_id).
  if (id.kind() == identity::IdentityKind::kNone) return true;
  const Route route = matchRoute(req.method, req.target).route;
  const bool needs_user = route == Route::kToken || route == Route::kOrder ||
                          route == Route::kPay || route == Route::kCancel ||
                          route == Route::kGetOrder;
  if (r.refusal == identity::Refusal::kOk ||
      (r.refusal == identity::Refusal::kMissing && !needs_user)) {
    if (r.user.data() != req.user_id.data()) req.user_id.assign(r.user);
    req.user_id_count = r.user.empty() ? 0 : 1;
    return true;
  }
  metrics_.recordIdentityRefusal(r.refusal);
  Response& res = ex.response();
  res.route = route;
  // RFC 9110 11.6.1: a 401 names how to authenticate. RFC 6750 3.1: no error code when the
  // request carried no token.
  switch (id.kind()) {
    case identity::IdentityKind::kJwt:
      res.www_authenticate = r.refusal == identity::Refusal::kMissing
                                 ? std::string_view("Bearer realm=\"seckill\"")
                                 : std::string_view("Bearer realm=\"seckill\", error=\"invalid_token\"");
      break;
    case identity::IdentityKind::kHmac:
      res.www_authenticate = "SignedUserId realm=\"seckill\"";
      break;
    default:
      res.www_authenticate = "Gateway realm=\"seckill\"";
  }
  answerError(ex, 401, "unauthorized", identity::refusalMessage(r.refusal));
  return false;
}

void ShopperApi::handle(std::shared_ptr<Exchange> ex) {
  if (!identify(*ex)) return;
  if (deps_.limiter == nullptr) {
    metrics_.recordAdmission(ratelimit::Verdict::kAllow);
  } else if (!admit(ex)) {
    return;
  }
  dispatch(std::move(ex));
}

bool ShopperApi::admit(std::shared_ptr<Exchange>& ex) {
  const Request& req = ex->request();
  std::array<ratelimit::RequestInfo::Header, Request::kMaxExtraHeaders> fields;
  for (size_t i = 0; i < req.header_count; ++i) {
    fields[i] = {.name = req.headers[i].name, .value = req.headers[i].value};
  }
  const ratelimit::RequestInfo info{
      .method = req.method_name,
      .path = req.target,
      .user_id = req.user_id,
      .ip = req.client_ip,
      .headers = std::span<const ratelimit::RequestInfo::Header>(fields.data(), req.header_count),
  };
  ratelimit::Evaluation e = deps_.limiter->evaluate(info, deps_.clock.now());
  if (e.remote == nullptr) return applyVerdict(ex, e.verdict, /*waited=*/false);
  // Distributed rules: the backend answers later, possibly on one of its threads; the I/O
  // thread goes back to its loop meanwhile. A local queue rule's wait is served first (defer
  // runs only on this thread), then the backend is asked.
  auto ask = [this, pending = std::move(e.remote), ex]() mutable {
    deps_.limiter->complete(std::move(pending), [this, ex = std::move(ex)](
                                                    ratelimit::Verdict v) mutable {
      if (applyVerdict(ex, v, /*waited=*/true)) dispatch(std::move(ex));
    });
  };
  if (e.verdict.kind == ratelimit::Verdict::kDelay) {
    ex->defer(e.verdict.wait, std::move(ask));
  } else {
    ask();
  }
  return false;
}

bool ShopperApi::applyVerdict(std::shared_ptr<Exchange>& ex, const ratelimit::Verdict& v,
                              bool waited) {
  // A queued request is counted when it is queued (its verdict after the wait says kDelay
  // again, already served).
  if (!(waited && v.kind == ratelimit::Verdict::kDelay)) metrics_.recordAdmission(v.kind);
  switch (v.kind) {
    case ratelimit::Verdict::kAllow:
      return true;
    case ratelimit::Verdict::kShadow:
      if (deps_.on_shadow) deps_.on_shadow(v);
      return true;
    case ratelimit::Verdict::kDelay: {
      if (v.shadowed && deps_.on_shadow) deps_.on_shadow(v);
      if (waited) return true;  // the wait was served before the distributed rules were asked
      // Queue mode: the slot is reserved; answer when it comes, without
      // holding the I/O thread meanwhile.
      ex->defer(v.wait, [this, ex]() mutable { dispatch(std::move(ex)); });
      return false;
    }
    case ratelimit::Verdict::kReject:
    case ratelimit::Verdict::kShed:
    case ratelimit::Verdict::kUnavailable: {
      const Request& req = ex->request();
      Response& res = ex->response();
      res.route = matchRoute(req.method, req.target).route;
      answerOutcome(res, v.kind == ratelimit::Verdict::kReject ? Outcome::kRateLimited
                         : v.kind == ratelimit::Verdict::kShed ? Outcome::kShed
                                                               : Outcome::kUnavailable);
      res.retry_after_s = ceilSeconds(v.wait);
      if (v.kind == ratelimit::Verdict::kReject) setRateLimitHeaders(res, v);
      ex->finish();
      return false;
    }
  }
  return true;
}

void ShopperApi::dispatch(std::shared_ptr<Exchange> ex) {
  Request& req = ex->request();
  Response& res = ex->response();
  const RouteMatch m = matchRoute(req.method, req.target);
  res.route = m.route;
  if (m.status == RouteMatch::Status::kNotFound) return answerError(*ex, 404, "not_found");
  if (m.status == RouteMatch::Status::kMethodNotAllowed) {
    res.allow = m.allow;
    return answerError(*ex, 405, "method_not_allowed");
  }

  switch (m.route) {
    case Route::kHealthz:
      res.status = 200;
      res.body.assign("{\"status\":\"ok\"}");
      ex->finish();
      return;

    case Route::kMetrics:
      return handleMetrics(std::move(ex));

    case Route::kSale:
      if (!isValidId(m.id)) return answerError(*ex, 404, "unknown_sale");
      deps_.sales.describe(m.id, [ex = std::move(ex)](SaleReply r) mutable {
        Response& res = ex->response();
        if (r.outcome == Outcome::kOk && r.sale != nullptr) {
          res.status = 200;
          appendSaleJson(res.body, r.sale->spec, r.stock_left, r.state);
        } else {
          answerOutcome(res, r.outcome == Outcome::kOk ? Outcome::kUnavailable : r.outcome);
        }
        ex->finish();
      });
      return;

    case Route::kToken:
      if (!validUser(req)) return answerError(*ex, 400, "invalid_user_id");
      if (!isValidId(m.id)) return answerError(*ex, 404, "unknown_sale");
      deps_.sales.issueToken(m.id, req.user_id, [ex = std::move(ex)](TokenReply r) mutable {
        Response& res = ex->response();
        if (r.outcome == Outcome::kOk) {
          res.status = 200;
          appendTokenJson(res.body, r.token, r.ttl);
        } else {
          answerOutcome(res, r.outcome);
        }
        ex->finish();
      });
      return;

    case Route::kOrder:
      return handleOrder(std::move(ex), m.id);

    case Route::kPay:
    case Route::kCancel:
    case Route::kGetOrder: {
      if (!validUser(req)) return answerError(*ex, 400, "invalid_user_id");
      if (!isValidOrderId(m.id)) return answerError(*ex, 404, "unknown_order");
      auto done = [ex = std::move(ex)](OrderReply r) mutable { answerOrderReply(*ex, r); };
      if (m.route == Route::kPay) {
        deps_.orders.pay(m.id, req.user_id, std::move(done));
      } else if (m.route == Route::kCancel) {
        deps_.orders.cancel(m.id, req.user_id, std::move(done));
      } else {
        deps_.orders.get(m.id, req.user_id, std::move(done));
      }
      return;
    }

    case Route::kOther:
      break;
  }
  answerError(*ex, 404, "not_found");
}

void ShopperApi::handleOrder(std::shared_ptr<Exchange> ex, std::string_view sale_id) {
  Request& req = ex->request();
  if (!validUser(req)) return answerError(*ex, 400, "invalid_user_id");
  if (!isValidId(sale_id)) return answerError(*ex, 404, "unknown_sale");
  if (!parseOrderBody(*ex)) return;
  // The Idempotency-Key header wins over a token in the body.
  std::string_view token = req.has_idempotency_key ? std::string_view(req.idempotency_key)
                                                   : std::string_view(req.body_token);
  deps_.sales.placeOrder(sale_id, req.user_id, token, [ex = std::move(ex)](OrderReply r) mutable {
    Response& res = ex->response();
    if (r.outcome == Outcome::kCreated || (r.outcome == Outcome::kOk && !r.order.id.empty())) {
      res.status = 201;
      appendCreatedOrderJson(res.body, r.order);
    } else {
      answerOutcome(res, r.outcome);
      if (r.outcome == Outcome::kCircuitOpen) res.retry_after_s = ceilSeconds(r.retry_after);
    }
    res.replayed = r.replayed;
    ex->finish();
  });
}

void ShopperApi::handleMetrics(std::shared_ptr<Exchange> ex) {
  auto render = [this, ex](EngineStats stats) {
    metrics_.fill(stats);
    Response& res = ex->response();
    res.status = 200;
    res.content_type = ContentType::kPrometheus;
    renderPrometheus(stats, res.body);
    ex->finish();
  };
  if (deps_.collect_stats) {
    deps_.collect_stats(std::move(render));
  } else {
    render(EngineStats{});
  }
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "Unknown";
}

}  // namespace seckill::http
