#include "bench/load/options.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "bench/load/text_parse.h"

namespace seckill::load {
namespace {

bool isIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// The engine's id rule: 1-64 chars of [A-Za-z0-9_-].
bool isValidId(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (!isIdChar(c)) return false;
  }
  return true;
}

absl::Status bad(std::string_view message) { return absl::InvalidArgumentError(av(message)); }

constexpr size_t kMaxUserPrefix = 32;  // leaves room for "-<worker>-<counter>" within 64
constexpr int kMaxThreads = 256;
constexpr int kMaxConnections = 60000;
constexpr double kMaxDurationS = 24 * 3600;

constexpr std::string_view kDescription =
    "seckill-load: drives the seckill shopper API with flash-sale traffic and checks the sale "
    "afterwards.\n"
    "Each attempt is POST /api/v1/sales/{sale}/orders by one user (after POST .../tokens with "
    "--token).\n"
    "Meant for loopback or your own hosts only: it sends requests to --url and nowhere else, and "
    "stops\n"
    "by itself after --duration plus at most --drain.";

constexpr std::string_view kFooter =
    R"(Traffic shapes (--shape), rates in attempts per second over all threads:
  steady:RATE             RATE/s for the whole run (RATE > 0)
  ramp:FROM:TO            linear from FROM/s to TO/s over --duration
  spike:BASE:PEAK:AT:LEN  BASE/s, PEAK/s from AT for LEN (e.g. spike:100:1000:5s:5s)
  replay:FILE             one rate per line per second ('#' comments); the duration defaults
                          to the file's length
  max                     closed loop: every connection sends its next attempt as soon as
                          the previous one is answered
Rate shapes are open loop: attempts are due at fixed times and their latency counts from
that time, so a busy server's queueing shows (no coordinated omission). When every
connection is busy, due attempts wait in a client-side queue; attempts still queued at the
end count as offered but not sent.

Output: a summary on stdout, a progress line on stderr each second, and with --csv a
per-second series: second,offered,sent,201,409,410,429,503,other,p50_ms,p99_ms,errors
(rows by the second an attempt was due; latencies of answered attempts).

End-of-run checks (through the API): the sale's stock within bounds, no more 201s than units
sold (plus units cancelled during the run, from /metrics), at most one live order per user
among this run's 201s, counts that add up.

Exit codes: 0 OK, 1 target unreachable or sale unknown at start, 2 bad arguments,
3 a check failed.)";

struct Cli {
  CLI::App app{std::string(kDescription), "seckill-load"};
  RawOptions raw;
  uint64_t seed = 0;
  CLI::Option* seed_opt = nullptr;
  CLI::Option* duration_opt = nullptr;

  Cli() {
    app.footer(std::string(kFooter));
    app.get_formatter()->column_width(34);
    app.add_option("--url", raw.url, "The engine, http://HOST[:PORT]")->capture_default_str();
    app.add_option("--sale", raw.sale, "The sale id to buy from")->required();
    app.add_option("--threads", raw.threads, "Worker threads, each with its own io_context")
        ->capture_default_str();
    app.add_option("--connections", raw.connections,
                   "Keep-alive connections IN TOTAL, spread evenly over the threads "
                   "(at least one per thread)")
        ->capture_default_str();
    app.add_option("--users", raw.users,
                   "fresh: a new user per attempt; pool:N: users drawn at random from N "
                   "(repeats exercise dedup)")
        ->capture_default_str();
    app.add_flag("--token", raw.token,
                 "Fetch a token before each order; send it as Idempotency-Key");
    app.add_option("--pay-fraction", raw.pay_fraction,
                   "Pay this fraction of the 201 orders, abandon the rest (0..1)")
        ->capture_default_str();
    app.add_option("--shape", raw.shape, "Traffic shape (see below)")->capture_default_str();
    duration_opt = app.add_option("--duration", raw.duration, "How long to send (10s, 2m, ...)")
                       ->capture_default_str();
    app.add_option("--drain", raw.drain,
                   "After the duration, how long in-flight requests may still finish")
        ->capture_default_str();
    app.add_option("--timeout", raw.timeout, "Per-request timeout (an error when it expires)")
        ->capture_default_str();
    app.add_option("--csv", raw.csv, "Write the per-second series to this file");
    app.add_option("--user-prefix", raw.user_prefix,
                   "Prefix of user ids (default: made up per run, so runs never share users)");
    seed_opt = app.add_option("--seed", seed, "Seed of the pool draws (default: random)");
    app.add_flag("--no-progress", raw.no_progress, "No progress line on stderr");
    app.add_option("--identity", raw.identity,
                   "none: X-User-Id as is; jwt:SECRET_FILE: an HS256 JWT per shopper in "
                   "Authorization; hmac:SECRET_FILE: a signed X-User-Id (the engine's "
                   "[identity], docs/identity.md)")
        ->capture_default_str();
    app.add_option("--max-order-lookups", raw.max_order_lookups,
                   "At most this many GET /orders/{id} in the one-order-per-user check")
        ->capture_default_str();
  }
};

}  // namespace

