#include "engine/app/config.h"

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Test configs are raw strings opening with a newline, so that line 1 of the
// config is the first line after R"( — the line numbers read off the source.
absl::StatusOr<EngineConfig> parse(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return parseConfig(text, "demo.toml");
}

// The error message of a config that must fail.
std::string errorOf(std::string_view text) {
  absl::StatusOr<EngineConfig> config = parse(text);
  EXPECT_FALSE(config.ok()) << "config unexpectedly parsed";
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

absl::Time utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

std::string readAsset(const std::string& name) {
  std::ifstream in(std::string(SECKILL_SOURCE_DIR) + "/assets/config/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr std::string_view kFullExample = R"(
[http]
listen = "0.0.0.0:9090"
threads = 4
max_connections = 500
header_timeout = "5s"
idle_timeout = "2m"
max_header_bytes = 4096
max_body_bytes = 1024

[orders]
cancel_poll = "50ms"

[[sale]]
id = "phone-drop"
name = "Phone drop"
stock = 1000
opens_at = "2026-11-28T10:00:00Z"
closes_at = "2026-11-28T12:00:00+01:00"
pay_timeout = "15m"
dedup_ttl = "5m"
token_ttl = "90s"
require_token = true
strategy = "fifo"

[[sale]]
id = "tv_2"
stock = 0
strategy = "counter_gate"
)";

TEST(ConfigTest, FullExampleParsesToExpectedValues) {
  absl::StatusOr<EngineConfig> config = parse(kFullExample);
  ASSERT_TRUE(config.ok()) << config.status();

  EXPECT_EQ(config->http.host, "0.0.0.0");
  EXPECT_EQ(config->http.port, 9090);
  EXPECT_EQ(config->http.threads, 4);
  EXPECT_EQ(config->http.max_connections, 500u);
  EXPECT_EQ(config->http.header_timeout, absl::Seconds(5));
  EXPECT_EQ(config->http.idle_timeout, absl::Minutes(2));
  EXPECT_EQ(config->http.max_header_bytes, 4096u);
  EXPECT_EQ(config->http.max_body_bytes, 1024u);
  EXPECT_EQ(config->orders.cancel_poll, absl::Milliseconds(50));

  ASSERT_EQ(config->sales.size(), 2u);
  const SaleSpec& phone = config->sales[0];
  EXPECT_EQ(phone.id, "phone-drop");
  EXPECT_EQ(phone.name, "Phone drop");
  EXPECT_EQ(phone.stock, 1000);
  EXPECT_EQ(phone.opens_at, utc(2026, 11, 28, 10, 0, 0));
  EXPECT_EQ(phone.closes_at, utc(2026, 11, 28, 11, 0, 0));
  EXPECT_EQ(phone.pay_timeout, absl::Minutes(15));
  EXPECT_EQ(phone.dedup_ttl, absl::Minutes(5));
  EXPECT_EQ(phone.token_ttl, absl::Seconds(90));
  EXPECT_TRUE(phone.require_token);
  EXPECT_EQ(phone.strategy, StockStrategy::kFifo);

  const SaleSpec& tv = config->sales[1];
  EXPECT_EQ(tv.id, "tv_2");
  EXPECT_EQ(tv.stock, 0);
  EXPECT_EQ(tv.strategy, StockStrategy::kCounterGate);
}

TEST(ConfigTest, DefaultsApply) {
  absl::StatusOr<EngineConfig> config = parse(R"(
[[sale]]
id = "a"
stock = 5
)");
  ASSERT_TRUE(config.ok()) << config.status();
  const http::ServerOptions defaults;
  EXPECT_EQ(config->http.host, "127.0.0.1");
  EXPECT_EQ(config->http.port, 8080);
  EXPECT_EQ(config->http.threads, defaults.threads);
  EXPECT_EQ(config->http.max_connections, defaults.max_connections);
  EXPECT_EQ(config->http.header_timeout, defaults.header_timeout);
  EXPECT_EQ(config->http.idle_timeout, defaults.idle_timeout);
  EXPECT_EQ(config->http.max_header_bytes, defaults.max_header_bytes);
  EXPECT_EQ(config->http.max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(config->orders.cancel_poll, absl::Milliseconds(200));

  ASSERT_EQ(config->sales.size(), 1u);
  const SaleSpec& s = config->sales[0];
  EXPECT_EQ(s.name, "a");  // the id stands in for a missing name
  EXPECT_FALSE(s.opens_at.has_value());
  EXPECT_FALSE(s.closes_at.has_value());
  EXPECT_EQ(s.pay_timeout, absl::Minutes(15));
  EXPECT_EQ(s.dedup_ttl, absl::Minutes(5));
  EXPECT_EQ(s.token_ttl, absl::Minutes(5));
  EXPECT_FALSE(s.require_token);
  EXPECT_EQ(s.strategy, StockStrategy::kAtomic);
}

TEST(ConfigTest, EmptyConfigHasNoSalesAndWarns) {
  absl::StatusOr<EngineConfig> config = parse("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->sales.empty());
  EXPECT_THAT(configWarnings(*config, absl::Now()),
              testing::ElementsAre(HasSubstr("no [[sale]] configured")));
}

TEST(ConfigTest, WarnsAboutClosedAndEmptySales) {
  absl::StatusOr<EngineConfig> config = parse(R"(
[[sale]]
id = "past"
stock = 1
closes_at = "2020-01-01T00:00:00Z"
[[sale]]
id = "empty"
stock = 0
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(configWarnings(*config, utc(2026, 1, 1, 0, 0, 0)),
              testing::ElementsAre(HasSubstr("\"past\" closed already"),
                                   HasSubstr("\"empty\" has stock 0")));
}

TEST(ConfigTest, TomlOffsetDateTimeIsAcceptedAsTime) {
  absl::StatusOr<EngineConfig> config = parse(R"(
[[sale]]
id = "a"
stock = 1
opens_at = 2026-11-28T18:00:00+08:00
closes_at = 2026-11-28T10:30:00.250Z
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sales[0].opens_at, utc(2026, 11, 28, 10, 0, 0));
  EXPECT_EQ(config->sales[0].closes_at, utc(2026, 11, 28, 10, 30, 0) + absl::Milliseconds(250));
}

TEST(ConfigTest, Ipv6Listen) {
  absl::StatusOr<EngineConfig> config = parse(R"(
[http]
listen = "[::1]:8081"
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->http.host, "::1");
  EXPECT_EQ(config->http.port, 8081);
  EXPECT_EQ(formatListenAddress(config->http.host, config->http.port), "[::1]:8081");
}

// --- Errors: each names the file and the line, exactly. ---

TEST(ConfigErrorTest, NegativeStockNamesTheSaleAndLine) {
  EXPECT_EQ(errorOf(R"(
[http]
threads = 2

[[sale]]
id = "x"
name = "X"
stock = -1
)"),
            "demo.toml:7: sale \"x\": stock must be >= 0");
}

TEST(ConfigErrorTest, UnknownTopLevelTable) {
  EXPECT_EQ(errorOf(R"(
[http]
threads = 2
[htpp]
listen = "127.0.0.1:1"
)"),
            "demo.toml:3: unknown table [htpp]");
}

TEST(ConfigErrorTest, UnknownTopLevelArrayOfTablesAndKey) {
  EXPECT_EQ(errorOf(R"(
verbose = true
[[sales]]
id = "a"
)"),
            "demo.toml:1: unknown key verbose\n"
            "demo.toml:2: unknown table [[sales]]");
}

TEST(ConfigErrorTest, UnknownKeyInHttp) {
  EXPECT_EQ(errorOf(R"(
[http]
listen = "127.0.0.1:8080"
thread = 4
)"),
            "demo.toml:3: unknown key http.thread");
}

TEST(ConfigErrorTest, UnknownSubTableInOrders) {
  EXPECT_EQ(errorOf(R"(
[orders]
cancel_poll = "1s"
[orders.db]
host = "db"
)"),
            "demo.toml:3: unknown table [orders.db]");
}

TEST(ConfigErrorTest, UnknownKeyInSale) {
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stok = 5
stock = 5
)"),
            "demo.toml:3: sale \"a\": unknown key \"stok\"");
}

TEST(ConfigErrorTest, WrongTypes) {
  EXPECT_EQ(errorOf(R"(
[http]
threads = "2"
)"),
            "demo.toml:2: http.threads must be an integer, not a string");
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = 1.5
require_token = "yes"
)"),
            "demo.toml:3: sale \"a\": stock must be an integer, not a float\n"
            "demo.toml:4: sale \"a\": require_token must be a boolean (true or false), not a "
            "string");
  EXPECT_EQ(errorOf("http = 5\n"), "demo.toml:1: http must be a table ([http]), not an integer");
  EXPECT_EQ(errorOf(R"(
[sale]
id = "a"
)"),
            "demo.toml:1: sale must be an array of tables ([[sale]]), not a table");
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = 7
stock = 1
)"),
            "demo.toml:2: sale #1: id must be a string, not an integer");
}

