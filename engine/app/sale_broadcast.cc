#include "engine/app/sale_broadcast.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/core/strings.h"
#include "spdlog/spdlog.h"

namespace seckill::app {

SaleBroadcast::SaleBroadcast(RedisClient& client, std::vector<RedisEndpoint> seeds, RedisAuth auth,
                             const SaleCatalog& catalog, SaleStore& store, std::string node)
    : client_(client), catalog_(catalog), store_(store), node_(std::move(node)) {
  RedisSubscriberOptions options;
  options.seeds = std::move(seeds);
  options.auth = std::move(auth);
  options.channels = {std::string(kSaleChannel)};
  subscriber_ = std::make_unique<RedisSubscriber>(
      std::move(options),
      [this](std::string_view /*channel*/, std::string_view payload) { apply(payload); });
}

SaleBroadcast::~SaleBroadcast() { stop(); }

void SaleBroadcast::stop() {
  if (subscriber_) subscriber_->stop();
}

void SaleBroadcast::soldOut(std::string_view sale_id) { publish("soldout", sale_id); }

void SaleBroadcast::restocked(std::string_view sale_id) { publish("restock", sale_id); }

void SaleBroadcast::publish(std::string_view kind, std::string_view sale_id) {
  published_.fetch_add(1, std::memory_order_relaxed);
  client_.command(sale_id,
                  {"PUBLISH", std::string(kSaleChannel),
                   absl::StrCat(av(kind), " ", node_, " ", av(sale_id))},
                  [](absl::StatusOr<RedisReply>) {
                    // Lost news is healed by refresh() (restock) or costs store
                    // calls only (sold out).
                  });
}

void SaleBroadcast::apply(std::string_view payload) {
  std::vector<absl::string_view> parts = absl::StrSplit(av(payload), absl::MaxSplits(' ', 2));
  if (parts.size() != 3 || parts[1] == av(node_)) return;
  const Sale* sale = catalog_.find(std::string_view(parts[2].data(), parts[2].size()));
  if (sale == nullptr) return;
  if (parts[0] == "soldout") {
    sale->runtime->sold_out.set();
  } else if (parts[0] == "restock") {
    sale->runtime->sold_out.clear();
  } else {
    return;
  }
  applied_.fetch_add(1, std::memory_order_relaxed);
}

void SaleBroadcast::refresh() {
  for (const auto& sale : catalog_.all()) {
    SaleRuntime* s = sale->runtime;  // lives as long as the catalog
    if (!s->sold_out.isSet()) continue;
    const uint64_t epoch = s->sold_out.epoch();
    store_.stockLeft(s->id, [s, epoch](absl::StatusOr<int64_t> left) {
      // Only the flag this read was about: a newer clear/set stands.
      if (left.ok() && *left > 0 && s->sold_out.epoch() == epoch) {
        if (s->sold_out.clear()) {
          spdlog::info("sale {}: {} unit(s) back in stock, reopened", s->id, *left);
        }
      }
    });
  }
}

}  // namespace seckill::app
