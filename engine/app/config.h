#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/config/rule_file.h"
#include "engine/config/values.h"
#include "engine/core/control/rule_document.h"
#include "engine/core/ratelimit/circuit_breaker.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/remote_limiter.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/core/sale.h"
#include "engine/http/server.h"
#include "engine/identity/identity.h"
#include "engine/store/redis/redis_endpoint.h"

namespace seckill::app {

// The [store] table: where stock, dedup keys, tokens and the delayed cancels live.
struct StoreConfig {
  enum class Kind { kMemory, kRedis };
  Kind kind = Kind::kMemory;
  // kRedis: one server, or the seed nodes of a Redis Cluster (any reachable
  // one is enough; the client discovers the rest).
  std::vector<RedisEndpoint> redis;
  // From the URLs' "user:password@" (every seed carries the same or none).
  RedisAuth redis_auth;
  int connections = 2;                          // per Redis server / cluster master
  absl::Duration timeout = absl::Seconds(1);    // a reply later than this: 503
  // How often a sale flagged sold out locally checks Redis for a returned unit
  // (in case a broadcast was missed).
  absl::Duration sold_out_refresh = absl::Seconds(1);
};

// The [orders] table: where orders live and what happens to them after they are created.
struct OrdersConfig {
  // kMemory: in the engine (needs [store] kind = "memory"); kRedis: the order
  // hashes in Redis (needs kind = "redis"); kMysql: durable in MariaDB/MySQL,
  // written from the Redis order streams (needs kind = "redis").
  enum class Kind { kMemory, kRedis, kMysql };
  Kind kind = Kind::kMemory;  // absent in the file: follows [store] kind
  std::string mysql;          // kMysql: "mysql://user:password@host:port/database"
  int pool = 8;               // DB connections of this engine, at most
  int writers = 2;            // batch-writer threads (each holds one connection while writing)
  int batch = 500;            // rows per multi-row INSERT
  absl::Duration claim_idle = absl::Seconds(30);  // reclaim a dead writer's entries after this
  // How often the delayed-cancel consumer looks for unpaid orders past pay_before.
  absl::Duration cancel_poll = absl::Milliseconds(200);
  // kMemory: a paid or cancelled order leaves memory this long after the later of its
  // pay_before and its last change (GET then answers 404); pending orders always stay.
  absl::Duration keep_finished = absl::Hours(1);
};

// The [limits] table and the [[rule]] / [[override]] tables: traffic control.
struct LimitsConfig {
  std::vector<ratelimit::RuleSpec> rules;       // [[rule]], in file order, validated as a set
  std::vector<ratelimit::Override> overrides;   // [[override]]: operator overrides at start-up
  // Re-read the rules when the config file changes (checked every watch_interval), as well
  // as on SIGHUP.
  bool watch = true;
  absl::Duration watch_interval = absl::Seconds(1);
  // Rules marked `distributed` keep their state in Redis ([store] kind = "redis";
  // with the memory store they run on in-process state). On a Redis error or
  // timeout such a rule admits (kOpen) or answers 503 (kClosed); each is counted.
  ratelimit::FailurePolicy distributed_failure = ratelimit::FailurePolicy::kOpen;
  absl::Duration distributed_timeout = absl::Milliseconds(100);
  // kRedis: the rule set lives in Redis and every node follows it (a reload on
  // any node publishes there); kConfig: each node uses its own file. Absent
  // from the file: kRedis with [store] kind = "redis", else kConfig.
  enum class RuleStore { kConfig, kRedis };
  RuleStore rule_store = RuleStore::kConfig;
  absl::Duration rule_poll = absl::Milliseconds(100);  // how often a node looks for a new set
};

// The [breaker] table: one circuit breaker per backend dependency (stock store, order store),
// all with these options.
struct BreakerConfig {
  ratelimit::BreakerOptions options;
  ratelimit::CircuitBreaker::Mode mode = ratelimit::CircuitBreaker::Mode::kNormal;
};

// The [admin] table: the gRPC admin API's listener and where the control state lives.
struct AdminConfig {
  std::string listen = "127.0.0.1:9090";
  // "<token> <role> <name>" per line; without it the admin listener does not start.
  std::string tokens;
  // Rules, overrides, breaker modes, sales made through the API, and the audit log: kept here
  // (one node), or in Redis with [limits] rule_store = "redis". Empty: in memory (lost at
  // restart).
  std::string state_dir;
  std::string node_id;  // empty: "<hostname>:<http port>"
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  absl::Duration history = absl::Hours(1);  // stats kept at one-second resolution (>= 1h)
};

// The [identity] table: who a shopper is (docs/identity.md). The key files are read when the
// engine builds its ShopperIdentity (makeShopperIdentity), at start-up and by --check alike.
struct IdentityConfig {
  identity::IdentityKind kind = identity::IdentityKind::kNone;
  std::string secret_file;      // jwt (HS256), hmac
  std::string public_key_file;  // jwt (RS256, ES256)
  std::string issuer;
  std::string audience;
  std::string user_claim = "sub";
  absl::Duration leeway = absl::Seconds(30);
  std::string header;  // hmac, header: the user header ("X-User-Id" when empty)
  std::vector<std::string> trusted_proxies;
  bool present = false;  // the table was in the file
  // Lines of the keys, for messages about the files they name (0: absent).
  int64_t line = 0;
  int64_t secret_file_line = 0;
  int64_t public_key_file_line = 0;
};

// The [rls] table: Envoy's rate-limit service (envoy.service.ratelimit.v3) on the engine's rules
// (docs/envoy.md). Plaintext gRPC on its own listener.
struct RlsConfig {
  std::string listen;  // "host:port"; empty (the table or key absent): the service is off
  // The RateLimitRequest domain answered, and the first segment of every descriptor's path.
  std::string domain = "seckill";
  uint64_t max_hits_addend = 1'000'000;  // a larger hits_addend is refused (INVALID_ARGUMENT)
};

// Everything the engine is started with. Produced by parseConfig() (or
// demoConfig()) and then only read. http.host/port hold the parsed `listen`.
struct EngineConfig {
  http::ServerOptions http;
  StoreConfig store;
  OrdersConfig orders;
  std::vector<SaleSpec> sales;  // in file order
  LimitsConfig limits;
  BreakerConfig breaker;
  AdminConfig admin;
  IdentityConfig identity;
  RlsConfig rls;
  std::string source;  // the config file's name in messages ("" for the built-in demo)
};

// Parses a TOML config. `source_name` (usually the file path) prefixes every
// message. Unknown tables or keys, wrong types and out-of-range values are
// errors; on failure the InvalidArgument message holds one line per problem,
// sorted by line: "<source_name>:<line>: <problem>". Never throws.
absl::StatusOr<EngineConfig> parseConfig(std::string_view toml, std::string_view source_name);

// Reads `path` and parses it with parseConfig(path as source name).
// NotFound / PermissionDenied-style errors name the path.
absl::StatusOr<EngineConfig> loadConfigFile(const std::string& path);

// The built-in demo (what runs without --config; identical to
// assets/config/demo.toml): sale "demo", "Demo drop", stock 10000, atomic,
// pay_timeout 15m, served on 127.0.0.1:8080.
EngineConfig demoConfig();

// Applies --listen: "host:port" as in the config file.
absl::Status overrideListen(EngineConfig& config, std::string_view listen);
// Applies --threads: must be >= 1.
absl::Status overrideThreads(EngineConfig& config, int64_t threads);

// A rule file: only [[rule]] and [[override]] tables, in the config file's syntax, read by the
// same table parser (engine/config/rule_file.h, shared with the installed library).
using config::formatRuleFile;
using config::parseRuleFile;

// Things that are legal but probably unintended (no sales, a window already
// closed at `now`, zero stock), one human-readable line each.
std::vector<std::string> configWarnings(const EngineConfig& config, absl::Time now);

// A short listing of every config key, for --help.
std::string_view configKeysHelp();

// --- The value syntaxes, exposed for the CLI and tests. ---

struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 literal, without brackets
  uint16_t port = 0;
};

// Parses "host:port" or "[ipv6]:port"; the host must be an IP literal and the
// port 0-65535 (0: any free port).
absl::StatusOr<ListenAddress> parseListenAddress(std::string_view s);

// "127.0.0.1:8080" or "[::1]:8080".
std::string formatListenAddress(std::string_view host, uint16_t port);

// Durations ("500ms", "15m"; > 0, finite, with a unit) and RFC 3339 times with an offset:
// engine/config/values.h.
using config::parsePositiveDuration;
using config::parseRfc3339;

}  // namespace seckill::app