TEST(ConfigErrorTest, BadListenAddresses) {
  auto listenError = [](std::string_view listen) {
    return errorOf("[http]\nlisten = \"" + std::string(listen) + "\"\n");
  };
  EXPECT_THAT(listenError("localhost:8080"),
              StartsWith("demo.toml:2: http.listen: \"localhost\" is not an IP address"));
  EXPECT_THAT(listenError("127.0.0.1:70000"),
              StartsWith("demo.toml:2: http.listen: port \"70000\" must be a number"));
  EXPECT_THAT(listenError("127.0.0.1:"), StartsWith("demo.toml:2: http.listen: port \"\""));
  EXPECT_THAT(listenError("127.0.0.1:80x"), StartsWith("demo.toml:2: http.listen: port \"80x\""));
  EXPECT_THAT(listenError("127.0.0.1"), StartsWith("demo.toml:2: http.listen: expected host:port"));
  EXPECT_THAT(listenError("::1:8080"), HasSubstr("IPv6 address needs brackets"));
  EXPECT_THAT(listenError("[::1:8080"), HasSubstr("missing ']'"));
  EXPECT_THAT(listenError("[::1]8080"), HasSubstr("expected \":port\""));
  EXPECT_THAT(listenError("[1.2.3.4]:80"), HasSubstr("is not an IPv6 address"));
  EXPECT_THAT(listenError("300.1.1.1:80"), HasSubstr("is not an IP address"));
}

