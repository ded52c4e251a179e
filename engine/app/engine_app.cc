#include "engine/app/engine_app.h"

#include <unistd.h>
#include <sys/stat.h>

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/app/identity_setup.h"
#include "engine/app/redis_checks.h"
#include "engine/core/strings.h"
#include "spdlog/spdlog.h"

namespace seckill::app {
namespace {

std::string_view str(absl::string_view s) { return std::string_view(s.data(), s.size()); }
std::string_view str(std::string_view s) { return s; }

uint64_t randomSeed() {
  std::random_device rd;
  const uint64_t high = rd();
  const uint64_t low = rd();
  return (high << 32) ^ low;
}

std::string formatTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string describeSale(const SaleSpec& s) {
  return absl::StrCat(
      "sale \"", s.id, "\" (", s.name, "): stock ", s.stock, ", strategy ",
      av(stockStrategyName(s.strategy)), ", window ", s.opens_at ? formatTime(*s.opens_at) : "now",
      " .. ", s.closes_at ? formatTime(*s.closes_at) : "open-ended", ", pay_timeout ",
      absl::FormatDuration(s.pay_timeout), s.require_token ? ", token required" : "");
}

// "<hostname>:<http port>", unless [admin] node_id names the node.
std::string nodeIdOf(const EngineConfig& config) {
  if (!config.admin.node_id.empty()) return config.admin.node_id;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "engine";
  return absl::StrCat(host, ":", config.http.port);
}

// What the control plane decided on its own goes to the log.
control::Notify logNotices() {
  return [](bool warning, std::string message) {
    if (warning) {
      spdlog::warn("{}", message);
    } else {
      spdlog::info("{}", message);
    }
  };
}

int64_t mtimeNanos(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EngineApp>> EngineApp::create(EngineConfig config,
                                                            std::string config_path,
                                                            EngineOptions options) {
  static SystemClock system_clock;
  const Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  const std::string node_id = nodeIdOf(config);
  // [identity] first: a key file that cannot be read stops the start before any connection.
  absl::StatusOr<std::unique_ptr<identity::ShopperIdentity>> shopper_identity =
      makeShopperIdentity(config);
  if (!shopper_identity.ok()) return shopper_identity.status();

  // The stores follow the catalog's sales, which exist only once the state is read: they ask
  // through this holder.
  auto catalog_holder = std::make_shared<std::atomic<const SaleCatalog*>>(nullptr);
  SaleIdList sale_ids = [catalog_holder] {
    std::vector<std::string> ids;
    if (const SaleCatalog* c = catalog_holder->load(std::memory_order_acquire)) {
      for (const auto& sale : c->all()) ids.push_back(sale->spec.id);
    }
    return ids;
  };
  absl::StatusOr<std::unique_ptr<Backends>> backends = Backends::create(config, sale_ids);
  if (!backends.ok()) return backends.status();

  // The sales: the file's, with the state's changes over them, and those made through the API.
  auto sale_control = std::make_unique<control::SaleControl>(clock, (*backends)->control(),
                                                              (*backends)->store(), node_id,
                                                              logNotices());
  absl::StatusOr<std::vector<SaleSpec>> specs = sale_control->merge(config.sales);
  if (!specs.ok()) {
    return absl::Status(specs.status().code(), absl::StrCat("cannot read the sales in the state: ",
                                                            specs.status().message()));
  }
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create(*std::move(specs));
  if (!catalog.ok()) return catalog.status();
  catalog_holder->store(catalog->get(), std::memory_order_release);

  // One breaker per backend dependency; every transition is logged.
  auto listener = [](const ratelimit::CircuitBreaker::Transition& t) {
    spdlog::warn("circuit breaker {}: {} -> {} ({}){}", str(t.breaker),
                 str(ratelimit::breakerStateName(t.from)), str(ratelimit::breakerStateName(t.to)),
                 str(t.reason), t.metrics_only ? " [metrics only]" : "");
  };
  auto stock = ratelimit::CircuitBreaker::create("stock_store", config.breaker.options, listener);
  if (!stock.ok()) return stock.status();
  auto orders = ratelimit::CircuitBreaker::create("order_store", config.breaker.options, listener);
  if (!orders.ok()) return orders.status();

  const std::string engine_version = options.engine_version;
  std::unique_ptr<EngineApp> app(new EngineApp(
      std::move(config), std::move(config_path), clock, node_id, *std::move(backends),
      *std::move(catalog), std::move(sale_control), *std::move(stock), *std::move(orders)));
  if (absl::Status s = app->sales_.registerSales(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("cannot register the sales with the store: ",
                                               s.message()));
  }

  if (RedisClient* redis = app->backends_->redis()) {
    // Settings of the Redis servers that can lose what the engine acknowledged.
    std::vector<std::string> ids = sale_ids();
    for (const std::string& warning : checkRedisSettings(*redis, ids)) spdlog::warn("{}", warning);
    app->broadcast_ = std::make_unique<SaleBroadcast>(
        *redis, app->config_.store.redis, app->config_.store.redis_auth, *app->catalog_,
        app->backends_->store(), absl::StrCat(absl::Hex(randomSeed())));
    app->sales_.setEvents(app->broadcast_.get());
    app->lifecycle_.setEvents(app->broadcast_.get());
    SaleBroadcast* broadcast = app->broadcast_.get();
    app->sold_out_task_ = std::make_unique<PeriodicTask>(app->config_.store.sold_out_refresh,
                                                         [broadcast] { broadcast->refresh(); });
  }

  // The control state: sales, rules, breaker modes, each as the state and the file say.
  if (absl::Status s = app->sale_control_->start(*app->catalog_, app->broadcast_.get()); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("sales: ", s.message()));
  }
  const control::RuleDocument file_rules{app->config_.limits.rules, app->config_.limits.overrides};
  if (absl::Status s = app->rule_control_.start(file_rules, app->config_path_); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("rules: ", s.message()));
  }
  if (absl::Status s = app->breaker_control_.start(app->config_.breaker.mode); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("breakers: ", s.message()));
  }
  EngineApp* self = app.get();
  // Changes another node made to the shared state arrive here within rule_poll.
  if (absl::Status s = app->backends_->control().watch([self](control::ControlTopic topic) {
        absl::Status followed;
        switch (topic) {
          case control::ControlTopic::kRules: followed = self->rule_control_.follow(); break;
          case control::ControlTopic::kBreakers: followed = self->breaker_control_.follow(); break;
          case control::ControlTopic::kSales: followed = self->sale_control_->follow(); break;
        }
        if (followed.ok()) {
          if (topic == control::ControlTopic::kRules) {
            self->reloads_ok_.fetch_add(1, std::memory_order_relaxed);
            spdlog::info("rules: following version {} from the shared state",
                         self->rule_control_.current().change.version);
          }
        } else {
          if (topic == control::ControlTopic::kRules) {
            self->reloads_failed_.fetch_add(1, std::memory_order_relaxed);
          }
          spdlog::error("cannot follow the shared control state: {}", str(followed.message()));
        }
      });
      !s.ok()) {
    return s;
  }
  // What another node changed between reading the state above and the watch starting.
  for (absl::Status s : {app->rule_control_.follow(), app->breaker_control_.follow(),
                         app->sale_control_->follow()}) {
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("control state: ", s.message()));
  }

  StatsSources sources{
      .clock = app->clock_,
      .catalog = *app->catalog_,
      .store = app->backends_->store(),
      .sales = app->sales_,
      .lifecycle = app->lifecycle_,
      .rules = app->rules_,
      .limiter = app->limiter_,
      .breakers = {app->stock_breaker_.get(), app->order_breaker_.get()},
      .backends = *app->backends_,
      .consumer = app->consumer_,
      .http = [self]() -> http::HttpMetrics* {
        return self->server_ ? &self->server_->metrics() : nullptr;
      },
      .app = [self](EngineStats& out) { self->collectApp(out); },
  };
  app->collector_ = std::make_unique<StatsCollector>(std::move(sources));
  app->sampler_ = std::make_unique<StatsSampler>(
      app->clock_,
      [self](Callback<EngineStats> done) { self->collector_->collect(true, std::move(done)); },
      app->history_);

  app->identity_ = *std::move(shopper_identity);
  http::ShopperApiDeps deps{
      .clock = app->clock_,
      .catalog = *app->catalog_,
      .sales = app->sales_,
      .orders = app->lifecycle_,
      .identity = app->identity_.get(),
      .limiter = &app->limiter_,
      .on_shadow = [self](const ratelimit::Verdict& v) { self->onShadow(v); },
      .collect_stats =
          [self](Callback<EngineStats> done) { self->collector_->collect(false, std::move(done)); },
  };
  absl::StatusOr<std::unique_ptr<http::Server>> server =
      http::Server::create(app->config_.http, std::move(deps));
  if (!server.ok()) {
    return absl::Status(
        server.status().code(),
        absl::StrCat("cannot listen on ",
                     formatListenAddress(app->config_.http.host, app->config_.http.port), ": ",
                     server.status().message()));
  }
  app->server_ = std::move(*server);
  if (absl::Status s = app->startAdmin(engine_version); !s.ok()) return s;
  if (absl::Status s = app->startRls(); !s.ok()) return s;
  return app;
}

