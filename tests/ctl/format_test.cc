#include "console/ctl/format.h"

#include "gtest/gtest.h"

namespace seckill::ctl {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kNoon = 1714564800;  // 2024-05-01T12:00:00Z

google::protobuf::Timestamp at(int64_t seconds) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  return ts;
}

google::protobuf::Duration secs(int64_t seconds) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  return d;
}

v1::Rule orderRule() {
  v1::Rule r;
  r.set_id("POST /api/v1/sales/*/orders user /s");
  r.set_path("/api/v1/sales/*/orders");
  r.set_method("POST");
  r.mutable_scope()->set_kind(v1::USER);
  r.set_algorithm(v1::TOKEN_BUCKET);
  r.set_rate(5);
  r.set_per(v1::SECOND);
  r.set_burst(10);
  r.set_on_limit(v1::REJECT);
  return r;
}

v1::StatsSnapshot snapshot() {
  v1::StatsSnapshot s;
  s.set_node_id("node-a");
  *s.mutable_at() = at(kNoon);
  s.set_seq(7);
  s.set_requests(1234);
  s.set_admitted(1200);
  s.set_rejected(20);
  s.set_queued(10);
  s.set_shadow_limited(4);
  s.set_orders_created(50);
  s.set_orders_paid(40);
  s.set_orders_cancelled_shopper(3);
  s.set_orders_cancelled_expired(2);
  s.set_orders_cancelled_duplicate(1);
  s.set_latency_p99_ms(12.5);
  return s;
}

// ---------------------------------------------------------------- building blocks

TEST(RenderTable, AlignsColumnsAndRightAlignsNumbers) {
  Table t{
      {"ID", "NAME", "N"}, {{"a", "long name", "5"}, {"bb", "x", "1234"}}, {false, false, true}};
  EXPECT_EQ(renderTable(t),
            "ID  NAME          N\n"
            "a   long name     5\n"
            "bb  x          1234\n");
}

TEST(RenderTable, MultiLineCellsAndTrailingBlanks) {
  Table t{{"A", "DETAIL"}, {{"x", "first\nsecond"}, {"yy", ""}}, {}};
  EXPECT_EQ(renderTable(t),
            "A   DETAIL\n"
            "x   first\n"
            "    second\n"
            "yy\n");
}

TEST(RenderTable, CountsUtf8CharactersNotBytes) {
  Table t{{"N", "X"}, {{"été", "1"}, {"abcd", "2"}}, {}};
  EXPECT_EQ(renderTable(t),
            "N     X\n"
            "été   1\n"
            "abcd  2\n");
}

TEST(FormatTime, LocalWallClockOrDash) {
  EXPECT_EQ(formatTime(at(kNoon), absl::UTCTimeZone()), "2024-05-01 12:00:00");
  EXPECT_EQ(formatTime(at(kNoon), absl::FixedTimeZone(8 * 3600)), "2024-05-01 20:00:00");
  EXPECT_EQ(formatTime(google::protobuf::Timestamp(), absl::UTCTimeZone()), "-");
  EXPECT_EQ(formatDuration(secs(900)), "15m");
  EXPECT_EQ(formatDuration(secs(3723)), "1h2m3s");
  EXPECT_EQ(formatDuration(google::protobuf::Duration()), "-");
}

TEST(DescribeRule, OneLineWithoutThePath) {
  EXPECT_EQ(describeRule(orderRule()), "POST user token_bucket 5/s burst=10 on_limit=reject");

  v1::Rule leaky;
  leaky.mutable_scope()->set_kind(v1::HEADER);
  leaky.mutable_scope()->set_header("x-api-key");
  leaky.set_algorithm(v1::LEAKY_BUCKET);
  leaky.set_rate(100);
  leaky.set_per(v1::MINUTE);
  leaky.set_queue(20);
  leaky.set_on_limit(v1::QUEUE);
  *leaky.mutable_max_wait() = secs(1);
  leaky.set_distributed(true);
  EXPECT_EQ(
      describeRule(leaky),
      "* header:x-api-key leaky_bucket 100/m queue=20 on_limit=queue max_wait=1s distributed");
}

