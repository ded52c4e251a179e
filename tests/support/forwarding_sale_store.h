#pragma once

#include <string>
#include <utility>

#include "engine/core/sale_store.h"

namespace seckill::testing {

// A SaleStore that forwards every call to another; tests derive from it and
// override the one call they watch or break (a counting or failing store).
class ForwardingSaleStore : public SaleStore {
 public:
  explicit ForwardingSaleStore(SaleStore& inner) : inner_(inner) {}
  absl::Status addSale(const SaleSpec& s) override { return inner_.addSale(s); }
  void issueToken(std::string_view sale, std::string_view user, absl::Time expires,
                  Callback<absl::StatusOr<std::string>> done) override {
    inner_.issueToken(sale, user, expires, std::move(done));
  }
  void attemptOrder(OrderAttempt a, absl::Time now,
                    Callback<absl::StatusOr<AttemptResult>> done) override {
    inner_.attemptOrder(std::move(a), now, std::move(done));
  }
  void releaseUnit(std::string_view sale, std::string_view user, std::string_view order,
                   Callback<absl::StatusOr<bool>> done) override {
    inner_.releaseUnit(sale, user, order, std::move(done));
  }
  void stockLeft(std::string_view sale, Callback<absl::StatusOr<int64_t>> done) override {
    inner_.stockLeft(sale, std::move(done));
  }
  void adjustStock(std::string_view sale, StockChange change,
                   Callback<absl::StatusOr<StockLevel>> done) override {
    inner_.adjustStock(sale, change, std::move(done));
  }
  void stockLevel(std::string_view sale, Callback<absl::StatusOr<StockLevel>> done) override {
    inner_.stockLevel(sale, std::move(done));
  }

 protected:
  SaleStore& inner_;
};

}  // namespace seckill::testing
