#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "engine/core/strings.h"

namespace seckill {
namespace {

// The byte rule the words below stand for: printable ASCII but '"' and '\\'.
bool plainByte(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b >= 0x20 && b < 0x7f && c != '"' && c != '\\';
}

size_t plainPrefix(std::string_view s) {
  return swar::plainPrefix(
      s, [](uint64_t w) { return swar::plainWord<0x20, false, 0x7f, '"', '\\'>(w); }, plainByte);
}

size_t byteByByte(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && plainByte(s[i])) ++i;
  return i;
}

TEST(SwarTest, AWordIsPlainOnlyWhenNoneOfItsBytesIsBelowTheBoundHighOrListed) {
  constexpr auto word = [](std::string_view s) { return swar::load(s.data()); };
  EXPECT_TRUE((swar::plainWord<0x20, false, '"'>(word("abcdefgh"))));
  EXPECT_FALSE((swar::plainWord<0x20, false, '"'>(word("abc\x1f" "efgh"))));
  EXPECT_FALSE((swar::plainWord<0x20, false, '"'>(word("abcdefg\""))));
  EXPECT_FALSE((swar::plainWord<0x20, false, '"'>(word("\x80" "bcdefgh"))));
  EXPECT_TRUE((swar::plainWord<0x20, true, '"'>(word("\x80" "bcdefgh"))));
  EXPECT_FALSE((swar::plainWord<0x21, true>(word("abcd efg"))));
  EXPECT_TRUE((swar::plainWord<0x20, true>(word("abcd efg"))));
}

// Every length to 24 with one bad byte at every place, and with none: the same prefix as a
// byte-by-byte scan, including the tail shorter than a word.
TEST(SwarTest, ThePlainPrefixIsTheOneAByteByByteScanFinds) {
  for (size_t n = 0; n <= 24; ++n) {
    const std::string plain(n, 'a');
    EXPECT_EQ(plainPrefix(plain), n);
    for (size_t at = 0; at < n; ++at) {
      for (char bad : {'"', '\\', '\x01', '\x7f', '\xc3'}) {
        std::string s = plain;
        s[at] = bad;
        EXPECT_EQ(plainPrefix(s), byteByByte(s)) << "n=" << n << " at=" << at;
        EXPECT_EQ(plainPrefix(s), at);
      }
    }
  }
}

}  // namespace
}  // namespace seckill
