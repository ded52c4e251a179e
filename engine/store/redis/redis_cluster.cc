#include "engine/store/redis/redis_cluster.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace seckill::redis_cluster {

uint16_t crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

int keySlot(std::string_view key) {
  size_t open = key.find('{');
  if (open != std::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      return routeSlot(key.substr(open + 1, close - open - 1));
    }
  }
  return routeSlot(key);
}

namespace {

bool toInt(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

absl::StatusOr<std::vector<SlotRange>> parseClusterSlots(const RedisReply& reply,
                                                         std::string_view asked_host) {
  const auto bad = absl::InternalError("redis: malformed CLUSTER SLOTS reply");
  if (reply.type != RedisReply::Type::kArray) return bad;
  std::vector<SlotRange> out;
  for (const RedisReply& range : reply.elements) {
    // [first, last, [host, port, id, ...], replicas...]
    if (range.type != RedisReply::Type::kArray || range.elements.size() < 3) return bad;
    const RedisReply& master = range.elements[2];
    if (range.elements[0].type != RedisReply::Type::kInteger ||
        range.elements[1].type != RedisReply::Type::kInteger ||
        master.type != RedisReply::Type::kArray || master.elements.size() < 2 ||
        master.elements[0].type != RedisReply::Type::kString ||
        master.elements[1].type != RedisReply::Type::kInteger) {
      return bad;
    }
    // Checked as sent (int64), before they are narrowed.
    const int64_t first = range.elements[0].integer;
    const int64_t last = range.elements[1].integer;
    const int64_t port = master.elements[1].integer;
    if (first < 0 || last >= kSlots || first > last || port < 1 || port > 65535) return bad;
    SlotRange r;
    r.first = static_cast<int>(first);
    r.last = static_cast<int>(last);
    r.master.host = master.elements[0].str;
    if (r.master.host.empty() || r.master.host == "?") r.master.host = std::string(asked_host);
    r.master.port = static_cast<int>(port);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<Redirect> parseRedirect(std::string_view error) {
  Redirect r;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    error.remove_prefix(4);
    r.ask = true;
  } else {
    return std::nullopt;
  }
  size_t space = error.find(' ');
  if (space == std::string_view::npos || !toInt(error.substr(0, space), r.slot) || r.slot < 0 ||
      r.slot >= kSlots) {
    return std::nullopt;
  }
  std::string_view address = error.substr(space + 1);
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || !toInt(address.substr(colon + 1), r.target.port) ||
      r.target.port < 1 || r.target.port > 65535) {
    return std::nullopt;
  }
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  r.target.host = std::string(host);
  return r;
}

}  // namespace seckill::redis_cluster
