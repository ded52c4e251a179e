#include "engine/http/metrics.h"

#include <string>
#include <utility>

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

void HttpMetrics::fill(EngineStats& out, bool take_max) {
  out.requests.clear();
  for (size_t r = 0; r < kRouteCount; ++r) {
    for (size_t c = 0; c < kStatusCodes.size(); ++c) {
      const uint64_t n = requests_[r * kStatusCodes.size() + c].value();
      if (n == 0) continue;
      out.requests.push_back(EngineStats::RouteCount{
          .route = std::string(routeName(static_cast<Route>(r))), .status = kStatusCodes[c], .count = n});
    }
  }
  out.latency = latency_.snapshot();
  if (take_max) out.latency_max_micros = latency_.takeMaxMicros();
  out.connections = connections();
  using K = ratelimit::Verdict::Kind;
  auto count = [this](K k) { return admission_[static_cast<size_t>(k)].value(); };
  out.admission = EngineStats::Admission{.allowed = count(K::kAllow),
                                         .queued = count(K::kDelay),
                                         .rejected = count(K::kReject),
                                         .shadow = count(K::kShadow),
                                         .shed = count(K::kShed),
                                         .unavailable = count(K::kUnavailable)};
  MetricFamily refused{"seckill_identity_refused_total",
                       "Requests answered 401 because their shopper identity was refused, by "
                       "reason ([identity]).",
                       MetricFamily::Type::kCounter,
                       {}};
  for (size_t i = 1; i < identity::kRefusalCount; ++i) {  // kOk is not a refusal
    std::string label = "reason=";
    appendLabelValue(label, identity::refusalLabel(static_cast<identity::Refusal>(i)));
    refused.samples.push_back({std::move(label), static_cast<int64_t>(refused_[i].value())});
  }
  // fill() may run twice on one EngineStats (the collector, then /metrics): one family.
  std::erase_if(out.extra, [](const MetricFamily& f) { return f.name == "seckill_identity_refused_total"; });
  out.extra.push_back(std::move(refused));
}

namespace {

// "# HELP name help\n# TYPE name type\n".
void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out.append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, int64_t value) {
  out.append(name).push_back(' ');
  appendInt(out, value);
  out.push_back('\n');
}

void sample(std::string& out, std::string_view name, std::string_view label, std::string_view value,
            int64_t v) {
  out.append(name).push_back('{');
  out.append(label).push_back('=');
  appendLabelValue(out, value);
  out.append("} ");
  appendInt(out, v);
  out.push_back('\n');
}

int64_t i64(uint64_t v) { return static_cast<int64_t>(v); }

}  // namespace

