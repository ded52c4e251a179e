#include "engine/core/control/sale_control.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/core/strings.h"

namespace seckill::control {
namespace {

std::string formatTime(const std::optional<absl::Time>& t) {
  return t ? absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", *t, absl::UTCTimeZone()) : "-";
}

// The fields of a spec as (name, text) pairs: what the digest and the change lines read.
std::vector<std::pair<std::string_view, std::string>> fieldsOf(const SaleSpec& s) {
  return {
      {"id", s.id},
      {"name", s.name},
      {"stock", absl::StrCat(s.stock)},
      {"opens_at", formatTime(s.opens_at)},
      {"closes_at", formatTime(s.closes_at)},
      {"require_token", s.require_token ? "true" : "false"},
      {"strategy", std::string(av(stockStrategyName(s.strategy)))},
      {"pay_timeout", absl::FormatDuration(s.pay_timeout)},
      {"dedup_ttl", absl::FormatDuration(s.dedup_ttl)},
      {"token_ttl", absl::FormatDuration(s.token_ttl)},
  };
}

// "stock 100 -> 150, closes_at - -> 2026-12-04T10:00:00Z".
std::string changes(const SaleSpec& a, const SaleSpec& b) {
  const auto x = fieldsOf(a);
  const auto y = fieldsOf(b);
  std::vector<std::string> parts;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i].second != y[i].second) {
      parts.push_back(absl::StrCat(av(x[i].first), " ", x[i].second, " -> ", y[i].second));
    }
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace

std::string saleDigest(const SaleSpec& spec) {
  uint64_t h = 14695981039346656037ull;
  for (const auto& [key, value] : fieldsOf(spec)) {
    for (std::string_view part : {key, std::string_view("="), std::string_view(value),
                                  std::string_view("\x1f")}) {
      for (unsigned char c : part) {
        h ^= c;
        h *= 1099511628211ull;
      }
    }
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

SaleControl::SaleControl(const Clock& clock, ControlStore& store, SaleStore& stock,
                         std::string node, Notify notify)
    : clock_(clock),
      store_(store),
      stock_(stock),
      node_(std::move(node)),
      notify_(std::move(notify)) {}

absl::StatusOr<std::vector<SaleSpec>> SaleControl::merge(const std::vector<SaleSpec>& file_sales) {
  absl::StatusOr<std::vector<SaleRecord>> records = store_.sales();
  if (!records.ok()) return records.status();
  absl::MutexLock lock(&mu_);
  std::map<std::string, const SaleRecord*> by_id;
  for (const SaleRecord& r : *records) by_id[r.spec.id] = &r;
  std::vector<SaleSpec> out;
  for (const SaleSpec& s : file_sales) {
    const std::string d = saleDigest(s);
    file_digests_[s.id] = d;
    auto it = by_id.find(s.id);
    if (it == by_id.end()) {
      out.push_back(s);
      continue;
    }
    const SaleRecord& rec = *it->second;
    by_id.erase(it);
    if (rec.file_digest == d) {
      out.push_back(rec.spec);
      if (notify_ && saleDigest(rec.spec) != d) {
        notify_(false, absl::StrCat("sale \"", s.id, "\": serving it as changed through the "
                                    "admin API (", changes(s, rec.spec), ")"));
      }
    } else {
      out.push_back(s);
      if (notify_) {
        notify_(true, absl::StrCat("sale \"", s.id, "\": the file's [[sale]] table changed since "
                                   "the admin API last changed the sale; serving the file's (",
                                   changes(rec.spec, s), ")"));
      }
    }
  }
  for (const SaleRecord& r : *records) {
    if (!by_id.contains(r.spec.id)) continue;
    out.push_back(r.spec);
    if (notify_) notify_(false, absl::StrCat("sale \"", r.spec.id, "\": created through the admin API"));
  }
  return out;
}

absl::Status SaleControl::start(SaleCatalog& catalog, SaleEvents* events) {
  absl::MutexLock lock(&mu_);
  catalog_ = &catalog;
  events_ = events;
  for (const std::shared_ptr<const Sale>& sale : catalog.all()) {
    absl::StatusOr<StockLevel> level = awaitCall<absl::StatusOr<StockLevel>>(
        [&](auto done) { stock_.stockLevel(sale->spec.id, std::move(done)); });
    if (!level.ok()) return level.status();
    if (level->total != sale->spec.stock) {
      SaleSpec spec = sale->spec;
      if (notify_) {
        notify_(true, absl::StrCat("sale \"", spec.id, "\": the store holds a total stock of ",
                                   level->total, " (", spec.stock, " configured); serving ",
                                   level->total, " (seckillctl sales stock ", spec.id,
                                   " N changes it)"));
      }
      spec.stock = level->total;
      if (absl::StatusOr<std::shared_ptr<const Sale>> u = catalog.update(std::move(spec)); !u.ok()) {
        return u.status();
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Sale>> SaleControl::commit(SaleSpec spec, const Actor& actor,
                                                                const std::string& action,
                                                                const std::string& detail) {
  const AuditEntry audit{.at = clock_.now(),
                         .author = actor.name,
                         .peer = actor.peer,
                         .node = node_,
                         .action = action,
                         .target = spec.id,
                         .detail = detail,
                         .version = 0};
  auto digest = file_digests_.find(spec.id);
  const SaleRecord record{.spec = spec,
                          .file_digest = digest == file_digests_.end() ? "" : digest->second};
  if (absl::Status s = store_.putSale(record, audit); !s.ok()) return s;
  if (catalog_->find(spec.id) == nullptr) return catalog_->add(std::move(spec));
  return catalog_->update(std::move(spec));
}

absl::StatusOr<std::shared_ptr<const Sale>> SaleControl::create(SaleSpec spec, const Actor& actor,
                                                                const std::string& comment) {
  if (absl::Status s = spec.validate(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  if (catalog_ == nullptr) return absl::FailedPreconditionError("sales are not served yet");
  if (catalog_->find(spec.id) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("sale \"", spec.id, "\" exists"));
  }
  // A store shared with other nodes may hold the sale already (an earlier create that failed
  // half-way): it is joined as it is.
  if (absl::Status s = stock_.addSale(spec); !s.ok() && !absl::IsAlreadyExists(s)) return s;
  std::string detail = absl::StrCat("stock ", spec.stock, ", strategy ",
                                    av(stockStrategyName(spec.strategy)), ", window ",
                                    formatTime(spec.opens_at), " .. ", formatTime(spec.closes_at));
  if (!comment.empty()) absl::StrAppend(&detail, ": ", comment);
  return commit(std::move(spec), actor, "sale.create", detail);
}

absl::StatusOr<std::shared_ptr<const Sale>> SaleControl::adjustStock(std::string_view id,
                                                                     StockChange change,
                                                                     const Actor& actor,
                                                                     const std::string& comment) {
  absl::MutexLock lock(&mu_);
  if (catalog_ == nullptr) return absl::FailedPreconditionError("sales are not served yet");
  std::shared_ptr<const Sale> sale = catalog_->findShared(id);
  if (sale == nullptr) return absl::NotFoundError(absl::StrCat("unknown sale \"", av(id), "\""));
  absl::StatusOr<StockLevel> level = awaitCall<absl::StatusOr<StockLevel>>(
      [&](auto done) { stock_.adjustStock(id, change, std::move(done)); });
  if (!level.ok()) return level.status();
  SaleSpec spec = sale->spec;
  const int64_t before = spec.stock;
  spec.stock = level->total;
  std::string detail = absl::StrCat("stock ", before, " -> ", level->total, " (", level->left, " left)");
  if (!comment.empty()) absl::StrAppend(&detail, ": ", comment);
  absl::StatusOr<std::shared_ptr<const Sale>> out = commit(std::move(spec), actor, "sale.stock", detail);
  if (out.ok() && level->left > 0) {
    // Units to sell again: this node's sold-out flag, and the other nodes'.
    if ((*out)->runtime->sold_out.clear() && events_ != nullptr) events_->restocked((*out)->spec.id);
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const Sale>> SaleControl::open(std::string_view id,
                                                              const Actor& actor,
                                                              const std::string& comment) {
  absl::MutexLock lock(&mu_);
  if (catalog_ == nullptr) return absl::FailedPreconditionError("sales are not served yet");
  std::shared_ptr<const Sale> sale = catalog_->findShared(id);
  if (sale == nullptr) return absl::NotFoundError(absl::StrCat("unknown sale \"", av(id), "\""));
  const absl::Time now = clock_.now();
  SaleSpec spec = sale->spec;
  if (spec.opens_at && *spec.opens_at > now) spec.opens_at = now;
  if (spec.closes_at && *spec.closes_at <= now) spec.closes_at.reset();
  if (saleDigest(spec) == saleDigest(sale->spec)) return sale;  // open already
  std::string detail = changes(sale->spec, spec);
  if (!comment.empty()) absl::StrAppend(&detail, ": ", comment);
  return commit(std::move(spec), actor, "sale.open", detail);
}

absl::StatusOr<std::shared_ptr<const Sale>> SaleControl::close(std::string_view id,
                                                               const Actor& actor,
                                                               const std::string& comment) {
  absl::MutexLock lock(&mu_);
  if (catalog_ == nullptr) return absl::FailedPreconditionError("sales are not served yet");
  std::shared_ptr<const Sale> sale = catalog_->findShared(id);
  if (sale == nullptr) return absl::NotFoundError(absl::StrCat("unknown sale \"", av(id), "\""));
  const absl::Time now = clock_.now();
  if (sale->spec.closes_at && *sale->spec.closes_at <= now) return sale;  // closed already
  SaleSpec spec = sale->spec;
  spec.closes_at = now;
  if (spec.opens_at && *spec.opens_at >= now) spec.opens_at.reset();
  std::string detail = changes(sale->spec, spec);
  if (!comment.empty()) absl::StrAppend(&detail, ": ", comment);
  return commit(std::move(spec), actor, "sale.close", detail);
}

absl::Status SaleControl::follow() {
  absl::StatusOr<std::vector<SaleRecord>> records = store_.sales();
  if (!records.ok()) return records.status();
  absl::MutexLock lock(&mu_);
  if (catalog_ == nullptr) return absl::OkStatus();
  for (const SaleRecord& r : *records) {
    const Sale* have = catalog_->find(r.spec.id);
    if (have == nullptr) {
      if (absl::Status s = stock_.addSale(r.spec); !s.ok() && !absl::IsAlreadyExists(s)) return s;
      if (absl::StatusOr<std::shared_ptr<const Sale>> a = catalog_->add(r.spec); !a.ok()) {
        return a.status();
      }
      if (notify_) notify_(false, absl::StrCat("sale \"", r.spec.id, "\": created on another node"));
      continue;
    }
    if (saleDigest(have->spec) == saleDigest(r.spec)) continue;
    if (absl::StatusOr<std::shared_ptr<const Sale>> u = catalog_->update(r.spec); !u.ok()) {
      if (notify_) {
        notify_(true, absl::StrCat("sale \"", r.spec.id, "\": another node's change cannot apply "
                                   "here: ", u.status().message()));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace seckill::control
