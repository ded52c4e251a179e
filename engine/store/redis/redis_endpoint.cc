#include "engine/store/redis/redis_endpoint.h"

#include <charconv>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {
namespace {

absl::Status bad(std::string_view address, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("redis address \"", av(address), "\": ", av(why)));
}

// `address` without its scheme: "", "tcp://" or "redis://".
std::string_view schemeOf(std::string_view address) {
  for (std::string_view scheme : {"tcp://", "redis://"}) {
    if (address.starts_with(scheme)) return address.substr(0, scheme.size());
  }
  return {};
}

// "host:port" or "[ipv6]:port" (a trailing "/" allowed); errors name `shown`.
absl::StatusOr<RedisEndpoint> parseWhere(std::string_view shown, std::string_view rest) {
  if (rest.find("://") != std::string_view::npos) {
    return bad(shown, "unsupported scheme (expected tcp:// or redis://)");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view host;
  std::string_view port;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad(shown, "expected [ipv6]:port");
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad(shown, "missing :port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad(shown, "IPv6 hosts need brackets");
  }
  if (host.empty()) return bad(shown, "missing host");
  if (host.find_first_of("/@ \t") != std::string_view::npos) return bad(shown, "bad host");
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
      value > 65535) {
    return bad(shown, "port must be 1..65535");
  }
  return RedisEndpoint{.host = std::string(host), .port = value};
}

}  // namespace

std::string RedisEndpoint::toString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<RedisEndpoint> parseRedisAddress(std::string_view address) {
  return parseWhere(address, address.substr(schemeOf(address).size()));
}

absl::StatusOr<RedisUrl> parseRedisUrl(std::string_view url) {
  const std::string_view scheme = schemeOf(url);
  const std::string_view rest = url.substr(scheme.size());
  RedisUrl out;
  const size_t at = rest.rfind('@');
  if (at == std::string_view::npos) {
    absl::StatusOr<RedisEndpoint> e = parseWhere(url, rest);
    if (!e.ok()) return e.status();
    out.endpoint = *std::move(e);
    return out;
  }
  const std::string_view userinfo = rest.substr(0, at);
  const std::string_view where = rest.substr(at + 1);
  // The entry as errors show it: never the password.
  const size_t colon = userinfo.find(':');
  const std::string shown =
      colon == std::string_view::npos
          ? absl::StrCat(av(scheme), "***@", av(where))
          : absl::StrCat(av(scheme), av(userinfo.substr(0, colon)), ":***@", av(where));
  if (scheme.empty()) return bad(shown, "credentials need the redis:// or tcp:// scheme");
  if (colon == std::string_view::npos) {
    return bad(shown, "credentials must be user:password@ or :password@");
  }
  std::optional<std::string> user = percentDecoded(userinfo.substr(0, colon));
  std::optional<std::string> password = percentDecoded(userinfo.substr(colon + 1));
  if (!user || !password) return bad(shown, "bad %-escape in the credentials");
  if (password->empty()) return bad(shown, "empty password");
  absl::StatusOr<RedisEndpoint> e = parseWhere(shown, where);
  if (!e.ok()) return e.status();
  out.endpoint = *std::move(e);
  out.auth = RedisAuth{.user = *std::move(user), .password = *std::move(password)};
  return out;
}

absl::StatusOr<std::vector<RedisEndpoint>> parseRedisAddressList(std::string_view addresses) {
  std::vector<std::string> entries;
  std::string current;
  for (char c : addresses) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!current.empty()) entries.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) entries.push_back(std::move(current));
  if (entries.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address list \"", av(addresses), "\": no address"));
  }
  return parseRedisAddressList(entries);
}

absl::StatusOr<std::vector<RedisEndpoint>> parseRedisAddressList(
    const std::vector<std::string>& addresses) {
  if (addresses.empty()) return absl::InvalidArgumentError("redis address list: no address");
  std::vector<RedisEndpoint> out;
  for (const std::string& a : addresses) {
    absl::StatusOr<RedisEndpoint> e = parseRedisAddress(a);
    if (!e.ok()) return e.status();
    out.push_back(*std::move(e));
  }
  return out;
}

}  // namespace seckill
