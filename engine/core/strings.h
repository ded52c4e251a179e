#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace seckill {

// Debian's abseil is built with its own absl::string_view (not an alias of
// std::string_view), so absl::StrCat and heterogeneous flat_hash_map lookups
// need this explicit bridge from the std::string_view the project uses.
inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// True iff `c` may appear in a sale, user or order id: [A-Za-z0-9_-]. A table: the ids of
// every request are checked byte by byte.
inline bool isIdByte(char c) {
  static constexpr std::array<bool, 256> kTable = [] {
    std::array<bool, 256> t{};
    for (int b = 0; b < 256; ++b) {
      t[b] = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
             b == '_' || b == '-';
    }
    return t;
  }();
  return kTable[static_cast<unsigned char>(c)];
}

// `s` with its "%XX" escapes (URL userinfo: "p%40ss" -> "p@ss") decoded;
// nullopt when one is truncated or not hexadecimal.
inline std::optional<std::string> percentDecoded(std::string_view s) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
    out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
    i += 2;
  }
  return out;
}

}  // namespace seckill