TEST(ConfigErrorTest, ThreadsAndSizesOutOfRange) {
  EXPECT_EQ(errorOf(R"(
[http]
threads = 0
max_connections = 0
max_body_bytes = -1
)"),
            "demo.toml:2: http.threads must be >= 1\n"
            "demo.toml:3: http.max_connections must be >= 1\n"
            "demo.toml:4: http.max_body_bytes must be >= 1");
}

TEST(ConfigErrorTest, BadDurations) {
  EXPECT_EQ(errorOf(R"(
[orders]
cancel_poll = "200"
)"),
            "demo.toml:2: orders.cancel_poll: duration \"200\" needs a unit (e.g. \"500ms\", "
            "\"30s\", \"15m\", \"1h\")");
  EXPECT_EQ(errorOf(R"(
[orders]
cancel_poll = 200
)"),
            "demo.toml:2: orders.cancel_poll must be a duration string such as \"15m\", not an "
            "integer");
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = 1
pay_timeout = "0s"
dedup_ttl = "-5m"
token_ttl = "soon"
)"),
            "demo.toml:4: sale \"a\": pay_timeout: duration \"0s\" must be > 0\n"
            "demo.toml:5: sale \"a\": dedup_ttl: duration \"-5m\" must be > 0\n"
            "demo.toml:6: sale \"a\": token_ttl: \"soon\" is not a duration (e.g. \"500ms\", "
            "\"30s\", \"15m\", \"1h\")");
  EXPECT_THAT(errorOf("[http]\nidle_timeout = \"inf\"\n"), HasSubstr("must be finite"));
}

TEST(ConfigErrorTest, BadTimes) {
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = 1
opens_at = "2026-13-01T00:00:00Z"
)"),
            "demo.toml:4: sale \"a\": opens_at: \"2026-13-01T00:00:00Z\" is not an RFC 3339 "
            "time with offset (e.g. \"2026-11-28T10:00:00Z\")");
  EXPECT_THAT(errorOf(R"(
[[sale]]
id = "a"
stock = 1
opens_at = "2026-11-28T10:00:00"
)"),
              StartsWith("demo.toml:4: sale \"a\": opens_at: \"2026-11-28T10:00:00\" is not"));
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = 1
closes_at = 2026-11-28T10:00:00
)"),
            "demo.toml:4: sale \"a\": closes_at needs a UTC offset (e.g. 2026-11-28T10:00:00Z)");
  EXPECT_THAT(errorOf(R"(
[[sale]]
id = "a"
stock = 1
closes_at = 2026-11-28
)"),
              StartsWith("demo.toml:4: sale \"a\": closes_at must be an RFC 3339 date-time"));
}

TEST(ConfigErrorTest, ClosesBeforeOpensIsReportedAtClosesAt) {
  // SaleSpec::validate() decides; the parser pins its message to the key it names.
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = 1
closes_at = "2026-11-28T10:00:00Z"
opens_at = "2026-11-28T12:00:00Z"
)"),
            "demo.toml:4: sale \"a\": closes_at must be after opens_at");
}

