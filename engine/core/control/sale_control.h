#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/clock.h"
#include "engine/core/control/actor.h"
#include "engine/core/control/control_store.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_events.h"
#include "engine/core/sale_store.h"

namespace seckill::control {

// A digest of everything a sale's spec says (16 hex digits): equal specs, equal digests.
std::string saleDigest(const SaleSpec& spec);

// The one path by which the served sales change at run time: create, stock, open, close. Each
// change goes to the stock store first (a new sale's stock, a stock adjustment: one atomic step
// there), then to the ControlStore with its audit entry, then to the catalog, which request
// threads read without a lock. Other nodes sharing the state follow (follow()).
//
// Precedence, as for rules: a sale of the config file is served as the state last changed it
// (stock, window) while the file's [[sale]] table is unchanged since; a file edited since wins.
// Sales created through the API are served from the state.
//
// Thread-safety: thread-safe; changes are serialized; calls block on the stores.
class SaleControl {
 public:
  SaleControl(const Clock& clock, ControlStore& store, SaleStore& stock, std::string node,
              Notify notify = {});

  // The sales to serve at start: the file's, with the state's changes over them as above, then
  // the sales created through the API. Call before the catalog exists.
  absl::StatusOr<std::vector<SaleSpec>> merge(const std::vector<SaleSpec>& file_sales);
  // Serves `catalog` from now on (the catalog built from merge()'s sales and registered with
  // the store). Reads each sale's stock from the store: a store shared with other nodes may hold
  // a total another node changed, which the catalog then follows. `events` (may be null) hears
  // of units coming back.
  absl::Status start(SaleCatalog& catalog, SaleEvents* events);

  // A new sale. AlreadyExists for a known id; InvalidArgument naming the field.
  absl::StatusOr<std::shared_ptr<const Sale>> create(SaleSpec spec, const Actor& actor,
                                                     const std::string& comment);
  // FailedPrecondition when the new total is below what is sold.
  absl::StatusOr<std::shared_ptr<const Sale>> adjustStock(std::string_view id, StockChange change,
                                                          const Actor& actor,
                                                          const std::string& comment);
  // Opens now: opens_at = now if later; a closes_at already past is cleared.
  absl::StatusOr<std::shared_ptr<const Sale>> open(std::string_view id, const Actor& actor,
                                                   const std::string& comment);
  // Closes now: closes_at = now.
  absl::StatusOr<std::shared_ptr<const Sale>> close(std::string_view id, const Actor& actor,
                                                    const std::string& comment);
  // Serves the sales and specs another node created or changed.
  absl::Status follow();

 private:
  // Writes `spec` as the sale's record (with its audit entry) and serves it.
  absl::StatusOr<std::shared_ptr<const Sale>> commit(SaleSpec spec, const Actor& actor,
                                                     const std::string& action,
                                                     const std::string& detail)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  ControlStore& store_;
  SaleStore& stock_;
  const std::string node_;
  const Notify notify_;
  absl::Mutex mu_;
  SaleCatalog* catalog_ ABSL_GUARDED_BY(mu_) = nullptr;
  SaleEvents* events_ ABSL_GUARDED_BY(mu_) = nullptr;
  // The file's [[sale]] digests, by id, as of start.
  std::map<std::string, std::string> file_digests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace seckill::control