EngineApp::EngineApp(EngineConfig config, std::string config_path, const Clock& clock,
                     std::string node_id, std::unique_ptr<Backends> backends,
                     std::unique_ptr<SaleCatalog> catalog,
                     std::unique_ptr<control::SaleControl> sales,
                     std::unique_ptr<ratelimit::CircuitBreaker> stock_breaker,
                     std::unique_ptr<ratelimit::CircuitBreaker> order_breaker)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      clock_(clock),
      started_at_(clock.now()),
      node_id_(std::move(node_id)),
      ids_(randomSeed()),
      backends_(std::move(backends)),
      catalog_(std::move(catalog)),
      sale_control_(std::move(sales)),
      stock_breaker_(std::move(stock_breaker)),
      order_breaker_(std::move(order_breaker)),
      limiter_(rules_, backends_->rateLimitBackend(),
               ratelimit::DistributedOptions{
                   .failure = config_.limits.distributed_failure,
                   .on_backend_error =
                       [](const ratelimit::BackendErrorEvent& e) {
                         spdlog::warn(
                             "rate limit state in Redis unavailable for {}: {} (failing {}; +{} "
                             "not logged)",
                             e.rule, str(e.status.message()),
                             str(ratelimit::failurePolicyName(e.applied)), e.suppressed);
                       }}),
      sales_(clock_, *catalog_, backends_->store(), ids_, stock_breaker_.get()),
      lifecycle_(clock_, *catalog_, backends_->store(), backends_->orders(), order_breaker_.get()),
      consumer_(backends_->cancels(), lifecycle_),
      rule_control_(clock_, backends_->control(), rules_, limiter_, node_id_, logNotices()),
      breaker_control_(clock_, backends_->control(), {stock_breaker_.get(), order_breaker_.get()},
                       node_id_, logNotices()),
      history_(static_cast<size_t>(absl::ToInt64Seconds(config_.admin.history))),
      cancel_task_(config_.orders.cancel_poll, [this] { runCancelConsumer(); }),
      watch_task_(config_.limits.watch_interval, [this] { watchConfig(); }) {}

