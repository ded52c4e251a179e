// seckillctl end to end: the real binary against a real engine, every command and every exit
// code (0 done, 1 failed, 2 usage, 3 unauthenticated or denied, 4 version conflict).
#include <sys/stat.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/engine_process.h"

#ifndef SECKILL_CTL_BIN
#error "SECKILL_CTL_BIN must name the seckillctl binary"
#endif

namespace seckill::e2e {
namespace {

using http::testing::TestClient;
using ::testing::HasSubstr;

constexpr char kOperator[] = "op-token-0123456789abcdef";
constexpr char kViewer[] = "view-token-0123456789abcdef";

struct CtlRun {
  int code = -1;
  std::string out;
  std::string err;
};

class CtlE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = dir_.write("tokens", absl::StrCat(kOperator, " operator ops\n", kViewer,
                                                " viewer watcher\n"));
    ::chmod(tokens_.c_str(), 0600);
    operator_file_ = dir_.write("operator.token", std::string(kOperator) + "\n");
    viewer_file_ = dir_.write("viewer.token", std::string(kViewer) + "\n");
    admin_port_ = testing::freeLoopbackPort();
    ASSERT_TRUE(engine_.start(absl::StrCat("[admin]\nlisten = \"127.0.0.1:", admin_port_,
                                           "\"\ntokens = \"", tokens_, "\"\nnode_id = \"n1\"\n",
                                           "[[sale]]\nid = \"drop\"\nstock = 50\n")));
  }
  void TearDown() override { EXPECT_TRUE(engine_.stop()); }

  // seckillctl --engine ... --token-file (operator's unless given) ARGS.
  CtlRun ctl(std::vector<std::string> args, const std::string& token_file = "") {
    std::vector<std::string> argv{SECKILL_CTL_BIN, "--engine",
                                  absl::StrCat("127.0.0.1:", admin_port_), "--token-file",
                                  token_file.empty() ? operator_file_ : token_file};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = (dir_.path() / "ctl.out").string();
    const std::string err = (dir_.path() / "ctl.err").string();
    CtlRun r;
    pid_t pid = testing::spawnProcess(argv, out, err);
    int status = 0;
    if (pid > 0 && testing::waitExit(pid, std::chrono::seconds(30), status)) {
      r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    } else if (pid > 0) {
      testing::killAndReap(pid);
    }
    r.out = testing::readFile(out);
    r.err = testing::readFile(err);
    return r;
  }

  TempDir dir_;
  std::string tokens_;
  std::string operator_file_;
  std::string viewer_file_;
  uint16_t admin_port_ = 0;
  EngineProcess engine_;
};

