#include "engine/http/json_format.h"

#include <charconv>

namespace seckill::http {
namespace {

// Two decimal digits, zero-padded.
void append2(std::string& out, int v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
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

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
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
  const int64_t secs = absl::ToUnixSeconds(t);  // floor
  const int64_t millis = absl::ToInt64Milliseconds(t - absl::FromUnixSeconds(secs));
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t year;
  int month, day;
  civilFromDays(days, year, month, day);
  if (year < 0 || year > 9999) {
    // Not representable as RFC 3339 (4-digit years); absl's full format is the best effort.
    out.append(absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()));
    return;
  }
  append2(out, static_cast<int>(year / 100));
  append2(out, static_cast<int>(year % 100));
  out.push_back('-');
  append2(out, month);
  out.push_back('-');
  append2(out, day);
  out.push_back('T');
  append2(out, static_cast<int>(rem / 3600));
  out.push_back(':');
  append2(out, static_cast<int>(rem / 60 % 60));
  out.push_back(':');
  append2(out, static_cast<int>(rem % 60));
  if (millis != 0) {
    out.push_back('.');
    out.push_back(static_cast<char>('0' + millis / 100));
    append2(out, static_cast<int>(millis % 100));
  }
  out.push_back('Z');
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
