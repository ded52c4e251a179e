#include "engine/core/ratelimit/http_fields.h"

#include <string_view>

#include "absl/strings/str_cat.h"

namespace seckill::ratelimit {
namespace {

// A structured-field string (RFC 8941): quoted, with " and \ escaped.
void appendSfString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  out.push_back('"');
}

std::string_view ruleName(const Verdict& v) {
  return v.rule.empty() ? std::string_view("default") : std::string_view(v.rule);
}

}  // namespace

int64_t ceilSeconds(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)));
  return s < 1 ? 1 : s;
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
