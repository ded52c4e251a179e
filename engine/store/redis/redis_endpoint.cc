#include "engine/store/redis/redis_endpoint.h"

#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {
namespace {

absl::Status bad(std::string_view address, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("redis address \"", av(address), "\": ", av(why)));
}

}  // namespace

std::string RedisEndpoint::toString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<RedisEndpoint> parseRedisAddress(std::string_view address) {
  std::string_view rest = address;
  for (std::string_view scheme : {"tcp://", "redis://"}) {
    if (rest.starts_with(scheme)) {
      rest.remove_prefix(scheme.size());
      break;
    }
  }
  if (rest.find("://") != std::string_view::npos) {
    return bad(address, "unsupported scheme (expected tcp:// or redis://)");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view host;
  std::string_view port;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad(address, "expected [ipv6]:port");
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad(address, "missing :port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad(address, "IPv6 hosts need brackets");
  }
  if (host.empty()) return bad(address, "missing host");
  if (host.find_first_of("/@ \t") != std::string_view::npos) return bad(address, "bad host");
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
      value > 65535) {
    return bad(address, "port must be 1..65535");
  }
  return RedisEndpoint{.host = std::string(host), .port = value};
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
