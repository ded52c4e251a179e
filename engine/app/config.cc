#include "engine/app/config.h"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/config/rule_tables.h"
#include "engine/config/text_file.h"
#include "engine/config/toml_reader.h"
#include "engine/core/strings.h"
#include "engine/store/mysql/mysql_url.h"

namespace seckill::app {
namespace {

constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxMessageBytes = int64_t{64} << 20;  // 64 MiB

// The TOML readers and the [[rule]] / [[override]] tables are shared with the rule file
// (engine/config): one parser for the config file, rule files and the library.
using config::Diagnostics;
using config::lineOf;
using config::oneLine;
using config::parseOverride;
using config::parseRule;
using config::ruleProblemLine;
using config::TableReader;

void parseHttp(TableReader& r, http::ServerOptions& out) {
  if (auto v = r.string("listen")) {
    absl::StatusOr<ListenAddress> addr = parseListenAddress(*v);
    if (addr.ok()) {
      out.host = addr->host;
      out.port = addr->port;
    } else {
      r.invalid("listen", addr.status());
    }
  }
  if (auto v = r.integer("threads", 1, kMaxThreads)) out.threads = static_cast<int>(*v);
  if (auto v = r.integer("max_connections", 1)) out.max_connections = static_cast<size_t>(*v);
  if (auto v = r.duration("header_timeout")) out.header_timeout = *v;
  if (auto v = r.duration("idle_timeout")) out.idle_timeout = *v;
  if (auto v = r.integer("max_header_bytes", 1, kMaxMessageBytes)) {
    out.max_header_bytes = static_cast<size_t>(*v);
  }
  if (auto v = r.integer("max_body_bytes", 1, kMaxMessageBytes)) {
    out.max_body_bytes = static_cast<size_t>(*v);
  }
  if (auto v = r.duration("drain_timeout")) out.drain_timeout = *v;
}

void parseStore(TableReader& r, StoreConfig& out) {
  if (auto v = r.string("kind")) {
    if (*v == "memory") {
      out.kind = StoreConfig::Kind::kMemory;
    } else if (*v == "redis") {
      out.kind = StoreConfig::Kind::kRedis;
    } else {
      r.invalid("kind", "must be \"memory\" | \"redis\"");
    }
  }
  // One address as a string, or a list of cluster seed nodes.
  if (const toml::node* n = r.take("redis")) {
    std::vector<std::string> texts;
    if (n->is_string()) {
      texts.push_back(std::string(n->as_string()->get()));
    } else if (n->is_array() && !n->as_array()->empty()) {
      for (const toml::node& e : *n->as_array()) {
        if (!e.is_string()) {
          r.invalid("redis", "must be a string or a list of strings such as \"tcp://127.0.0.1:6379\"");
          texts.clear();
          break;
        }
        texts.push_back(std::string(e.as_string()->get()));
      }
    } else {
      r.invalid("redis", "must be a string or a non-empty list of strings such as \"tcp://127.0.0.1:6379\"");
    }
    for (size_t i = 0; i < texts.size(); ++i) {
      absl::StatusOr<RedisUrl> a = parseRedisUrl(texts[i]);
      if (!a.ok()) {
        r.invalid("redis", a.status());
        out.redis.clear();
        break;
      }
      if (i > 0 && !(a->auth == out.redis_auth)) {
        r.invalid("redis", "every seed node must carry the same credentials (user:password@)");
        out.redis.clear();
        break;
      }
      out.redis_auth = a->auth;
      out.redis.push_back(a->endpoint);
    }
  }
  if (auto v = r.integer("connections", 1, 64)) out.connections = static_cast<int>(*v);
  if (auto v = r.duration("timeout")) out.timeout = *v;
  if (auto v = r.duration("sold_out_refresh")) out.sold_out_refresh = *v;
  if (out.kind == StoreConfig::Kind::kRedis && out.redis.empty() && !r.table().contains("redis")) {
    r.invalid("kind", "= \"redis\" needs store.redis (e.g. \"tcp://127.0.0.1:6379\")");
  }
}

void parseOrders(TableReader& r, OrdersConfig& out) {
  if (auto v = r.string("kind")) {
    if (*v == "memory") {
      out.kind = OrdersConfig::Kind::kMemory;
    } else if (*v == "redis") {
      out.kind = OrdersConfig::Kind::kRedis;
    } else if (*v == "mysql") {
      out.kind = OrdersConfig::Kind::kMysql;
    } else {
      r.invalid("kind", "must be \"memory\" | \"redis\" | \"mysql\"");
    }
  }
  if (auto v = r.string("mysql")) {
    // The parser start-up uses: --check accepts exactly what start-up accepts.
    if (absl::StatusOr<MysqlUrl> url = parseMysqlUrl(*v); !url.ok()) {
      r.invalid("mysql", url.status());
    } else {
      out.mysql = *v;
    }
  }
  if (auto v = r.integer("pool", 1, 1000)) out.pool = static_cast<int>(*v);
  if (auto v = r.integer("writers", 1, 64)) out.writers = static_cast<int>(*v);
  if (auto v = r.integer("batch", 1, 10000)) out.batch = static_cast<int>(*v);
  if (auto v = r.duration("claim_idle")) out.claim_idle = *v;
  if (auto v = r.duration("cancel_poll")) out.cancel_poll = *v;
  if (auto v = r.duration("keep_finished")) {
    if (*v < absl::Minutes(1)) {
      r.invalid("keep_finished", "must be at least 1m (shoppers look up the orders they paid)");
    } else {
      out.keep_finished = *v;
    }
  }
  if (out.kind == OrdersConfig::Kind::kMysql && out.mysql.empty() && !r.table().contains("mysql")) {
    r.invalid("kind", "= \"mysql\" needs orders.mysql (e.g. \"mysql://user:password@127.0.0.1:3306/seckill\")");
  }
}

// [store] and [orders] must fit together; `orders_kind_set`: the file named orders.kind.
void checkBackends(Diagnostics& diag, int64_t line, bool orders_kind_set, EngineConfig& c) {
  using SK = StoreConfig::Kind;
  using OK = OrdersConfig::Kind;
  if (!orders_kind_set) {
    c.orders.kind = c.store.kind == SK::kRedis ? OK::kRedis : OK::kMemory;
    return;
  }
  if (c.orders.kind == OK::kMemory && c.store.kind != SK::kMemory) {
    diag.error(line, "orders.kind = \"memory\" needs [store] kind = \"memory\" (with Redis, use "
                     "\"redis\" or \"mysql\")");
  } else if (c.orders.kind != OK::kMemory && c.store.kind != SK::kRedis) {
    diag.error(line, absl::StrCat("orders.kind = \"",
                                  c.orders.kind == OK::kRedis ? "redis" : "mysql",
                                  "\" needs [store] kind = \"redis\" (orders are created by the "
                                  "Redis order script)"));
  }
}

// The line a SaleSpec::validate() message is about: the sale key it names
// first (as a whole word), else the sale's header.
int64_t lineForMessage(const TableReader& r, std::string_view message) {
  size_t best = std::string_view::npos;
  int64_t line = r.tableLine();
  auto isWordChar = [](char c) { return absl::ascii_isalnum(c) || c == '_'; };
  for (auto&& [k, v] : r.table()) {
    std::string_view key = k.str();
    for (size_t pos = message.find(key); pos != std::string_view::npos;
         pos = message.find(key, pos + 1)) {
      bool starts = pos == 0 || !isWordChar(message[pos - 1]);
      bool ends = pos + key.size() == message.size() || !isWordChar(message[pos + key.size()]);
      if (starts && ends) {
        if (pos < best) {
          best = pos;
          line = lineOf(v);
        }
        break;
      }
    }
  }
  return line;
}

// Parses the [[sale]] tables, remembering ids to report duplicates.
class SaleParser {
 public:
  explicit SaleParser(Diagnostics& diag) : diag_(diag) {}

