#pragma once

#include <string_view>

namespace seckill {

// What the core tells the other engine nodes about a sale's stock, so each
// node's local sold-out flag (SoldOutFlag) follows the shared store: one node
// learning "sold out" spares every node the store calls, and a unit returned
// on one node reopens the sale on all of them. Implementations only queue a
// message (never block): they are called on request and store threads.
// Thread-safe.
class SaleEvents {
 public:
  virtual ~SaleEvents() = default;
  // This node's store answered "sold out" and the local flag was set.
  virtual void soldOut(std::string_view sale_id) = 0;
  // This node returned a unit of the sale to stock (a cancel).
  virtual void restocked(std::string_view sale_id) = 0;
};

}  // namespace seckill
