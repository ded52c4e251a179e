#include "engine/http/metrics.h"

#include "engine/http/json_format.h"

namespace seckill::http {

size_t HttpMetrics::statusIndex(int status) {
  for (size_t i = 0; i < kStatusCodes.size(); ++i) {
    if (kStatusCodes[i] == status) return i;
  }
  return statusIndex(500);
}

void HttpMetrics::recordRequest(Route route, int status, uint64_t micros) {
  requests_[static_cast<size_t>(route) * kStatusCodes.size() + statusIndex(status)].add();
  latency_.observeMicros(micros);
}

uint64_t HttpMetrics::requests(Route route, int status) const {
  return requests_[static_cast<size_t>(route) * kStatusCodes.size() + statusIndex(status)].value();
}

void HttpMetrics::appendPrometheus(std::string& out) const {
  out.append(
      "# HELP seckill_http_requests_total HTTP requests answered, by route and status code.\n"
      "# TYPE seckill_http_requests_total counter\n");
  for (size_t r = 0; r < kRouteCount; ++r) {
    for (size_t c = 0; c < kStatusCodes.size(); ++c) {
      const uint64_t n = requests_[r * kStatusCodes.size() + c].value();
      if (n == 0) continue;
      out.append("seckill_http_requests_total{route=\"");
      out.append(routeName(static_cast<Route>(r)));
      out.append("\",code=\"");
      appendInt(out, kStatusCodes[c]);
      out.append("\"} ");
      appendInt(out, static_cast<int64_t>(n));
      out.push_back('\n');
    }
  }

  const LatencyHistogram::Snapshot s = latency_.snapshot();
  out.append(
      "# HELP seckill_http_request_duration_seconds Time from a parsed request to its answer.\n"
      "# TYPE seckill_http_request_duration_seconds histogram\n");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < s.buckets.size(); ++i) {
    cumulative += s.buckets[i];
    out.append("seckill_http_request_duration_seconds_bucket{le=\"");
    if (i < LatencyHistogram::kBoundsMicros.size()) {
      appendMicrosAsSeconds(out, LatencyHistogram::kBoundsMicros[i]);
    } else {
      out.append("+Inf");
    }
    out.append("\"} ");
    appendInt(out, static_cast<int64_t>(cumulative));
    out.push_back('\n');
  }
  out.append("seckill_http_request_duration_seconds_sum ");
  appendMicrosAsSeconds(out, s.sum_micros);
  out.append("\nseckill_http_request_duration_seconds_count ");
  appendInt(out, static_cast<int64_t>(s.count));
  out.append(
      "\n# HELP seckill_http_connections Open shopper connections.\n"
      "# TYPE seckill_http_connections gauge\n"
      "seckill_http_connections ");
  appendInt(out, connections());
  out.push_back('\n');
}

void appendOrderMetrics(std::string& out, const OrderCounts& counts) {
  out.append(
      "# HELP seckill_orders Orders by state.\n"
      "# TYPE seckill_orders gauge\n"
      "seckill_orders{state=\"pending_payment\"} ");
  appendInt(out, counts.pending_payment);
  out.append("\nseckill_orders{state=\"paid\"} ");
  appendInt(out, counts.paid);
  out.append("\nseckill_orders{state=\"cancelled\"} ");
  appendInt(out, counts.cancelled);
  out.push_back('\n');
}

void appendStockLeftHeader(std::string& out) {
  out.append(
      "# HELP seckill_stock_left Units left to sell, by sale.\n"
      "# TYPE seckill_stock_left gauge\n");
}

void appendStockLeftSample(std::string& out, std::string_view sale_id, int64_t units) {
  out.append("seckill_stock_left{sale=");
  appendLabelValue(out, sale_id);
  out.append("} ");
  appendInt(out, units);
  out.push_back('\n');
}

void appendLabelValue(std::string& out, std::string_view v) {
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        out.push_back(c);
    }
  }
  out.push_back('"');
}

void appendMicrosAsSeconds(std::string& out, uint64_t micros) {
  appendInt(out, static_cast<int64_t>(micros / 1000000));
  uint64_t frac = micros % 1000000;
  if (frac == 0) return;
  char digits[7] = "000000";
  for (int i = 5; i >= 0; --i, frac /= 10) digits[i] = static_cast<char>('0' + frac % 10);
  int len = 6;
  while (digits[len - 1] == '0') --len;
  out.push_back('.');
  out.append(digits, static_cast<size_t>(len));
}

}  // namespace seckill::http