  void parse(const toml::table& table, std::vector<SaleSpec>& out) {
    ++index_;
    TableReader r = TableReader::labelled(diag_, table, absl::StrCat("sale #", index_));
    const size_t errors_before = diag_.count();
    SaleSpec spec;

    r.require("id");
    if (auto id = r.string("id")) {
      spec.id = *id;
      r.relabel(absl::StrCat("sale \"", spec.id, "\""));
      if (!isValidId(spec.id)) {
        r.invalid("id", "must be 1-64 chars of [A-Za-z0-9_-]");
      } else if (auto [it, inserted] = first_line_.emplace(spec.id, r.line("id")); !inserted) {
        diag_.error(r.line("id"),
                    absl::StrCat("duplicate sale id \"", spec.id, "\" (first defined at ",
                                 av(diag_.source()), ":", it->second, ")"));
      }
    }
    spec.name = r.string("name").value_or(spec.id);
    r.require("stock");
    if (auto v = r.integer("stock", 0)) spec.stock = *v;
    spec.opens_at = r.time("opens_at");
    spec.closes_at = r.time("closes_at");
    if (auto v = r.duration("pay_timeout")) spec.pay_timeout = *v;
    if (auto v = r.duration("dedup_ttl")) spec.dedup_ttl = *v;
    if (auto v = r.duration("token_ttl")) spec.token_ttl = *v;
    if (auto v = r.boolean("require_token")) spec.require_token = *v;
    if (auto v = r.string("strategy")) {
      absl::StatusOr<StockStrategy> s = parseStockStrategy(*v);
      if (s.ok()) {
        spec.strategy = *s;
      } else {
        r.invalid("strategy", s.status());
      }
    }
    r.finish();

    // The core has the last word on what a servable sale is; its message is
    // pinned to the line of the key it names.
    if (diag_.count() == errors_before) {
      if (absl::Status s = spec.validate(); !s.ok()) {
        absl::string_view message = s.message();
        absl::ConsumePrefix(&message, absl::StrCat("sale ", spec.id, ": "));
        diag_.error(lineForMessage(r, std::string_view(message.data(), message.size())),
                    absl::StrCat("sale \"", spec.id, "\": ", message));
      }
    }
    out.push_back(std::move(spec));
  }

