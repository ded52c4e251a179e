#include "console/ctl/format.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/time_util.h"

namespace seckill::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::RepeatedPtrField;
using google::protobuf::util::TimeUtil;
using Json = nlohmann::ordered_json;

absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Characters on screen of a UTF-8 string (continuation bytes do not count).
size_t displayWidth(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

absl::Time toTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string orDash(const std::string& s) { return s.empty() ? "-" : s; }

// "key  value" lines, keys padded to the longest.
std::string keyValues(const std::vector<std::pair<std::string, std::string>>& lines) {
  size_t width = 0;
  for (const auto& [k, v] : lines) width = std::max(width, k.size());
  std::string out;
  for (const auto& [k, v] : lines) {
    absl::StrAppend(&out, k, std::string(width - k.size() + 2, ' '), v, "\n");
  }
  return out;
}

std::string perLabel(v1::Per per) {
  switch (per) {
    case v1::SECOND:
      return "s";
    case v1::MINUTE:
      return "m";
    case v1::HOUR:
      return "h";
    default:
      return "?";
  }
}

std::string stock(const v1::Sale& s) {
  return absl::StrCat(s.stock_left() < 0 ? "?" : absl::StrCat(s.stock_left()), "/",
                      s.stock_total());
}

std::string orderState(const v1::Order& o) {
  std::string state = label(o.state());
  if (o.state() == v1::CANCELLED && o.cancel_reason() != v1::CANCEL_REASON_UNSPECIFIED) {
    std::string reason = o.cancel_reason() == v1::SHOPPER     ? "shopper"
                         : o.cancel_reason() == v1::EXPIRED   ? "expired"
                         : o.cancel_reason() == v1::DUPLICATE ? "duplicate"
                                                              : "?";
    absl::StrAppend(&state, " (", reason, ")");
  }
  return state;
}

std::string counters(const v1::RuleCounters& c) {
  std::string out = absl::StrCat("passed ", c.passed(), " limited ", c.limited());
  if (c.queued() != 0) absl::StrAppend(&out, " queued ", c.queued());
  if (c.shadow_limited() != 0) absl::StrAppend(&out, " shadow ", c.shadow_limited());
  return out;
}

Json scalar(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case FieldDescriptor::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case FieldDescriptor::CPPTYPE_UINT64:
      return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const auto* value = f->enum_type()->FindValueByNumber(number);
      if (value == nullptr) return number;
      return value->name();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return toJson(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  return nullptr;
}

}  // namespace

// ---------------------------------------------------------------- building blocks

std::string renderTable(const Table& table) {
  size_t columns = table.header.size();
  for (const auto& row : table.rows) columns = std::max(columns, row.size());
  using Cells = std::vector<std::vector<std::string>>;  // [column][line]
  std::vector<Cells> rows;
  auto split = [&](const std::vector<std::string>& row) {
    Cells cells(columns);
    for (size_t c = 0; c < columns; ++c) {
      if (c < row.size()) {
        cells[c] = absl::StrSplit(row[c], '\n');
      } else {
        cells[c] = {""};
      }
    }
    return cells;
  };
  if (!table.header.empty()) rows.push_back(split(table.header));
  for (const auto& row : table.rows) rows.push_back(split(row));

  std::vector<size_t> width(columns, 0);
  for (const Cells& cells : rows) {
    for (size_t c = 0; c < columns; ++c) {
      for (const std::string& line : cells[c]) width[c] = std::max(width[c], displayWidth(line));
    }
  }
  std::string out;
  for (const Cells& cells : rows) {
    size_t lines = 1;
    for (const auto& cell : cells) lines = std::max(lines, cell.size());
    for (size_t i = 0; i < lines; ++i) {
      std::string line;
      for (size_t c = 0; c < columns; ++c) {
        const std::string text = i < cells[c].size() ? cells[c][i] : "";
        const std::string pad(width[c] - displayWidth(text), ' ');
        const bool right = c < table.right.size() && table.right[c];
        if (c > 0) line += "  ";
        line += right ? pad + text : text + pad;
      }
      line.erase(line.find_last_not_of(' ') + 1);
      absl::StrAppend(&out, line, "\n");
    }
  }
  return out;
}

std::string formatTime(const google::protobuf::Timestamp& ts, absl::TimeZone tz) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", toTime(ts), tz);
}

std::string formatDuration(const google::protobuf::Duration& d) {
  if (d.seconds() == 0 && d.nanos() == 0) return "-";
  return absl::FormatDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
}