EngineApp::~EngineApp() { stop(); }

absl::Status EngineApp::startAdmin(const std::string& engine_version) {
  const AdminConfig& a = config_.admin;
  if (a.tokens.empty()) {
    spdlog::warn(
        "admin API off: [admin] tokens is not set (a file of \"<token> <role> <name>\" lines; "
        "see the README's Admin API section)");
    return absl::OkStatus();
  }
  absl::StatusOr<admin::TokenTable> tokens = admin::TokenTable::load(a.tokens);
  if (!tokens.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin tokens: ", tokens.status().message()));
  }
  if (tokens->size() == 0) {
    // An empty file is how a packaged service says "no admin API" (systemd hands the service an
    // empty credential when /etc/seckill/admin.tokens is gone).
    spdlog::warn("admin API off: {} holds no token (add a \"<token> <role> <name>\" line and "
                 "restart)", a.tokens);
    return absl::OkStatus();
  }
  tokens_ = std::make_unique<admin::AdminTokens>(*std::move(tokens));
  admin::AdminServerOptions options;
  options.listen = a.listen;
  options.tls = admin::TlsFiles{.cert = a.tls_cert, .key = a.tls_key, .client_ca = a.tls_client_ca};
  admin::AdminDeps deps{
      .clock = clock_,
      .node = admin::NodeInfo{.engine_version = engine_version,
                              .node_id = node_id_,
                              .started_at = started_at_,
                              .store = backends_->describe(),
                              .state = backends_->control().describe()},
      .rules = rule_control_,
      .breakers = breaker_control_,
      .sales = *sale_control_,
      .state = backends_->control(),
      .registry = rules_,
      .catalog = *catalog_,
      .stock = backends_->store(),
      .orders = backends_->ordersForMetrics(),
      .history = history_,
      .rule_file = admin::RuleFileCodec{
          .parse = [](std::string_view toml, std::vector<ratelimit::RuleProblem>* problems) {
            return parseRuleFile(toml, "rules", problems);
          },
          .format = [](const control::RuleDocument& doc) { return formatRuleFile(doc); }},
  };
  absl::StatusOr<std::unique_ptr<admin::AdminServer>> server =
      admin::AdminServer::start(options, std::move(deps), *tokens_);
  if (!server.ok()) return server.status();
  admin_ = *std::move(server);
  return absl::OkStatus();
}

