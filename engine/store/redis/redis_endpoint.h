#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace seckill {

// One Redis server address.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;

  // "host:port" (an IPv6 host is bracketed: "[::1]:6379").
  std::string toString() const;
  friend bool operator==(const RedisEndpoint&, const RedisEndpoint&) = default;
};

// Credentials sent with AUTH on every new connection: `AUTH <password>` when
// `user` is empty (requirepass, or the ACL user "default"), `AUTH <user>
// <password>` otherwise. Nothing is sent when both are empty.
struct RedisAuth {
  std::string user;
  std::string password;

  bool enabled() const { return !user.empty() || !password.empty(); }
  friend bool operator==(const RedisAuth&, const RedisAuth&) = default;
};

// A configured server: where, and as whom.
struct RedisUrl {
  RedisEndpoint endpoint;
  RedisAuth auth;
};

// Parses what parseRedisAddress() does plus optional credentials before the
// host: "redis://:password@host:port" or "redis://user:password@host:port".
// The user and password are percent-decoded (%40 for "@", %3A for ":", %25
// for "%"); a password may also hold a raw "@" (the last one ends it).
// InvalidArgument names the entry, with any password in it masked.
absl::StatusOr<RedisUrl> parseRedisUrl(std::string_view url);

// Parses "tcp://host:port", "redis://host:port" or "host:port" (IPv6 hosts in
// brackets: "[::1]:7000"). The port is required and must be 1..65535.
// InvalidArgument names the bad entry.
absl::StatusOr<RedisEndpoint> parseRedisAddress(std::string_view address);

// Parses a list of addresses separated by commas and/or whitespace
// ("tcp://10.0.0.1:7000, tcp://10.0.0.2:7000"); at least one is required.
// InvalidArgument names the first bad entry.
absl::StatusOr<std::vector<RedisEndpoint>> parseRedisAddressList(std::string_view addresses);

// The same, one entry per element (a TOML array of seeds).
absl::StatusOr<std::vector<RedisEndpoint>> parseRedisAddressList(
    const std::vector<std::string>& addresses);

}  // namespace seckill
