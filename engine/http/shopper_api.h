#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

#include "engine/core/outcome.h"
#include "engine/identity/identity.h"
#include "engine/http/metrics.h"
#include "engine/http/router.h"
#include "engine/http/server.h"

namespace seckill::http {

// A parsed request, as the server hands it to the API. The server reuses one
// per connection (clear() keeps the capacity), so the hot path allocates nothing.
struct Request {
  Method method = Method::kOther;
  int version = 11;             // 10 or 11
  std::string target;           // origin-form, as received
  // The user header's value (X-User-Id, or [identity] header), then, once the identity is
  // resolved, the shopper's verified user id.
  std::string user_id;
  int user_id_count = 0;        // how many user headers came (more than one is invalid)
  std::string authorization;    // Authorization (for [identity] kind = "jwt")
  int authorization_count = 0;
  std::string forwarded_for;    // every X-Forwarded-For line, joined with ','
  std::string forwarded;        // every Forwarded line, joined with ','

  std::string idempotency_key;  // Idempotency-Key
  bool has_idempotency_key = false;
  std::string body;
  std::string body_token;  // scratch for the API: the token found in the body
  std::string method_name;  // "POST", as received (rule methods match on it)
  // Header fields not read above, for header-scoped rate rules. The slots are
  // reused across requests (header_count says how many are live), so a
  // steady client allocates nothing. At most kMaxExtraHeaders are kept.
  struct Field {
    std::string name;
    std::string value;
  };
  static constexpr size_t kMaxExtraHeaders = 32;
  std::vector<Field> headers;
  size_t header_count = 0;
  std::string remote_ip;  // the peer's address; set once per connection, kept by clear()
  // The lower-case name of the header read into user_id; set once per connection (from
  // ShopperApi::userHeader()), kept by clear().
  std::string_view user_header = "x-user-id";
  // The client's address for ip-scoped rules (remote_ip, or the forwarded one from a trusted
  // proxy); points into remote_ip or `identity`. Set by the API per request.
  std::string_view client_ip;
  identity::Scratch identity;  // what identity resolution writes

  void clear();
  void addHeader(std::string_view name, std::string_view value);
};

enum class ContentType : uint8_t { kJson, kPrometheus };

// The answer the API builds; the server serializes it. Reused like Request.
struct Response {
  Route route = Route::kOther;  // the metrics label
  int status = 200;
  ContentType content_type = ContentType::kJson;
  std::string body;
  std::string_view allow;    // non-empty: an Allow header (405)
  int64_t retry_after_s = 0;  // > 0: a Retry-After header (429, 503)
  // 429: the IETF RateLimit-Policy / RateLimit header values (empty: none).
  std::string ratelimit_policy;
  std::string ratelimit;
  std::string_view www_authenticate;  // 401: a WWW-Authenticate header value
  bool replayed = false;     // Idempotent-Replayed: true
  bool close = false;        // close the connection after this answer

  void clear();
};

// One request/response exchange, implemented by the server's connection (and
// by a fake in tests). The API reads request(), fills response(), then calls
// finish() exactly once, from any thread; it touches neither afterwards.
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual Request& request() = 0;
  virtual Response& response() = 0;
  virtual void finish() = 0;
  // Runs `fn` after `delay` on the exchange's own thread, without blocking it
  // meanwhile (a rate rule in queue mode). `fn` is dropped if the connection
  // closes first.
  virtual void defer(absl::Duration delay, absl::AnyInvocable<void() &&> fn) = 0;
};

// The shopper API: route, validate, call the core, format. No business rules
// live here. Thread-safe (stateless apart from the dependencies it calls).
class ShopperApi {
 public:
  ShopperApi(ShopperApiDeps deps, HttpMetrics& metrics)
      : deps_(std::move(deps)), metrics_(metrics) {}
  ShopperApi(const ShopperApi&) = delete;
  ShopperApi& operator=(const ShopperApi&) = delete;

  // Answers the exchange's request (inline or later, from a core callback).
  void handle(std::shared_ptr<Exchange> ex);

  // The lower-case name of the header that carries the shopper's user id: what a connection
  // sets Request::user_header to.
  std::string_view userHeader() const;

  // Fills `res` with the answer to a request the server could not parse:
  // `status` is 400, 413 or 431. The connection is closed after it.
  static void answerParseError(Response& res, int status);

 private:
  // Routes and answers a request that passed the rate rules.
  void dispatch(std::shared_ptr<Exchange> ex);
  // Resolves the request's shopper identity and client address ([identity]): true iff it goes
  // on; otherwise it was answered 401 here, before any rule, token or stock was touched.
  bool identify(Exchange& ex);
  // Applies the rate rules: true iff the request goes on now; otherwise it
  // was answered (429, 503 shed) or deferred (queue mode) here.
  // With distributed rules the answer comes from the backend: admit() then
  // returns false and dispatches (or answers) from the backend's completion.
  bool admit(std::shared_ptr<Exchange>& ex);
  // Acts on a verdict: true iff the request goes on now. `waited`: a queue
  // rule's wait was already served (a kDelay passes).
  bool applyVerdict(std::shared_ptr<Exchange>& ex, const ratelimit::Verdict& v, bool waited);

  void handleOrder(std::shared_ptr<Exchange> ex, std::string_view sale_id);
  void handleMetrics(std::shared_ptr<Exchange> ex);

  ShopperApiDeps deps_;
  HttpMetrics& metrics_;
};

// Fills `res` with the error answer of `outcome` (status, {"error":...},
// Retry-After on 503).
void answerOutcome(Response& res, Outcome outcome);

// The reason phrase of a status code ("Created"); "Unknown" if unknown.
std::string_view reasonPhrase(int status);

}  // namespace seckill::http
