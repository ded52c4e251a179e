#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/store/mysql/mysql_url.h"

typedef struct st_mysql MYSQL;

namespace seckill {

struct MysqlPoolOptions {
  MysqlUrl url;
  int size = 8;  // never more connections open than this
  absl::Duration acquire_timeout = absl::Seconds(1);
  absl::Duration connect_timeout = absl::Seconds(2);
  // Socket read/write timeout of each connection: a statement whose answer
  // takes longer fails with Unavailable and the connection is dropped.
  absl::Duration io_timeout = absl::Seconds(10);
  // A connection idle for longer than this is pinged before it is lent (and
  // reopened if the ping fails), so a restarted server costs no failed call.
  absl::Duration validate_after = absl::Seconds(1);
};

// One open connection, lent by MysqlPool to one user at a time (not
// thread-safe). Every libmysqlclient return value is checked: client errors
// (server gone, lost, timeout) and server shutdown answer Unavailable and mark
// the connection broken (the pool closes it on return); deadlock and lock wait
// timeout answer Aborted; a duplicate key AlreadyExists; others Internal.
class MysqlConnection {
 public:
  using Row = std::vector<std::optional<std::string>>;  // nullopt for SQL NULL

  explicit MysqlConnection(MYSQL* mysql) : mysql_(mysql) {}
  ~MysqlConnection();
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  // Runs a statement that returns no rows; answers the affected rows (found
  // rows are not counted: an UPDATE that changes nothing affects 0).
  absl::StatusOr<uint64_t> execute(std::string_view sql);
  // Runs a statement that returns rows and answers all of them.
  absl::StatusOr<std::vector<Row>> query(std::string_view sql);
  // `value` as a quoted SQL string literal ('it''s' escaped for this connection).
  std::string quote(std::string_view value);

  bool broken() const { return broken_; }
  void markBroken() { broken_ = true; }

 private:
  friend class MysqlPool;
  absl::Status error(std::string_view what);

  MYSQL* mysql_;
  bool broken_ = false;
  absl::Time idle_since_;
};

// A bounded pool of connections to one database. Connections are opened on
// demand, at most `size` at any time; a broken connection is closed when
// returned and a new one opened by a later acquire.
//
// Thread-safety: thread-safe. A Lease (and the connection it holds) belongs
// to the thread that acquired it until destroyed. The pool must outlive every
// lease.
class MysqlPool {
 public:
  // Does not connect: the first acquire() does.
  explicit MysqlPool(MysqlPoolOptions options);
  ~MysqlPool();
  MysqlPool(const MysqlPool&) = delete;
  MysqlPool& operator=(const MysqlPool&) = delete;

  // A connection lent until the Lease is destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    MysqlConnection* operator->() const { return conn_.get(); }
    MysqlConnection& operator*() const { return *conn_; }

   private:
    friend class MysqlPool;
    Lease(MysqlPool* pool, std::unique_ptr<MysqlConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    MysqlPool* pool_;
    std::unique_ptr<MysqlConnection> conn_;
  };

  // Lends a connection: an idle one, or a new one while fewer than `size` are
  // open. Waits up to `timeout` (options.acquire_timeout when unset) for one
  // to be returned: DeadlineExceeded. Unavailable if connecting fails.
  absl::StatusOr<Lease> acquire(std::optional<absl::Duration> timeout = std::nullopt);

  const MysqlPoolOptions& options() const { return options_; }
  // Connections open now (lent or idle); never more than options().size.
  int openCount() const;

 private:
  void giveBack(std::unique_ptr<MysqlConnection> conn);
  absl::StatusOr<std::unique_ptr<MysqlConnection>> connect();

  const MysqlPoolOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<MysqlConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + lent + being opened
};

}  // namespace seckill
