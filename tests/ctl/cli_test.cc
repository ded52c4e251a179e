#include "console/ctl/cli.h"

#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/client/fake_engine.h"

namespace seckill::ctl {
namespace {

namespace v1 = ::seckill::admin::v1;
using fake::waitUntil;
using Json = nlohmann::json;

constexpr char kOperatorToken[] = "op-token-0123456789";
constexpr char kViewerToken[] = "viewer-token-0123456";
constexpr int64_t kNoon = 1714564800;  // 2024-05-01T12:00:00Z, the runs' "now"

// A stringbuf that one thread may write while another reads it (recursive: stringbuf's xsputn
// calls overflow).
class LockedBuf : public std::stringbuf {
 public:
  std::string text() const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return str();
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return std::stringbuf::xsputn(s, n);
  }
  int_type overflow(int_type c) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return std::stringbuf::overflow(c);
  }

 private:
  mutable std::recursive_mutex mu_;
};

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("SECKILL_TOKEN_FILE");  // --token-file's default must not leak in
    engine_.setTokens(kOperatorToken, kViewerToken);
    operator_file_ = writeFile("operator.token", absl::StrCat(kOperatorToken, " operator alice\n"));
    viewer_file_ = writeFile("viewer.token", absl::StrCat(kViewerToken, "\n"));
  }
  void TearDown() override {
    for (const std::string& f : files_) std::remove(f.c_str());
  }

  std::string writeFile(const std::string& name, const std::string& text) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string path = absl::StrCat(::testing::TempDir(), "seckillctl_", info->name(), "_", name);
    std::ofstream(path, std::ios::binary) << text;
    files_.push_back(path);
    return path;
  }

  // seckillctl --engine <fake> --token-file <operator's> ARGS...
  Result ctl(std::vector<std::string> args, const std::string& token_file = "",
             const std::string& stdin_text = "", std::ostream* out_stream = nullptr,
             const absl::Notification* interrupt = nullptr) {
    std::vector<std::string> argv = {"seckillctl", "--engine", engine_.target(), "--token-file",
                                     token_file.empty() ? operator_file_ : token_file};
    argv.insert(argv.end(), args.begin(), args.end());
    return bare(argv, stdin_text, out_stream, interrupt);
  }

  // seckillctl exactly as given.
  Result bare(const std::vector<std::string>& argv, const std::string& stdin_text = "",
              std::ostream* out_stream = nullptr, const absl::Notification* interrupt = nullptr) {
    std::ostringstream out, err;
    std::istringstream in(stdin_text);
    Environment env;
    env.in = &in;
    env.tz = absl::UTCTimeZone();
    env.now = [] { return absl::FromUnixSeconds(kNoon); };
    env.interrupt = interrupt;
    Result r;
    r.code = run(argv, out_stream != nullptr ? *out_stream : out, err, env);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  fake::FakeEngine engine_;
  std::string operator_file_;
  std::string viewer_file_;
  std::vector<std::string> files_;
};

// ---------------------------------------------------------------- usage

TEST_F(CliTest, HelpAtEveryLevelExitsZero) {
  Result top = bare({"seckillctl", "--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("Usage: seckillctl [OPTIONS] SUBCOMMAND"), std::string::npos);
  EXPECT_NE(top.out.find("--token-file"), std::string::npos);

  Result rules = bare({"seckillctl", "rules", "--help"});
  EXPECT_EQ(rules.code, 0);
  EXPECT_NE(rules.out.find("rollback"), std::string::npos);

  Result apply = bare({"seckillctl", "rules", "apply", "--help"});
  EXPECT_EQ(apply.code, 0);
  EXPECT_NE(apply.out.find("--expect-version"), std::string::npos);

  Result create = bare({"seckillctl", "sales", "create", "-h"});
  EXPECT_EQ(create.code, 0);
  EXPECT_NE(create.out.find("--pay-timeout"), std::string::npos);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"seckillctl"},
      {"seckillctl", "frobnicate"},
      {"seckillctl", "rules"},
      {"seckillctl", "rules", "apply"},
      {"seckillctl", "--timeout", "5", "status"},
      {"seckillctl", "sales", "stock", "s1", "lots"},
      {"seckillctl", "override", "set", "/", "off"},
      {"seckillctl", "breaker", "set", "stock_store", "open"},
      {"seckillctl", "sales", "create", "s1"},  // --stock is required
      {"seckillctl", "sales", "create", "s1", "--stock", "5", "--opens-at", "tomorrow"},
      {"seckillctl", "orders", "list", "--sale", "s1", "--limit", "0"},
      {"seckillctl", "audit", "--since", "a while"},
  };
  for (const auto& argv : cases) {
    Result r = bare(argv);
    EXPECT_EQ(r.code, 2) << absl::StrJoin(argv, " ") << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("seckillctl: ", 0), 0u) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  EXPECT_EQ(engine_.calls("Sales.Create"), 0);
}

