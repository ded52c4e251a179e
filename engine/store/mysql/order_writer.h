#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/sale_ids.h"
#include "engine/store/mysql/mysql_pool.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

struct OrderWriterOptions {
  SaleIdList sale_ids;  // whose order streams (sk:{S}:orders) are read; asked every round
  std::string group = "seckill-writers";
  // This node's name; worker i reads as consumer "<consumer>-<i>". Keep it
  // stable across restarts: a restarted node first re-reads its own pending
  // entries (XREADGROUP ... 0) instead of waiting for claim_idle.
  std::string consumer = "node";
  int workers = 2;   // threads; each holds at most one pool connection at a time
  int batch = 1000;  // entries per XREADGROUP COUNT and rows per INSERT
  // Entries pending on another consumer for longer than this are taken over
  // (XAUTOCLAIM): that consumer is presumed dead.
  absl::Duration claim_idle = absl::Seconds(30);
  absl::Duration idle_sleep = absl::Milliseconds(20);   // after a round that found nothing
  absl::Duration backoff_min = absl::Milliseconds(50);  // after a MySQL or Redis failure,
  absl::Duration backoff_max = absl::Seconds(2);        // doubling up to this
  absl::Duration lag_refresh = absl::Seconds(1);        // how often lag() is re-measured
  // HDEL the order's record (field <id> of sk:{S}:records) once the row is
  // committed, to free Redis memory. Safe with MysqlOrderRepository, which
  // reads the database first and again after a missing record. Leave it off
  // while RedisOrderRepository serves the orders.
  bool delete_order_records = true;
  // Tests only: runs on the worker thread after the INSERT, before COMMIT.
  std::function<void()> before_commit;
};

// Moves created orders from the Redis order streams into MySQL.
//
// Each worker loops over the sales: re-reads its own pending entries after a
// (re)start, takes over entries idle on a dead consumer (XAUTOCLAIM,
// claim_idle), then reads new ones (XREADGROUP COUNT batch, non-blocking, an
// idle_sleep when every stream was empty). A batch becomes ONE multi-row
// `INSERT ... ON DUPLICATE KEY UPDATE id=id` in a transaction: a redelivered
// row (same id) is a no-op and never overwrites a paid or cancelled row; a row
// refused by UNIQUE (sale_id, live_user) because another live order of that
// shopper exists is dropped, counted (duplicatesDropped) and logged. Only
// after COMMIT are the entries XACKed and XDELed (the stream holds only what
// is not persisted yet) and, optionally, their order records deleted.
//
// Failures: MySQL down -> nothing is acked; the worker retries the same batch
// with backoff until it lands (or stop()). Redis down -> retried with backoff.
// Every Redis command is routed by the sale id (one hash slot per sale).
//
// `redis` should be a RedisClient of its own (same address as the stores'),
// built without scripts; the writer issues only plain commands and blocks its
// own threads on them, never a connection thread.
//
// Thread-safety: start()/stop() from one owner thread; the metric getters are
// thread-safe and never block.
class OrderWriter {
 public:
  OrderWriter(RedisClient& redis, MysqlPool& pool, OrderWriterOptions options);
  // Calls stop().
  ~OrderWriter();
  OrderWriter(const OrderWriter&) = delete;
  OrderWriter& operator=(const OrderWriter&) = delete;

  // Starts the workers. The consumer group is created (XGROUP CREATE ... 0
  // MKSTREAM) by the workers, so start() succeeds while Redis is down.
  void start();
  // Lets each worker finish the batch it is writing (unless MySQL is down:
  // then the batch stays pending in Redis), and joins them. Idempotent.
  void stop();

  uint64_t persisted() const { return persisted_.load(std::memory_order_relaxed); }  // new rows
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }      // commits
  // Rows refused by the unique key because another live order holds (sale, user).
  uint64_t duplicatesDropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Rows whose id was already in the table (redelivery, or a transition came first).
  uint64_t alreadyPresent() const { return present_.load(std::memory_order_relaxed); }
  // Failed MySQL or Redis operations (each retried) and malformed entries.
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  // Entries not persisted yet (sum of XLEN), as of the last refresh; -1 before the first.
  int64_t lag() const { return lag_.load(std::memory_order_relaxed); }
  // Entries taken over from other consumers with XAUTOCLAIM.
  uint64_t claimed() const { return claimed_.load(std::memory_order_relaxed); }

 public:
  struct Entry;  // one stream entry; defined in order_writer.cc

 private:
  struct SaleCursor;

  void run(int worker);
  // One poll of one sale's stream; the number of entries handled.
  absl::StatusOr<size_t> pollSale(const std::string& sale, SaleCursor& cursor,
                                  const std::string& consumer);
  // Persists then acks `entries`, retrying each step until it succeeds or stop().
  absl::Status handle(const std::string& sale, std::vector<Entry> entries);
  absl::Status writeBatch(const std::string& sale, const std::vector<Entry>& rows,
                          std::vector<bool>& dropped);
  absl::Status ack(const std::string& sale, const std::vector<Entry>& entries,
                   const std::vector<bool>& dropped);
  void maybeRefreshLag();
  // Sleeps `d` unless stop() is called meanwhile; false iff stopping.
  bool pause(absl::Duration d);
  bool stopping() const;

  RedisClient& redis_;
  MysqlPool& pool_;
  const OrderWriterOptions options_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // owner thread only

  std::atomic<int64_t> next_lag_refresh_us_{0};
  std::atomic<uint64_t> persisted_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> present_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> claimed_{0};
  std::atomic<int64_t> lag_{-1};
};

}  // namespace seckill
