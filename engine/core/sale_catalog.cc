#include "engine/core/sale_catalog.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {

SaleCatalog::SaleCatalog() : cell_(std::make_shared<const Table>()) {}

absl::StatusOr<std::unique_ptr<SaleCatalog>> SaleCatalog::create(std::vector<SaleSpec> specs) {
  std::unique_ptr<SaleCatalog> catalog(new SaleCatalog());
  for (SaleSpec& spec : specs) {
    absl::StatusOr<std::shared_ptr<const Sale>> added = catalog->add(std::move(spec));
    if (!added.ok()) {
      if (absl::IsAlreadyExists(added.status())) {
        return absl::InvalidArgumentError(added.status().message());
      }
      return added.status();
    }
  }
  return catalog;
}

const Sale* SaleCatalog::find(std::string_view id) const {
  const Table& t = cell_.read();
  auto it = t.by_id.find(id);
  return it == t.by_id.end() ? nullptr : it->second.get();
}

std::shared_ptr<const Sale> SaleCatalog::findShared(std::string_view id) const {
  const Table& t = cell_.read();
  auto it = t.by_id.find(id);
  return it == t.by_id.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const Sale>> SaleCatalog::all() const { return cell_.load()->sales; }

size_t SaleCatalog::size() const { return cell_.load()->sales.size(); }

void SaleCatalog::publish(std::vector<std::shared_ptr<const Sale>> sales) {
  auto table = std::make_shared<Table>();
  for (const std::shared_ptr<const Sale>& s : sales) table->by_id.emplace(s->spec.id, s);
  table->sales = std::move(sales);
  cell_.store(std::move(table));
}

absl::StatusOr<std::shared_ptr<const Sale>> SaleCatalog::add(SaleSpec spec) {
  if (absl::Status s = spec.validate(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  std::shared_ptr<const Table> cur = cell_.load();
  if (cur->by_id.contains(spec.id)) {
    return absl::AlreadyExistsError(absl::StrCat("duplicate sale id \"", spec.id, "\""));
  }
  auto runtime = std::make_unique<SaleRuntime>(spec.id);
  if (spec.strategy == StockStrategy::kCounterGate) {
    runtime->gate = std::make_unique<CounterGate>(spec.stock);
  }
  auto sale = std::make_shared<Sale>();
  sale->runtime = runtime.get();
  sale->spec = std::move(spec);
  runtimes_.push_back(std::move(runtime));
  std::vector<std::shared_ptr<const Sale>> sales = cur->sales;
  sales.push_back(sale);
  publish(std::move(sales));
  return std::shared_ptr<const Sale>(std::move(sale));
}

absl::StatusOr<std::shared_ptr<const Sale>> SaleCatalog::update(SaleSpec spec) {
  if (absl::Status s = spec.validate(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  std::shared_ptr<const Table> cur = cell_.load();
  std::vector<std::shared_ptr<const Sale>> sales = cur->sales;
  for (std::shared_ptr<const Sale>& slot : sales) {
    if (slot->spec.id != spec.id) continue;
    if (slot->spec.strategy != spec.strategy) {
      return absl::FailedPreconditionError(
          absl::StrCat("sale \"", spec.id, "\": the stock strategy cannot change while it is served (",
                       av(stockStrategyName(slot->spec.strategy)), ")"));
    }
    if (CounterGate* gate = slot->runtime->gate.get(); gate && spec.stock != slot->spec.stock) {
      gate->adjust(spec.stock - slot->spec.stock);
    }
    auto next = std::make_shared<Sale>();
    next->runtime = slot->runtime;
    next->spec = std::move(spec);
    slot = next;
    publish(std::move(sales));
    return std::shared_ptr<const Sale>(std::move(next));
  }
  return absl::NotFoundError(absl::StrCat("unknown sale \"", spec.id, "\""));
}

}  // namespace seckill
