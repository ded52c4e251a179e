#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace seckill {

// Debian's abseil is built with its own absl::string_view (not an alias of
// std::string_view), so absl::StrCat and heterogeneous flat_hash_map lookups
// need this explicit bridge from the std::string_view the project uses.
inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Eight bytes checked at once (SWAR), for the scans of ids, names, targets and field values
// that are nearly always plain.
namespace swar {

inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHigh = 0x8080808080808080ULL;

inline uint64_t load(const char* at) {
  uint64_t w;
  std::memcpy(&w, at, 8);
  return w;
}

// Non-zero iff a byte of `w` is below `n` (n <= 0x80).
constexpr uint64_t anyBelow(uint64_t w, unsigned n) { return (w - kOnes * n) & ~w & kHigh; }
// Non-zero iff a byte of `w` is `c`.
constexpr uint64_t anyEqual(uint64_t w, unsigned char c) {
  const uint64_t x = w ^ (kOnes * c);
  return (x - kOnes) & ~x & kHigh;
}

// True iff no byte of `w` is below `kBelow`, none is 0x80 or above unless `kHighOk`, and
// none is one of `kBad`.
template <unsigned kBelow, bool kHighOk, unsigned char... kBad>
constexpr bool plainWord(uint64_t w) {
  return (anyBelow(w, kBelow) | (kHighOk ? 0 : (w & kHigh)) | (0 | ... | anyEqual(w, kBad))) == 0;
}

// The length of the longest prefix of `s` whose bytes are all plain: eight at a time with
// `word` (true: all eight plain), fewer than eight left by the word that ends at the end, and
// the rest byte by byte with `byte`.
template <class Word, class Byte>
size_t plainPrefix(std::string_view s, Word word, Byte byte) {
  size_t i = 0;
  while (i + 8 <= s.size() && word(load(s.data() + i))) i += 8;
  if (i < s.size() && s.size() - i < 8 && s.size() >= 8 && word(load(s.data() + s.size() - 8))) {
    return s.size();
  }
  while (i < s.size() && byte(s[i])) ++i;
  return i;
}

}  // namespace swar

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
