#include "engine/app/engine_app.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/core/strings.h"
#include "spdlog/spdlog.h"

namespace seckill::app {
namespace {

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

absl::StatusOr<std::unique_ptr<EngineApp>> EngineApp::create(EngineConfig config) {
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create(config.sales);
  if (!catalog.ok()) return catalog.status();
  std::unique_ptr<EngineApp> app(new EngineApp(std::move(config), std::move(*catalog)));
  if (absl::Status s = app->sales_.registerSales(); !s.ok()) return s;

  EngineApp* self = app.get();
  http::ShopperApiDeps deps{
      .clock = app->clock_,
      .catalog = *app->catalog_,
      .sales = app->sales_,
      .orders = app->lifecycle_,
      .repository = app->orders_,
      .store = app->store_,
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

EngineApp::EngineApp(EngineConfig config, std::unique_ptr<SaleCatalog> catalog)
    : config_(std::move(config)),
      ids_(randomSeed()),
      catalog_(std::move(catalog)),
      store_(orders_, cancels_),
      sales_(clock_, *catalog_, store_, ids_),
      lifecycle_(clock_, *catalog_, store_, orders_),
      consumer_(cancels_, lifecycle_),
      cancel_task_(config_.orders.cancel_poll, [this] { runCancelConsumer(); }) {}

EngineApp::~EngineApp() { stop(); }

void EngineApp::start() {
  if (started_ || stopped_) return;
  started_ = true;
  cancel_task_.start();
  server_->start();
}

void EngineApp::stop() {
  if (stopped_) return;
  stopped_ = true;
  // New work stops at the edge first; then the background work behind it.
  if (server_) server_->stop();
  cancel_task_.stop();
  store_.shutdown();
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
  for (const auto& sale : catalog_->all()) lines.push_back(describeSale(sale->spec));
  return lines;
}

void EngineApp::runCancelConsumer() {
  // Counts the acks made during the call: all of them with the memory stores,
  // which complete inline.
  size_t acked = consumer_.runOnce(clock_.now());
  if (acked > 0) {
    cancels_acked_.fetch_add(acked, std::memory_order_relaxed);
    spdlog::debug("cancel consumer: {} delayed cancel(s) handled", acked);
  }
}

void EngineApp::appendMetrics(std::string& out) const {
  absl::StrAppend(
      &out,
      "# HELP seckill_cancel_queue_pending Delayed-cancel messages published and not yet "
      "acknowledged.\n"
      "# TYPE seckill_cancel_queue_pending gauge\n"
      "seckill_cancel_queue_pending ",
      cancels_.pending(),
      "\n"
      "# HELP seckill_cancel_acked_total Delayed-cancel messages handled and acknowledged.\n"
      "# TYPE seckill_cancel_acked_total counter\n"
      "seckill_cancel_acked_total ",
      cancels_acked_.load(std::memory_order_relaxed), "\n");
}

}  // namespace seckill::app
