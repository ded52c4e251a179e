#pragma once

#include "engine/core/engine_stats.h"
#include "engine/http/server.h"
#include "tests/support/sale_fixture.h"

namespace seckill::testing {

// The shopper API's dependencies on an embedded SaleWorld; callers add the
// optional ones (limiter, on_shadow) to the copy they get. /metrics shows the
// world's orders by state and stock, as the app's collector would.
inline http::ShopperApiDeps apiDepsOf(SaleWorld& world) {
  return http::ShopperApiDeps{
      .clock = world.clock,
      .catalog = *world.catalog,
      .sales = *world.sales,
      .orders = *world.lifecycle,
      .collect_stats = [&world](Callback<EngineStats> done) {
        EngineStats s;
        const OrderCounts c = world.orders.counts();
        s.orders.pending_now = c.pending_payment;
        s.orders.paid_now = c.paid;
        s.orders.cancelled_now = c.cancelled;
        gatherSaleStock(*world.catalog, world.store, world.clock.now(),
                        [s = std::move(s), done = std::move(done)](
                            std::vector<EngineStats::SaleStock> sales) mutable {
                          s.sales = std::move(sales);
                          std::move(done)(std::move(s));
                        });
      }};
}

}  // namespace seckill::testing
