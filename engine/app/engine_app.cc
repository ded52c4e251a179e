#include "engine/app/engine_app.h"

#include <sys/stat.h>

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/app/redis_checks.h"
#include "engine/core/strings.h"
#include "engine/http/metrics.h"
#include "engine/store/redis/redis_rule_store.h"
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

}  // namespace

absl::StatusOr<std::unique_ptr<EngineApp>> EngineApp::create(EngineConfig config,
                                                            std::string config_path) {
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create(config.sales);
  if (!catalog.ok()) return catalog.status();
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
  const absl::Time now = absl::Now();
  (*stock)->setMode(config.breaker.mode, now);
  (*orders)->setMode(config.breaker.mode, now);

  absl::StatusOr<std::unique_ptr<Backends>> backends = Backends::create(config);
  if (!backends.ok()) return backends.status();
  std::unique_ptr<EngineApp> app(new EngineApp(std::move(config), std::move(config_path),
                                               std::move(*catalog), std::move(*backends),
                                               std::move(*stock), std::move(*orders)));
  if (absl::Status s = app->sales_.registerSales(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("cannot register the sales with the store: ",
                                               s.message()));
  }
  if (absl::Status s = app->loadRules(); !s.ok()) return s;
  app->applyOverrides(app->config_.limits.overrides);

  if (RedisClient* redis = app->backends_->redis()) {
    // Settings of the Redis servers that can lose what the engine acknowledged.
    std::vector<std::string> sale_ids;
    for (const SaleSpec& s : app->config_.sales) sale_ids.push_back(s.id);
    for (const std::string& warning : checkRedisSettings(*redis, sale_ids)) {
      spdlog::warn("{}", warning);
    }
    app->broadcast_ = std::make_unique<SaleBroadcast>(
        *redis, app->config_.store.redis, app->config_.store.redis_auth, *app->catalog_,
        app->backends_->store(), absl::StrCat(absl::Hex(randomSeed())));
    app->sales_.setEvents(app->broadcast_.get());
    app->lifecycle_.setEvents(app->broadcast_.get());
    SaleBroadcast* broadcast = app->broadcast_.get();
    app->sold_out_task_ = std::make_unique<PeriodicTask>(app->config_.store.sold_out_refresh,
                                                         [broadcast] { broadcast->refresh(); });
  }

  EngineApp* self = app.get();
  http::ShopperApiDeps deps{
      .clock = app->clock_,
      .catalog = *app->catalog_,
      .sales = app->sales_,
      .orders = app->lifecycle_,
      .repository = app->backends_->ordersForMetrics(),
      .store = app->backends_->store(),
      .limiter = &app->limiter_,
      .on_shadow = [self](const ratelimit::Verdict& v) { self->onShadow(v); },
      .extra_metrics = [self](std::string& out) { self->appendMetrics(out); },
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
  return app;
}

EngineApp::EngineApp(EngineConfig config, std::string config_path,
                     std::unique_ptr<SaleCatalog> catalog, std::unique_ptr<Backends> backends,
                     std::unique_ptr<ratelimit::CircuitBreaker> stock_breaker,
                     std::unique_ptr<ratelimit::CircuitBreaker> order_breaker)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      ids_(randomSeed()),
      catalog_(std::move(catalog)),
      backends_(std::move(backends)),
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
      cancel_task_(config_.orders.cancel_poll, [this] { runCancelConsumer(); }),
      watch_task_(config_.limits.watch_interval, [this] { watchConfig(); }) {}

EngineApp::~EngineApp() { stop(); }

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
      watched_mtime_ns_ = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
      watched_size_ = st.st_size;
    }
  }
  watch_task_.start();
  if (sold_out_task_) sold_out_task_->start();
  server_->start();
}

void EngineApp::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (RedisRuleStore* store = backends_->ruleStore()) store->stop();
  // New work stops at the edge first; then the background work behind it.
  if (server_) server_->stop();
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
                               config_.sales.size(), " sale(s)"));
  lines.push_back(backends_->describe());
  for (const auto& sale : catalog_->all()) lines.push_back(describeSale(sale->spec));
  return lines;
}