 private:
  Diagnostics& diag_;
  int index_ = 0;
  absl::flat_hash_map<std::string, int64_t> first_line_;
};

void parseLimits(TableReader& r, LimitsConfig& out) {
  if (auto v = r.boolean("watch")) out.watch = *v;
  if (auto v = r.duration("watch_interval")) out.watch_interval = *v;
  if (auto v = r.string("distributed_failure")) {
    absl::StatusOr<ratelimit::FailurePolicy> p = ratelimit::parseFailurePolicy(*v);
    if (p.ok()) {
      out.distributed_failure = *p;
    } else {
      r.invalid("distributed_failure", p.status());
    }
  }
  if (auto v = r.string("rule_store")) {
    if (*v == "config") {
      out.rule_store = LimitsConfig::RuleStore::kConfig;
    } else if (*v == "redis") {
      out.rule_store = LimitsConfig::RuleStore::kRedis;
    } else {
      r.invalid("rule_store", "must be \"config\" | \"redis\"");
    }
  }
  if (auto v = r.duration("rule_poll")) {
    if (*v > absl::Seconds(1)) {
      r.invalid("rule_poll", "must be <= 1s (an edit must reach every node within a second)");
    } else {
      out.rule_poll = *v;
    }
  }
  if (auto v = r.duration("distributed_timeout")) out.distributed_timeout = *v;
}

void parseBreaker(TableReader& r, BreakerConfig& out) {
  ratelimit::BreakerOptions& o = out.options;
  if (auto v = r.string("window")) {
    if (*v == "count") {
      o.window = ratelimit::BreakerOptions::Window::kCount;
    } else if (*v == "time") {
      o.window = ratelimit::BreakerOptions::Window::kTime;
    } else {
      r.invalid("window", "must be count | time");
    }
  }
  if (auto v = r.integer("window_calls", 1)) o.window_calls = *v;
  if (auto v = r.duration("window_length")) o.window_length = *v;
  if (auto v = r.integer("min_calls", 1)) o.min_calls = *v;
  if (auto v = r.number("failure_ratio", 0.0, 2.0)) o.failure_ratio = *v;
  if (auto v = r.number("slow_ratio", 0.0, 2.0)) o.slow_ratio = *v;
  if (auto v = r.duration("slow_call")) o.slow_call = *v;
  if (auto v = r.duration("open_for")) o.open_for = *v;
  if (auto v = r.integer("probe_calls", 1)) o.probe_calls = *v;
  if (auto v = r.string("mode")) {
    absl::StatusOr<ratelimit::CircuitBreaker::Mode> m = ratelimit::parseBreakerMode(*v);
    if (m.ok()) {
      out.mode = *m;
    } else {
      r.invalid("mode", m.status());
    }
  }
}

void parseAdmin(TableReader& r, AdminConfig& out) {
  if (auto v = r.string("listen")) {
    absl::StatusOr<ListenAddress> addr = parseListenAddress(*v);
    if (addr.ok()) {
      out.listen = formatListenAddress(addr->host, addr->port);
    } else {
      r.invalid("listen", addr.status());
    }
  }
  auto path = [&r](std::string_view key, std::string& field) {
    if (auto v = r.string(key)) {
      if (v->empty()) {
        r.invalid(key, "must not be empty (leave the key out instead)");
      } else {
        field = *v;
      }
    }
  };
  path("tokens", out.tokens);
  path("state_dir", out.state_dir);
  path("tls_cert", out.tls_cert);
  path("tls_key", out.tls_key);
  path("tls_client_ca", out.tls_client_ca);
  if (auto v = r.string("node_id")) {
    if (!isValidId(*v)) {
      r.invalid("node_id", "must be 1-64 chars of [A-Za-z0-9_-]");
    } else {
      out.node_id = *v;
    }
  }
  if (auto v = r.duration("history")) {
    if (*v < absl::Hours(1) || *v > absl::Hours(24)) {
      r.invalid("history", "must be between 1h and 24h");
    } else {
      out.history = *v;
    }
  }
  if (out.tls_cert.empty() != out.tls_key.empty()) {
    r.invalid(out.tls_cert.empty() ? "tls_key" : "tls_cert", "needs tls_cert and tls_key together");
  }
  if (!out.tls_client_ca.empty() && out.tls_cert.empty()) {
    r.invalid("tls_client_ca", "needs tls_cert and tls_key (mutual TLS is TLS first)");
  }
}

void parseRls(TableReader& r, RlsConfig& out) {
  if (auto v = r.string("listen")) {
    absl::StatusOr<ListenAddress> addr = parseListenAddress(*v);
    if (addr.ok()) {
      out.listen = formatListenAddress(addr->host, addr->port);
    } else {
      r.invalid("listen", addr.status());
    }
  }
  if (auto v = r.string("domain")) {
    // The first segment of every descriptor's path: a literal a rule can name as it is.
    const bool plain = !v->empty() && v->size() <= 64 &&
                       std::all_of(v->begin(), v->end(), [](char c) {
                         return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                c == '-' || c == '.';
                       });
    if (plain) {
      out.domain = *v;
    } else {
      r.invalid("domain", "must be 1-64 chars of [A-Za-z0-9_.-]");
    }
  }
  if (auto v = r.integer("max_hits_addend", 1, 1'000'000'000)) {
    out.max_hits_addend = static_cast<uint64_t>(*v);
  }
}

void parseIdentity(TableReader& r, IdentityConfig& out) {
  out.present = true;
  out.line = r.tableLine();
  if (auto v = r.string("kind")) {
    absl::StatusOr<identity::IdentityKind> k = identity::parseIdentityKind(*v);
    if (k.ok()) {
      out.kind = *k;
    } else {
      r.invalid("kind", k.status());
    }
  }
  auto text = [&r](std::string_view key, std::string& field) {
    if (auto v = r.string(key)) {
      if (v->empty()) {
        r.invalid(key, "must not be empty (leave the key out instead)");
      } else {
        field = *v;
      }
    }
  };
  text("secret_file", out.secret_file);
  out.secret_file_line = out.secret_file.empty() ? 0 : r.line("secret_file");
  text("public_key_file", out.public_key_file);
  out.public_key_file_line = out.public_key_file.empty() ? 0 : r.line("public_key_file");
  text("issuer", out.issuer);
  text("audience", out.audience);
  text("user_claim", out.user_claim);
  text("header", out.header);
  if (auto v = r.string("leeway")) {
    if (*v == "0s" || *v == "0") {
      out.leeway = absl::ZeroDuration();
    } else if (absl::StatusOr<absl::Duration> d = parsePositiveDuration(*v); !d.ok()) {
      r.invalid("leeway", d.status());
    } else if (*d > absl::Minutes(10)) {
      r.invalid("leeway", "must be at most 10m (it is clock skew, not a token lifetime)");
    } else {
      out.leeway = *d;
    }
  }
  if (const toml::node* n = r.take("trusted_proxies")) {
    const toml::array* a = n->as_array();
    bool ok = a != nullptr;
    if (a != nullptr) {
      for (const toml::node& e : *a) ok = ok && e.is_string();
    }
    if (!ok) {
      r.invalid("trusted_proxies",
                "must be an array of addresses or CIDR ranges ([\"10.0.0.0/8\", \"::1\"])");
    } else {
      for (const toml::node& e : *a) out.trusted_proxies.emplace_back(e.as_string()->get());
      if (auto p = identity::TrustedProxies::parse(out.trusted_proxies); !p.ok()) {
        r.invalid("trusted_proxies", p.status());
      }
    }
  }
  // What needs no file to decide: which keys go with which kind.
  using identity::IdentityKind;
  const bool keyed = out.kind == IdentityKind::kJwt || out.kind == IdentityKind::kHmac;
  if (!keyed) {
    for (std::string_view key : {"secret_file", "public_key_file"}) {
      if (r.table().contains(key)) {
        r.invalid(key, absl::StrCat("is for kind = \"jwt\" or \"hmac\" (kind is \"",
                                    av(identity::identityKindName(out.kind)), "\")"));
      }
    }
  }
  if (out.kind != IdentityKind::kJwt) {
    for (std::string_view key : {"issuer", "audience", "user_claim"}) {
      if (r.table().contains(key)) r.invalid(key, "is for kind = \"jwt\"");
    }
  }
  if ((out.kind == IdentityKind::kNone || out.kind == IdentityKind::kJwt) &&
      r.table().contains("header")) {
    r.invalid("header", "is for kind = \"hmac\" or \"header\"");
  }
  if (out.kind == IdentityKind::kJwt && out.secret_file.empty() == out.public_key_file.empty()) {
    r.invalid(out.secret_file.empty() ? "kind" : "public_key_file",
              absl::InvalidArgumentError("kind = \"jwt\" needs exactly one of secret_file "
                                         "(HS256) and public_key_file (RS256, ES256)"));
  }
  if (out.kind == IdentityKind::kHmac) {
    if (out.secret_file.empty()) {
      r.invalid("kind", absl::InvalidArgumentError("kind = \"hmac\" needs secret_file"));
    }
    if (!out.public_key_file.empty()) r.invalid("public_key_file", "is for kind = \"jwt\"");
  }
  if (out.kind == IdentityKind::kHeader && out.trusted_proxies.empty() &&
      !r.table().contains("trusted_proxies")) {
    r.invalid("kind", absl::InvalidArgumentError(
                          "kind = \"header\" needs trusted_proxies (the gateway's addresses; "
                          "anyone else could name any user)"));
  }
}

}  // namespace

absl::StatusOr<EngineConfig> parseConfig(std::string_view text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(av(source_name), ":", e.source().begin.line,
                                                   ": TOML syntax error: ",
                                                   oneLine(e.description())));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(av(source_name), ": cannot parse: ", e.what()));
  }

  Diagnostics diag(source_name);
  EngineConfig config;
  config.source = std::string(source_name);
  TableReader top = TableReader::dotted(diag, root, "");
  // Each table of the file: one line here and one parse function above.
  if (const toml::table* t = top.subTable("http")) {
    TableReader r = TableReader::dotted(diag, *t, "http");
    parseHttp(r, config.http);
    r.finish();
  }
  if (const toml::table* t = top.subTable("store")) {
    TableReader r = TableReader::dotted(diag, *t, "store");
    parseStore(r, config.store);
    r.finish();
  }
  bool orders_kind_set = false;
  int64_t orders_line = 0;
  if (const toml::table* t = top.subTable("orders")) {
    TableReader r = TableReader::dotted(diag, *t, "orders");
    orders_kind_set = t->contains("kind");
    orders_line = r.line("kind");
    parseOrders(r, config.orders);
    r.finish();
  }
  checkBackends(diag, orders_line, orders_kind_set, config);
  SaleParser sales(diag);
  for (const toml::table* t : top.arrayOfTables("sale")) sales.parse(*t, config.sales);
  int64_t limits_line = 0;
  bool rule_store_set = false;
  if (const toml::table* t = top.subTable("limits")) {
    TableReader r = TableReader::dotted(diag, *t, "limits");
    limits_line = r.line("rule_store");
    rule_store_set = t->contains("rule_store");
    parseLimits(r, config.limits);
    r.finish();
  }
  int rule_index = 0;
  for (const toml::table* t : top.arrayOfTables("rule")) {
    parseRule(diag, *t, ++rule_index, config.limits.rules);
  }
  int override_index = 0;
  for (const toml::table* t : top.arrayOfTables("override")) {
    parseOverride(diag, *t, ++override_index, config.limits.overrides);
  }
  // Production mode keeps the rules in Redis unless the file says otherwise.
  if (!rule_store_set && config.store.kind == StoreConfig::Kind::kRedis) {
    config.limits.rule_store = LimitsConfig::RuleStore::kRedis;
  }
  if (config.limits.rule_store == LimitsConfig::RuleStore::kRedis &&
      config.store.kind != StoreConfig::Kind::kRedis) {
    diag.error(limits_line, "limits.rule_store = \"redis\" needs [store] kind = \"redis\"");
  }
  int64_t breaker_line = 0;
  if (const toml::table* t = top.subTable("breaker")) {
    TableReader r = TableReader::dotted(diag, *t, "breaker");
    breaker_line = r.tableLine();
    parseBreaker(r, config.breaker);
    r.finish();
  }
  if (const toml::table* t = top.subTable("identity")) {
    TableReader r = TableReader::dotted(diag, *t, "identity");
    parseIdentity(r, config.identity);
    r.finish();
  }
  if (const toml::table* t = top.subTable("admin")) {
    TableReader r = TableReader::dotted(diag, *t, "admin");
    parseAdmin(r, config.admin);
    r.finish();
  }
  if (const toml::table* t = top.subTable("rls")) {
    TableReader r = TableReader::dotted(diag, *t, "rls");
    parseRls(r, config.rls);
    r.finish();
  }
  top.finish();

  // The rule set is accepted or rejected whole, as a reload would be: the check the control
  // plane makes (rules, their ids, the overrides).
  if (diag.ok()) {
    control::RuleDocument doc{config.limits.rules, config.limits.overrides};
    control::normalize(doc);
    for (const ratelimit::RuleProblem& p : control::checkDocument(doc)) {
      diag.error(ruleProblemLine(doc.rules, p.message), p.message);
    }
    if (diag.ok()) {
      config.limits.rules = std::move(doc.rules);
      config.limits.overrides = std::move(doc.overrides);
    }
  }
  if (diag.ok()) {
    if (absl::Status s = ratelimit::CircuitBreaker::create("check", config.breaker.options).status();
        !s.ok()) {
      diag.error(breaker_line, absl::StrCat("breaker: ", s.message()));
    }
  }

  if (!diag.ok()) return diag.status();
  return config;
}

