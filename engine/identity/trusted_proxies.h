#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace seckill::identity {

// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d, so an IPv4-mapped peer of a
// dual-stack socket matches IPv4 ranges).
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;

  // Parses "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"; nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);
  // The canonical text ("192.0.2.1" for a v4 or v4-mapped address).
  std::string toString() const;
};

// The proxies whose X-Forwarded-For / Forwarded (and, for [identity] kind = "header", the
// user header) are believed. Immutable; thread-safe.
class TrustedProxies {
 public:
  TrustedProxies() = default;
  // Each entry "10.0.0.0/8", "2001:db8::/32", "127.0.0.1" or "::1". InvalidArgument naming
  // the entry otherwise.
  static absl::StatusOr<TrustedProxies> parse(const std::vector<std::string>& entries);

  bool empty() const { return ranges_.empty(); }
  bool contains(const IpAddress& a) const;
  bool contains(std::string_view address) const;

  // The client's address. From an untrusted peer: the peer. From a trusted one: the forwarded
  // chain (Forwarded's for= values if that header came, else X-Forwarded-For), walked from the
  // right past trusted addresses; the first untrusted one is the client. A malformed or
  // obfuscated entry ("unknown", "_hidden") stops the walk at the last address believed; a
  // chain of trusted addresses only gives its leftmost. Writes canonical text into `scratch`
  // when it does not return `peer` itself.
  std::string_view clientAddress(std::string_view peer, std::string_view forwarded_for,
                                 std::string_view forwarded, std::string& scratch) const;

 private:
  struct Range {
    IpAddress base;
    int prefix = 0;  // over the 128-bit form
  };
  std::vector<Range> ranges_;
};

}  // namespace seckill::identity