absl::Status EngineApp::startRls() {
  const RlsConfig& c = config_.rls;
  if (c.listen.empty()) return absl::OkStatus();
  rls::RlsServerOptions options;
  options.listen = c.listen;
  options.mapping = rls::MappingOptions{.domain = c.domain, .max_hits_addend = c.max_hits_addend};
  absl::StatusOr<std::unique_ptr<rls::RlsServer>> server = rls::RlsServer::start(
      options, rls::RlsDeps{.clock = clock_,
                            .limiter = limiter_,
                            .on_shadow = [this](const ratelimit::Verdict& v) { onShadow(v); }});
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("rls: ", server.status().message()));
  }
  rls_ = *std::move(server);
  return absl::OkStatus();
}

void EngineApp::start() {
  if (started_ || stopped_) return;
  started_ = true;
  backends_->start();
  cancel_task_.start();
  {
    // The file as loaded is the baseline the watch compares against.
    absl::MutexLock lock(&reload_mu_);
    struct stat st;
    if (!config_path_.empty() && ::stat(config_path_.c_str(), &st) == 0) {
      watched_mtime_ns_ = mtimeNanos(st);
      watched_size_ = st.st_size;
    }
  }
  watch_task_.start();
  if (sold_out_task_) sold_out_task_->start();
  sampler_->start();
  server_->start();
}

void EngineApp::stop() {
  if (stopped_) return;
  stopped_ = true;
  // The operators' door first, then the shoppers'; then the background work behind them.
  if (admin_) admin_->stop();
  if (rls_) rls_->stop();  // before the stores: a distributed rule's call may be in flight
  backends_->control().stop();
  if (server_) {
    // Requests in flight are answered (the stores still run); then the rest closes.
    if (started_) server_->drain(config_.http.drain_timeout);
    server_->stop();
  }
  if (sampler_) sampler_->stop();
  watch_task_.stop();
  cancel_task_.stop();
  if (sold_out_task_) sold_out_task_->stop();
  if (broadcast_) broadcast_->stop();
  backends_->shutdown();
}