absl::Status EngineApp::loadRules() {
  RedisRuleStore* store = backends_->ruleStore();
  if (store == nullptr) {
    if (config_.limits.rules.empty()) return absl::OkStatus();
    absl::StatusOr<uint64_t> v = rules_.replace(config_.limits.rules);
    return v.ok() ? absl::OkStatus() : absl::InvalidArgumentError(v.status().message());
  }
  // Production mode: the set in Redis wins; this file only seeds an empty Redis.
  absl::StatusOr<bool> seeded = store->seedIfAbsent(config_.limits.rules);
  if (!seeded.ok()) {
    return absl::Status(seeded.status().code(),
                        absl::StrCat("cannot read the rule set in Redis: ", seeded.status().message()));
  }
  absl::StatusOr<std::optional<RedisRuleStore::Stored>> stored = store->fetch();
  std::vector<ratelimit::RuleSpec> specs = config_.limits.rules;
  if (stored.ok() && stored->has_value()) {
    specs = (*stored)->specs;
    spdlog::info("rules: {} the shared set in Redis (version {}, {} rule(s))",
                 *seeded ? "seeded" : "following", (*stored)->version, specs.size());
  } else if (!stored.ok()) {
    spdlog::error("the rule set in Redis is unusable ({}); serving this file's rules",
                  str(stored.status().message()));
  }
  if (!specs.empty()) {
    absl::StatusOr<uint64_t> v = rules_.replace(std::move(specs));
    if (!v.ok()) return absl::InvalidArgumentError(v.status().message());
  }
  // Every later edit, on any node, arrives here within rule_poll.
  return store->watch([this](std::vector<ratelimit::RuleSpec> set, uint64_t version) {
    const size_t n = set.size();
    absl::StatusOr<uint64_t> v = rules_.replace(std::move(set));
    if (v.ok()) {
      reloads_ok_.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("rules: applied version {} from Redis ({} rule(s))", version, n);
    } else {
      reloads_failed_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("rules: version {} from Redis refused: {}", version, str(v.status().message()));
    }
  });
}

absl::StatusOr<uint64_t> EngineApp::reloadRules() {
  if (config_path_.empty()) {
    return absl::FailedPreconditionError("no config file to reload (started without --config)");
  }
  absl::MutexLock lock(&reload_mu_);
  absl::StatusOr<EngineConfig> fresh = loadConfigFile(config_path_);
  absl::StatusOr<uint64_t> version =
      fresh.ok() ? rules_.replace(fresh->limits.rules) : absl::StatusOr<uint64_t>(fresh.status());
  if (!version.ok()) {
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("rule reload rejected, running set unchanged: {}",
                  str(version.status().message()));
    return version.status();
  }
  applyOverrides(fresh->limits.overrides);
  if (RedisRuleStore* store = backends_->ruleStore()) {
    // Every other node picks the new set up from Redis.
    absl::StatusOr<uint64_t> shared = store->publish(fresh->limits.rules);
    if (!shared.ok()) {
      reloads_failed_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("rules reloaded here but not shared with the other nodes: {}",
                    str(shared.status().message()));
      return absl::Status(shared.status().code(),
                          absl::StrCat("applied on this node only; Redis: ",
                                       shared.status().message()));
    }
    spdlog::info("rules published to Redis as version {}", *shared);
  }
  reloads_ok_.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("rules reloaded from {}: version {} with {} rule(s), {} override(s)", config_path_,
               *version, fresh->limits.rules.size(), fresh->limits.overrides.size());
  return version;
}

void EngineApp::applyOverrides(const std::vector<ratelimit::Override>& overrides) {
  for (const ratelimit::Override& o : limiter_.overrides()) limiter_.clearOverride(o.prefix);
  for (const ratelimit::Override& o : overrides) {
    if (absl::Status s = limiter_.setOverride(o.prefix, o.mode); !s.ok()) {
      spdlog::error("override {}: {}", o.prefix, str(s.message()));
    }
  }
}

