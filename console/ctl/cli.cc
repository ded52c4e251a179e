#include "console/ctl/cli.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "console/client/admin_client.h"
#include "console/ctl/args.h"
#include "console/ctl/commands.h"

namespace seckill::ctl {
namespace {

// Where the engine package keeps its operator token (root only).
constexpr char kPackagedTokenFile[] = "/etc/seckill/admin.tokens";

using Action = std::function<absl::Status(Context&)>;

// A CLI11 check made of one of args.h's parsers: the parser's message on failure.
template <class Parse>
CLI::Validator checkWith(Parse parse, const std::string& name) {
  return CLI::Validator(
      [parse](std::string& text) -> std::string {
        auto parsed = parse(text);
        return parsed.ok() ? std::string() : std::string(parsed.status().message());
      },
      name, name);
}

// The value a checked option holds (the check has passed, so this cannot fail).
template <class T>
T valueOf(absl::StatusOr<T> parsed) {
  return *std::move(parsed);
}

// Every value the command line can hold. One command runs, so commands share the fields.
struct Values {
  // global
  std::string engine = "127.0.0.1:9090";
  std::string token_file;
  bool json = false;
  bool tls = false;
  std::string tls_ca, tls_cert, tls_key, tls_server_name;
  std::string timeout = "10s";
  // commands
  bool follow = false;
  std::string since, until;
  std::string id, path, method, file, mode, prefix, name, comment, stock_change, sale, user, author,
      opens_at, closes_at, strategy, pay_timeout, max_wait;
  uint64_t version = 0, to_version = 0, expect_version = 0;
  int limit = 100;         // orders list, audit
  int versions_limit = 0;  // rules versions: 0 = the engine's default
  bool all = false;
  int64_t stock = 0;
  bool require_token = false;
};

// The options every change takes.
void addChangeOptions(CLI::App* cmd, Values& v, CLI::Option** expect) {
  *expect = cmd->add_option("--expect-version", v.expect_version,
                            "The rule-set version the change is based on (ABORTED, exit 4, if "
                            "it is no longer the running one)");
  cmd->add_option("--comment", v.comment, "What was done and why, for the audit log");
}

ChangeArgs changeArgs(const CLI::Option* expect, const Values& v) {
  ChangeArgs c;
  if (expect != nullptr && expect->count() > 0) c.expect_version = v.expect_version;
  c.comment = v.comment;
  return c;
}

// Builds the command tree: each leaf's callback (run after parsing) stores in `action` what the
// command does. One command runs, so leaves share the fields of `v`.
struct Commands {
  Values& v;
  Action& action;
  const Environment& env;
  absl::Time now;  // of "--since 10m"
  CLI::Validator duration;
  CLI::Validator instant_check;
  CLI::Validator rfc3339;

  absl::StatusOr<absl::Time> at(const std::string& text) const { return parseInstant(text, now); }