uint16_t EngineApp::port() const { return server_->port(); }

std::string EngineApp::listenAddress() const {
  return formatListenAddress(config_.http.host, port());
}

std::vector<std::string> EngineApp::describe() const {
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("listening on http://", listenAddress(), " with ",
                               config_.http.threads, " threads; cancel poll ",
                               absl::FormatDuration(config_.orders.cancel_poll), "; ",
                               catalog_->size(), " sale(s)"));
  if (admin_) {
    lines.push_back(absl::StrCat("admin API (gRPC) on ", config_.admin.listen.substr(0, config_.admin.listen.rfind(':')),
                                 ":", admin_->port(), config_.admin.tls_cert.empty() ? "" : " with TLS",
                                 ", node ", node_id_, ", ", tokens_->size(), " token(s)"));
  }
  // kind = "none" is a warning of its own (main.cc).
  if (config_.identity.kind != identity::IdentityKind::kNone) {
    lines.push_back(identitySummary(config_.identity));
  }
  if (rls_) {
    lines.push_back(absl::StrCat("rate-limit service (Envoy RLS, gRPC) on ",
                                 config_.rls.listen.substr(0, config_.rls.listen.rfind(':')), ":",
                                 rls_->port(), ", domain \"", config_.rls.domain, "\""));
  }
  lines.push_back(backends_->describe());
  lines.push_back(absl::StrCat("control state: ", backends_->control().describe()));
  for (const auto& sale : catalog_->all()) lines.push_back(describeSale(sale->spec));
  return lines;
}

absl::StatusOr<uint64_t> EngineApp::reloadRules() {
  if (config_path_.empty()) {
    return absl::FailedPreconditionError("no config file to reload (started without --config)");
  }
  absl::MutexLock lock(&reload_mu_);
  absl::StatusOr<EngineConfig> fresh = loadConfigFile(config_path_);
  absl::StatusOr<control::RuleControl::Applied> applied =
      fresh.ok() ? rule_control_.importFile(
                       control::RuleDocument{fresh->limits.rules, fresh->limits.overrides},
                       config_path_)
                 : absl::StatusOr<control::RuleControl::Applied>(fresh.status());
  if (!applied.ok()) {
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("rule reload rejected, running set unchanged: {}",
                  str(applied.status().message()));
    return applied.status();
  }
  reloads_ok_.fetch_add(1, std::memory_order_relaxed);
  if (applied->changed) {
    spdlog::info("rules reloaded from {}: version {} with {} rule(s), {} override(s)",
                 config_path_, applied->version, fresh->limits.rules.size(),
                 fresh->limits.overrides.size());
  } else {
    spdlog::info("{}: its rules have not changed since they were last applied; version {} runs",
                 config_path_, applied->version);
  }
  return applied->version;
}

void EngineApp::reloadTokens() {
  if (!tokens_) return;  // the admin listener did not start: a restart opens it
  absl::StatusOr<admin::TokenTable> fresh = admin::TokenTable::load(config_.admin.tokens);
  if (!fresh.ok() || fresh->size() == 0) {
    spdlog::error("admin tokens not reloaded, the old ones stay: {}",
                  fresh.ok() ? "the file holds no token" : str(fresh.status().message()));
    return;
  }
  const size_t n = fresh->size();
  tokens_->replace(*std::move(fresh));
  spdlog::info("admin tokens reloaded from {}: {} token(s)", config_.admin.tokens, n);
}

