#include "engine/admin/admin_services.h"
#include "engine/admin/proto_convert.h"
#include "engine/core/callback.h"

namespace seckill::admin {

grpc::Status OrdersService::Get(grpc::ServerContext* context, const v1::GetOrderRequest* req,
                                v1::Order* out) {
  if (!isValidOrderId(req->id())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "id: an order id is 1-100 chars of [A-Za-z0-9_-]");
  }
  absl::StatusOr<Order> order = awaitCall<absl::StatusOr<Order>>(
      [&](auto done) { deps_.orders.get(req->id(), std::move(done)); });
  if (!order.ok()) return answer(*context, order.status());
  *out = orderToProto(*order);
  return grpc::Status::OK;
}

grpc::Status OrdersService::List(grpc::ServerContext* context, const v1::ListOrdersRequest* req,
                                 v1::ListOrdersResponse* out) {
  if (!isValidId(req->sale_id())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "sale_id: required, 1-64 chars of [A-Za-z0-9_-]");
  }
  if (!req->user_id().empty() && !isValidId(req->user_id())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "user_id: 1-64 chars of [A-Za-z0-9_-]");
  }
  if (req->page_size() < 0 || req->page_size() > 1000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size: 0-1000 (0: 100)");
  }
  if (req->page_token().size() > 128) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not a token this engine gave");
  }
  if (deps_.catalog.find(req->sale_id()) == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown sale \"" + req->sale_id() + "\"");
  }
  const OrderQuery q{.sale_id = req->sale_id(),
                     .user_id = req->user_id(),
                     .limit = req->page_size() == 0 ? 100 : static_cast<size_t>(req->page_size()),
                     .page = req->page_token()};
  absl::StatusOr<OrderPage> page = awaitCall<absl::StatusOr<OrderPage>>(
      [&](auto done) { deps_.orders.list(q, std::move(done)); });
  if (!page.ok()) return answer(*context, page.status());
  for (const Order& o : page->orders) *out->add_orders() = orderToProto(o);
  out->set_next_page_token(page->next);
  return grpc::Status::OK;
}

}  // namespace seckill::admin