std::string TargetUrl::text() const { return absl::StrCat("http://", hostHeader()); }

std::string TargetUrl::hostHeader() const {
  // An IPv6 address goes in brackets (RFC 3986 host, RFC 9110 Host).
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<TargetUrl> parseTargetUrl(std::string_view url) {
  auto badUrl = [&](std::string_view why) {
    return bad(absl::StrCat("--url \"", av(url), "\": ", av(why)));
  };
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://")) return badUrl("https is not supported, use http://");
  if (!url.starts_with(kScheme)) return badUrl("expected http://HOST[:PORT]");
  std::string_view rest = url.substr(kScheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return badUrl("only http://HOST[:PORT] is accepted (no path, query or fragment)");
  }
  if (rest.find('@') != std::string_view::npos) return badUrl("user info is not supported");

  TargetUrl t;
  std::string_view port_text;
  if (rest.starts_with('[')) {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return badUrl("unterminated [IPv6 address]");
    t.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return badUrl("expected :PORT after the address");
      port_text = after.substr(1);
      if (port_text.empty()) return badUrl("empty port");
    }
  } else {
    const size_t colon = rest.find(':');
    t.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return badUrl("empty port");
    }
  }
  if (t.host.empty()) return badUrl("no host");
  for (char c : t.host) {
    if (!(isIdChar(c) || c == '.' || c == ':')) {
      return badUrl(absl::StrCat("invalid character '", std::string(1, c), "' in the host"));
    }
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return badUrl(absl::StrCat("port \"", av(port_text), "\" is not a number in 1..65535"));
    }
    t.port = static_cast<uint16_t>(port);
  }
  return t;
}

absl::StatusOr<UserSpec> parseUserSpec(std::string_view text) {
  if (text == "fresh") return UserSpec{.mode = UserMode::kFresh};
  if (text.starts_with("pool:")) {
    std::string_view n = text.substr(5);
    int64_t size = 0;
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), size);
    if (ec != std::errc() || end != n.data() + n.size() || n.empty()) {
      return bad(absl::StrCat("--users \"", av(text), "\": N must be a whole number"));
    }
    if (size < 1) return bad(absl::StrCat("--users \"", av(text), "\": the pool needs N >= 1"));
    return UserSpec{.mode = UserMode::kPool, .pool_size = size};
  }
  return bad(absl::StrCat("--users \"", av(text), "\": expected fresh or pool:N"));
}

int LoadOptions::connectionsOf(int index) const {
  const int base = connections / threads;
  return base + (index < connections % threads ? 1 : 0);
}