absl::StatusOr<EngineConfig> loadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = config::readTextFile(path, "config");
  if (!text.ok()) return text.status();
  return parseConfig(*text, path);
}

EngineConfig demoConfig() {
  EngineConfig config;
  config.http.host = "127.0.0.1";
  config.http.port = 8080;
  SaleSpec demo;
  demo.id = "demo";
  demo.name = "Demo drop";
  demo.stock = 10000;
  demo.strategy = StockStrategy::kAtomic;
  demo.pay_timeout = absl::Minutes(15);
  config.sales.push_back(std::move(demo));
  return config;
}

absl::Status overrideListen(EngineConfig& config, std::string_view listen) {
  absl::StatusOr<ListenAddress> addr = parseListenAddress(listen);
  if (!addr.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen \"", av(listen), "\": ", addr.status().message()));
  }
  config.http.host = addr->host;
  config.http.port = addr->port;
  return absl::OkStatus();
}

absl::Status overrideThreads(EngineConfig& config, int64_t threads) {
  if (threads < 1 || threads > kMaxThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads ", threads, ": must be between 1 and ", kMaxThreads));
  }
  config.http.threads = static_cast<int>(threads);
  return absl::OkStatus();
}

std::vector<std::string> configWarnings(const EngineConfig& config, absl::Time now) {
  std::vector<std::string> out;
  if (config.sales.empty()) out.push_back("no [[sale]] configured: every sale id is unknown");
  for (const SaleSpec& s : config.sales) {
    if (s.closes_at && *s.closes_at <= now) {
      out.push_back(absl::StrCat(
          "sale \"", s.id, "\" closed already (closes_at ",
          absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", *s.closes_at, absl::UTCTimeZone()), ")"));
    }
    if (s.stock == 0) out.push_back(absl::StrCat("sale \"", s.id, "\" has stock 0: sold out"));
  }
  return out;
}

std::string_view configKeysHelp() {
  return R"(Config file (TOML) keys; see docs/configuration.md and assets/config/example.toml:
  [http]    listen = "127.0.0.1:8080" ("[::1]:8080" for IPv6), threads = 2,
            max_connections = 10000, header_timeout = "10s", idle_timeout = "60s",
            max_header_bytes = 8192, max_body_bytes = 16384, drain_timeout = "10s"
  [store]   kind = "memory" | "redis", redis = "tcp://127.0.0.1:6379" (or a list of cluster
            seed nodes; "redis://user:password@host:port" to AUTH), connections = 2,
            timeout = "1s", sold_out_refresh = "1s"
  [orders]  kind = "memory" | "redis" | "mysql" (default: as [store]),
            mysql = "mysql://user:password@host:3306/db", pool = 8, writers = 2, batch = 500,
            claim_idle = "30s", cancel_poll = "200ms", keep_finished = "1h" (memory: paid and
            cancelled orders leave memory this long after their pay_before)
  [[sale]]  id (required), stock (required), name = id, opens_at / closes_at (RFC 3339,
            absent: open now / never closes), pay_timeout = "15m", dedup_ttl = "5m",
            token_ttl = "5m", require_token = false,
            strategy = "atomic" | "fifo" | "optimistic" | "counter_gate"
  [[rule]]  path (required; "*" one segment, "**" the rest), method (any), rate (required),
            per = "s" | "min" | "h", scope = "global" | "user" | "ip" | "header:<name>",
            algorithm = "token_bucket" | "leaky_bucket" | "sliding_window" | "sliding_log",
            burst = 1, queue = 0, warmup (token_bucket), on_limit = "reject" | "queue" | "log",
            max_wait (queue), distributed = false (state in Redis, shared by every node)
  [[override]] prefix (required), mode = "dry_run" | "shed" | "none"
  [limits]  watch = true (reload rules when the file changes; SIGHUP always reloads),
            watch_interval = "1s", rule_store = "config" | "redis", rule_poll = "100ms",
            distributed_failure = "open" | "closed", distributed_timeout = "100ms"
  [breaker] mode = "normal" | "forced_open" | "disabled" | "metrics_only",
            window = "count" | "time", window_calls = 100, window_length = "10s",
            min_calls = 20, failure_ratio = 0.5, slow_ratio = 1.0, slow_call = "1s",
            open_for = "5s", probe_calls = 3
  [admin]   listen = "127.0.0.1:9090", tokens = "PATH" ("<token> <role> <name>" lines; without
            it the admin API is off), state_dir = "PATH" (rules, modes, sales, audit), node_id,
            tls_cert / tls_key / tls_client_ca = "PATH", history = "1h"
  [rls]     listen = "127.0.0.1:8081" (Envoy's rate-limit service, gRPC; without it the service
            is off), domain = "seckill", max_hits_addend = 1000000
  [identity] kind = "none" | "jwt" | "hmac" | "header" (docs/identity.md); jwt: secret_file
            (HS256) or public_key_file (RS256, ES256), issuer, audience, user_claim = "sub",
            leeway = "30s"; hmac: secret_file, header = "X-User-Id"; header: header;
            trusted_proxies = ["10.0.0.0/8"] (may set X-Forwarded-For / Forwarded)
  Durations take a unit: "500ms", "30s", "15m", "1h". Unknown keys are errors.
Without --config the engine serves the demo sale "demo" (stock 10000) on 127.0.0.1:8080.)";
}

absl::StatusOr<ListenAddress> parseListenAddress(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (s.starts_with("[")) {
    size_t close = s.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("missing ']' after the IPv6 address");
    }
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.starts_with(":")) {
      return absl::InvalidArgumentError("expected \":port\" after \"]\"");
    }
    port = rest.substr(1);
    in6_addr a6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("\"", av(host), "\" is not an IPv6 address"));
    }
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError("expected host:port, e.g. 127.0.0.1:8080");
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return absl::InvalidArgumentError("an IPv6 address needs brackets, e.g. [::1]:8080");
    }
    in_addr a4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", av(host), "\" is not an IP address (use e.g. 127.0.0.1, 0.0.0.0 or [::1])"));
    }
  }
  uint32_t p = 0;
  if (port.empty() || !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(av(port), &p) || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port \"", av(port), "\" must be a number from 0 to 65535"));
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(p)};
}

std::string formatListenAddress(std::string_view host, uint16_t port) {
  if (host.find(':') != std::string_view::npos) return absl::StrCat("[", av(host), "]:", port);
  return absl::StrCat(av(host), ":", port);
}

}  // namespace seckill::app