TEST(ConfigErrorTest, UnknownStrategy) {
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = 1
strategy = "lottery"
)"),
            "demo.toml:4: sale \"a\": strategy: unknown strategy \"lottery\" (expected atomic | "
            "fifo | optimistic | counter_gate)");
}

TEST(ConfigErrorTest, DuplicateSaleIdNamesBothLines) {
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = 1

[[sale]]
id = "b"
stock = 1

[[sale]]
id = "a"
stock = 2
)"),
            "demo.toml:10: duplicate sale id \"a\" (first defined at demo.toml:2)");
}

TEST(ConfigErrorTest, MissingRequiredKeysAtTheSaleHeader) {
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = 1

[[sale]]
name = "no id, no stock"
)"),
            "demo.toml:5: sale #2: missing required key \"id\"\n"
            "demo.toml:5: sale #2: missing required key \"stock\"");
}

TEST(ConfigErrorTest, InvalidSaleId) {
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a b"
stock = 1
)"),
            "demo.toml:2: sale \"a b\": id must be 1-64 chars of [A-Za-z0-9_-]");
}

TEST(ConfigErrorTest, TomlSyntaxErrorNamesTheLine) {
  EXPECT_THAT(errorOf(R"(
[http]
threads = 2
listen = = "x"
)"),
              StartsWith("demo.toml:3: TOML syntax error: "));
  EXPECT_THAT(errorOf(R"(
[http]
threads = 2
threads = 3
)"),
              StartsWith("demo.toml:3: TOML syntax error: "));
}

TEST(ConfigErrorTest, EveryProblemIsReportedInLineOrder) {
  EXPECT_EQ(errorOf(R"(
[[sale]]
id = "a"
stock = -3
[http]
threads = 0
bogus = 1
)"),
            "demo.toml:3: sale \"a\": stock must be >= 0\n"
            "demo.toml:5: http.threads must be >= 1\n"
            "demo.toml:6: unknown key http.bogus");
}

// --- Value syntaxes. ---

TEST(ValueSyntaxTest, Durations) {
  EXPECT_EQ(*parsePositiveDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*parsePositiveDuration("30s"), absl::Seconds(30));
  EXPECT_EQ(*parsePositiveDuration("15m"), absl::Minutes(15));
  EXPECT_EQ(*parsePositiveDuration("1h"), absl::Hours(1));
  EXPECT_EQ(*parsePositiveDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*parsePositiveDuration("1.5s"), absl::Milliseconds(1500));
  for (const char* bad : {"", "0", "15", "1.5", "-1", "0s", "-5s", "inf", "5 s", " 5s", "5sec"}) {
    EXPECT_FALSE(parsePositiveDuration(bad).ok()) << bad;
  }
}

TEST(ValueSyntaxTest, Rfc3339Times) {
  EXPECT_EQ(*parseRfc3339("2026-11-28T10:00:00Z"), utc(2026, 11, 28, 10, 0, 0));
  EXPECT_EQ(*parseRfc3339("2026-11-28T12:00:00+02:00"), utc(2026, 11, 28, 10, 0, 0));
  EXPECT_EQ(*parseRfc3339("2026-11-28T10:00:00.5Z"),
            utc(2026, 11, 28, 10, 0, 0) + absl::Milliseconds(500));
  for (const char* bad : {"", "2026-11-28", "2026-11-28T10:00:00", "2026-11-28 10:00:00Z",
                          " 2026-11-28T10:00:00Z", "infinite-future", "tomorrow"}) {
    EXPECT_FALSE(parseRfc3339(bad).ok()) << bad;
  }
}

