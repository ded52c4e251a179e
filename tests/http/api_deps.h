#pragma once

#include "engine/http/server.h"
#include "tests/support/sale_fixture.h"

namespace seckill::testing {

// The shopper API's dependencies on an embedded SaleWorld; callers add the
// optional ones (limiter, on_shadow, extra_metrics) to the copy they get.
inline http::ShopperApiDeps apiDepsOf(SaleWorld& world) {
  return http::ShopperApiDeps{.clock = world.clock,
                              .catalog = *world.catalog,
                              .sales = *world.sales,
                              .orders = *world.lifecycle,
                              .repository = world.orders,
                              .store = world.store};
}

}  // namespace seckill::testing
