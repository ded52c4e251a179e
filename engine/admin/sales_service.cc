#include "absl/strings/str_cat.h"
#include "engine/admin/admin_services.h"
#include "engine/admin/proto_convert.h"
#include "engine/core/callback.h"

namespace seckill::admin {
namespace {

grpc::Status invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

grpc::Status checkId(const std::string& id) {
  if (!isValidId(id)) return invalid("id: a sale id is 1-64 chars of [A-Za-z0-9_-]");
  return grpc::Status::OK;
}

}  // namespace

v1::Sale SalesService::describe(const SaleSpec& spec) {
  absl::StatusOr<StockLevel> level = awaitCall<absl::StatusOr<StockLevel>>(
      [&](auto done) { deps_.stock.stockLevel(spec.id, std::move(done)); });
  return saleToProto(spec, level, deps_.clock.now());
}

grpc::Status SalesService::List(grpc::ServerContext*, const v1::ListSalesRequest*,
                                v1::ListSalesResponse* out) {
  for (const std::shared_ptr<const Sale>& sale : deps_.catalog.all()) {
    *out->add_sales() = describe(sale->spec);
  }
  return grpc::Status::OK;
}

grpc::Status SalesService::Get(grpc::ServerContext*, const v1::GetSaleRequest* req, v1::Sale* out) {
  if (grpc::Status s = checkId(req->id()); !s.ok()) return s;
  std::shared_ptr<const Sale> sale = deps_.catalog.findShared(req->id());
  if (sale == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("unknown sale \"", req->id(), "\""));
  }
  *out = describe(sale->spec);
  return grpc::Status::OK;
}

grpc::Status SalesService::Create(grpc::ServerContext* context, const v1::CreateSaleRequest* req,
                                  v1::Sale* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  absl::StatusOr<SaleSpec> spec = saleFromProto(req->sale(), "sale");
  if (!spec.ok()) return answer(*context, spec.status());
  absl::StatusOr<std::shared_ptr<const Sale>> sale =
      deps_.sales.create(*std::move(spec), caller.actor(), req->comment());
  if (!sale.ok()) return answer(*context, sale.status());
  *out = describe((*sale)->spec);
  return grpc::Status::OK;
}

grpc::Status SalesService::AdjustStock(grpc::ServerContext* context,
                                       const v1::AdjustStockRequest* req, v1::Sale* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (grpc::Status s = checkId(req->id()); !s.ok()) return s;
  StockChange change;
  switch (req->change_case()) {
    case v1::AdjustStockRequest::kSetTotal:
      if (req->set_total() < 0) return invalid("set_total: must be >= 0");
      change = StockChange{.kind = StockChange::Kind::kSetTotal, .value = req->set_total()};
      break;
    case v1::AdjustStockRequest::kDelta:
      if (req->delta() == 0) return invalid("delta: must not be 0");
      change = StockChange{.kind = StockChange::Kind::kDelta, .value = req->delta()};
      break;
    default:
      return invalid("change: set set_total or delta");
  }
  if (change.value > int64_t{1} << 40 || change.value < -(int64_t{1} << 40)) {
    return invalid("stock: out of range");
  }
  absl::StatusOr<std::shared_ptr<const Sale>> sale =
      deps_.sales.adjustStock(req->id(), change, caller.actor(), req->comment());
  if (!sale.ok()) return answer(*context, sale.status());
  *out = describe((*sale)->spec);
  return grpc::Status::OK;
}

grpc::Status SalesService::Open(grpc::ServerContext* context, const v1::OpenSaleRequest* req,
                                v1::Sale* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (grpc::Status s = checkId(req->id()); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const Sale>> sale =
      deps_.sales.open(req->id(), caller.actor(), req->comment());
  if (!sale.ok()) return answer(*context, sale.status());
  *out = describe((*sale)->spec);
  return grpc::Status::OK;
}

grpc::Status SalesService::Close(grpc::ServerContext* context, const v1::CloseSaleRequest* req,
                                 v1::Sale* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (grpc::Status s = checkId(req->id()); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const Sale>> sale =
      deps_.sales.close(req->id(), caller.actor(), req->comment());
  if (!sale.ok()) return answer(*context, sale.status());
  *out = describe((*sale)->spec);
  return grpc::Status::OK;
}

}  // namespace seckill::admin