// ---------------------------------------------------------------- JSON

TEST(ToJson, ProtoNamesNumbersEnumNamesAndWellKnownTypes) {
  v1::Sale sale;
  sale.set_id("s1");
  sale.set_stock_total(100);
  sale.set_stock_left(-1);
  sale.set_state(v1::OPEN_NOW);
  *sale.mutable_opens_at() = at(kNoon);
  *sale.mutable_pay_timeout() = secs(900);
  const Json j = toJson(sale);
  EXPECT_EQ(j["id"], "s1");
  EXPECT_EQ(j["name"], "");  // scalars are always there
  EXPECT_TRUE(j["stock_total"].is_number_integer());
  EXPECT_EQ(j["stock_total"], 100);
  EXPECT_EQ(j["stock_left"], -1);
  EXPECT_EQ(j["state"], "OPEN_NOW");
  EXPECT_EQ(j["opens_at"], "2024-05-01T12:00:00Z");
  EXPECT_FALSE(j.contains("closes_at"));  // unset messages are left out
  EXPECT_EQ(j["pay_timeout"], "900s");
  EXPECT_EQ(j["require_token"], false);
  EXPECT_EQ(j.begin().key(), "id");  // in .proto order
}

TEST(ToJson, OptionalOneofAndRepeatedFields) {
  v1::ApplyRulesRequest req;
  req.set_toml("[[rule]]");
  Json j = toJson(req);
  EXPECT_EQ(j["toml"], "[[rule]]");
  EXPECT_FALSE(j.contains("set"));               // the other member of the oneof
  EXPECT_FALSE(j.contains("expected_version"));  // optional, unset
  req.set_expected_version(0);
  EXPECT_EQ(toJson(req)["expected_version"], 0);

  v1::ListSalesResponse empty;
  EXPECT_EQ(toJson(empty).dump(), R"({"sales":[]})");
  v1::ListVersionsResponse versions;
  versions.set_current(18446744073709551615ull);
  EXPECT_EQ(toJson(versions)["current"].get<uint64_t>(), 18446744073709551615ull);
}

TEST(JsonDocument, IndentedWithFinalNewline) {
  v1::ApplyRulesResponse r;
  r.set_version(5);
  r.set_changed(true);
  EXPECT_EQ(jsonDocument(appliedJson(r)), "{\n  \"version\": 5,\n  \"changed\": true\n}\n");
}

// ---------------------------------------------------------------- stats

TEST(Stats, HeaderAndRowHaveFixedWidths) {
  EXPECT_EQ(statsHeader(),
            "TIME          REQ/S   ADMITTED   LIMITED   CREATED     PAID  CANCELLED     P99MS\n");
  EXPECT_EQ(statsRow(snapshot(), absl::UTCTimeZone()),
            "12:00:00       1234       1200        34        50       40          6     12.50\n");
  EXPECT_EQ(statsHeader().size(), statsRow(snapshot(), absl::UTCTimeZone()).size());
}

TEST(Stats, JsonLineHasTheNamedKeys) {
  v1::StatsSnapshot s = snapshot();
  s.add_routes()->set_route("order");
  const std::string line = statsJsonLine(s);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const Json j = Json::parse(line);
  EXPECT_TRUE(j["ts"].is_number_integer());
  EXPECT_EQ(j["ts"], kNoon);
  EXPECT_EQ(j["node"], "node-a");
  EXPECT_EQ(j["requests"], 1234);
  EXPECT_EQ(j["limited"], 34);
  EXPECT_EQ(j["orders_created"], 50);
  EXPECT_EQ(j["orders_cancelled"], 6);
  EXPECT_EQ(j["p99_ms"], 12.5);
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["history"], false);
  EXPECT_EQ(j["routes"][0]["route"], "order");
  EXPECT_EQ(j.begin().key(), "ts");
}

// ---------------------------------------------------------------- rules