void EngineApp::watchConfig() {
  rules_.evictIdle(clock_.now());
  if (config_path_.empty() || !config_.limits.watch) return;
  struct stat st;
  if (::stat(config_path_.c_str(), &st) != 0) return;
  {
    absl::MutexLock lock(&reload_mu_);
    if (mtimeNanos(st) == watched_mtime_ns_ && st.st_size == watched_size_) return;
    watched_mtime_ns_ = mtimeNanos(st);
    watched_size_ = st.st_size;
  }
  spdlog::info("{} changed: reloading rules", config_path_);
  (void)reloadRules();
}

void EngineApp::onShadow(const ratelimit::Verdict& v) {
  shadow_total_.fetch_add(1, std::memory_order_relaxed);
  const int64_t now = absl::ToUnixSeconds(clock_.now());
  int64_t last = shadow_logged_at_.load(std::memory_order_relaxed);
  if (now <= last || !shadow_logged_at_.compare_exchange_strong(last, now)) {
    shadow_unlogged_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  spdlog::warn("rate limit (log mode) would have limited a request: {} (+{} more not logged)",
               v.rule, shadow_unlogged_.exchange(0, std::memory_order_relaxed));
}

void EngineApp::runCancelConsumer() {
  const absl::Time now = clock_.now();
  size_t acked = consumer_.runOnce(now);
  // Finished orders past [orders] keep_finished leave memory (after this pass's cancels).
  backends_->forgetFinishedOrders(now);
  // What /metrics shows without blocking an HTTP thread on a store.
  backends_->refreshGauges();
  if (acked > 0) spdlog::debug("cancel consumer: {} delayed cancel(s) handled", acked);
}

void EngineApp::collectApp(EngineStats& out) const {
  out.reloads_ok = reloads_ok_.load(std::memory_order_relaxed);
  out.reloads_rejected = reloads_failed_.load(std::memory_order_relaxed);
  out.shadow_logged = shadow_total_.load(std::memory_order_relaxed);
  // The console's one-hour history grows for the engine's first hour, then stays: a soak or an
  // operator reading RSS can take it out before calling growth a leak.
  out.extra.push_back(MetricFamily{
      "seckill_stats_history_bytes",
      "Memory held by the one-hour stats history (grows for the first hour, then stays).",
      MetricFamily::Type::kGauge,
      {{"", static_cast<int64_t>(history_.bytes())}}});
  if (broadcast_) {
    out.extra.push_back(MetricFamily{
        "seckill_sale_broadcasts_total",
        "Sold-out / restock messages, by direction.",
        MetricFamily::Type::kCounter,
        {{"direction=\"published\"", static_cast<int64_t>(broadcast_->published())},
         {"direction=\"applied\"", static_cast<int64_t>(broadcast_->applied())}}});
  }
  if (rls_) {
    const rls::RlsStats r = rls_->decider().stats();
    auto n = [](uint64_t v) { return static_cast<int64_t>(v); };
    out.extra.push_back(MetricFamily{
        "seckill_rls_requests_total",
        "Rate-limit service (Envoy RLS) calls, by answer: ok, over_limit, invalid (refused).",
        MetricFamily::Type::kCounter,
        {{"code=\"ok\"", n(r.requests_ok)},
         {"code=\"over_limit\"", n(r.requests_over_limit)},
         {"code=\"invalid\"", n(r.requests_invalid)}}});
    out.extra.push_back(MetricFamily{
        "seckill_rls_decisions_total",
        "Rate-limit service descriptors decided, by code.",
        MetricFamily::Type::kCounter,
        {{"code=\"ok\"", n(r.descriptors_ok)},
         {"code=\"over_limit\"", n(r.descriptors_over_limit)}}});
    out.extra.push_back(MetricFamily{
        "seckill_rls_shadow_decisions_total",
        "Descriptors answered OK that a log-mode rule or a dry-run override would have limited.",
        MetricFamily::Type::kCounter,
        {{"", n(r.descriptors_shadow)}}});
  }
}

}  // namespace seckill::app