TEST_F(CliTest, CommandLineMistakesFoundAfterParsingExitTwo) {
  Result r = ctl({"rules", "get"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "seckillctl: rules get: give PATH or --id ID\n");

  r = ctl({"rule-mode", "set", "--id", "r1", "reject", "--max-wait", "1s"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "seckillctl: rule-mode set: --max-wait goes with queue\n");

  r = ctl({"rule-mode", "set", "/api", "sometimes"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(engine_.calls("Control.SetRuleMode"), 0);

  r = bare({"seckillctl", "--tls-cert", "/dev/null", "status"});  // no --tls-key
  EXPECT_EQ(r.code, 2);
}

// ---------------------------------------------------------------- auth and errors

TEST_F(CliTest, UnknownTokenExitsThree) {
  const std::string stranger = writeFile("stranger.token", "not-a-known-token\n");
  Result r = ctl({"status"}, stranger);
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err,
            "seckillctl: UNAUTHENTICATED: missing or unknown admin token (send \"authorization: "
            "Bearer <token>\")\n");
}

TEST_F(CliTest, NoTokenExitsThreeWithAHint) {
  Result r = bare({"seckillctl", "--engine", engine_.target(), "status"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err,
            "seckillctl: UNAUTHENTICATED: missing or unknown admin token (send \"authorization: "
            "Bearer <token>\") [no token was sent: give --token-file or set SECKILL_TOKEN_FILE]\n");
}

TEST_F(CliTest, ViewerChangingExitsThree) {
  Result r = ctl({"sales", "open", "s1"}, viewer_file_);
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err.rfind("seckillctl: PERMISSION_DENIED: ", 0), 0u) << r.err;
}

TEST_F(CliTest, MissingTokenFileExitsOne) {
  Result r = ctl({"status"}, ::testing::TempDir() + "seckillctl_no_such.token");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("seckillctl: NOT_FOUND: cannot read token file ", 0), 0u) << r.err;
  EXPECT_EQ(engine_.calls("Node.GetStatus"), 0);
}

TEST_F(CliTest, EngineErrorsExitOneWithTheEnginesMessage) {
  Result r = ctl({"sales", "get", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "seckillctl: NOT_FOUND: no sale \"nope\"\n");
}

TEST_F(CliTest, UnreachableEngineExitsOne) {
  Result r = bare({"seckillctl", "--engine", "127.0.0.1:1", "--timeout", "5s", "status"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("seckillctl: UNAVAILABLE: ", 0), 0u) << r.err;
}

// ---------------------------------------------------------------- commands

TEST_F(CliTest, StatusHumanAndJson) {
  v1::NodeStatus st;
  st.set_node_id("node-a");
  st.set_caller_name("alice");
  st.set_caller_role("operator");
  engine_.setNodeStatus(st);
  engine_.setRulesVersion(4);

  Result human = ctl({"status"});
  EXPECT_EQ(human.code, 0) << human.err;
  EXPECT_NE(human.out.find("node     node-a\n"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("rules    version 4\n"), std::string::npos);
  EXPECT_NE(human.out.find("caller   alice (operator)\n"), std::string::npos);

  Result json = ctl({"status", "--json"});  // global options may follow the command
  EXPECT_EQ(json.code, 0) << json.err;
  const Json j = Json::parse(json.out);
  EXPECT_EQ(j["node_id"], "node-a");
  EXPECT_EQ(j["rules_version"], 4);
  EXPECT_EQ(j["caller_role"], "operator");
}

TEST_F(CliTest, RulesApplyReadsTheRunningVersionFirst) {
  engine_.setRulesVersion(4);
  const std::string toml = "[[rule]]\npath = \"/api\"\nrate = 5\n";
  const std::string file = writeFile("rules.toml", toml);
  Result r = ctl({"rules", "apply", file, "--comment", "raise it"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "rules version 5\n");
  EXPECT_EQ(engine_.calls("Rules.List"), 1);
  v1::ApplyRulesRequest sent;
  ASSERT_TRUE(engine_.lastRequest("Rules.Apply", &sent));
  EXPECT_EQ(sent.toml(), toml);
  EXPECT_TRUE(sent.has_expected_version());
  EXPECT_EQ(sent.expected_version(), 4u);
  EXPECT_EQ(sent.comment(), "raise it");
}

TEST_F(CliTest, RulesApplyWithAStaleVersionExitsFour) {
  engine_.setRulesVersion(4);
  const std::string file = writeFile("rules.toml", "[[rule]]\n");
  Result r = ctl({"rules", "apply", file, "--expect-version", "3"});
  EXPECT_EQ(r.code, 4);
  EXPECT_EQ(r.err, "seckillctl: ABORTED: rule set version 3 is stale: the current version is 4\n");
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(engine_.calls("Rules.List"), 0);
  EXPECT_EQ(engine_.rulesVersion(), 4u);
}

TEST_F(CliTest, RulesApplyJsonAndStdin) {
  engine_.setRulesVersion(7);
  Result r = ctl({"--json", "rules", "apply", "-"}, "", "[[rule]]\npath = \"/\"\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out), Json::parse(R"({"version": 8, "changed": true})"));
  v1::ApplyRulesRequest sent;
  ASSERT_TRUE(engine_.lastRequest("Rules.Apply", &sent));
  EXPECT_EQ(sent.toml(), "[[rule]]\npath = \"/\"\n");
}

TEST_F(CliTest, RulesApplyOfAMissingFileSendsNothing) {
  Result r = ctl({"rules", "apply", ::testing::TempDir() + "seckillctl_absent.toml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("seckillctl: NOT_FOUND: cannot read ", 0), 0u) << r.err;
  EXPECT_EQ(engine_.calls("Rules.Apply"), 0);
}

TEST_F(CliTest, RulesValidatePrintsErrorsAndFails) {
  const std::string bad = writeFile("bad.toml", "[[rule]]\npath = \"/api\"\nrate = 0\n");
  Result r = ctl({"rules", "validate", bad});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, bad + ":3: rule 0 (/api): rate must be at least 1\n");
  EXPECT_EQ(r.err, "seckillctl: INVALID_ARGUMENT: " + bad + ": 1 error in the rule set\n");

  const std::string good = writeFile("good.toml", "[[rule]]\npath = \"/api\"\nrate = 5\n");
  r = ctl({"rules", "validate", good});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, good + ": valid (1 rules, 0 overrides)\n");
  EXPECT_EQ(engine_.calls("Rules.Apply"), 0);
}

TEST_F(CliTest, RulesRollbackExportDiffVersions) {
  engine_.setRulesVersion(6);
  Result r = ctl({"rules", "rollback", "3"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "rules version 7\n");
  v1::RollbackRulesRequest rb;
  ASSERT_TRUE(engine_.lastRequest("Rules.Rollback", &rb));
  EXPECT_EQ(rb.to_version(), 3u);
  EXPECT_EQ(rb.expected_version(), 6u);

  r = ctl({"rules", "export", "--version", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "[[rule]]\npath = \"/api\"\nrate = 5\n");

  r = ctl({"rules", "diff", "2", "0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "rules version 2 -> 0\n~ rule r1: rate 5 -> 10\n+ rule r2\n");

  r = ctl({"rules", "versions", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["current"], 7);
}

TEST_F(CliTest, RulesGetByPathOrId) {
  v1::ListRulesResponse list;
  v1::Rule* rule = list.add_rules()->mutable_rule();
  rule->set_id("orders");
  rule->set_path("/api/orders");
  rule->set_method("POST");
  engine_.setRuleList(list);
  Result r = ctl({"rules", "get", "/api/orders", "--method", "POST"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("orders  /api/orders  POST"), std::string::npos) << r.out;
  r = ctl({"rules", "get", "--id", "orders", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["rules"][0]["rule"]["path"], "/api/orders");
  v1::GetRuleRequest sent;
  ASSERT_TRUE(engine_.lastRequest("Rules.Get", &sent));
  EXPECT_EQ(sent.id(), "orders");
  EXPECT_TRUE(sent.path().empty());
}

TEST_F(CliTest, OverrideAndRuleModeAndBreaker) {
  Result r = ctl({"override", "set", "/api", "dry-run", "--comment", "load test"});
  EXPECT_EQ(r.code, 0) << r.err;
  v1::SetOverrideRequest ov;
  ASSERT_TRUE(engine_.lastRequest("Control.SetOverride", &ov));
  EXPECT_EQ(ov.prefix(), "/api");
  EXPECT_EQ(ov.mode(), v1::DRY_RUN);
  EXPECT_FALSE(ov.has_expected_version());  // applies to whatever is current
  EXPECT_EQ(ov.comment(), "load test");

  r = ctl({"override", "clear", "/api", "--expect-version", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  v1::ClearOverrideRequest cl;
  ASSERT_TRUE(engine_.lastRequest("Control.ClearOverride", &cl));
  EXPECT_EQ(cl.expected_version(), 2u);

  r = ctl({"rule-mode", "set", "/api/orders", "--method", "POST", "log"});
  EXPECT_EQ(r.code, 0) << r.err;
  v1::SetRuleModeRequest rm;
  ASSERT_TRUE(engine_.lastRequest("Control.SetRuleMode", &rm));
  EXPECT_EQ(rm.path(), "/api/orders");
  EXPECT_EQ(rm.method(), "POST");
  EXPECT_EQ(rm.on_limit(), v1::LOG);
  EXPECT_TRUE(rm.id().empty());

  r = ctl({"rule-mode", "set", "--id", "r1", "queue", "--max-wait", "200ms"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(engine_.lastRequest("Control.SetRuleMode", &rm));
  EXPECT_EQ(rm.id(), "r1");
  EXPECT_TRUE(rm.path().empty());
  EXPECT_EQ(rm.on_limit(), v1::QUEUE);
  EXPECT_EQ(rm.max_wait().seconds(), 0);
  EXPECT_EQ(rm.max_wait().nanos(), 200000000);

  r = ctl({"breaker", "set", "stock_store", "forced_open"});
  EXPECT_EQ(r.code, 0) << r.err;
  v1::SetBreakerModeRequest br;
  ASSERT_TRUE(engine_.lastRequest("Control.SetBreakerMode", &br));
  EXPECT_EQ(br.name(), "stock_store");
  EXPECT_EQ(br.mode(), v1::MODE_FORCED_OPEN);
  EXPECT_NE(r.out.find("stock_store  forced_open  forced_open"), std::string::npos) << r.out;
}

TEST_F(CliTest, SalesStockTakesTotalsAndDeltas) {
  v1::Sale sale;
  sale.set_id("s1");
  engine_.setSales({sale});
  v1::AdjustStockRequest sent;

  EXPECT_EQ(ctl({"sales", "stock", "s1", "50"}).code, 0);
  ASSERT_TRUE(engine_.lastRequest("Sales.AdjustStock", &sent));
  EXPECT_EQ(sent.change_case(), v1::AdjustStockRequest::kSetTotal);
  EXPECT_EQ(sent.set_total(), 50);

  EXPECT_EQ(ctl({"sales", "stock", "s1", "+5"}).code, 0);
  ASSERT_TRUE(engine_.lastRequest("Sales.AdjustStock", &sent));
  EXPECT_EQ(sent.change_case(), v1::AdjustStockRequest::kDelta);
  EXPECT_EQ(sent.delta(), 5);

  Result r = ctl({"sales", "stock", "s1", "-5"});  // not taken for an option
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(engine_.lastRequest("Sales.AdjustStock", &sent));
  EXPECT_EQ(sent.change_case(), v1::AdjustStockRequest::kDelta);
  EXPECT_EQ(sent.delta(), -5);
}

TEST_F(CliTest, SalesCreateSendsWhatWasGiven) {
  Result r = ctl({"sales", "create", "s9", "--stock", "100", "--name", "Phone", "--opens-at",
                  "2024-05-01T12:00:00Z", "--strategy", "fifo", "--require-token", "--pay-timeout",
                  "10m", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  v1::CreateSaleRequest sent;
  ASSERT_TRUE(engine_.lastRequest("Sales.Create", &sent));
  EXPECT_EQ(sent.sale().id(), "s9");
  EXPECT_EQ(sent.sale().name(), "Phone");
  EXPECT_EQ(sent.sale().stock_total(), 100);
  EXPECT_EQ(sent.sale().opens_at().seconds(), kNoon);
  EXPECT_FALSE(sent.sale().has_closes_at());
  EXPECT_EQ(sent.sale().strategy(), v1::FIFO);
  EXPECT_TRUE(sent.sale().require_token());
  EXPECT_EQ(sent.sale().pay_timeout().seconds(), 600);
  EXPECT_EQ(Json::parse(r.out)["stock_total"], 100);

  r = ctl({"sales", "create", "s10", "--stock", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(engine_.lastRequest("Sales.Create", &sent));
  EXPECT_FALSE(sent.sale().has_pay_timeout());  // the engine's default
  EXPECT_EQ(sent.sale().strategy(), v1::STOCK_STRATEGY_UNSPECIFIED);
}

TEST_F(CliTest, OrdersListFollowsPagesWithAll) {
  std::vector<v1::Order> orders;
  for (int i = 1; i <= 5; ++i) {
    v1::Order o;
    o.set_id(absl::StrCat("o", i));
    o.set_sale_id("s1");
    o.set_user_id("u");
    orders.push_back(o);
  }
  engine_.setOrders(orders);

  Result one = ctl({"orders", "list", "--sale", "s1", "--limit", "2"});
  EXPECT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(engine_.calls("Orders.List"), 1);
  EXPECT_EQ(one.err, "seckillctl: more orders follow (--all lists every page)\n");
  EXPECT_EQ(std::vector<std::string>(absl::StrSplit(one.out, '\n', absl::SkipEmpty())).size(), 3u);

  Result all = ctl({"orders", "list", "--sale", "s1", "--limit", "2", "--all", "--json"});
  EXPECT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(engine_.calls("Orders.List"), 4);  // 1 + 3 pages
  const Json j = Json::parse(all.out);
  ASSERT_EQ(j["orders"].size(), 5u);
  EXPECT_EQ(j["orders"][4]["id"], "o5");
  EXPECT_EQ(j["next_page_token"], "");
}

TEST_F(CliTest, AuditSinceAndLimit) {
  std::vector<v1::AuditEntry> entries;
  for (int i = 1; i <= 5; ++i) {
    v1::AuditEntry e;
    e.set_seq(static_cast<uint64_t>(i));
    e.set_action("rules.apply");
    entries.push_back(e);
  }
  engine_.setAudit(entries);
  Result r = ctl({"audit", "--since", "10m", "--author", "alice", "--limit", "3", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["entries"].size(), 3u);
  v1::ListAuditRequest sent;
  ASSERT_TRUE(engine_.lastRequest("Audit.List", &sent));
  EXPECT_EQ(sent.since().seconds(), kNoon - 600);
  EXPECT_FALSE(sent.has_until());
  EXPECT_EQ(sent.author(), "alice");
  EXPECT_EQ(sent.page_size(), 3);
}

TEST_F(CliTest, StatsPrintsTheHistoryAndExits) {
  for (uint64_t i = 1; i <= 3; ++i) engine_.publish(i);
  Result r;
  std::thread t([&] { r = ctl({"stats", "--json", "--since", "2023-11-14T22:13:21Z"}); });
  ASSERT_TRUE(waitUntil([&] { return engine_.openStreams() == 1; }));
  engine_.publish(4);  // the first live second ends the history
  t.join();
  EXPECT_EQ(r.code, 0) << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r.out;  // seconds 2 and 3: after --since (second 1)
  EXPECT_EQ(Json::parse(lines[0])["seq"], 2);
  EXPECT_EQ(Json::parse(lines[1])["ts"], fake::kEpochSeconds + 3);
  EXPECT_EQ(engine_.watchRequests().at(0).since().seconds(), fake::kEpochSeconds + 1);
}

TEST_F(CliTest, StatsFollowStreamsUntilInterrupted) {
  engine_.publish(1);
  LockedBuf buf;
  std::ostream out(&buf);
  absl::Notification interrupt;
  Result r;
  std::thread t([&] { r = ctl({"stats", "--follow"}, "", "", &out, &interrupt); });
  auto rows = [&] {
    return std::vector<std::string>(absl::StrSplit(buf.text(), '\n', absl::SkipEmpty())).size();
  };
  ASSERT_TRUE(waitUntil([&] { return rows() == 2; }));  // header + history
  engine_.publish(2);
  ASSERT_TRUE(waitUntil([&] { return rows() == 3; }));
  engine_.dropStreams();
  engine_.publish(3);
  ASSERT_TRUE(waitUntil([&] { return rows() == 4; }));
  interrupt.Notify();
  t.join();
  EXPECT_EQ(r.code, 0) << r.err;
  const std::vector<std::string> lines = absl::StrSplit(buf.text(), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines[0].rfind("TIME ", 0), 0u);
  EXPECT_EQ(lines[1].rfind("22:13:21", 0), 0u) << lines[1];  // kEpoch + 1 in UTC
  EXPECT_EQ(lines[3].rfind("22:13:23", 0), 0u) << lines[3];
  EXPECT_NE(r.err.find("seckillctl: stats stream lost (UNAVAILABLE: "), std::string::npos) << r.err;
}

TEST_F(CliTest, StatsFollowEndsOnARejectedToken) {
  const std::string stranger = writeFile("stranger.token", "not-a-known-token\n");
  Result r = ctl({"stats", "--follow", "--json"}, stranger);
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err.rfind("seckillctl: UNAUTHENTICATED: ", 0), 0u) << r.err;
}

}  // namespace
}  // namespace seckill::ctl
