#include "engine/store/mysql/mysql_pool.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {
namespace {

// mysql_library_init is not thread-safe; mysql_init would call it lazily.
void initLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

unsigned int seconds(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)));
  return static_cast<unsigned int>(s < 1 ? 1 : s);
}

}  // namespace

MysqlConnection::~MysqlConnection() {
  if (mysql_ != nullptr) mysql_close(mysql_);
}

absl::Status MysqlConnection::error(std::string_view what) {
  unsigned int code = mysql_errno(mysql_);
  std::string message =
      absl::StrCat("mysql ", av(what), ": ", mysql_error(mysql_), " (", code, ")");
  // Client-side errors (CR_*: 2000-2999) mean the connection cannot be trusted:
  // lost, gone, timed out, out of sync.
  if ((code >= CR_MIN_ERROR && code <= CR_MAX_ERROR) || code == ER_SERVER_SHUTDOWN ||
      code == ER_CONNECTION_KILLED || code == 0) {
    broken_ = true;
    return absl::UnavailableError(message);
  }
  if (code == ER_LOCK_DEADLOCK || code == ER_LOCK_WAIT_TIMEOUT) return absl::AbortedError(message);
  if (code == ER_DUP_ENTRY) return absl::AlreadyExistsError(message);
  return absl::InternalError(message);
}

absl::StatusOr<uint64_t> MysqlConnection::execute(std::string_view sql) {
  if (mysql_real_query(mysql_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    return error("query");
  }
  // A statement that unexpectedly returned rows: drain them so the connection stays usable.
  if (mysql_field_count(mysql_) != 0) {
    MYSQL_RES* res = mysql_store_result(mysql_);
    if (res == nullptr) return error("store result");
    mysql_free_result(res);
    return 0;
  }
  my_ulonglong affected = mysql_affected_rows(mysql_);
  if (affected == static_cast<my_ulonglong>(-1)) return error("affected rows");
  return static_cast<uint64_t>(affected);
}

absl::StatusOr<std::vector<MysqlConnection::Row>> MysqlConnection::query(std::string_view sql) {
  if (mysql_real_query(mysql_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    return error("query");
  }
  MYSQL_RES* res = mysql_store_result(mysql_);
  if (res == nullptr) {
    if (mysql_field_count(mysql_) == 0) return std::vector<Row>();  // not a SELECT
    return error("store result");
  }
  std::vector<Row> rows;
  const unsigned int fields = mysql_num_fields(res);
  rows.reserve(mysql_num_rows(res));
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    if (lengths == nullptr) {
      mysql_free_result(res);
      return error("fetch lengths");
    }
    Row out(fields);
    for (unsigned int i = 0; i < fields; ++i) {
      if (row[i] != nullptr) out[i] = std::string(row[i], lengths[i]);
    }
    rows.push_back(std::move(out));
  }
  // mysql_fetch_row returns NULL at the end and on error; store_result read
  // everything already, so only a client error can show up here.
  bool failed = mysql_errno(mysql_) != 0;
  mysql_free_result(res);
  if (failed) return error("fetch row");
  return rows;
}

std::string MysqlConnection::quote(std::string_view value) {
  std::string out(value.size() * 2 + 3, '\0');
  out[0] = '\'';
  unsigned long n = mysql_real_escape_string(mysql_, out.data() + 1, value.data(),
                                             static_cast<unsigned long>(value.size()));
  if (n == static_cast<unsigned long>(-1)) {
    // Only possible with NO_BACKSLASH_ESCAPES and a quote char; we never set it.
    broken_ = true;
    return "NULL";
  }
  out[n + 1] = '\'';
  out.resize(n + 2);
  return out;
}

MysqlPool::MysqlPool(MysqlPoolOptions options) : options_(std::move(options)) { initLibraryOnce(); }

MysqlPool::~MysqlPool() {
  absl::MutexLock lock(&mu_);
  idle_.clear();
}

MysqlPool::Lease::~Lease() {
  if (conn_ != nullptr) pool_->giveBack(std::move(conn_));
}

int MysqlPool::openCount() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> MysqlPool::connect() {
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) return absl::ResourceExhaustedError("mysql_init: out of memory");
  auto conn = std::make_unique<MysqlConnection>(mysql);
  unsigned int connect_timeout = seconds(options_.connect_timeout);
  unsigned int io_timeout = seconds(options_.io_timeout);
  my_bool reconnect = 0;  // a silent reconnect would lose the session state: we reopen ourselves
  if (mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout) != 0 ||
      mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &io_timeout) != 0 ||
      mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout) != 0 ||
      mysql_options(mysql, MYSQL_OPT_RECONNECT, &reconnect) != 0 ||
      mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0) {
    return absl::InternalError("mysql_options failed");
  }
  const MysqlUrl& url = options_.url;
  if (!url.socket.empty()) {
    unsigned int protocol = MYSQL_PROTOCOL_SOCKET;
    if (mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocol) != 0) {
      return absl::InternalError("mysql_options(protocol) failed");
    }
  }
  if (mysql_real_connect(mysql, url.host.c_str(), url.user.c_str(), url.password.c_str(),
                         url.database.c_str(), static_cast<unsigned int>(url.port),
                         url.socket.empty() ? nullptr : url.socket.c_str(), 0) == nullptr) {
    absl::Status s = conn->error(absl::StrCat("connect to ", redactedMysqlUrl(url)));
    // Access denied or unknown database are not transient, but the caller
    // handles them like any outage: they are reported, not retried silently.
    return absl::UnavailableError(s.message());
  }
  conn->idle_since_ = absl::Now();
  return conn;
}

absl::StatusOr<MysqlPool::Lease> MysqlPool::acquire(std::optional<absl::Duration> timeout) {
  const absl::Duration wait = timeout.value_or(options_.acquire_timeout);
  std::unique_ptr<MysqlConnection> conn;
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available), wait)) {
      return absl::DeadlineExceededError(
          absl::StrCat("mysql pool: all ", options_.size, " connections busy"));
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // reserve the slot; connect below without holding the lock
    }
  }
  if (conn != nullptr && absl::Now() - conn->idle_since_ > options_.validate_after &&
      mysql_ping(conn->mysql_) != 0) {
    conn.reset();  // dead (server restarted?): replace it, keeping its slot
  }
  if (conn == nullptr) {
    absl::StatusOr<std::unique_ptr<MysqlConnection>> opened = connect();
    if (!opened.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return opened.status();
    }
    conn = *std::move(opened);
  }
  return Lease(this, std::move(conn));
}

void MysqlPool::giveBack(std::unique_ptr<MysqlConnection> conn) {
  if (conn->broken()) {
    conn.reset();  // close outside the lock
    absl::MutexLock lock(&mu_);
    --open_;
    return;
  }
  conn->idle_since_ = absl::Now();
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(conn));
}

}  // namespace seckill