TEST(ValueSyntaxTest, ListenAddresses) {
  absl::StatusOr<ListenAddress> a = parseListenAddress("0.0.0.0:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 0);
  a = parseListenAddress("[::]:65535");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::");
  EXPECT_EQ(a->port, 65535);
  EXPECT_EQ(formatListenAddress("10.0.0.1", 80), "10.0.0.1:80");
  EXPECT_FALSE(parseListenAddress(":8080").ok());
  EXPECT_FALSE(parseListenAddress("127.0.0.1:65536").ok());
  EXPECT_FALSE(parseListenAddress("127.0.0.1:-1").ok());
}

TEST(OverrideTest, ListenAndThreads) {
  EngineConfig config = demoConfig();
  ASSERT_TRUE(overrideListen(config, "[::1]:9000").ok());
  EXPECT_EQ(config.http.host, "::1");
  EXPECT_EQ(config.http.port, 9000);
  ASSERT_TRUE(overrideThreads(config, 8).ok());
  EXPECT_EQ(config.http.threads, 8);

  absl::Status bad = overrideListen(config, "nowhere");
  EXPECT_THAT(std::string(bad.message()), StartsWith("--listen \"nowhere\": "));
  EXPECT_FALSE(overrideThreads(config, 0).ok());
  EXPECT_EQ(config.http.threads, 8);  // unchanged by a failed override
}

// --- The shipped files. ---

TEST(AssetTest, DemoTomlIsTheBuiltInDemo) {
  absl::StatusOr<EngineConfig> config = parseConfig(readAsset("demo.toml"), "demo.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EngineConfig demo = demoConfig();
  EXPECT_EQ(config->http.host, demo.http.host);
  EXPECT_EQ(config->http.port, demo.http.port);
  EXPECT_EQ(config->http.threads, demo.http.threads);
  EXPECT_EQ(config->orders.cancel_poll, demo.orders.cancel_poll);
  ASSERT_EQ(config->sales.size(), 1u);
  ASSERT_EQ(demo.sales.size(), 1u);
  const SaleSpec& a = config->sales[0];
  const SaleSpec& b = demo.sales[0];
  EXPECT_EQ(a.id, "demo");
  EXPECT_EQ(a.name, "Demo drop");
  EXPECT_EQ(a.stock, 10000);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.stock, b.stock);
  EXPECT_EQ(a.strategy, b.strategy);
  EXPECT_EQ(a.pay_timeout, b.pay_timeout);
  EXPECT_EQ(a.dedup_ttl, b.dedup_ttl);
  EXPECT_EQ(a.token_ttl, b.token_ttl);
  EXPECT_EQ(a.require_token, b.require_token);
  EXPECT_EQ(a.opens_at, b.opens_at);
  EXPECT_EQ(a.closes_at, b.closes_at);
}

TEST(AssetTest, ExampleTomlParses) {
  absl::StatusOr<EngineConfig> config = parseConfig(readAsset("example.toml"), "example.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sales.size(), 2u);
  for (const SaleSpec& s : config->sales) EXPECT_TRUE(s.validate().ok()) << s.id;
}

// Keeps the documentation in step with the parser: every key appears, set, in
// example.toml and is listed by --help.
TEST(AssetTest, EveryKeyIsDocumented) {
  const std::string example = readAsset("example.toml");
  const std::string help(configKeysHelp());
  for (const char* key :
       {"listen", "threads", "max_connections", "header_timeout", "idle_timeout",
        "max_header_bytes", "max_body_bytes", "cancel_poll", "id", "name", "stock", "opens_at",
        "closes_at", "pay_timeout", "dedup_ttl", "token_ttl", "require_token", "strategy",
        "path", "method", "scope", "algorithm", "rate", "per", "burst", "queue", "warmup",
        "on_limit", "max_wait", "prefix", "mode", "watch", "watch_interval", "window",
        "window_calls", "window_length", "min_calls", "failure_ratio", "slow_ratio", "slow_call",
        "open_for", "probe_calls", "history", "drain_timeout", "leeway", "trusted_proxies", "keep_finished",
        "domain", "max_hits_addend"}) {
    EXPECT_THAT(example, HasSubstr("\n" + std::string(key) + " = ")) << key;
    EXPECT_THAT(help, HasSubstr(key)) << key;
  }
}

TEST(RuleConfigTest, RulesOverridesAndBreakerParse) {
  absl::StatusOr<EngineConfig> config = parse(R"(
[limits]
watch = false
watch_interval = "2s"

[[rule]]
path = "/api/**"
rate = 100000
per = "s"
burst = 1000

[[rule]]
path = "/api/v1/sales/*/orders"
method = "post"
scope = "user"
algorithm = "token_bucket"
rate = 1
per = "s"
burst = 1
warmup = "10s"
on_limit = "queue"
max_wait = "200ms"

[[rule]]
path = "/api/v1/sales/*"
scope = "header:X-Api-Key"
algorithm = "sliding_window"
rate = 50
per = "min"
on_limit = "log"

[[override]]
prefix = "/api/v1"
mode = "dry_run"

[breaker]
mode = "metrics_only"
window = "time"
window_length = "30s"
min_calls = 5
failure_ratio = 0.25
slow_call = "200ms"
open_for = "3s"
)");
  ASSERT_TRUE(config.ok()) << config.status();
  const LimitsConfig& l = config->limits;
  EXPECT_FALSE(l.watch);
  EXPECT_EQ(l.watch_interval, absl::Seconds(2));
  ASSERT_EQ(l.rules.size(), 3u);
  EXPECT_EQ(l.rules[0].path, "/api/**");
  EXPECT_EQ(l.rules[0].scope, ratelimit::ScopeKind::kGlobal);
  EXPECT_EQ(l.rules[0].burst, 1000);
  EXPECT_EQ(l.rules[0].line, 5);
  const ratelimit::RuleSpec& orders = l.rules[1];
  EXPECT_EQ(orders.method, "POST");
  EXPECT_EQ(orders.scope, ratelimit::ScopeKind::kUser);
  EXPECT_EQ(orders.warmup, absl::Seconds(10));
  EXPECT_EQ(orders.on_limit, ratelimit::OnLimit::kQueue);
  EXPECT_EQ(orders.max_wait, absl::Milliseconds(200));
  EXPECT_EQ(l.rules[2].scope, ratelimit::ScopeKind::kHeader);
  EXPECT_EQ(l.rules[2].header, "x-api-key");
  EXPECT_EQ(l.rules[2].per, absl::Minutes(1));
  EXPECT_EQ(l.rules[2].on_limit, ratelimit::OnLimit::kLog);
  ASSERT_EQ(l.overrides.size(), 1u);
  EXPECT_EQ(l.overrides[0].prefix, "/api/v1");
  EXPECT_EQ(l.overrides[0].mode, ratelimit::OverrideMode::kDryRun);
  EXPECT_EQ(config->breaker.mode, ratelimit::CircuitBreaker::Mode::kMetricsOnly);
  EXPECT_EQ(config->breaker.options.window, ratelimit::BreakerOptions::Window::kTime);
  EXPECT_EQ(config->breaker.options.min_calls, 5);
  EXPECT_DOUBLE_EQ(config->breaker.options.failure_ratio, 0.25);
  EXPECT_EQ(config->breaker.options.open_for, absl::Seconds(3));
}

TEST(RuleConfigTest, ZeroRateIsRejectedNamingTheRuleAndLine) {
  std::string e = errorOf(R"(
[[rule]]
path = "/api/**"
rate = 10

[[rule]]
path = "/api/v1/sales/*/orders"
rate = 0
)");
  EXPECT_THAT(e, StartsWith("demo.toml:5: rule 2 (line 5)")) << e;
  EXPECT_THAT(e, HasSubstr("rate")) << e;
}

TEST(RuleConfigTest, BadValuesNameTheirLines) {
  std::string e = errorOf(R"(
[[rule]]
path = "/api/**"
rate = 10
algorithm = "magic"
scope = "planet"
per = "week"
colour = "red"
)");
  EXPECT_THAT(e, HasSubstr("demo.toml:4: rule #1 \"/api/**\": algorithm")) << e;
  EXPECT_THAT(e, HasSubstr("demo.toml:5: rule #1 \"/api/**\": scope")) << e;
  EXPECT_THAT(e, HasSubstr("demo.toml:6: rule #1 \"/api/**\": per")) << e;
  EXPECT_THAT(e, HasSubstr("demo.toml:7: rule #1 \"/api/**\": unknown key \"colour\"")) << e;
}

TEST(RuleConfigTest, ContradictoryUnitsAndMalformedPatternsAreRejected) {
  EXPECT_THAT(errorOf(R"(
[[rule]]
path = "/api/**"
rate = 100
per = "s"

[[rule]]
path = "/api/**"
rate = 50
per = "min"
)"),
              HasSubstr("rule 2 (line 6)"));
  EXPECT_THAT(errorOf(R"(
[[rule]]
path = "api/**/x"
rate = 100
)"),
              HasSubstr("demo.toml:1: rule 1 (line 1)"));
}

TEST(RuleConfigTest, OverrideAndBreakerErrors) {
  std::string e = errorOf(R"(
[[override]]
prefix = "api"
mode = "panic"

[breaker]
mode = "sideways"
failure_ratio = -1
)");
  EXPECT_THAT(e, HasSubstr("demo.toml:2: override #1: prefix")) << e;
  EXPECT_THAT(e, HasSubstr("demo.toml:3: override #1: mode")) << e;
  EXPECT_THAT(e, HasSubstr("demo.toml:6: breaker.mode")) << e;
  EXPECT_THAT(e, HasSubstr("demo.toml:7: breaker.failure_ratio")) << e;
}

}  // namespace
}  // namespace seckill::app