std::string label(v1::SaleState s) {
  switch (s) {
    case v1::SCHEDULED:
      return "scheduled";
    case v1::OPEN_NOW:
      return "open";
    case v1::SOLD_OUT:
      return "sold_out";
    case v1::CLOSED_NOW:
      return "closed";
    default:
      return "-";
  }
}

std::string label(v1::BreakerState s) {
  switch (s) {
    case v1::CLOSED:
      return "closed";
    case v1::OPEN:
      return "open";
    case v1::HALF_OPEN:
      return "half_open";
    case v1::FORCED_OPEN:
      return "forced_open";
    case v1::DISABLED:
      return "disabled";
    case v1::METRICS_ONLY:
      return "metrics_only";
    default:
      return "-";
  }
}

std::string label(v1::BreakerMode m) {
  switch (m) {
    case v1::AUTOMATIC:
      return "automatic";
    case v1::MODE_FORCED_OPEN:
      return "forced_open";
    case v1::MODE_DISABLED:
      return "disabled";
    case v1::MODE_METRICS_ONLY:
      return "metrics_only";
    default:
      return "-";
  }
}

std::string label(v1::OverrideMode m) {
  switch (m) {
    case v1::NONE:
      return "none";
    case v1::DRY_RUN:
      return "dry_run";
    case v1::SHED:
      return "shed";
    default:
      return "-";
  }
}

std::string label(v1::OnLimit o) {
  switch (o) {
    case v1::REJECT:
      return "reject";
    case v1::QUEUE:
      return "queue";
    case v1::LOG:
      return "log";
    default:
      return "-";
  }
}

std::string label(v1::StockStrategy s) {
  switch (s) {
    case v1::ATOMIC:
      return "atomic";
    case v1::FIFO:
      return "fifo";
    case v1::OPTIMISTIC:
      return "optimistic";
    case v1::COUNTER_GATE:
      return "counter_gate";
    default:
      return "-";
  }
}

std::string label(v1::OrderState s) {
  switch (s) {
    case v1::PENDING_PAYMENT:
      return "pending_payment";
    case v1::PAID:
      return "paid";
    case v1::CANCELLED:
      return "cancelled";
    default:
      return "-";
  }
}

std::string label(v1::Algorithm a) {
  switch (a) {
    case v1::TOKEN_BUCKET:
      return "token_bucket";
    case v1::LEAKY_BUCKET:
      return "leaky_bucket";
    case v1::SLIDING_WINDOW:
      return "sliding_window";
    case v1::SLIDING_LOG:
      return "sliding_log";
    default:
      return "-";
  }
}

std::string label(const v1::Scope& s) {
  switch (s.kind()) {
    case v1::GLOBAL:
      return "global";
    case v1::USER:
      return "user";
    case v1::IP:
      return "ip";
    case v1::HEADER:
      return absl::StrCat("header:", s.header());
    default:
      return "-";
  }
}

std::string describeRule(const v1::Rule& rule) {
  std::vector<std::string> parts = {
      rule.method().empty() ? "*" : rule.method(),
      label(rule.scope()),
      label(rule.algorithm()),
      absl::StrCat(rule.rate(), "/", perLabel(rule.per())),
  };
  if (rule.algorithm() == v1::TOKEN_BUCKET || rule.burst() != 0) {
    parts.push_back(absl::StrCat("burst=", rule.burst()));
  }
  if (rule.algorithm() == v1::LEAKY_BUCKET || rule.queue() != 0) {
    parts.push_back(absl::StrCat("queue=", rule.queue()));
  }
  if (rule.has_warmup()) parts.push_back("warmup=" + formatDuration(rule.warmup()));
  parts.push_back("on_limit=" + label(rule.on_limit()));
  if (rule.has_max_wait()) parts.push_back("max_wait=" + formatDuration(rule.max_wait()));
  if (rule.distributed()) parts.push_back("distributed");
  return absl::StrJoin(parts, " ");
}

// ---------------------------------------------------------------- JSON

nlohmann::ordered_json toJson(const google::protobuf::Message& message) {
  const Descriptor* d = message.GetDescriptor();
  if (d->full_name() == "google.protobuf.Timestamp") {
    google::protobuf::Timestamp ts;
    ts.CopyFrom(message);
    return TimeUtil::ToString(ts);
  }
  if (d->full_name() == "google.protobuf.Duration") {
    google::protobuf::Duration du;
    du.CopyFrom(message);
    return TimeUtil::ToString(du);
  }
  const Reflection* r = message.GetReflection();
  Json out = Json::object();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) {
      Json items = Json::array();
      for (int j = 0; j < r->FieldSize(message, f); ++j) items.push_back(scalar(message, f, j));
      out[f->name()] = std::move(items);
    } else if (!f->has_presence() || r->HasField(message, f)) {
      out[f->name()] = scalar(message, f, -1);
    }
  }
  return out;
}

