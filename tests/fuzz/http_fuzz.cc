// http_fuzz: the shopper HTTP edge on raw bytes. The input is what one client sends on one
// connection (pipelined requests included); http::ByteConnection runs the server's own parser,
// routing, rate rules, shopper API and serializer on it, against the embedded memory stores.
//
// Invariants, for every input:
// - every whole request gets exactly one answer, or the connection is closed after a 4xx
//   (a parse error: 400, 413, 431) that is the last answer;
// - the bytes written are a well-formed sequence of HTTP/1.1 answers (each parsed back by
//   Beast's response parser, Content-Length exact, JSON bodies valid JSON objects), and
//   "Connection: close" is on the last answer iff the connection closed;
// - stock changes only by answered 201s: per sale, stock left + orders answered 201 (not
//   replayed) - those orders since cancelled == initial stock; every 201 names a new order the
//   repository holds, and the repository holds no other;
// - the same bytes split into small pieces give the same answers (tokens aside: random), but
//   for the last one when it is a parse error (400, 413, 431: found at another byte);
// - the request reader's fast path for whole, plain requests reads every request, keep-alive
//   and parse error as Beast's parser alone does (tests/support/codec_compare.h);
// - no crash, no undefined behaviour, no leak (ASan, UBSan).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"
#include "engine/core/clock.h"
#include "engine/core/engine_stats.h"
#include "engine/core/order.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/http/byte_connection.h"
#include "engine/http/metrics.h"
#include "engine/http/shopper_api.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/codec_compare.h"

namespace seckill::fuzz {
namespace {

namespace bhttp = boost::beast::http;

// Small limits, so that short inputs reach the 413 and 431 paths.
constexpr http::CodecLimits kLimits{.max_header_bytes = 2048, .max_body_bytes = 1024};

SaleSpec sale(std::string id, int64_t stock, StockStrategy strategy = StockStrategy::kAtomic) {
  SaleSpec s;
  s.id = id;
  s.name = std::move(id);
  s.stock = stock;
  s.strategy = strategy;
  return s;
}

// Every stock strategy that completes inline (kFifo answers from its consumer thread, which
// ByteConnection waits for; left out to keep the target fast and deterministic), a sale that
// needs tokens, one not open yet, one with no stock.
std::vector<SaleSpec> sales(absl::Time now) {
  std::vector<SaleSpec> out = {sale("s1", 3), sale("opt", 2, StockStrategy::kOptimistic),
                               sale("gate", 2, StockStrategy::kCounterGate), sale("tok", 2),
                               sale("later", 5), sale("none", 0)};
  out[3].require_token = true;
  out[4].opens_at = now + absl::Hours(1);
  return out;
}

ratelimit::RuleSpec rule(std::string path, std::optional<std::string> method,
                         ratelimit::ScopeKind scope, ratelimit::Algorithm algorithm, int64_t rate) {
  ratelimit::RuleSpec r;
  r.path = std::move(path);
  r.method = std::move(method);
  r.scope = scope;
  r.algorithm = algorithm;
  r.rate = rate;
  r.burst = rate;
  return r;
}

// One rule of each algorithm, scope and on_limit mode the edge treats differently.
std::vector<ratelimit::RuleSpec> rules() {
  using ratelimit::Algorithm;
  using ratelimit::ScopeKind;
  std::vector<ratelimit::RuleSpec> out;
  out.push_back(rule("/api/v1/sales/*/orders", "POST", ScopeKind::kUser, Algorithm::kTokenBucket, 4));
  out.push_back(rule("/api/v1/orders/**", std::nullopt, ScopeKind::kIp, Algorithm::kSlidingWindow, 20));
  ratelimit::RuleSpec queue =
      rule("/api/v1/sales/*", "GET", ScopeKind::kHeader, Algorithm::kLeakyBucket, 3);
  queue.header = "x-client";
  queue.queue = 2;
  queue.on_limit = ratelimit::OnLimit::kQueue;
  queue.max_wait = absl::Seconds(1);
  out.push_back(queue);
  ratelimit::RuleSpec log = rule("/metrics", std::nullopt, ScopeKind::kGlobal, Algorithm::kSlidingLog, 2);
  log.on_limit = ratelimit::OnLimit::kLog;
  out.push_back(log);
  out.push_back(rule("/**", std::nullopt, ScopeKind::kGlobal, Algorithm::kTokenBucket, 200));
  return out;
}

// A whole embedded engine behind the edge, fresh per run.
struct World {
  World() : store(orders, cancels) {
    for (const SaleSpec& s : sales(clock.now())) initial[s.id] = s.stock;
    auto created = SaleCatalog::create(sales(clock.now()));
    FUZZ_CHECK(created.ok(), created.status().ToString());
    catalog = *std::move(created);
    sale_service = std::make_unique<SaleService>(clock, *catalog, store, ids);
    lifecycle = std::make_unique<OrderLifecycle>(clock, *catalog, store, orders);
    const absl::Status registered = sale_service->registerSales();
    FUZZ_CHECK(registered.ok(), registered.ToString());
    auto replaced = registry.replace(rules());
    FUZZ_CHECK(replaced.ok(), replaced.status().ToString());
    limiter = std::make_unique<ratelimit::RateLimiter>(registry);
    FUZZ_CHECK(limiter->setOverride("/api/v1/sales/shed", ratelimit::OverrideMode::kShed).ok());
    FUZZ_CHECK(limiter->setOverride("/healthz", ratelimit::OverrideMode::kDryRun).ok());
    api = std::make_unique<http::ShopperApi>(
        http::ShopperApiDeps{
            .clock = clock,
            .catalog = *catalog,
            .sales = *sale_service,
            .orders = *lifecycle,
            .limiter = limiter.get(),
            .on_shadow = [](const ratelimit::Verdict&) {},
            .collect_stats =
                [this](Callback<EngineStats> done) {
                  EngineStats s;
                  const OrderCounts c = orders.counts();
                  s.orders.pending_now = c.pending_payment;
                  s.orders.paid_now = c.paid;
                  s.orders.cancelled_now = c.cancelled;
                  gatherSaleStock(*catalog, store, clock.now(),
                                  [s = std::move(s), done = std::move(done)](
                                      std::vector<EngineStats::SaleStock> left) mutable {
                                    s.sales = std::move(left);
                                    std::move(done)(std::move(s));
                                  });
                },
        },
        metrics);
  }
  ~World() {
    api.reset();
    lifecycle.reset();
    sale_service.reset();
  }

