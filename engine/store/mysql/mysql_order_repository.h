#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/order_repository.h"
#include "engine/store/mysql/mysql_pool.h"
#include "engine/store/mysql/task_pool.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

struct MysqlOrderRepositoryOptions {
  int threads = 4;            // run the blocking MySQL/Redis calls; callers never block
  size_t max_queued = 65536;  // calls waiting for a thread; beyond: Unavailable
  absl::Duration counts_refresh = absl::Seconds(1);  // how often counts() is re-read
  // The deadline of get, transition and list: a call the database has not
  // answered within it completes with Unavailable (a hung server must not hold
  // shoppers' requests, and the order store's breaker then sees the failures).
  // Its work goes on: a late transition still applies (a 503 is an unknown
  // outcome, as for Redis); a cancel whose unit it did not return is healed by
  // the order's delayed cancel.
  absl::Duration call_timeout = absl::Seconds(2);
};

class CallDeadlines;

// Orders in MySQL (table `orders`, see mysql_schema.h), fed by OrderWriter
// from the Redis order streams; an order not persisted yet is read from its
// record in Redis, field <id> of the hash sk:{sale}:records (written by
// RedisSaleStore's attempt script).
//
// get(id): the row; else the Redis record; else the row again (the writer may
// have committed and deleted the record between the two reads); else NotFound.
// Because the row is read before and after the record, the writer may delete a
// record once its row is committed.
//
// transition(): makes sure the row exists (an `INSERT ... ON DUPLICATE KEY
// UPDATE id=id` built from the Redis record while it exists; a record already gone
// means the row was committed), then ONE conditional `UPDATE orders SET
// state, reason, updated WHERE id AND state = from`, applied iff it affected
// one row (only_before is checked before the UPDATE: `at` is the caller's
// constant), then reads the row back. Racing transitions of one order apply
// exactly once: InnoDB serializes the UPDATEs on the row. The Redis record's
// state is not changed (the row is the truth once it exists), with one
// exception: a record the database refuses because another live order of its
// shopper holds UNIQUE (sale_id, live_user) (the writer dropped it) is handed
// over at its first transition: rewritten as cancelled, reason kDuplicate, and
// given its row so; that transition is then not applied, so no unit is
// returned (docs/durability.md).
//
// counts(): cached, re-read by a background thread every counts_refresh with
// `SELECT state, COUNT(*) FROM orders GROUP BY state`; orders still only in
// the stream are not counted until the writer persists them.
//
// Thread-safety: thread-safe. get/transition complete on one of this
// repository's threads (Unavailable at the deadline: on its deadline thread).
// shutdown() (run by the destructor) completes what is queued and joins the
// threads; `redis` and `pool` must outlive it.
class MysqlOrderRepository final : public OrderRepository {
 public:
  MysqlOrderRepository(RedisClient& redis, MysqlPool& pool,
                       MysqlOrderRepositoryOptions options = {});
  ~MysqlOrderRepository() override;
  MysqlOrderRepository(const MysqlOrderRepository&) = delete;
  MysqlOrderRepository& operator=(const MysqlOrderRepository&) = delete;

  void get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) override;
  void transition(std::string_view order_id, OrderState from, OrderState to, CancelReason reason,
                  absl::Time at, std::optional<absl::Time> only_before,
                  Callback<absl::StatusOr<Transition>> done) override;
  // The last figures read (zeros before the first read). Never blocks.
  OrderCounts counts() const override;
  // Rows in id order (index ix_sale_user for a shopper's); the page token is the last id. An
  // order the writer has not persisted yet (its lag, normally milliseconds) is not listed.
  void list(const OrderQuery& query, Callback<absl::StatusOr<OrderPage>> done) override;

  // Re-reads the counts now (blocking; for tests and start-up).
  absl::Status refreshCounts();
  void shutdown();

 private:
  absl::StatusOr<Order> getNow(const std::string& order_id);
  absl::StatusOr<OrderPage> listNow(const OrderQuery& query);
  absl::StatusOr<Transition> transitionNow(const std::string& order_id, OrderState from,
                                           OrderState to, CancelReason reason, absl::Time at,
                                           std::optional<absl::Time> only_before);
  // Records `o` (a Redis record the writer dropped as a duplicate) as cancelled,
  // reason kDuplicate, and binds its buyer to the user's live order; if that
  // order went before, inserts `o` as it is (it is the user's order now).
  absl::Status recordDuplicate(MysqlConnection& c, const Order& o, absl::Time at);
  // Writes the row of a record that is not pending (only a duplicate's
  // hand-over interrupted before its commit leaves one) and deletes the record.
  absl::Status settleRecord(MysqlConnection& c, const Order& o);
  // Deletes the order's Redis record, whose row is in the database. Best effort.
  void deleteRecord(const Order& o);
  // The order's record in Redis (redis_keys::orderRecords); nullopt if there is none.
  absl::StatusOr<std::optional<Order>> readRecord(std::string_view sale, const std::string& id);
  void refreshLoop();

  RedisClient& redis_;
  MysqlPool& pool_;
  const MysqlOrderRepositoryOptions options_;
  std::unique_ptr<CallDeadlines> deadlines_;  // before tasks_: tasks complete through it
  TaskPool tasks_;

  std::atomic<int64_t> pending_{0};
  std::atomic<int64_t> paid_{0};
  std::atomic<int64_t> cancelled_{0};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refresher_;
};

}  // namespace seckill
