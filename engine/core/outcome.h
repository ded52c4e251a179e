#pragma once

#include <string_view>

namespace seckill {

// Every answer the shopper API can give, decided by the core and formatted at
// the edge (engine/http maps each to a status code and an error string).
enum class Outcome {
  kOk,
  kCreated,
  kDuplicate,
  kSoldOut,
  kSaleNotOpen,
  kInvalidToken,
  kTokenInFlight,
  kUnknownSale,
  kUnknownOrder,
  kForbidden,
  kOrderExpired,
  kOrderCancelled,
  kAlreadyPaid,
  kBusy,         // shed by the store; retry later
  kUnavailable,  // a backend failed to answer
  kRateLimited,  // a rate rule limited the request
  kCircuitOpen,  // a backend's circuit breaker is open
  kShed,         // an operator override sheds all traffic under this path
};

// The machine-readable error string ("duplicate", "sold_out", ...); "" for kOk/kCreated.
std::string_view outcomeError(Outcome o);
// The HTTP status the shopper API answers with.
int outcomeHttpStatus(Outcome o);

}  // namespace seckill