  ManualClock clock;
  OrderIdGenerator ids{42};
  MemoryOrderRepository orders;
  MemoryDelayQueue cancels;
  MemorySaleStore store;
  std::map<std::string, int64_t> initial;
  std::unique_ptr<SaleCatalog> catalog;
  std::unique_ptr<SaleService> sale_service;
  std::unique_ptr<OrderLifecycle> lifecycle;
  ratelimit::RuleRegistry registry;
  std::unique_ptr<ratelimit::RateLimiter> limiter;
  http::HttpMetrics metrics;
  std::unique_ptr<http::ShopperApi> api;
};

// What the observer saw of one exchange.
struct Seen {
  std::string method;
  int status = 0;
};

// Hides what may differ between two runs over the same bytes: a token's 32 random hex digits,
// and the interim "100 Continue" (sent only when the body had not arrived with the head).
std::string masked(std::string out) {
  for (size_t at = out.find(http::kContinueResponse); at != std::string::npos;
       at = out.find(http::kContinueResponse, at)) {
    out.erase(at, http::kContinueResponse.size());
  }
  static constexpr std::string_view kToken = "\"token\":\"";
  for (size_t at = out.find(kToken); at != std::string::npos; at = out.find(kToken, at + 1)) {
    const size_t from = at + kToken.size();
    for (size_t i = from; i < out.size() && i < from + 32 && out[i] != '"'; ++i) out[i] = 'x';
  }
  return out;
}

// Checks that `out` is exactly the answers in `seen`, well-formed; `closed`: the last one
// said Connection: close.
void checkWire(std::string_view out, const std::vector<Seen>& seen, bool closed) {
  size_t answer = 0;
  while (!out.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(64 * 1024 * 1024);
    // A HEAD answer has no body whatever its Content-Length says.
    parser.skip(answer < seen.size() && seen[answer].method == "HEAD");
    boost::system::error_code ec;
    const size_t used = parser.put(boost::asio::buffer(out.data(), out.size()), ec);
    FUZZ_CHECK(!ec && parser.is_done(), absl::StrCat("malformed answer: ", ec.message(), "\n",
                                                     std::string(out.substr(0, 400))));
    out.remove_prefix(used);
    const auto& msg = parser.get();
    if (msg.result_int() == 100) continue;  // an interim answer to Expect: 100-continue
    FUZZ_CHECK(answer < seen.size(), absl::StrCat("bytes after the last answer:\n", std::string(out)));
    FUZZ_CHECK(static_cast<int>(msg.result_int()) == seen[answer].status, "status line differs from the answer");
    FUZZ_CHECK(msg.has_content_length(), "answer without Content-Length");
    const bool last = answer + 1 == seen.size();
    FUZZ_CHECK(msg.keep_alive() == !(last && closed),
               absl::StrCat("Connection header wrong on answer ", answer));
    if (msg[bhttp::field::content_type] == "application/json" && seen[answer].method != "HEAD") {
      const nlohmann::json body = nlohmann::json::parse(msg.body(), nullptr, false);
      FUZZ_CHECK(!body.is_discarded() && body.is_object(), "JSON body is not a JSON object");
    }
    ++answer;
  }
  FUZZ_CHECK(answer == seen.size(), "fewer answers on the wire than given");
}

// `out` without its last answer if that may be the closing answer to a request that could not
// be parsed (ShopperApi::answerParseError: 400, 413 or 431, then close; its body may be absent:
// a HEAD request).
std::string_view withoutParseError(std::string_view out) {
  const size_t last = out.rfind("HTTP/1.1 ");
  if (last == std::string_view::npos) return out;
  const std::string_view answer = out.substr(last);
  const bool parse_error = answer.starts_with("HTTP/1.1 400 ") ||
                           answer.starts_with("HTTP/1.1 413 ") ||
                           answer.starts_with("HTTP/1.1 431 ");
  if (parse_error && answer.find("Connection: close\r\n") != std::string_view::npos) {
    return out.substr(0, last);
  }
  return out;
}

// One run over `data`, fed in pieces of `piece(i)` bytes; returns the bytes written, masked.
template <typename Piece>
std::string run(std::string_view data, Piece piece) {
  World world;
  http::ByteConnection conn(*world.api, kLimits, "10.0.0.7");
  std::vector<Seen> seen;
  // Per sale: the orders answered 201 (not replayed).
  std::map<std::string, std::set<std::string>> created;
  conn.setObserver([&](const http::Request& req, const http::Response& res) {
    seen.push_back({req.method_name, res.status});
    FUZZ_CHECK(http::reasonPhrase(res.status) != "Unknown", absl::StrCat("status ", res.status));
    if (res.status == 405) FUZZ_CHECK(!res.allow.empty(), "405 without Allow");
    if (res.status == 429 || res.status == 503) FUZZ_CHECK(res.retry_after_s >= 1, "no Retry-After");
    if (res.status != 201) return;
    FUZZ_CHECK(res.route == http::Route::kOrder, "201 outside the order route");
    if (res.replayed) return;
    const nlohmann::json body = nlohmann::json::parse(res.body, nullptr, false);
    FUZZ_CHECK(body.is_object() && body.contains("sale_id") && body.contains("order_id"),
               res.body);
    const std::string sale = body["sale_id"].get<std::string>();
    const std::string order = body["order_id"].get<std::string>();
    FUZZ_CHECK(world.initial.contains(sale), res.body);
    FUZZ_CHECK(created[sale].insert(order).second, "an order answered 201 twice");
  });

  size_t i = 0;
  while (!data.empty() && !conn.closed()) {
    const size_t n = std::min(data.size(), piece(i++));
    conn.receive(data.substr(0, n));
    data.remove_prefix(n);
  }

  // One answer per request, or one more (a parse error, 4xx) that closed the connection.
  FUZZ_CHECK(conn.extraAnswers() == 0, "the API answered a request twice");
  FUZZ_CHECK(conn.answers() == seen.size());
  if (conn.answers() != conn.requests()) {
    FUZZ_CHECK(conn.answers() == conn.requests() + 1 && conn.closed(),
               absl::StrCat(conn.requests(), " requests, ", conn.answers(), " answers"));
    FUZZ_CHECK(seen.back().status >= 400 && seen.back().status < 500, "parse error not a 4xx");
  }
  checkWire(conn.output(), seen, conn.closed());

  // The books: stock moved by the 201s alone.
  size_t total = 0;
  for (const auto& [id, stock] : world.initial) {
    int64_t cancelled = 0;
    for (const std::string& order : created[id]) {
      absl::StatusOr<Order> o = absl::UnknownError("not answered");
      world.orders.get(order, [&](absl::StatusOr<Order> r) { o = std::move(r); });
      FUZZ_CHECK(o.ok() && o->sale_id == id, absl::StrCat("201 order ", order, " not stored"));
      if (o->state == OrderState::kCancelled) ++cancelled;
    }
    absl::StatusOr<int64_t> left = absl::UnknownError("not answered");
    world.store.stockLeft(id, [&](absl::StatusOr<int64_t> r) { left = std::move(r); });
    FUZZ_CHECK(left.ok(), left.status().ToString());
    const int64_t sold = static_cast<int64_t>(created[id].size());
    FUZZ_CHECK(*left + sold - cancelled == stock,
               absl::StrCat("sale ", id, ": stock ", stock, ", left ", *left, ", 201s ", sold,
                            ", cancelled ", cancelled));
    total += created[id].size();
  }
  const OrderCounts c = world.orders.counts();
  FUZZ_CHECK(static_cast<size_t>(c.pending_payment + c.paid + c.cancelled) == total,
             "the repository holds orders no 201 announced");
  return masked(conn.output());
}

}  // namespace
}  // namespace seckill::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seckill::fuzz;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string difference = seckill::testing::codecDifference(bytes, kLimits);
  FUZZ_CHECK(difference.empty(), absl::StrCat("the two request parsers differ: ", difference));
  const std::string whole = run(bytes, [](size_t) { return SIZE_MAX; });
  // Pieces of 1 to 13 bytes: every split point of the parser's state machine gets its turn.
  const std::string split = run(bytes, [](size_t i) { return 1 + (i * 7) % 13; });
  // The parser may find a request head malformed or too large at another byte when the bytes
  // come in other pieces: the same closing 400 / 413 / 431 may come sooner or later (not yet,
  // at the end of the input), or another of the three. Apart from that last answer, the
  // answers are the same.
  FUZZ_CHECK(withoutParseError(whole) == withoutParseError(split),
             absl::StrCat("the answers depend on how the bytes were split:\n", "--- whole:\n",
                          whole, "\n--- in pieces:\n", split));
  return 0;
}