TEST_F(CtlE2eTest, StatusAndStats) {
  CtlRun status = ctl({"status"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("node     n1"));
  EXPECT_THAT(status.out, HasSubstr("drop"));
  EXPECT_THAT(status.out, HasSubstr("stock_store"));
  EXPECT_THAT(status.out, HasSubstr("ops (operator)"));

  TestClient shop(engine_.port());
  for (int i = 0; i < 7; ++i) ASSERT_EQ(shop.post("/api/v1/sales/drop/orders", "u" + std::to_string(i)).status, 201);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  CtlRun stats = ctl({"--json", "stats"});
  ASSERT_EQ(stats.code, 0) << stats.err;
  int64_t created = 0;
  size_t lines = 0;
  for (size_t at = 0; at < stats.out.size();) {
    const size_t nl = stats.out.find('\n', at);
    nlohmann::json j = nlohmann::json::parse(stats.out.substr(at, nl - at), nullptr, false);
    at = nl == std::string::npos ? stats.out.size() : nl + 1;
    if (j.is_discarded()) continue;
    ++lines;
    for (const char* key : {"ts", "node", "requests", "limited", "orders_created", "p99_ms"}) {
      EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["node"], "n1");
    created += j["orders_created"].get<int64_t>();
  }
  EXPECT_GE(lines, 2u);
  EXPECT_EQ(created, 7);
}

TEST_F(CtlE2eTest, RulesFromValidateToRollback) {
  const std::string good = dir_.write("rules.toml",
                                      "[[rule]]\npath = \"/api/v1/sales/*/orders\"\nmethod = \"POST\"\n"
                                      "rate = 5\nburst = 10\n\n[[override]]\nprefix = \"/api/v1/orders\"\n"
                                      "mode = \"dry_run\"\n");
  const std::string bad = dir_.write("bad.toml", "[[rule]]\npath = \"/x\"\nrate = 0\n");
  EXPECT_EQ(ctl({"rules", "validate", good}).code, 0);
  CtlRun invalid = ctl({"rules", "validate", bad});
  EXPECT_EQ(invalid.code, 1);
  EXPECT_THAT(invalid.out + invalid.err, HasSubstr("rate must be > 0"));

  CtlRun applied = ctl({"--json", "rules", "apply", good});
  ASSERT_EQ(applied.code, 0) << applied.err;
  nlohmann::json v = nlohmann::json::parse(applied.out, nullptr, false);
  ASSERT_TRUE(v.is_object()) << applied.out;
  const int64_t version = v["version"].get<int64_t>();
  EXPECT_EQ(version, 2);

  CtlRun stale = ctl({"rules", "apply", good, "--expect-version", "1"});
  EXPECT_EQ(stale.code, 4);
  EXPECT_THAT(stale.err, HasSubstr("ABORTED"));
  EXPECT_THAT(stale.err, HasSubstr("current version is 2"));

  CtlRun list = ctl({"rules", "list"});
  ASSERT_EQ(list.code, 0);
  EXPECT_THAT(list.out, HasSubstr("token_bucket 5/s"));
  EXPECT_THAT(list.out, HasSubstr("/api/v1/orders"));
  CtlRun get = ctl({"rules", "get", "/api/v1/sales/*/orders"});
  EXPECT_EQ(get.code, 0);
  EXPECT_EQ(ctl({"rules", "get", "/nothing/here"}).code, 1);
  EXPECT_THAT(ctl({"rules", "versions"}).out, HasSubstr("ops"));
  EXPECT_THAT(ctl({"rules", "diff", "1", "2"}).out, HasSubstr("+ override /api/v1/orders dry_run"));
  CtlRun exported = ctl({"rules", "export"});
  EXPECT_THAT(exported.out, HasSubstr("[[rule]]"));
  EXPECT_THAT(exported.out, HasSubstr("rate = 5"));

  EXPECT_EQ(ctl({"rule-mode", "set", "/api/v1/sales/*/orders", "--method", "POST", "log"}).code, 0);
  EXPECT_THAT(ctl({"rules", "list"}).out, HasSubstr("on_limit=log"));
  EXPECT_EQ(ctl({"override", "set", "/api/v1/sales", "shed"}).code, 0);
  EXPECT_THAT(ctl({"override", "list"}).out, HasSubstr("/api/v1/sales"));
  TestClient shop(engine_.port());
  EXPECT_EQ(shop.post("/api/v1/sales/drop/orders", "shed").status, 503);
  EXPECT_EQ(ctl({"override", "clear", "/api/v1/sales"}).code, 0);
  EXPECT_EQ(shop.post("/api/v1/sales/drop/orders", "back").status, 201);

  CtlRun rolled = ctl({"rules", "rollback", "1"});
  EXPECT_EQ(rolled.code, 0) << rolled.err;
  EXPECT_THAT(ctl({"rules", "list"}).out, ::testing::Not(HasSubstr("token_bucket 5/s")));
}

TEST_F(CtlE2eTest, BreakersSalesOrdersAndAudit) {
  EXPECT_EQ(ctl({"breaker", "set", "stock_store", "forced_open"}).code, 0);
  EXPECT_THAT(ctl({"breaker", "list"}).out, HasSubstr("forced_open"));
  TestClient shop(engine_.port());
  EXPECT_EQ(shop.post("/api/v1/sales/drop/orders", "x").status, 503);
  EXPECT_EQ(ctl({"breaker", "set", "stock_store", "automatic"}).code, 0);
  EXPECT_EQ(ctl({"breaker", "set", "nope", "automatic"}).code, 1);

  ASSERT_EQ(ctl({"sales", "create", "flash", "--stock", "2"}).code, 0);
  EXPECT_EQ(shop.post("/api/v1/sales/flash/orders", "a").status, 201);
  EXPECT_EQ(ctl({"sales", "stock", "flash", "+3"}).code, 0);
  CtlRun below = ctl({"sales", "stock", "flash", "0"});
  EXPECT_EQ(below.code, 1);
  EXPECT_THAT(below.err, HasSubstr("already sold"));
  EXPECT_EQ(ctl({"sales", "close", "flash"}).code, 0);
  EXPECT_EQ(shop.post("/api/v1/sales/flash/orders", "b").status, 409);
  EXPECT_EQ(ctl({"sales", "open", "flash"}).code, 0);
  CtlRun sales = ctl({"--json", "sales", "list"});
  EXPECT_THAT(sales.out, HasSubstr("\"flash\""));
  EXPECT_THAT(ctl({"sales", "get", "flash"}).out, HasSubstr("5"));

  CtlRun orders = ctl({"--json", "orders", "list", "--sale", "flash", "--all"});
  ASSERT_EQ(orders.code, 0) << orders.err;
  EXPECT_THAT(orders.out, HasSubstr("\"user_id\": \"a\""));
  CtlRun by_user = ctl({"orders", "list", "--sale", "flash", "--user", "a"});
  EXPECT_EQ(by_user.code, 0);
  const size_t id_at = orders.out.find("\"id\": \"") + 7;
  const std::string id = orders.out.substr(id_at, orders.out.find('"', id_at) - id_at);
  EXPECT_THAT(ctl({"orders", "get", id}).out, HasSubstr("pending_payment"));
  EXPECT_EQ(ctl({"orders", "get", "nope-1-flash"}).code, 1);

  CtlRun audit = ctl({"audit", "--author", "ops"});
  ASSERT_EQ(audit.code, 0);
  EXPECT_THAT(audit.out, HasSubstr("sale.create"));
  EXPECT_THAT(audit.out, HasSubstr("breaker.mode"));
  EXPECT_THAT(ctl({"audit", "--author", "someone-else"}).out, ::testing::Not(HasSubstr("sale.create")));
}

TEST_F(CtlE2eTest, ExitCodesForUsageAuthAndDenial) {
  EXPECT_EQ(ctl({"no-such-command"}).code, 2);
  EXPECT_EQ(ctl({"sales", "stock", "drop", "lots"}).code, 2);
  EXPECT_EQ(ctl({"--help"}).code, 0);
  const std::string wrong = dir_.write("wrong.token", "not-the-token-0123456789\n");
  CtlRun unauth = ctl({"status"}, wrong);
  EXPECT_EQ(unauth.code, 3);
  EXPECT_THAT(unauth.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(ctl({"status"}, viewer_file_).code, 0);
  CtlRun denied = ctl({"breaker", "set", "stock_store", "forced_open"}, viewer_file_);
  EXPECT_EQ(denied.code, 3);
  EXPECT_THAT(denied.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(denied.err, HasSubstr("viewer"));
}

}  // namespace
}  // namespace seckill::e2e
