#include "engine/identity/trusted_proxies.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::identity {
namespace {

constexpr std::array<uint8_t, 12> kV4Mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The address of a forwarded node: "192.0.2.1", "192.0.2.1:80", "[2001:db8::1]:80",
// "2001:db8::1" (quotes already removed).
std::optional<IpAddress> nodeAddress(std::string_view node) {
  node = trim(node);
  if (!node.empty() && node.front() == '[') {
    const size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return IpAddress::parse(node.substr(1, close - 1));
  }
  const size_t colon = node.find(':');
  if (colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos) {
    node = node.substr(0, colon);  // IPv4 with a port
  }
  return IpAddress::parse(node);
}

// The for= value of each Forwarded element, in order; an element without one gives "".
absl::InlinedVector<std::string_view, 8> forwardedFor(std::string_view header) {
  absl::InlinedVector<std::string_view, 8> out;
  size_t i = 0;
  while (i <= header.size()) {
    // One element: up to the next ',' outside quotes.
    size_t end = i;
    bool quoted = false;
    while (end < header.size() && (quoted || header[end] != ',')) {
      if (header[end] == '"') quoted = !quoted;
      ++end;
    }
    std::string_view element = header.substr(i, end - i);
    std::string_view value;
    while (!element.empty()) {
      size_t semi = element.find(';');
      std::string_view pair = trim(element.substr(0, semi));
      element = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (absl::EqualsIgnoreCase(av(trim(pair.substr(0, eq))), "for")) {
        value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
      }
    }
    if (!trim(header.substr(i, end - i)).empty()) out.push_back(value);
    i = end + 1;
  }
  return out;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes.data() + 12) == 1) {
    std::copy(kV4Mapped.begin(), kV4Mapped.end(), a.bytes.begin());
    a.v4 = true;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.v4 = std::equal(kV4Mapped.begin(), kV4Mapped.end(), a.bytes.begin());
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN];
  const char* s = v4 ? inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof(buf))
                     : inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  return s == nullptr ? std::string() : std::string(s);
}

absl::StatusOr<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& entries) {
  TrustedProxies out;
  for (const std::string& entry : entries) {
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", av(entry), "\" is not an address or CIDR range (", av(why), ")"));
    };
    std::string_view text = entry;
    const size_t slash = text.find('/');
    auto base = IpAddress::parse(text.substr(0, slash));
    if (!base) return bad("like 10.0.0.0/8, 127.0.0.1, fd00::/8 or ::1");
    int prefix = 128;
    if (slash != std::string_view::npos) {
      std::string_view bits = text.substr(slash + 1);
      int n = -1;
      auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
      const int max = base->v4 ? 32 : 128;
      if (ec != std::errc() || p != bits.data() + bits.size() || n < 0 || n > max) {
        return bad(absl::StrCat("the prefix length must be 0-", max));
      }
      prefix = base->v4 ? 96 + n : n;
    }
    // Host bits set ("10.1.2.3/8") are almost certainly a typo for a narrower range.
    for (int bit = prefix; bit < 128; ++bit) {
      if (base->bytes[bit / 8] & (0x80 >> (bit % 8))) return bad("host bits set");
    }
    out.ranges_.push_back({*base, prefix});
  }
  return out;
}

bool TrustedProxies::contains(const IpAddress& a) const {
  for (const Range& r : ranges_) {
    const int whole = r.prefix / 8;
    if (std::memcmp(a.bytes.data(), r.base.bytes.data(), whole) != 0) continue;
    const int rest = r.prefix % 8;
    if (rest != 0) {
      const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((a.bytes[whole] & mask) != (r.base.bytes[whole] & mask)) continue;
    }
    return true;
  }
  return false;
}

bool TrustedProxies::contains(std::string_view address) const {
  if (ranges_.empty()) return false;
  auto a = IpAddress::parse(address);
  return a && contains(*a);
}

std::string_view TrustedProxies::clientAddress(std::string_view peer,
                                               std::string_view forwarded_for,
                                               std::string_view forwarded,
                                               std::string& scratch) const {
  if (ranges_.empty() || !contains(peer)) return peer;
  absl::InlinedVector<std::string_view, 8> chain;
  if (!trim(forwarded).empty()) {
    chain = forwardedFor(forwarded);
  } else {
    size_t i = 0;
    while (i <= forwarded_for.size()) {
      size_t comma = forwarded_for.find(',', i);
      if (comma == std::string_view::npos) comma = forwarded_for.size();
      std::string_view node = trim(forwarded_for.substr(i, comma - i));
      if (!node.empty()) chain.push_back(node);
      i = comma + 1;
    }
  }
  std::optional<IpAddress> believed;  // the last address walked that the chain vouches for
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    auto a = nodeAddress(*it);
    if (!a) break;  // "unknown", "_hidden", garbage: nothing left of it can be believed
    believed = a;
    if (!contains(*a)) break;  // the first untrusted hop is the client
  }
  if (!believed) return peer;
  scratch = believed->toString();
  return scratch;
}

}  // namespace seckill::identity
