#include "engine/store/mysql/mysql_schema.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace seckill {
namespace {

// Migration N brings the schema from version N-1 to N. Append only; never
// edit a released step.
const std::vector<std::vector<std::string>>& migrations() {
  static const auto* steps = new std::vector<std::vector<std::string>>{
      // 1: the orders table. Ids are ASCII ([A-Za-z0-9_-]) compared as bytes, like
      // Redis does. Times are microseconds since the epoch. `live_user` is the
      // user while the order is live (pending or paid) and NULL once cancelled,
      // so UNIQUE (sale_id, live_user) allows one live order per shopper and
      // sale (the last guard against double orders) while a shopper whose
      // order was cancelled may order again (docs/architecture.md section 4).
      {"CREATE TABLE IF NOT EXISTS orders ("
       " id VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
       " sale_id VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
       " user_id VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
       " state TINYINT UNSIGNED NOT NULL COMMENT '0 pending_payment, 1 paid, 2 cancelled',"
       " reason TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '0 none, 1 shopper, 2 expired',"
       " created BIGINT NOT NULL COMMENT 'us since epoch',"
       " pay_before BIGINT NOT NULL COMMENT 'us since epoch',"
       " updated BIGINT NOT NULL COMMENT 'us since epoch',"
       " live_user VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin"
       "   AS (IF(state = 2, NULL, user_id)) STORED,"
       " PRIMARY KEY (id),"
       " UNIQUE KEY uk_sale_user (sale_id, live_user)"
       ") ENGINE=InnoDB"},
      // 2: a shopper's orders in a sale, cancelled ones too (the admin API lists them).
      {"CREATE INDEX ix_sale_user ON orders (sale_id, user_id)"},
  };
  return *steps;
}

absl::StatusOr<int> readVersion(MysqlConnection& conn) {
  absl::StatusOr<std::vector<MysqlConnection::Row>> rows =
      conn.query("SELECT version FROM schema_version WHERE id = 1");
  if (!rows.ok()) return rows.status();
  int version = 0;
  if (rows->size() != 1 || !(*rows)[0][0] || !absl::SimpleAtoi(*(*rows)[0][0], &version)) {
    return absl::InternalError("mysql schema: malformed schema_version row");
  }
  return version;
}

absl::Status migrateLocked(MysqlConnection& conn) {
  absl::StatusOr<int> version = readVersion(conn);
  if (!version.ok()) return version.status();
  const auto& steps = migrations();
  for (int v = *version + 1; v <= static_cast<int>(steps.size()); ++v) {
    for (const std::string& sql : steps[v - 1]) {
      absl::StatusOr<uint64_t> r = conn.execute(sql);
      if (!r.ok()) {
        return absl::Status(r.status().code(),
                            absl::StrCat("schema migration ", v, ": ", r.status().message()));
      }
    }
    absl::StatusOr<uint64_t> r =
        conn.execute(absl::StrCat("UPDATE schema_version SET version = ", v, " WHERE id = 1"));
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status migrateSchema(MysqlPool& pool) {
  absl::StatusOr<MysqlPool::Lease> conn = pool.acquire();
  if (!conn.ok()) return conn.status();
  MysqlConnection& c = **conn;
  for (const char* sql : {
           "CREATE TABLE IF NOT EXISTS schema_version ("
           " id TINYINT UNSIGNED NOT NULL PRIMARY KEY,"
           " version INT NOT NULL) ENGINE=InnoDB",
           "INSERT IGNORE INTO schema_version (id, version) VALUES (1, 0)",
       }) {
    absl::StatusOr<uint64_t> r = c.execute(sql);
    if (!r.ok()) return r.status();
  }
  // A named lock per database: engines starting at once migrate one after the other.
  absl::StatusOr<std::vector<MysqlConnection::Row>> locked =
      c.query("SELECT GET_LOCK(CONCAT('seckill.schema.', DATABASE()), 60)");
  if (!locked.ok()) return locked.status();
  if (locked->size() != 1 || (*locked)[0][0] != std::optional<std::string>("1")) {
    return absl::DeadlineExceededError("mysql schema: could not take the migration lock in 60 s");
  }
  absl::Status migrated = migrateLocked(c);
  absl::StatusOr<std::vector<MysqlConnection::Row>> released =
      c.query("SELECT RELEASE_LOCK(CONCAT('seckill.schema.', DATABASE()))");
  if (!released.ok()) c.markBroken();  // closing the session releases the lock
  return migrated;
}

absl::StatusOr<int> schemaVersion(MysqlPool& pool) {
  absl::StatusOr<MysqlPool::Lease> conn = pool.acquire();
  if (!conn.ok()) return conn.status();
  absl::StatusOr<std::vector<MysqlConnection::Row>> exists = (*conn)->query(
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema ="
      " DATABASE() AND table_name = 'schema_version'");
  if (!exists.ok()) return exists.status();
  if (exists->size() == 1 && (*exists)[0][0] == std::optional<std::string>("0")) return 0;
  return readVersion(**conn);
}

}  // namespace seckill
