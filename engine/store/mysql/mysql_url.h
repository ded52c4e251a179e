#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace seckill {

// Where a MariaDB/MySQL database is: the parts of
// "mysql://user:password@host:port/db?socket=/path".
struct MysqlUrl {
  std::string user;
  std::string password;
  std::string host;
  int port = 3306;
  std::string database;
  std::string socket;  // a Unix socket path; when set, the client uses it instead of TCP
};

// Parses "mysql://user[:password]@host[:port]/db[?socket=/path]". User and
// password are percent-decoded ("p%40ss" -> "p@ss"); the port defaults to
// 3306. InvalidArgument naming the part that is wrong (scheme, user, host,
// port, database, query, percent escape). Thread-safe (pure).
absl::StatusOr<MysqlUrl> parseMysqlUrl(std::string_view url);

// The URL without its password ("mysql://user:***@host:port/db"), for logs.
std::string redactedMysqlUrl(const MysqlUrl& url);

}  // namespace seckill