absl::StatusOr<LoadOptions> validateOptions(const RawOptions& raw, const FileReader& read_file) {
  LoadOptions o;
  absl::StatusOr<TargetUrl> url = parseTargetUrl(raw.url);
  if (!url.ok()) return url.status();
  o.url = *std::move(url);

  if (raw.sale.empty()) return bad("--sale is required");
  if (!isValidId(raw.sale, 64)) {
    return bad(absl::StrCat("--sale \"", raw.sale, "\": must be 1-64 chars of [A-Za-z0-9_-]"));
  }
  o.sale = raw.sale;

  if (raw.threads < 1 || raw.threads > kMaxThreads) {
    return bad(absl::StrCat("--threads ", raw.threads, ": must be 1..", kMaxThreads));
  }
  if (raw.connections < raw.threads || raw.connections > kMaxConnections) {
    return bad(absl::StrCat("--connections ", raw.connections, ": must be ", raw.threads, "..",
                            kMaxConnections, " (a total, at least one per thread)"));
  }
  o.threads = raw.threads;
  o.connections = raw.connections;

  absl::StatusOr<UserSpec> users = parseUserSpec(raw.users);
  if (!users.ok()) return users.status();
  o.users = *users;
  o.token = raw.token;

  if (!(raw.pay_fraction >= 0 && raw.pay_fraction <= 1)) {  // also rejects NaN
    return bad(absl::StrCat("--pay-fraction ", raw.pay_fraction, ": must be within [0, 1]"));
  }
  o.pay_fraction = raw.pay_fraction;

  absl::StatusOr<double> duration = parseDurationSeconds(raw.duration, "--duration");
  if (!duration.ok()) return duration.status();
  if (*duration <= 0 || *duration > kMaxDurationS) {
    return bad(absl::StrCat("--duration ", raw.duration, ": must be > 0 and at most 24h"));
  }
  o.duration_s = *duration;
  absl::StatusOr<double> drain = parseDurationSeconds(raw.drain, "--drain");
  if (!drain.ok()) return drain.status();
  if (*drain > 3600) return bad(absl::StrCat("--drain ", raw.drain, ": at most 1h"));
  o.drain_s = *drain;
  absl::StatusOr<double> timeout = parseDurationSeconds(raw.timeout, "--timeout");
  if (!timeout.ok()) return timeout.status();
  if (*timeout <= 0 || *timeout > 3600) {
    return bad(absl::StrCat("--timeout ", raw.timeout, ": must be > 0 and at most 1h"));
  }
  o.timeout_s = *timeout;

  absl::StatusOr<ShapeSpec> shape = parseShapeSpec(raw.shape);
  if (!shape.ok()) return shape.status();
  o.shape = *std::move(shape);
  if (o.shape.kind == ShapeKind::kReplay) {
    absl::StatusOr<std::string> text = read_file(o.shape.file);
    if (!text.ok()) {
      return bad(absl::StrCat("--shape replay: cannot read \"", o.shape.file,
                              "\": ", text.status().message()));
    }
    absl::StatusOr<std::vector<double>> rates = parseRateFile(*text);
    if (!rates.ok()) {
      return bad(absl::StrCat("--shape replay \"", o.shape.file, "\": ", rates.status().message()));
    }
    o.shape.per_second = *std::move(rates);
    if (!raw.duration_given) o.duration_s = static_cast<double>(o.shape.per_second.size());
  }
  if (o.shape.openLoop()) {
    // The schedule's own checks (a spike after the end, ...).
    if (auto s = ArrivalSchedule::create(o.shape, o.duration_s); !s.ok()) return s.status();
  }

  if (!raw.user_prefix.empty() && !isValidId(raw.user_prefix, kMaxUserPrefix)) {
    return bad(absl::StrCat("--user-prefix \"", raw.user_prefix, "\": must be 1-", kMaxUserPrefix,
                            " chars of [A-Za-z0-9_-]"));
  }
  o.user_prefix = raw.user_prefix;
  o.seed = raw.seed;
  o.csv_path = raw.csv;
  o.progress = !raw.no_progress;
  if (raw.max_order_lookups < 0) {
    return bad(absl::StrCat("--max-order-lookups ", raw.max_order_lookups, ": must be >= 0"));
  }
  o.max_order_lookups = raw.max_order_lookups;
  absl::StatusOr<IdentitySpec> identity = parseIdentitySpec(raw.identity);
  if (!identity.ok()) return identity.status();
  o.identity = *identity;
  if (o.identity.mode != IdentityMode::kNone) {
    absl::StatusOr<std::string> secret = read_file(o.identity.secret_file);
    if (!secret.ok()) {
      return bad(absl::StrCat("--identity: cannot read \"", o.identity.secret_file,
                              "\": ", secret.status().message()));
    }
    if (secret->empty()) {
      return bad(absl::StrCat("--identity: \"", o.identity.secret_file, "\" is empty"));
    }
    o.identity_secret = *std::move(secret);
  }
  return o;
}

CommandLine parseCommandLine(const std::vector<std::string>& args, const FileReader& read_file) {
  Cli cli;
  std::vector<const char*> argv;
  argv.reserve(args.size() + 1);
  argv.push_back("seckill-load");
  for (const std::string& a : args) argv.push_back(a.c_str());

  CommandLine out;
  try {
    cli.app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      out.action = CommandLine::Action::kHelp;
      out.text = cli.app.help();
      return out;
    }
    out.action = CommandLine::Action::kError;
    out.text = absl::StrCat("seckill-load: ", e.what(), "\nRun 'seckill-load --help' for usage.\n");
    return out;
  }
  if (cli.seed_opt->count() > 0) cli.raw.seed = cli.seed;
  cli.raw.duration_given = cli.duration_opt->count() > 0;

  absl::StatusOr<LoadOptions> options = validateOptions(cli.raw, read_file);
  if (!options.ok()) {
    out.action = CommandLine::Action::kError;
    out.text = absl::StrCat("seckill-load: ", options.status().message(),
                            "\nRun 'seckill-load --help' for usage.\n");
    return out;
  }
  out.action = CommandLine::Action::kRun;
  out.options = *std::move(options);
  return out;
}

std::string helpText() {
  Cli cli;
  return cli.app.help();
}

}  // namespace seckill::load