v1::ListRulesResponse ruleList() {
  v1::ListRulesResponse list;
  list.set_version(4);
  list.mutable_change()->set_author("alice");
  list.mutable_change()->set_source("api");
  *list.mutable_change()->mutable_at() = at(kNoon);
  list.mutable_change()->set_comment("raise order limit");
  v1::TrieNode* root = list.mutable_root();
  v1::RuleView* global = root->add_rules();
  global->mutable_rule()->set_id("* / global /s");
  global->mutable_rule()->mutable_scope()->set_kind(v1::GLOBAL);
  global->mutable_rule()->set_algorithm(v1::SLIDING_WINDOW);
  global->mutable_rule()->set_rate(1000);
  global->mutable_rule()->set_per(v1::SECOND);
  global->mutable_rule()->set_on_limit(v1::LOG);
  global->mutable_counters()->set_passed(9000);
  global->mutable_counters()->set_shadow_limited(12);
  v1::TrieNode* api = root->add_children();
  api->set_segment("api");
  v1::TrieNode* v1n = api->add_children();
  v1n->set_segment("v1");
  v1::TrieNode* sales = v1n->add_children();
  sales->set_segment("sales");
  v1::TrieNode* star = sales->add_children();
  star->set_segment("*");
  v1::TrieNode* orders = star->add_children();
  orders->set_segment("orders");
  v1::RuleView* view = orders->add_rules();
  *view->mutable_rule() = orderRule();
  view->mutable_counters()->set_passed(123);
  view->mutable_counters()->set_limited(4);
  v1::TrieNode* pay = star->add_children();
  pay->set_segment("pay");
  v1::RuleView* pv = pay->add_rules();
  pv->mutable_rule()->set_id("pay");
  pv->mutable_rule()->mutable_scope()->set_kind(v1::IP);
  pv->mutable_rule()->set_algorithm(v1::SLIDING_LOG);
  pv->mutable_rule()->set_rate(3);
  pv->mutable_rule()->set_per(v1::HOUR);
  pv->mutable_rule()->set_on_limit(v1::REJECT);
  v1::Override* o = list.mutable_set()->add_overrides();
  o->set_prefix("/api/v1/admin");
  o->set_mode(v1::SHED);
  return list;
}

TEST(RuleTree, DrawsTheTrieWithCountersAndOverrides) {
  EXPECT_EQ(
      formatRuleTree(ruleList(), absl::UTCTimeZone()),
      "rules version 4 · alice via api · 2024-05-01 12:00:00 · raise order limit\n"
      "/\n"
      "├── * global sliding_window 1000/s on_limit=log · passed 9000 limited 0 shadow 12 · id "
      "\"* / global /s\"\n"
      "└── api/v1/sales/*\n"
      "    ├── orders\n"
      "    │   └── POST user token_bucket 5/s burst=10 on_limit=reject · passed 123 limited 4 · "
      "id \"POST /api/v1/sales/*/orders user /s\"\n"
      "    └── pay\n"
      "        └── * ip sliding_log 3/h on_limit=reject · passed 0 limited 0 · id \"pay\"\n"
      "\n"
      "overrides\n"
      "  /api/v1/admin  shed\n");
}

TEST(RuleTree, EmptySet) {
  v1::ListRulesResponse list;
  list.set_version(1);
  EXPECT_EQ(formatRuleTree(list, absl::UTCTimeZone()), "rules version 1\n/\n(no rules)\n");
}

TEST(RuleViews, TableWithCounters) {
  v1::GetRuleResponse r;
  v1::RuleView* v = r.add_rules();
  *v->mutable_rule() = orderRule();
  v->mutable_counters()->set_passed(123);
  v->mutable_counters()->set_limited(4);
  EXPECT_EQ(formatRuleViews(4, r.rules()),
            "rules version 4\n"
            "ID                                   PATH                    RULE                    "
            "                             PASSED  LIMITED  QUEUED  SHADOW\n"
            "POST /api/v1/sales/*/orders user /s  /api/v1/sales/*/orders  POST user token_bucket "
            "5/s burst=10 on_limit=reject     123        4       0       0\n");
}

