#include "engine/core/sale_catalog.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {

absl::StatusOr<std::unique_ptr<SaleCatalog>> SaleCatalog::create(std::vector<SaleSpec> specs) {
  std::unique_ptr<SaleCatalog> catalog(new SaleCatalog());
  for (SaleSpec& spec : specs) {
    if (absl::Status s = spec.validate(); !s.ok()) return s;
    if (catalog->by_id_.contains(spec.id)) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate sale id \"", spec.id, "\""));
    }
    auto sale = std::make_unique<Sale>();
    if (spec.strategy == StockStrategy::kCounterGate) {
      sale->gate = std::make_unique<CounterGate>(spec.stock);
    }
    sale->spec = std::move(spec);
    catalog->by_id_.emplace(sale->spec.id, sale.get());
    catalog->sales_.push_back(std::move(sale));
  }
  return catalog;
}

Sale* SaleCatalog::find(std::string_view id) const {
  auto it = by_id_.find(av(id));
  return it == by_id_.end() ? nullptr : it->second;
}

}  // namespace seckill