namespace seckill::app {
namespace {

TEST(AdminConfigTest, TheAdminTableParsesAndNamesWhatIsWrong) {
  absl::StatusOr<EngineConfig> c = parseConfig(R"(
[admin]
listen = "0.0.0.0:9443"
tokens = "/etc/seckill/admin.tokens"
state_dir = "/var/lib/seckill"
node_id = "node-7"
tls_cert = "a.pem"
tls_key = "a.key"
tls_client_ca = "ca.pem"
history = "2h"
)",
                                               "e.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->admin.listen, "0.0.0.0:9443");
  EXPECT_EQ(c->admin.tokens, "/etc/seckill/admin.tokens");
  EXPECT_EQ(c->admin.state_dir, "/var/lib/seckill");
  EXPECT_EQ(c->admin.node_id, "node-7");
  EXPECT_EQ(c->admin.history, absl::Hours(2));
  EXPECT_EQ(parseConfig("", "e.toml")->admin.listen, "127.0.0.1:9090");

  auto error = [](std::string_view text) {
    absl::StatusOr<EngineConfig> bad = parseConfig(text, "e.toml");
    return bad.ok() ? std::string("OK") : std::string(bad.status().message());
  };
  EXPECT_THAT(error("[admin]\nlisten = \"nowhere\"\n"), HasSubstr("e.toml:2: admin.listen"));
  EXPECT_THAT(error("[admin]\ntls_cert = \"a.pem\"\n"),
              HasSubstr("admin.tls_cert needs tls_cert and tls_key together"));
  EXPECT_THAT(error("[admin]\ntls_client_ca = \"ca.pem\"\n"), HasSubstr("mutual TLS is TLS first"));
  EXPECT_THAT(error("[admin]\nhistory = \"10m\"\n"), HasSubstr("between 1h and 24h"));
  EXPECT_THAT(error("[admin]\nnode_id = \"a b\"\n"), HasSubstr("admin.node_id"));
  EXPECT_THAT(error("[admin]\ntokens = \"\"\n"), HasSubstr("must not be empty"));
  EXPECT_THAT(error("[admin]\ntoken = \"x\"\n"), HasSubstr("unknown key admin.token"));
}

TEST(ConfigTest, KeepFinishedBoundsTheMemoryOrders) {
  absl::StatusOr<EngineConfig> c = parseConfig("[orders]\nkeep_finished = \"30m\"\n", "e.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->orders.keep_finished, absl::Minutes(30));
  EXPECT_EQ(parseConfig("", "e.toml")->orders.keep_finished, absl::Hours(1));
  absl::StatusOr<EngineConfig> bad = parseConfig("[orders]\nkeep_finished = \"10s\"\n", "e.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("e.toml:2: orders.keep_finished must be at least 1m"));
}

TEST(IdentityConfigTest, TheIdentityTableParses) {
  absl::StatusOr<EngineConfig> c = parseConfig(R"(
[identity]
kind = "jwt"
public_key_file = "/etc/seckill/jwt.pub"
issuer = "https://login.example"
audience = "seckill"
user_claim = "uid"
leeway = "5s"
trusted_proxies = ["10.0.0.0/8", "::1"]
)",
                                               "e.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->identity.kind, identity::IdentityKind::kJwt);
  EXPECT_EQ(c->identity.public_key_file, "/etc/seckill/jwt.pub");
  EXPECT_EQ(c->identity.public_key_file_line, 4);
  EXPECT_EQ(c->identity.issuer, "https://login.example");
  EXPECT_EQ(c->identity.audience, "seckill");
  EXPECT_EQ(c->identity.user_claim, "uid");
  EXPECT_EQ(c->identity.leeway, absl::Seconds(5));
  EXPECT_EQ(c->identity.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  // Absent: today's behaviour.
  absl::StatusOr<EngineConfig> none = parseConfig("", "e.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->identity.kind, identity::IdentityKind::kNone);
  EXPECT_FALSE(none->identity.present);
}

TEST(IdentityConfigTest, WhatIsWrongIsNamedWithItsLine) {
  auto error = [](std::string_view text) {
    absl::StatusOr<EngineConfig> bad = parseConfig(text, "e.toml");
    return bad.ok() ? std::string("OK") : std::string(bad.status().message());
  };
  EXPECT_THAT(error("[identity]\nkind = \"oauth\"\n"),
              HasSubstr("e.toml:2: identity.kind: unknown identity kind \"oauth\""));
  EXPECT_THAT(error("[identity]\nkind = \"jwt\"\n"),
              HasSubstr("e.toml:2: identity.kind: kind = \"jwt\" needs exactly one of"));
  EXPECT_THAT(error("[identity]\nkind = \"jwt\"\nsecret_file = \"a\"\npublic_key_file = \"b\"\n"),
              HasSubstr("e.toml:4: identity.public_key_file: kind = \"jwt\" needs exactly one"));
  EXPECT_THAT(error("[identity]\nkind = \"hmac\"\n"),
              HasSubstr("identity.kind: kind = \"hmac\" needs secret_file"));
  EXPECT_THAT(error("[identity]\nkind = \"header\"\n"),
              HasSubstr("identity.kind: kind = \"header\" needs trusted_proxies"));
  EXPECT_THAT(error("[identity]\nsecret_file = \"s\"\n"),
              HasSubstr("e.toml:2: identity.secret_file is for kind = \"jwt\" or \"hmac\""));
  EXPECT_THAT(error("[identity]\nkind = \"hmac\"\nsecret_file = \"s\"\nissuer = \"x\"\n"),
              HasSubstr("e.toml:4: identity.issuer is for kind = \"jwt\""));
  EXPECT_THAT(error("[identity]\nkind = \"jwt\"\nsecret_file = \"s\"\nheader = \"x\"\n"),
              HasSubstr("e.toml:4: identity.header is for kind"));
  EXPECT_THAT(error("[identity]\ntrusted_proxies = [\"10.0.0.0/33\"]\n"),
              HasSubstr("e.toml:2: identity.trusted_proxies: \"10.0.0.0/33\" is not an address"));
  EXPECT_THAT(error("[identity]\ntrusted_proxies = \"10.0.0.0/8\"\n"),
              HasSubstr("identity.trusted_proxies must be an array"));
  EXPECT_THAT(error("[identity]\nleeway = \"1h\"\n"), HasSubstr("identity.leeway must be at most 10m"));
  EXPECT_THAT(error("[identity]\nsecret = \"x\"\n"), HasSubstr("unknown key identity.secret"));
  EXPECT_EQ(error("[identity]\nleeway = \"0s\"\n"), "OK");
}

TEST(RuleFileTest, ARuleFileHoldsOnlyRulesAndOverridesAndRoundTrips) {
  const std::string text = R"(
[[rule]]
path = "/api/v1/sales/*/orders"
method = "POST"
scope = "user"
rate = 5
burst = 10

[[rule]]
id = "storm guard"
path = "/api/**"
algorithm = "leaky_bucket"
rate = 1000
queue = 50
on_limit = "queue"
max_wait = "250ms"

[[override]]
prefix = "/api/v1/orders/"
mode = "dry_run"
)";
  absl::StatusOr<control::RuleDocument> doc = parseRuleFile(text, "rules.toml");
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->rules.size(), 2u);
  EXPECT_EQ(doc->rules[0].id, "POST /api/v1/sales/*/orders user /s");
  EXPECT_EQ(doc->rules[1].id, "storm guard");
  EXPECT_EQ(doc->overrides[0].prefix, "/api/v1/orders");
  const std::string written = formatRuleFile(*doc);
  EXPECT_THAT(written, ::testing::Not(HasSubstr("id = \"POST")))
      << "a default id is not written out";
  EXPECT_THAT(written, HasSubstr("id = \"storm guard\""));
  absl::StatusOr<control::RuleDocument> again = parseRuleFile(written, "again.toml");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << written;
  EXPECT_TRUE(control::sameContent(*doc, *again)) << written;

  std::vector<ratelimit::RuleProblem> problems;
  absl::StatusOr<control::RuleDocument> bad = parseRuleFile(
      "[http]\nthreads = 2\n\n[[rule]]\npath = \"/x\"\nrate = 1\n", "r.toml", &problems);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("r.toml:1: \"http\": a rule file holds only [[rule]] and [[override]] tables"));
  problems.clear();
  bad = parseRuleFile("[[rule]]\npath = \"/x\"\nrate = 1\n\n[[rule]]\npath = \"/y\"\nrate = 0\n",
                      "r.toml", &problems);
  ASSERT_FALSE(bad.ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].index, 1);
  EXPECT_EQ(problems[0].field, "rate");
  EXPECT_EQ(problems[0].line, 5);
  EXPECT_THAT(bad.status().message(), HasSubstr("r.toml:5:"));
}

}  // namespace
}  // namespace seckill::app
