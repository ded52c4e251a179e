#pragma once

#include <functional>
#include <string>
#include <vector>

namespace seckill {

// The ids of the sales served now. Stores that keep per-sale structures (delayed cancels, order
// streams, counts) ask it on each pass instead of holding a list fixed at start, so a sale
// created at run time is followed like the others. Thread-safe; not for the request path.
using SaleIdList = std::function<std::vector<std::string>()>;

// A fixed list (tests, tools).
inline SaleIdList fixedSaleIds(std::vector<std::string> ids) {
  return [ids = std::move(ids)] { return ids; };
}

}  // namespace seckill