void EngineApp::watchConfig() {
  rules_.evictIdle(clock_.now());
  if (config_path_.empty() || !config_.limits.watch) return;
  struct stat st;
  if (::stat(config_path_.c_str(), &st) != 0) return;
  const int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  {
    absl::MutexLock lock(&reload_mu_);
    if (mtime == watched_mtime_ns_ && st.st_size == watched_size_) return;
    watched_mtime_ns_ = mtime;
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
  size_t acked = consumer_.runOnce(clock_.now());
  // What /metrics shows without blocking an HTTP thread on a store.
  backends_->refreshGauges();
  if (acked > 0) spdlog::debug("cancel consumer: {} delayed cancel(s) handled", acked);
}

void EngineApp::appendMetrics(std::string& out) const {
  absl::StrAppend(
      &out,
      "# HELP seckill_cancel_queue_pending Delayed-cancel messages published and not yet "
      "acknowledged.\n"
      "# TYPE seckill_cancel_queue_pending gauge\n"
      "seckill_cancel_queue_pending ",
      backends_->cancelsPending(),
      "\n"
      "# HELP seckill_cancel_acked_total Delayed-cancel messages handled and acknowledged.\n"
      "# TYPE seckill_cancel_acked_total counter\n"
      "seckill_cancel_acked_total ",
      consumer_.acked(), "\n");

  backends_->appendMetrics(out);
  out.append(
      "# HELP seckill_sale_sold_out_local 1 while this node answers the sale's orders "
      "\"sold out\" without asking the store.\n"
      "# TYPE seckill_sale_sold_out_local gauge\n");
  for (const auto& sale : catalog_->all()) {
    out.append("seckill_sale_sold_out_local{sale=");
    http::appendLabelValue(out, sale->spec.id);
    absl::StrAppend(&out, "} ", sale->sold_out.isSet() ? 1 : 0, "\n");
  }
  if (broadcast_) {
    absl::StrAppend(&out,
                    "# HELP seckill_sale_broadcasts_total Sold-out / restock messages, by "
                    "direction.\n# TYPE seckill_sale_broadcasts_total counter\n"
                    "seckill_sale_broadcasts_total{direction=\"published\"} ",
                    broadcast_->published(),
                    "\nseckill_sale_broadcasts_total{direction=\"applied\"} ",
                    broadcast_->applied(), "\n");
  }

  // Traffic control: per-rule counters of the running set.
  std::shared_ptr<const ratelimit::RuleSet> set = rules_.current();
  absl::StrAppend(&out,
                  "# HELP seckill_rules_version Version of the running rate rule set.\n"
                  "# TYPE seckill_rules_version gauge\n"
                  "seckill_rules_version ",
                  set->version(),
                  "\n# HELP seckill_rules_reloads_total Rule reloads, by result.\n"
                  "# TYPE seckill_rules_reloads_total counter\n"
                  "seckill_rules_reloads_total{result=\"ok\"} ",
                  reloads_ok_.load(std::memory_order_relaxed),
                  "\nseckill_rules_reloads_total{result=\"rejected\"} ",
                  reloads_failed_.load(std::memory_order_relaxed),
                  "\n# HELP seckill_rule_requests_total Requests decided by each rate rule, by "
                  "decision.\n"
                  "# TYPE seckill_rule_requests_total counter\n");
  for (const ratelimit::CompiledRule& rule : set->rules()) {
    const ratelimit::RuleCounters& c = rule.state->counters();
    const std::pair<const char*, uint64_t> fields[] = {{"passed", c.passed()},
                                                       {"limited", c.limited()},
                                                       {"queued", c.queued()},
                                                       {"shadow_limited", c.shadowLimited()}};
    for (const auto& [decision, value] : fields) {
      out.append("seckill_rule_requests_total{rule=");
      http::appendLabelValue(out, rule.name);
      absl::StrAppend(&out, ",decision=\"", decision, "\"} ", value, "\n");
    }
  }
  absl::StrAppend(&out,
                  "# HELP seckill_rate_limit_backend_errors_total Distributed rule checks "
                  "Redis could not answer (the rule then failed ",
                  av(ratelimit::failurePolicyName(limiter_.failurePolicy())),
                  ").\n# TYPE seckill_rate_limit_backend_errors_total counter\n"
                  "seckill_rate_limit_backend_errors_total ",
                  limiter_.backendErrors(), "\n");
  absl::StrAppend(&out,
                  "# HELP seckill_shadow_limited_total Requests a log-mode rule would have "
                  "limited.\n# TYPE seckill_shadow_limited_total counter\n"
                  "seckill_shadow_limited_total ",
                  shadow_total_.load(std::memory_order_relaxed), "\n");

  // Circuit breakers: state (1 for the current one) and transitions.
  out.append(
      "# HELP seckill_breaker_state Circuit breaker state (1 = current).\n"
      "# TYPE seckill_breaker_state gauge\n");
  const ratelimit::CircuitBreaker* breakers[] = {stock_breaker_.get(), order_breaker_.get()};
  for (const ratelimit::CircuitBreaker* b : breakers) {
    const auto current = b->state();
    for (size_t i = 0; i < ratelimit::CircuitBreaker::kStates; ++i) {
      const auto st = static_cast<ratelimit::CircuitBreaker::State>(i);
      absl::StrAppend(&out, "seckill_breaker_state{breaker=\"", b->name(), "\",state=\"",
                      av(ratelimit::breakerStateName(st)), "\"} ", st == current ? 1 : 0, "\n");
    }
  }
  out.append(
      "# HELP seckill_breaker_transitions_total Circuit breaker transitions, by target state.\n"
      "# TYPE seckill_breaker_transitions_total counter\n");
  for (const ratelimit::CircuitBreaker* b : breakers) {
    for (size_t i = 0; i < ratelimit::CircuitBreaker::kStates; ++i) {
      const auto st = static_cast<ratelimit::CircuitBreaker::State>(i);
      absl::StrAppend(&out, "seckill_breaker_transitions_total{breaker=\"", b->name(), "\",to=\"",
                      av(ratelimit::breakerStateName(st)), "\"} ", b->transitionsInto(st), "\n");
    }
  }
}

}  // namespace seckill::app