TEST(Validation, ValidOrOneLinePerErrorWithTheFileLine) {
  v1::ValidateRulesResponse ok;
  ok.set_valid(true);
  ok.mutable_set()->add_rules();
  ok.mutable_set()->add_rules();
  EXPECT_EQ(formatValidation(ok, "rules.toml"), "rules.toml: valid (2 rules, 0 overrides)\n");

  v1::ValidateRulesResponse bad;
  v1::ValidationError* e = bad.add_errors();
  e->set_line(3);
  e->set_message("rule 0 (/api): rate must be at least 1");
  bad.add_errors()->set_message("override 0: unknown mode");
  EXPECT_EQ(formatValidation(bad, "rules.toml"),
            "rules.toml:3: rule 0 (/api): rate must be at least 1\n"
            "rules.toml: override 0: unknown mode\n");
}

TEST(Applied, VersionAndWhetherItChanged) {
  v1::ApplyRulesResponse r;
  r.set_version(5);
  r.set_changed(true);
  EXPECT_EQ(formatApplied(r), "rules version 5\n");
  r.set_changed(false);
  EXPECT_EQ(formatApplied(r), "rules version 5 (unchanged)\n");
  EXPECT_EQ(appliedJson(r).dump(), R"({"version":5,"changed":false})");
}

TEST(Versions, CurrentIsStarred) {
  v1::ListVersionsResponse r;
  r.set_current(2);
  v1::Change* c2 = r.add_versions();
  c2->set_version(2);
  *c2->mutable_at() = at(kNoon);
  c2->set_author("alice");
  c2->set_source("api");
  c2->set_node("n1");
  c2->set_comment("more");
  v1::Change* c1 = r.add_versions();
  c1->set_version(1);
  c1->set_source("seed");
  EXPECT_EQ(formatVersions(r, absl::UTCTimeZone()),
            "   VERSION  AT                   AUTHOR  SOURCE  NODE  COMMENT\n"
            "*        2  2024-05-01 12:00:00  alice   api     n1    more\n"
            "         1  -                    -       seed    -\n");
}

TEST(Diff, HeaderThenTheEnginesText) {
  v1::DiffRulesResponse r;
  r.set_from_version(3);
  r.set_to_version(4);
  EXPECT_EQ(formatDiff(r), "rules version 3 -> 4\nno changes\n");
  r.set_text("~ rule a: rate 5 -> 10");
  EXPECT_EQ(formatDiff(r), "rules version 3 -> 4\n~ rule a: rate 5 -> 10\n");
}

// ---------------------------------------------------------------- the rest

TEST(Status, EngineThenSalesAndBreakers) {
  v1::NodeStatus st;
  st.set_engine_version("0.1.0");
  st.set_node_id("node-a");
  *st.mutable_started_at() = at(kNoon);
  *st.mutable_uptime() = secs(3723);
  st.mutable_uptime()->set_nanos(500000000);
  st.set_rules_version(4);
  st.set_store("memory");
  st.set_state("memory (not persisted)");
  *st.mutable_history() = secs(3600);
  st.set_caller_name("alice");
  st.set_caller_role("operator");
  v1::Sale* s = st.add_sales();
  s->set_id("s1");
  s->set_name("Phone");
  s->set_state(v1::OPEN_NOW);
  s->set_stock_left(42);
  s->set_stock_total(100);
  v1::Breaker* b = st.add_breakers();
  b->set_name("stock_store");
  b->set_state(v1::CLOSED);
  b->set_mode(v1::AUTOMATIC);
  EXPECT_EQ(formatStatus(st, absl::UTCTimeZone()),
            "engine   0.1.0\n"
            "node     node-a\n"
            "uptime   1h2m3s (since 2024-05-01 12:00:00)\n"
            "rules    version 4\n"
            "store    memory\n"
            "state    memory (not persisted)\n"
            "history  1h\n"
            "caller   alice (operator)\n"
            "\n"
            "SALE  NAME   STATE  LEFT/TOTAL\n"
            "s1    Phone  open       42/100\n"
            "\n"
            "BREAKER      STATE   MODE\n"
            "stock_store  closed  automatic\n");
}