void renderPrometheus(const EngineStats& s, std::string& out) {
  // The HTTP edge.
  header(out, "seckill_http_requests_total", "counter",
         "HTTP requests answered, by route and status code.");
  for (const EngineStats::RouteCount& r : s.requests) {
    out.append("seckill_http_requests_total{route=\"");
    out.append(r.route);
    out.append("\",code=\"");
    appendInt(out, r.status);
    out.append("\"} ");
    appendInt(out, i64(r.count));
    out.push_back('\n');
  }
  header(out, "seckill_http_request_duration_seconds", "histogram",
         "Time from a parsed request to its answer.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < s.latency.buckets.size(); ++i) {
    cumulative += s.latency.buckets[i];
    out.append("seckill_http_request_duration_seconds_bucket{le=\"");
    if (i < LatencyHistogram::kBoundsMicros.size()) {
      appendMicrosAsSeconds(out, LatencyHistogram::kBoundsMicros[i]);
    } else {
      out.append("+Inf");
    }
    out.append("\"} ");
    appendInt(out, i64(cumulative));
    out.push_back('\n');
  }
  out.append("seckill_http_request_duration_seconds_sum ");
  appendMicrosAsSeconds(out, s.latency.sum_micros);
  out.append("\nseckill_http_request_duration_seconds_count ");
  appendInt(out, i64(s.latency.count));
  out.push_back('\n');
  header(out, "seckill_http_connections", "gauge", "Open shopper connections.");
  sample(out, "seckill_http_connections", s.connections);
  header(out, "seckill_admission_total", "counter",
         "Requests by what the rate rules decided (allowed, queued, rejected, shadow, shed, "
         "unavailable).");
  const std::pair<std::string_view, uint64_t> admission[] = {
      {"allowed", s.admission.allowed},  {"queued", s.admission.queued},
      {"rejected", s.admission.rejected}, {"shadow", s.admission.shadow},
      {"shed", s.admission.shed},        {"unavailable", s.admission.unavailable}};
  for (const auto& [decision, n] : admission) {
    sample(out, "seckill_admission_total", "decision", decision, i64(n));
  }

  // Orders.
  header(out, "seckill_orders", "gauge", "Orders by state.");
  sample(out, "seckill_orders", "state", "pending_payment", s.orders.pending_now);
  sample(out, "seckill_orders", "state", "paid", s.orders.paid_now);
  sample(out, "seckill_orders", "state", "cancelled", s.orders.cancelled_now);
  header(out, "seckill_order_events_total", "counter",
         "Order changes this node made: created, paid, cancelled by reason.");
  const std::pair<std::string_view, uint64_t> events[] = {
      {"created", s.orders.created},
      {"paid", s.orders.paid},
      {"cancelled_shopper", s.orders.cancelled_shopper},
      {"cancelled_expired", s.orders.cancelled_expired},
      {"cancelled_duplicate", s.orders.cancelled_duplicate}};
  for (const auto& [event, n] : events) {
    sample(out, "seckill_order_events_total", "event", event, i64(n));
  }
  header(out, "seckill_cancel_queue_pending", "gauge",
         "Delayed-cancel messages published and not yet acknowledged.");
  sample(out, "seckill_cancel_queue_pending", i64(s.cancel_queue_pending));
  header(out, "seckill_cancel_acked_total", "counter",
         "Delayed-cancel messages handled and acknowledged.");
  sample(out, "seckill_cancel_acked_total", i64(s.cancel_acked));

  // Backends' own series.
  for (const MetricFamily& f : s.extra) {
    header(out, f.name, f.type == MetricFamily::Type::kCounter ? "counter" : "gauge", f.help);
    for (const MetricFamily::Sample& x : f.samples) {
      out.append(f.name);
      if (!x.labels.empty()) out.append("{").append(x.labels).append("}");
      out.push_back(' ');
      appendInt(out, x.value);
      out.push_back('\n');
    }
  }

  // Sales.
  header(out, "seckill_sale_sold_out_local", "gauge",
         "1 while this node answers the sale's orders \"sold out\" without asking the store.");
  for (const EngineStats::SaleStock& sale : s.sales) {
    sample(out, "seckill_sale_sold_out_local", "sale", sale.id, sale.sold_out_local ? 1 : 0);
  }
  header(out, "seckill_stock_left", "gauge", "Units left to sell, by sale.");
  for (const EngineStats::SaleStock& sale : s.sales) {
    if (sale.left >= 0) sample(out, "seckill_stock_left", "sale", sale.id, sale.left);
  }
  header(out, "seckill_stock_total", "gauge", "Total units of each sale (adjustments included).");
  for (const EngineStats::SaleStock& sale : s.sales) {
    sample(out, "seckill_stock_total", "sale", sale.id, sale.total);
  }

  // Traffic control.
  header(out, "seckill_rules_version", "gauge", "Version of the running rate rule set.");
  sample(out, "seckill_rules_version", i64(s.rules_version));
  header(out, "seckill_rules_reloads_total", "counter", "Rule reloads, by result.");
  sample(out, "seckill_rules_reloads_total", "result", "ok", i64(s.reloads_ok));
  sample(out, "seckill_rules_reloads_total", "result", "rejected", i64(s.reloads_rejected));
  header(out, "seckill_rule_requests_total", "counter",
         "Requests decided by each rate rule (label: the rule's id), by decision.");
  for (const EngineStats::RuleCount& r : s.rules) {
    const std::pair<const char*, uint64_t> fields[] = {{"passed", r.passed},
                                                       {"limited", r.limited},
                                                       {"queued", r.queued},
                                                       {"shadow_limited", r.shadow_limited}};
    for (const auto& [decision, value] : fields) {
      out.append("seckill_rule_requests_total{rule=");
      appendLabelValue(out, r.id);
      out.append(",decision=\"").append(decision).append("\"} ");
      appendInt(out, i64(value));
      out.push_back('\n');
    }
  }
  header(out, "seckill_rate_limit_backend_errors_total", "counter",
         std::string("Distributed rule checks Redis could not answer (the rule then failed ") +
             s.distributed_failure + ").");
  sample(out, "seckill_rate_limit_backend_errors_total", i64(s.rate_limit_backend_errors));
  header(out, "seckill_shadow_limited_total", "counter",
         "Requests a log-mode rule would have limited.");
  sample(out, "seckill_shadow_limited_total", i64(s.shadow_logged));

  // Circuit breakers.
  header(out, "seckill_breaker_state", "gauge", "Circuit breaker state (1 = current).");
  for (const EngineStats::Breaker& b : s.breakers) {
    for (const auto& [state, n] : b.transitions_into) {
      out.append("seckill_breaker_state{breaker=");
      appendLabelValue(out, b.name);
      out.append(",state=");
      appendLabelValue(out, state);
      out.append(state == b.state ? "} 1\n" : "} 0\n");
    }
  }
  header(out, "seckill_breaker_transitions_total", "counter",
         "Circuit breaker transitions, by target state.");
  for (const EngineStats::Breaker& b : s.breakers) {
    for (const auto& [state, n] : b.transitions_into) {
      out.append("seckill_breaker_transitions_total{breaker=");
      appendLabelValue(out, b.name);
      out.append(",to=");
      appendLabelValue(out, state);
      out.append("} ");
      appendInt(out, i64(n));
      out.push_back('\n');
    }
  }
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
