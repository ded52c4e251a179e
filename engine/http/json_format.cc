#include "engine/http/json_format.h"

#include <array>
#include <charconv>
#include <cstring>

#include "engine/core/strings.h"

namespace seckill::http {
namespace {

// True for the bytes a JSON string must escape: '"', '\\' and control characters.
constexpr std::array<bool, 256> kMustEscape = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

bool mustEscape(char c) { return kMustEscape[static_cast<unsigned char>(c)]; }

// The length of the prefix of `s` that needs no escape (ids and names rarely need one).
size_t plainPrefix(std::string_view s) {
  return swar::plainPrefix(
      s, [](uint64_t w) { return swar::plainWord<0x20, true, '"', '\\'>(w); },
      [](char c) { return !mustEscape(c); });
}

// Two decimal digits, zero-padded.
char* put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
void civilFromDays(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

// The longest RFC 3339 time written here: "YYYY-MM-DDTHH:MM:SS.mmmZ".
constexpr size_t kMaxRfc3339 = 24;

// Writes `t` as RFC 3339 to `p` (room for kMaxRfc3339) and returns the end, or nullptr when
// its year has no 4 digits. The "YYYY-MM-DDTHH:MM:SS" of the latest second is kept per thread:
// the times of one second's answers share it (an order's pay_before moves with the clock).
char* putRfc3339(char* p, absl::Time t) {
  struct SecondText {
    int64_t second = INT64_MIN;
    char text[19];
  };
  thread_local SecondText last;

  const int64_t ms = absl::ToUnixMillis(t);  // floor
  const int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  const int millis = static_cast<int>(ms - secs * 1000);
  if (secs != last.second) {
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
      rem += 86400;
      --days;
    }
    int64_t year;
    int month, day;
    civilFromDays(days, year, month, day);
    if (year < 0 || year > 9999) return nullptr;
    char* q = last.text;
    q = put2(q, static_cast<int>(year / 100));
    q = put2(q, static_cast<int>(year % 100));
    *q++ = '-';
    q = put2(q, month);
    *q++ = '-';
    q = put2(q, day);
    *q++ = 'T';
    q = put2(q, static_cast<int>(rem / 3600));
    *q++ = ':';
    q = put2(q, static_cast<int>(rem / 60 % 60));
    *q++ = ':';
    put2(q, static_cast<int>(rem % 60));
    last.second = secs;
  }
  std::memcpy(p, last.text, sizeof last.text);
  p += sizeof last.text;
  if (millis != 0) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + millis / 100);
    p = put2(p, millis % 100);
  }
  *p++ = 'Z';
  return p;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run = plainPrefix(s);  // start of the pending run of bytes that need no escape
  out.push_back('"');
  out.append(s.data(), run);
  for (size_t i = run; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!kMustEscape[c]) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void appendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void appendRfc3339(std::string& out, absl::Time t) {
  char buf[kMaxRfc3339];
  if (const char* end = putRfc3339(buf, t)) {
    out.append(buf, static_cast<size_t>(end - buf));
  } else {
    // Not representable as RFC 3339 (4-digit years); absl's full format is the best effort.
    out.append(absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()));
  }
}

std::string formatRfc3339(absl::Time t) {
  std::string out;
  appendRfc3339(out, t);
  return out;
}

void appendJsonTime(std::string& out, std::optional<absl::Time> t) {
  if (!t || *t == absl::InfiniteFuture() || *t == absl::InfinitePast()) {
    out.append("null");
    return;
  }
  out.push_back('"');
  appendRfc3339(out, *t);
  out.push_back('"');
}

void appendErrorJson(std::string& out, std::string_view error, std::string_view message) {
  out.append("{\"error\":");
  appendJsonString(out, error);
  if (!message.empty()) {
    out.append(",\"message\":");
    appendJsonString(out, message);
  }
  out.push_back('}');
}

void appendSaleJson(std::string& out, const SaleSpec& sale, int64_t stock_left, SaleState state) {
  out.append("{\"id\":");
  appendJsonString(out, sale.id);
  out.append(",\"name\":");
  appendJsonString(out, sale.name);
  out.append(",\"stock_total\":");
  appendInt(out, sale.stock);
  out.append(",\"stock_left\":");
  appendInt(out, stock_left);
  out.append(",\"state\":\"");
  out.append(saleStateName(state));
  out.append("\",\"opens_at\":");
  appendJsonTime(out, sale.opens_at);
  out.append(",\"closes_at\":");
  appendJsonTime(out, sale.closes_at);
  out.push_back('}');
}

void appendTokenJson(std::string& out, std::string_view token, absl::Duration ttl) {
  out.append("{\"token\":");
  appendJsonString(out, token);
  out.append(",\"expires_in_s\":");
  appendInt(out, absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1))));
  out.push_back('}');
}

void appendCreatedOrderJson(std::string& out, const Order& order) {
  static constexpr std::string_view kOpen = "{\"order_id\":\"";
  static constexpr std::string_view kSale = "\",\"sale_id\":\"";
  static constexpr std::string_view kUser = "\",\"user_id\":\"";
  static constexpr std::string_view kState = "\",\"state\":\"pending_payment\",\"pay_before\":";
  // The common case, written in one piece: ids that need no escape, a time of 4-digit year.
  const bool plain = plainPrefix(order.id) == order.id.size() &&
                     plainPrefix(order.sale_id) == order.sale_id.size() &&
                     plainPrefix(order.user_id) == order.user_id.size();
  const absl::Time t = order.pay_before;
  if (plain && t != absl::InfiniteFuture() && t != absl::InfinitePast()) {
    const size_t at = out.size();
    out.resize(at + kOpen.size() + kSale.size() + kUser.size() + kState.size() + order.id.size() +
               order.sale_id.size() + order.user_id.size() + kMaxRfc3339 + 3);
    char* p = out.data() + at;
    p = put(p, kOpen);
    p = put(p, order.id);
    p = put(p, kSale);
    p = put(p, order.sale_id);
    p = put(p, kUser);
    p = put(p, order.user_id);
    p = put(p, kState);
    *p++ = '"';
    if (char* end = putRfc3339(p, t)) {
      p = end;
      *p++ = '"';
      *p++ = '}';
      out.resize(static_cast<size_t>(p - out.data()));
      return;
    }
    out.resize(at);  // a year beyond 9999: the general path below
  }
  out.append("{\"order_id\":");
  appendJsonString(out, order.id);
  out.append(",\"sale_id\":");
  appendJsonString(out, order.sale_id);
  out.append(",\"user_id\":");
  appendJsonString(out, order.user_id);
  out.append(",\"state\":\"pending_payment\",\"pay_before\":");
  appendJsonTime(out, order.pay_before);
  out.push_back('}');
}

void appendOrderJson(std::string& out, const Order& order) {
  out.append("{\"order_id\":");
  appendJsonString(out, order.id);
  out.append(",\"sale_id\":");
  appendJsonString(out, order.sale_id);
  out.append(",\"user_id\":");
  appendJsonString(out, order.user_id);
  out.append(",\"state\":\"");
  out.append(orderStateName(order.state));
  out.append("\",\"pay_before\":");
  appendJsonTime(out, order.pay_before);
  out.append(",\"created_at\":");
  appendJsonTime(out, order.created_at);
  if (order.state == OrderState::kCancelled) {
    out.append(",\"cancel_reason\":\"");
    out.append(cancelReasonName(order.cancel_reason));
    out.push_back('"');
  }
  out.push_back('}');
}

}  // namespace seckill::http