std::string jsonDocument(const google::protobuf::Message& message) {
  return jsonDocument(toJson(message));
}

std::string jsonDocument(const nlohmann::ordered_json& json) {
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

// ---------------------------------------------------------------- commands' output

std::string formatStatus(const v1::NodeStatus& st, absl::TimeZone tz) {
  google::protobuf::Duration uptime;
  uptime.set_seconds(st.uptime().seconds());  // whole seconds
  std::string out = keyValues({
      {"engine", orDash(st.engine_version())},
      {"node", orDash(st.node_id())},
      {"uptime",
       absl::StrCat(formatDuration(uptime), " (since ", formatTime(st.started_at(), tz), ")")},
      {"rules", absl::StrCat("version ", st.rules_version())},
      {"store", orDash(st.store())},
      {"state", orDash(st.state())},
      {"history", formatDuration(st.history())},
      {"caller", absl::StrCat(orDash(st.caller_name()), " (", orDash(st.caller_role()), ")")},
  });
  out += "\n";
  if (st.sales().empty()) {
    out += "sales: none\n";
  } else {
    Table t{{"SALE", "NAME", "STATE", "LEFT/TOTAL"}, {}, {false, false, false, true}};
    for (const v1::Sale& s : st.sales())
      t.rows.push_back({s.id(), s.name(), label(s.state()), stock(s)});
    out += renderTable(t);
  }
  out += "\n";
  if (st.breakers().empty()) {
    out += "breakers: none\n";
  } else {
    Table t{{"BREAKER", "STATE", "MODE"}, {}, {}};
    for (const v1::Breaker& b : st.breakers()) {
      t.rows.push_back({b.name(), label(b.state()), label(b.mode())});
    }
    out += renderTable(t);
  }
  return out;
}

namespace {
constexpr absl::string_view kStatsFormat = "%-8s  %9s  %9s  %8s  %8s  %7s  %9s  %8s";
}  // namespace

std::string statsHeader() {
  return absl::StrFormat(kStatsFormat, "TIME", "REQ/S", "ADMITTED", "LIMITED", "CREATED", "PAID",
                         "CANCELLED", "P99MS") +
         "\n";
}

std::string statsRow(const v1::StatsSnapshot& s, absl::TimeZone tz) {
  const uint64_t limited = s.rejected() + s.queued() + s.shadow_limited();
  const uint64_t cancelled =
      s.orders_cancelled_shopper() + s.orders_cancelled_expired() + s.orders_cancelled_duplicate();
  return absl::StrFormat(kStatsFormat, absl::FormatTime("%H:%M:%S", toTime(s.at()), tz),
                         absl::StrCat(s.requests()), absl::StrCat(s.admitted()),
                         absl::StrCat(limited), absl::StrCat(s.orders_created()),
                         absl::StrCat(s.orders_paid()), absl::StrCat(cancelled),
                         absl::StrFormat("%.2f", s.latency_p99_ms())) +
         "\n";
}

std::string statsJsonLine(const v1::StatsSnapshot& s) {
  Json j = Json::object();
  j["ts"] = s.at().seconds();
  j["node"] = s.node_id();
  j["seq"] = s.seq();
  j["history"] = s.history();
  j["requests"] = s.requests();
  j["admitted"] = s.admitted();
  j["rejected"] = s.rejected();
  j["queued"] = s.queued();
  j["shadow_limited"] = s.shadow_limited();
  j["limited"] = s.rejected() + s.queued() + s.shadow_limited();
  j["shed"] = s.shed();
  j["orders_created"] = s.orders_created();
  j["orders_paid"] = s.orders_paid();
  j["orders_cancelled"] =
      s.orders_cancelled_shopper() + s.orders_cancelled_expired() + s.orders_cancelled_duplicate();
  j["orders_cancelled_shopper"] = s.orders_cancelled_shopper();
  j["orders_cancelled_expired"] = s.orders_cancelled_expired();
  j["orders_cancelled_duplicate"] = s.orders_cancelled_duplicate();
  j["p50_ms"] = s.latency_p50_ms();
  j["p99_ms"] = s.latency_p99_ms();
  j["max_ms"] = s.latency_max_ms();
  j["rules_version"] = s.rules_version();
  j["requests_total"] = s.requests_total();
  j["orders_created_total"] = s.orders_created_total();
  j["started_at"] = s.started_at().seconds();
  const Json all = toJson(s);
  for (const char* key : {"routes", "rules", "rules_other", "sales", "breakers"}) {
    if (all.contains(key)) j[key] = all[key];
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {

void drawTrie(const v1::TrieNode& node, const std::string& prefix, std::string& out) {
  const size_t items = static_cast<size_t>(node.rules_size() + node.children_size());
  size_t i = 0;
  for (const v1::RuleView& view : node.rules()) {
    const bool last = ++i == items;
    absl::StrAppend(&out, prefix, last ? "└── " : "├── ", describeRule(view.rule()), " · ",
                    counters(view.counters()), " · id \"", view.rule().id(), "\"\n");
  }
  for (const v1::TrieNode& child : node.children()) {
    const bool last = ++i == items;
    // A chain of nodes without rules is one step: "api/v1/sales".
    const v1::TrieNode* n = &child;
    std::string name = n->segment();
    while (n->rules().empty() && n->children_size() == 1) {
      n = &n->children(0);
      absl::StrAppend(&name, "/", n->segment());
    }
    absl::StrAppend(&out, prefix, last ? "└── " : "├── ", name, "\n");
    drawTrie(*n, prefix + (last ? "    " : "│   "), out);
  }
}

std::string changeLine(uint64_t version, const v1::Change& c, absl::TimeZone tz) {
  std::string out = absl::StrCat("rules version ", version);
  if (!c.author().empty() || c.has_at()) {
    absl::StrAppend(&out, " · ", orDash(c.author()), " via ", orDash(c.source()), " · ",
                    formatTime(c.at(), tz));
  }
  if (!c.comment().empty()) absl::StrAppend(&out, " · ", c.comment());
  return out + "\n";
}

}  // namespace

std::string formatRuleTree(const v1::ListRulesResponse& list, absl::TimeZone tz) {
  std::string out = changeLine(list.version(), list.change(), tz);
  out += "/\n";
  drawTrie(list.root(), "", out);
  if (list.root().rules().empty() && list.root().children().empty()) out += "(no rules)\n";
  if (!list.set().overrides().empty()) {
    out += "\noverrides\n";
    Table t;
    for (const v1::Override& o : list.set().overrides()) {
      t.rows.push_back({"  " + o.prefix(), label(o.mode())});
    }
    out += renderTable(t);
  }
  return out;
}

std::string formatRuleViews(uint64_t version, const RepeatedPtrField<v1::RuleView>& rules) {
  std::string out = absl::StrCat("rules version ", version, "\n");
  if (rules.empty()) return out + "no rules\n";
  Table t{{"ID", "PATH", "RULE", "PASSED", "LIMITED", "QUEUED", "SHADOW"},
          {},
          {false, false, false, true, true, true, true}};
  for (const v1::RuleView& v : rules) {
    t.rows.push_back({v.rule().id(), v.rule().path(), describeRule(v.rule()),
                      absl::StrCat(v.counters().passed()), absl::StrCat(v.counters().limited()),
                      absl::StrCat(v.counters().queued()),
                      absl::StrCat(v.counters().shadow_limited())});
  }
  return out + renderTable(t);
}

std::string formatValidation(const v1::ValidateRulesResponse& r, std::string_view file) {
  if (r.valid()) {
    return absl::StrCat(av(file), ": valid (", r.set().rules_size(), " rules, ",
                        r.set().overrides_size(), " overrides)\n");
  }
  std::string out;
  for (const v1::ValidationError& e : r.errors()) {
    if (e.line() > 0) {
      absl::StrAppend(&out, av(file), ":", e.line(), ": ", e.message(), "\n");
    } else {
      absl::StrAppend(&out, av(file), ": ", e.message(), "\n");
    }
  }
  return out;
}

std::string formatApplied(const v1::ApplyRulesResponse& r) {
  return absl::StrCat("rules version ", r.version(), r.changed() ? "" : " (unchanged)", "\n");
}

nlohmann::ordered_json appliedJson(const v1::ApplyRulesResponse& r) {
  Json j = Json::object();
  j["version"] = r.version();
  j["changed"] = r.changed();
  return j;
}

std::string formatVersions(const v1::ListVersionsResponse& r, absl::TimeZone tz) {
  Table t{{"", "VERSION", "AT", "AUTHOR", "SOURCE", "NODE", "COMMENT"}, {}, {false, true}};
  for (const v1::Change& c : r.versions()) {
    t.rows.push_back({c.version() == r.current() ? "*" : "", absl::StrCat(c.version()),
                      formatTime(c.at(), tz), orDash(c.author()), orDash(c.source()),
                      orDash(c.node()), c.comment()});
  }
  return renderTable(t);
}

std::string formatDiff(const v1::DiffRulesResponse& r) {
  std::string out = absl::StrCat("rules version ", r.from_version(), " -> ", r.to_version(), "\n");
  if (r.text().empty()) return out + "no changes\n";
  out += r.text();
  if (out.back() != '\n') out += "\n";
  return out;
}

std::string formatOverrides(const v1::ListOverridesResponse& r) {
  std::string out = absl::StrCat("rules version ", r.version(), "\n");
  if (r.overrides().empty()) return out + "no overrides\n";
  Table t{{"PREFIX", "MODE"}, {}, {}};
  for (const v1::Override& o : r.overrides()) t.rows.push_back({o.prefix(), label(o.mode())});
  return out + renderTable(t);
}

std::string formatBreakers(const RepeatedPtrField<v1::Breaker>& breakers) {
  if (breakers.empty()) return "no breakers\n";
  Table t{{"NAME", "STATE", "MODE", "MACHINE", "CALLS", "FAILURES", "SLOW", "TRANSITIONS"},
          {},
          {false, false, false, false, true, true, true, true}};
  for (const v1::Breaker& b : breakers) {
    t.rows.push_back({b.name(), label(b.state()), label(b.mode()), label(b.machine_state()),
                      absl::StrCat(b.window_calls()), absl::StrCat(b.window_failures()),
                      absl::StrCat(b.window_slow()), absl::StrCat(b.transitions())});
  }
  return renderTable(t);
}

std::string formatSales(const RepeatedPtrField<v1::Sale>& sales, absl::TimeZone tz) {
  if (sales.empty()) return "no sales\n";
  Table t{{"ID", "NAME", "STATE", "LEFT/TOTAL", "SOLD", "STRATEGY", "OPENS", "CLOSES", "TOKEN"},
          {},
          {false, false, false, true, true}};
  for (const v1::Sale& s : sales) {
    t.rows.push_back({s.id(), s.name(), label(s.state()), stock(s), absl::StrCat(s.sold()),
                      label(s.strategy()), formatTime(s.opens_at(), tz),
                      formatTime(s.closes_at(), tz), s.require_token() ? "yes" : "no"});
  }
  return renderTable(t);
}

std::string formatSale(const v1::Sale& s, absl::TimeZone tz) {
  return keyValues({
      {"id", s.id()},
      {"name", orDash(s.name())},
      {"state", label(s.state())},
      {"stock", absl::StrCat(stock(s), " left")},
      {"sold", absl::StrCat(s.sold())},
      {"strategy", label(s.strategy())},
      {"opens_at", formatTime(s.opens_at(), tz)},
      {"closes_at", formatTime(s.closes_at(), tz)},
      {"require_token", s.require_token() ? "yes" : "no"},
      {"pay_timeout", formatDuration(s.pay_timeout())},
      {"dedup_ttl", formatDuration(s.dedup_ttl())},
      {"token_ttl", formatDuration(s.token_ttl())},
  });
}

std::string formatOrders(const RepeatedPtrField<v1::Order>& orders, absl::TimeZone tz) {
  if (orders.empty()) return "no orders\n";
  Table t{{"ID", "SALE", "USER", "STATE", "CREATED", "PAY BEFORE", "UPDATED"}, {}, {}};
  for (const v1::Order& o : orders) {
    t.rows.push_back({o.id(), o.sale_id(), o.user_id(), orderState(o),
                      formatTime(o.created_at(), tz), formatTime(o.pay_before(), tz),
                      formatTime(o.updated_at(), tz)});
  }
  return renderTable(t);
}

std::string formatOrder(const v1::Order& o, absl::TimeZone tz) {
  return keyValues({
      {"id", o.id()},
      {"sale", o.sale_id()},
      {"user", o.user_id()},
      {"state", orderState(o)},
      {"created_at", formatTime(o.created_at(), tz)},
      {"pay_before", formatTime(o.pay_before(), tz)},
      {"updated_at", formatTime(o.updated_at(), tz)},
  });
}

std::string formatAudit(const RepeatedPtrField<v1::AuditEntry>& entries, absl::TimeZone tz) {
  if (entries.empty()) return "no audit entries\n";
  Table t{{"AT", "AUTHOR", "NODE", "ACTION", "TARGET", "VERSION", "DETAIL"},
          {},
          {false, false, false, false, false, true}};
  for (const v1::AuditEntry& e : entries) {
    t.rows.push_back({formatTime(e.at(), tz), orDash(e.author()), orDash(e.node()), e.action(),
                      orDash(e.target()), e.version() == 0 ? "-" : absl::StrCat(e.version()),
                      e.detail()});
  }
  return renderTable(t);
}

}  // namespace seckill::ctl
