#pragma once

#include "absl/status/status.h"
#include "engine/store/mysql/mysql_pool.h"

namespace seckill {

// The schema version this code writes and reads.
inline constexpr int kMysqlSchemaVersion = 2;

// Creates or migrates the order schema to kMysqlSchemaVersion (tables
// `schema_version` and `orders`, see docs/mysql.md). Idempotent; two engines
// starting at once serialize on a named lock (GET_LOCK) and the second finds
// nothing to do. A database already at a newer version is left alone (OK).
// Blocking; the database named in the URL must exist. Thread-safe.
absl::Status migrateSchema(MysqlPool& pool);

// The version recorded in `schema_version` (0 when the table is missing).
absl::StatusOr<int> schemaVersion(MysqlPool& pool);

}  // namespace seckill