  void addStatus(CLI::App& app);
  void addStats(CLI::App& app);
  void addRules(CLI::App& app);
  void addOverride(CLI::App& app);
  void addRuleMode(CLI::App& app);
  void addBreaker(CLI::App& app);
  void addSales(CLI::App& app);
  void addOrders(CLI::App& app);
  void addAudit(CLI::App& app);
};

void Commands::addStatus(CLI::App& app) {
  app.add_subcommand("status",
                     "The engine at a glance: version, node, uptime, rules, sales, "
                     "breakers, and your role")
      ->callback([&] { action = [](Context& c) { return showStatus(c); }; });
}

void Commands::addStats(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "stats", "Per-second stats: the history the engine holds, or a live stream");
  cmd->add_flag("--follow,-f", v.follow, "Keep streaming new seconds (reconnects on its own)");
  cmd->add_option("--since", v.since, "Only seconds after this: 10m (ago) or RFC 3339")
      ->check(instant_check);
  cmd->callback([&] {
    StatsArgs a;
    a.follow = v.follow;
    if (!v.since.empty()) a.since = valueOf(at(v.since));
    action = [a](Context& c) { return showStats(c, a); };
  });
}

void Commands::addRules(CLI::App& app) {
  CLI::App* rules = app.add_subcommand("rules", "The rate-limit rule set");
  rules->require_subcommand(1);

  rules->add_subcommand("list", "The rule trie with each rule's live counters")->callback([&] {
    action = [](Context& c) { return listRules(c); };
  });

  CLI::App* get = rules->add_subcommand("get", "The rules at a path pattern, or by id");
  get->add_option("PATH", v.path, "The path pattern, exactly as in the rule");
  get->add_option("--method", v.method, "With PATH: only this method's rules");
  get->add_option("--id", v.id, "The rule with this id (instead of PATH)");
  get->callback([&] {
    action = [&v = v](Context& c) {
      if (v.id.empty() == v.path.empty()) return usageError("rules get: give PATH or --id ID");
      if (!v.id.empty() && !v.method.empty()) {
        return usageError("rules get: --method goes with PATH, not --id");
      }
      return getRules(c, RuleSelector{v.id, v.path, v.method});
    };
  });

  CLI::App* validate = rules->add_subcommand(
      "validate", "Checks a rule file with the engine's validation; applies nothing");
  validate->add_option("FILE", v.file, "[[rule]] / [[override]] TOML; - for stdin")->required();
  validate->callback([&] {
    action = [&v = v, &env = env](Context& c) {
      return validateRules(c, v.file, env.in ? *env.in : std::cin);
    };
  });

  CLI::App* apply =
      rules->add_subcommand("apply", "Replaces the running rule set with a file's (a new version)");
  apply->add_option("FILE", v.file, "[[rule]] / [[override]] TOML; - for stdin")->required();
  CLI::Option* apply_expect = nullptr;
  addChangeOptions(apply, v, &apply_expect);
  apply->callback([&, apply_expect] {
    const ChangeArgs change = changeArgs(apply_expect, v);
    action = [&v = v, &env = env, change](Context& c) {
      return applyRules(c, v.file, env.in ? *env.in : std::cin, change);
    };
  });

  CLI::App* diff = rules->add_subcommand("diff", "What changed from version A to version B");
  diff->add_option("A", v.version, "From this version")->required();
  diff->add_option("B", v.to_version, "To this version (0: the running one)")->required();
  diff->callback(
      [&] { action = [&v = v](Context& c) { return diffRules(c, v.version, v.to_version); }; });

  CLI::App* versions = rules->add_subcommand("versions", "The kept versions, newest first");
  versions->add_option("--limit", v.versions_limit, "At most this many (default: the engine's, 50)")
      ->check(CLI::Range(0, 100000));
  versions->callback(
      [&] { action = [&v = v](Context& c) { return listVersions(c, v.versions_limit); }; });

  CLI::App* rollback =
      rules->add_subcommand("rollback", "Makes kept version N current again (as a new version)");
  rollback->add_option("N", v.to_version, "The version to go back to")->required();
  CLI::Option* rollback_expect = nullptr;
  addChangeOptions(rollback, v, &rollback_expect);
  rollback->callback([&, rollback_expect] {
    const ChangeArgs change = changeArgs(rollback_expect, v);
    action = [&v = v, change](Context& c) { return rollbackRules(c, v.to_version, change); };
  });

  CLI::App* exp = rules->add_subcommand("export", "A version's rule set as TOML, to stdout");
  exp->add_option("--version", v.version, "The version (default: the running one)");
  exp->callback([&] { action = [&v = v](Context& c) { return exportRules(c, v.version); }; });
}

void Commands::addOverride(CLI::App& app) {
  CLI::App* ov = app.add_subcommand("override", "Prefix overrides: dry_run, shed, none");
  ov->require_subcommand(1);
  ov->add_subcommand("list", "The overrides of the running rule set")->callback([&] {
    action = [](Context& c) { return listOverrides(c); };
  });

  CLI::App* set = ov->add_subcommand("set", "Sets the mode of a path prefix (a new version)");
  set->add_option("PREFIX", v.prefix, "The path prefix, \"/\" for every path")->required();
  set->add_option("MODE", v.mode, "dry_run | shed | none")
      ->required()
      ->check(checkWith([](const std::string& s) { return parseOverrideMode(s); }, "MODE"));
  CLI::Option* set_expect = nullptr;
  addChangeOptions(set, v, &set_expect);
  set->callback([&, set_expect] {
    const ChangeArgs change = changeArgs(set_expect, v);
    const v1::OverrideMode mode = valueOf(parseOverrideMode(v.mode));
    action = [&v = v, mode, change](Context& c) { return setOverride(c, v.prefix, mode, change); };
  });

  CLI::App* clear = ov->add_subcommand("clear", "Removes a prefix's override (a new version)");
  clear->add_option("PREFIX", v.prefix, "The path prefix")->required();
  CLI::Option* clear_expect = nullptr;
  addChangeOptions(clear, v, &clear_expect);
  clear->callback([&, clear_expect] {
    const ChangeArgs change = changeArgs(clear_expect, v);
    action = [&v = v, change](Context& c) { return clearOverride(c, v.prefix, change); };
  });
}

void Commands::addRuleMode(CLI::App& app) {
  CLI::App* rm = app.add_subcommand("rule-mode", "The on-limit mode of rules");
  rm->require_subcommand(1);
  CLI::App* set = rm->add_subcommand(
      "set", "Switches the rules at PATH (or the rule --id ID) to reject, queue or log");
  set->add_option("PATH", v.path, "The rules' path pattern (leave out with --id)");
  set->add_option("MODE", v.mode, "reject | queue | log");
  set->add_option("--method", v.method, "With PATH: only this method's rules");
  set->add_option("--id", v.id, "The rule with this id (then MODE alone)");
  set->add_option("--max-wait", v.max_wait, "queue: how long a request may wait, e.g. 200ms")
      ->check(duration);
  CLI::Option* expect = nullptr;
  addChangeOptions(set, v, &expect);
  set->callback([&, expect] {
    const ChangeArgs change = changeArgs(expect, v);
    action = [&v = v, change](Context& c) {
      RuleModeArgs a;
      a.change = change;
      std::string mode = v.mode;
      if (!v.id.empty()) {
        // With --id the one word given is MODE (CLI11 puts it into PATH).
        if (!v.mode.empty()) return usageError("rule-mode set: with --id give MODE alone");
        if (!v.method.empty()) return usageError("rule-mode set: --method goes with PATH");
        mode = v.path;
        a.rule.id = v.id;
      } else {
        a.rule.path = v.path;
        a.rule.method = v.method;
      }
      if (mode.empty()) return usageError("rule-mode set: give PATH MODE, or --id ID MODE");
      absl::StatusOr<v1::OnLimit> m = parseOnLimit(mode);
      if (!m.ok()) return usageError(absl::StrCat("rule-mode set: ", m.status().message()));
      a.mode = *m;
      if (!v.max_wait.empty()) {
        if (a.mode != v1::QUEUE) return usageError("rule-mode set: --max-wait goes with queue");
        a.max_wait = valueOf(parseDuration(v.max_wait));
      }
      return setRuleMode(c, a);
    };
  });
}

void Commands::addBreaker(CLI::App& app) {
  CLI::App* br = app.add_subcommand("breaker", "Circuit breakers");
  br->require_subcommand(1);
  br->add_subcommand("list", "Every breaker: state, mode, window counts")->callback([&] {
    action = [](Context& c) { return listBreakers(c); };
  });
  CLI::App* set = br->add_subcommand("set", "Forces a breaker's mode, or hands it back");
  set->add_option("NAME", v.name, "The breaker (stock_store, order_store, ...)")->required();
  set->add_option("MODE", v.mode, "automatic | forced_open | disabled | metrics_only")
      ->required()
      ->check(checkWith([](const std::string& s) { return parseBreakerMode(s); }, "MODE"));
  set->add_option("--comment", v.comment, "What was done and why, for the audit log");
  set->callback([&] {
    const v1::BreakerMode mode = valueOf(parseBreakerMode(v.mode));
    action = [&v = v, mode](Context& c) { return setBreakerMode(c, v.name, mode, v.comment); };
  });
}

void Commands::addSales(CLI::App& app) {
  CLI::App* sales = app.add_subcommand("sales", "Flash sales");
  sales->require_subcommand(1);
  sales->add_subcommand("list", "Every sale: state, stock, window")->callback([&] {
    action = [](Context& c) { return listSales(c); };
  });

  CLI::App* get = sales->add_subcommand("get", "One sale");
  get->add_option("ID", v.id, "The sale's id")->required();
  get->callback([&] { action = [&v = v](Context& c) { return getSale(c, v.id); }; });

  CLI::App* create = sales->add_subcommand("create", "A new sale, served at once");
  create->add_option("ID", v.id, "The sale's id")->required();
  create->add_option("--stock", v.stock, "The units for sale")
      ->required()
      ->check(CLI::NonNegativeNumber);
  create->add_option("--name", v.name, "Display name (default: the id)");
  create->add_option("--opens-at", v.opens_at, "RFC 3339 (default: open now)")->check(rfc3339);
  create->add_option("--closes-at", v.closes_at, "RFC 3339 (default: never)")->check(rfc3339);
  create->add_option("--strategy", v.strategy, "atomic | fifo | optimistic | counter_gate")
      ->check(checkWith([](const std::string& s) { return parseStrategy(s); }, "STRATEGY"));
  create->add_flag("--require-token", v.require_token, "Shoppers need a purchase token");
  create
      ->add_option("--pay-timeout", v.pay_timeout,
                   "Unpaid orders are cancelled after this "
                   "(default 15m)")
      ->check(duration);
  create->add_option("--comment", v.comment, "What was done and why, for the audit log");
  create->callback([&] {
    CreateSaleArgs a;
    a.id = v.id;
    a.stock = v.stock;
    a.name = v.name;
    if (!v.opens_at.empty()) a.opens_at = valueOf(parseRfc3339(v.opens_at));
    if (!v.closes_at.empty()) a.closes_at = valueOf(parseRfc3339(v.closes_at));
    if (!v.strategy.empty()) a.strategy = valueOf(parseStrategy(v.strategy));
    a.require_token = v.require_token;
    if (!v.pay_timeout.empty()) a.pay_timeout = valueOf(parseDuration(v.pay_timeout));
    a.comment = v.comment;
    action = [a](Context& c) { return createSale(c, a); };
  });

  CLI::App* stock =
      sales->add_subcommand("stock", "Sets a sale's total stock (N), or moves it (+N, -N)");
  stock->add_option("ID", v.id, "The sale's id")->required();
  stock->add_option("N", v.stock_change, "N: the new total; +N / -N: a delta")
      ->required()
      ->check(checkWith([](const std::string& s) { return parseStockChange(s); }, "N"));
  stock->add_option("--comment", v.comment, "What was done and why, for the audit log");
  stock->callback([&] {
    const StockChange change = valueOf(parseStockChange(v.stock_change));
    action = [&v = v, change](Context& c) { return adjustStock(c, v.id, change, v.comment); };
  });

  CLI::App* open = sales->add_subcommand("open", "Opens a sale now");
  open->add_option("ID", v.id, "The sale's id")->required();
  open->add_option("--comment", v.comment, "What was done and why, for the audit log");
  open->callback([&] { action = [&v = v](Context& c) { return openSale(c, v.id, v.comment); }; });

  CLI::App* close = sales->add_subcommand("close", "Closes a sale now");
  close->add_option("ID", v.id, "The sale's id")->required();
  close->add_option("--comment", v.comment, "What was done and why, for the audit log");
  close->callback([&] { action = [&v = v](Context& c) { return closeSale(c, v.id, v.comment); }; });
}

void Commands::addOrders(CLI::App& app) {
  CLI::App* orders = app.add_subcommand("orders", "Orders");
  orders->require_subcommand(1);
  CLI::App* get = orders->add_subcommand("get", "One order");
  get->add_option("ID", v.id, "The order's id")->required();
  get->callback([&] { action = [&v = v](Context& c) { return getOrder(c, v.id); }; });

  CLI::App* list = orders->add_subcommand("list", "A sale's orders, a page at a time");
  list->add_option("--sale", v.sale, "The sale")->required();
  list->add_option("--user", v.user, "Only this shopper's orders");
  list->add_option("--limit", v.limit, "Orders per page (at most 1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  list->add_flag("--all", v.all, "Every page, not only the first");
  list->callback([&] {
    action = [&v = v](Context& c) {
      return listOrders(c, OrderListArgs{v.sale, v.user, v.limit, v.all});
    };
  });
}

void Commands::addAudit(CLI::App& app) {
  CLI::App* audit = app.add_subcommand("audit", "Who changed what, newest first");
  audit->add_option("--since", v.since, "From: 10m (ago) or RFC 3339")->check(instant_check);
  audit->add_option("--until", v.until, "To: 10m (ago) or RFC 3339")->check(instant_check);
  audit->add_option("--author", v.author, "Only this token name's changes");
  audit->add_option("--limit", v.limit, "At most this many entries")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  audit->callback([&] {
    AuditArgs a;
    if (!v.since.empty()) a.since = valueOf(at(v.since));
    if (!v.until.empty()) a.until = valueOf(at(v.until));
    a.author = v.author;
    a.limit = v.limit;
    action = [a](Context& c) { return listAudit(c, a); };
  });
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const Environment& env) {
  const absl::Time now = env.now ? env.now() : absl::Now();
  auto instant = [now](const std::string& s) { return parseInstant(s, now); };
  const CLI::Validator duration =
      checkWith([](const std::string& s) { return parseDuration(s); }, "DURATION");
  const CLI::Validator rfc3339 =
      checkWith([](const std::string& s) { return parseRfc3339(s); }, "RFC3339");

  Values v;
  Action action;
  CLI::App app("seckillctl: watch and steer a seckill engine through its admin API.", "seckillctl");
  app.require_subcommand(1);
  app.fallthrough();  // global options also after the command
  app.set_help_all_flag("--help-all", "Every command's help");
  app.add_option("--engine", v.engine, "The engine's admin listener, HOST:PORT")
      ->capture_default_str();
  app.add_option("--token-file", v.token_file,
                 "A file holding the admin token (its first word; '#' comments skipped); "
                 "default: $SECKILL_TOKEN_FILE, else the packaged service's "
                 "/etc/seckill/admin.tokens when it can be read")
      ->envname("SECKILL_TOKEN_FILE");
  app.add_flag("--json", v.json, "Machine output: one JSON document (JSON lines for streams)");
  app.add_flag("--tls", v.tls, "Connect with TLS (implied by the --tls-* options)");
  app.add_option("--tls-ca", v.tls_ca, "PEM roots to trust (default: the system's)");
  app.add_option("--tls-cert", v.tls_cert, "Client certificate (PEM), for mutual TLS");
  app.add_option("--tls-key", v.tls_key, "The client certificate's key (PEM)");
  app.add_option("--tls-server-name", v.tls_server_name,
                 "The name the engine's certificate must carry (default: the host)");
  app.add_option("--timeout", v.timeout, "Deadline of each call")
      ->check(duration)
      ->capture_default_str();

  Commands commands{v, action, env, now, duration, checkWith(instant, "TIME"), rfc3339};
  commands.addStatus(app);
  commands.addStats(app);
  commands.addRules(app);
  commands.addOverride(app);
  commands.addRuleMode(app);
  commands.addBreaker(app);
  commands.addSales(app);
  commands.addOrders(app);
  commands.addAudit(app);

  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    err << "seckillctl: " << e.what() << "\nRun with --help for more information.\n";
    return kExitUsage;
  }
  if (!action) {
    err << "seckillctl: no command\nRun with --help for more information.\n";
    return kExitUsage;
  }

  absl::Status status = [&]() -> absl::Status {
    client::ConnectOptions options;
    options.target = v.engine;
    options.deadline = valueOf(parseDuration(v.timeout));
    if (options.deadline <= absl::ZeroDuration()) return usageError("--timeout must be positive");
    options.tls = v.tls || !v.tls_ca.empty() || !v.tls_cert.empty() || !v.tls_key.empty() ||
                  !v.tls_server_name.empty();
    options.tls_ca_file = v.tls_ca;
    options.tls_cert_file = v.tls_cert;
    options.tls_key_file = v.tls_key;
    options.tls_server_name = v.tls_server_name;
    if (v.token_file.empty() && ::access(kPackagedTokenFile, R_OK) == 0) {
      v.token_file = kPackagedTokenFile;
    }
    if (!v.token_file.empty()) {
      absl::StatusOr<std::string> token = client::readTokenFile(v.token_file);
      if (!token.ok()) return token.status();
      options.token = *std::move(token);
    }
    absl::StatusOr<std::unique_ptr<client::AdminClient>> client =
        client::AdminClient::create(std::move(options));
    if (!client.ok()) {
      if (client.status().code() == absl::StatusCode::kInvalidArgument) {
        return usageError(std::string(client.status().message()));
      }
      return client.status();
    }
    Context ctx{**client, out, err, v.json, env.tz, env.interrupt};
    absl::Status done = action(ctx);
    if (done.code() == absl::StatusCode::kUnauthenticated && (*client)->options().token.empty()) {
      return absl::UnauthenticatedError(absl::StrCat(
          done.message(), " [no token was sent: give --token-file or set SECKILL_TOKEN_FILE]"));
    }
    return done;
  }();
  out.flush();
  if (!status.ok()) err << errorLine(status) << "\n";
  return exitCode(status);
}

}  // namespace seckill::ctl