TEST(Sales, TableAndDetail) {
  v1::ListSalesResponse r;
  v1::Sale* s = r.add_sales();
  s->set_id("s1");
  s->set_name("Phone");
  s->set_state(v1::SCHEDULED);
  s->set_stock_left(-1);
  s->set_stock_total(100);
  s->set_strategy(v1::COUNTER_GATE);
  *s->mutable_opens_at() = at(kNoon);
  s->set_require_token(true);
  *s->mutable_pay_timeout() = secs(900);
  EXPECT_EQ(
      formatSales(r.sales(), absl::UTCTimeZone()),
      "ID  NAME   STATE      LEFT/TOTAL  SOLD  STRATEGY      OPENS                CLOSES  TOKEN\n"
      "s1  Phone  scheduled       ?/100     0  counter_gate  2024-05-01 12:00:00  -       yes\n");
  EXPECT_EQ(formatSale(*s, absl::UTCTimeZone()),
            "id             s1\n"
            "name           Phone\n"
            "state          scheduled\n"
            "stock          ?/100 left\n"
            "sold           0\n"
            "strategy       counter_gate\n"
            "opens_at       2024-05-01 12:00:00\n"
            "closes_at      -\n"
            "require_token  yes\n"
            "pay_timeout    15m\n"
            "dedup_ttl      -\n"
            "token_ttl      -\n");
  EXPECT_EQ(formatSales(v1::ListSalesResponse().sales(), absl::UTCTimeZone()), "no sales\n");
}

TEST(Orders, CancelReasonBesideTheState) {
  v1::ListOrdersResponse r;
  v1::Order* o = r.add_orders();
  o->set_id("o1");
  o->set_sale_id("s1");
  o->set_user_id("u1");
  o->set_state(v1::CANCELLED);
  o->set_cancel_reason(v1::EXPIRED);
  *o->mutable_created_at() = at(kNoon);
  EXPECT_EQ(formatOrders(r.orders(), absl::UTCTimeZone()),
            "ID  SALE  USER  STATE                CREATED              PAY BEFORE  UPDATED\n"
            "o1  s1    u1    cancelled (expired)  2024-05-01 12:00:00  -           -\n");
}

TEST(Audit, MultiLineDetailStaysInItsColumn) {
  v1::ListAuditResponse r;
  v1::AuditEntry* e = r.add_entries();
  *e->mutable_at() = at(kNoon);
  e->set_author("alice");
  e->set_node("n1");
  e->set_action("rules.apply");
  e->set_version(5);
  e->set_detail("~ rule a: rate 5 -> 10\n+ rule b");
  EXPECT_EQ(
      formatAudit(r.entries(), absl::UTCTimeZone()),
      "AT                   AUTHOR  NODE  ACTION       TARGET  VERSION  DETAIL\n"
      "2024-05-01 12:00:00  alice   n1    rules.apply  -             5  ~ rule a: rate 5 -> 10\n"
      "                                                                 + rule b\n");
}

TEST(Breakers, Table) {
  v1::ListBreakersResponse r;
  v1::Breaker* b = r.add_breakers();
  b->set_name("order_store");
  b->set_state(v1::FORCED_OPEN);
  b->set_machine_state(v1::HALF_OPEN);
  b->set_mode(v1::MODE_FORCED_OPEN);
  b->set_window_calls(10);
  b->set_window_failures(2);
  b->set_transitions(3);
  EXPECT_EQ(
      formatBreakers(r.breakers()),
      "NAME         STATE        MODE         MACHINE    CALLS  FAILURES  SLOW  TRANSITIONS\n"
      "order_store  forced_open  forced_open  half_open     10         2     0            3\n");
}

}  // namespace
}  // namespace seckill::ctl
