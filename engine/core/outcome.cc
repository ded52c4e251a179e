#include "engine/core/outcome.h"

namespace seckill {

std::string_view outcomeError(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "";
    case Outcome::kCreated: return "";
    case Outcome::kDuplicate: return "duplicate";
    case Outcome::kSoldOut: return "sold_out";
    case Outcome::kSaleNotOpen: return "sale_not_open";
    case Outcome::kInvalidToken: return "invalid_token";
    case Outcome::kTokenInFlight: return "token_in_flight";
    case Outcome::kUnknownSale: return "unknown_sale";
    case Outcome::kUnknownOrder: return "unknown_order";
    case Outcome::kForbidden: return "forbidden";
    case Outcome::kOrderExpired: return "order_expired";
    case Outcome::kOrderCancelled: return "order_cancelled";
    case Outcome::kAlreadyPaid: return "already_paid";
    case Outcome::kBusy: return "busy";
    case Outcome::kUnavailable: return "unavailable";
    case Outcome::kRateLimited: return "rate_limited";
    case Outcome::kCircuitOpen: return "circuit_open";
    case Outcome::kShed: return "shed";
  }
  return "internal";
}

int outcomeHttpStatus(Outcome o) {
  switch (o) {
    case Outcome::kOk: return 200;
    case Outcome::kCreated: return 201;
    case Outcome::kDuplicate: return 409;
    case Outcome::kSoldOut: return 410;
    case Outcome::kSaleNotOpen: return 409;
    case Outcome::kInvalidToken: return 403;
    case Outcome::kTokenInFlight: return 409;
    case Outcome::kUnknownSale: return 404;
    case Outcome::kUnknownOrder: return 404;
    case Outcome::kForbidden: return 403;
    case Outcome::kOrderExpired: return 409;
    case Outcome::kOrderCancelled: return 409;
    case Outcome::kAlreadyPaid: return 409;
    case Outcome::kBusy: return 503;
    case Outcome::kUnavailable: return 503;
    case Outcome::kRateLimited: return 429;
    case Outcome::kCircuitOpen: return 503;
    case Outcome::kShed: return 503;
  }
  return 500;
}

}  // namespace seckill
