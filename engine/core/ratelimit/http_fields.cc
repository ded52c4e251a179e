#include "engine/core/ratelimit/http_fields.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::ratelimit {
namespace {

// The bytes a structured-field string holds as they are: printable ASCII but " and \.
constexpr std::array<bool, 256> kSfPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// The length of the prefix of `s` that is plain (kSfPlain).
size_t plainPrefix(std::string_view s) {
  return swar::plainPrefix(
      s, [](uint64_t w) { return swar::plainWord<0x20, false, 0x7f, '"', '\\'>(w); },
      [](char c) { return kSfPlain[static_cast<unsigned char>(c)]; });
}

// A structured-field string (RFC 8941): quoted, with " and \ escaped, other bytes beyond
// printable ASCII as '?'. A rule name is nearly always plain: one append.
void appendSfString(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;
  for (size_t i = plainPrefix(s); i < s.size(); i = run + plainPrefix(s.substr(run))) {
    out.append(s.data() + run, i - run);
    const char c = s[i];
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else {
      out.push_back('?');
    }
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

std::string_view ruleName(const Verdict& v) {
  return v.rule.empty() ? std::string_view("default") : std::string_view(v.rule);
}

}  // namespace

int64_t ceilSeconds(absl::Duration d) {
  // Whole nanoseconds (the clocks' resolution), rounded up; at least 1.
  constexpr int64_t kSecond = 1'000'000'000;
  if (d == absl::InfiniteDuration()) return INT64_MAX;
  const int64_t ns = absl::ToInt64Nanoseconds(d);  // saturates for the very long
  if (ns <= kSecond) return 1;
  return ns / kSecond + (ns % kSecond != 0 ? 1 : 0);
}

void appendRateLimitPolicyField(std::string& out, const Verdict& v) {
  if (!v.has_quota) return;
  appendSfString(out, ruleName(v));
  absl::StrAppend(&out, ";q=", v.limit, ";w=", ceilSeconds(v.window));
}

void appendRateLimitField(std::string& out, const Verdict& v) {
  if (!v.has_quota) return;
  appendSfString(out, ruleName(v));
  absl::StrAppend(&out, ";r=", v.remaining < 0 ? 0 : v.remaining,
                  ";t=", v.reset <= absl::ZeroDuration() ? 0 : ceilSeconds(v.reset));
}

std::string rateLimitPolicyField(const Verdict& v) {
  std::string out;
  appendRateLimitPolicyField(out, v);
  return out;
}

std::string rateLimitField(const Verdict& v) {
  std::string out;
  appendRateLimitField(out, v);
  return out;
}

}  // namespace seckill::ratelimit
