// The admin API end to end on real seckill-engine processes: TLS and mutual TLS with a real TLS
// client, two engines on one Redis following each other's changes within a second, and the
// start-up refusals an operator meets (a tokens file others may read, none at all).
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "console/client/admin_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/engine_process.h"
#include "tests/support/redis_server.h"

namespace seckill::e2e {
namespace {

using http::testing::TestClient;
using ::testing::HasSubstr;
namespace v1 = ::seckill::admin::v1;

constexpr char kToken[] = "op-token-0123456789abcdef";

// Waits up to `timeout` for `done()`.
template <class F>
bool eventually(F done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// A tokens file (mode 0600) and the [admin] table of an engine listening on a free port.
struct AdminSetup {
  explicit AdminSetup(const TempDir& dir, std::string extra = {}) {
    tokens = dir.write("tokens", absl::StrCat(kToken, " operator ops\n"));
    ::chmod(tokens.c_str(), 0600);
    port = testing::freeLoopbackPort();
    table = absl::StrCat("[admin]\nlisten = \"127.0.0.1:", port, "\"\ntokens = \"", tokens, "\"\n",
                         extra);
  }
  std::unique_ptr<client::AdminClient> client(client::ConnectOptions o = {}) const {
    o.target = absl::StrCat("127.0.0.1:", port);
    o.token = kToken;
    o.deadline = absl::Seconds(5);
    return *client::AdminClient::create(o);
  }
  std::string tokens;
  uint16_t port = 0;
  std::string table;
};

const std::string kSale = "[[sale]]\nid = \"drop\"\nstock = 100\n";

// A CA, a server certificate for localhost / 127.0.0.1 and a client certificate, made with the
// openssl command line.
struct Certificates {
  explicit Certificates(const TempDir& dir) : d(dir.path().string()) {
    const std::string ext = dir.write("san.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    const std::string cmds[] = {
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=seckill-test-ca -keyout " +
            d + "/ca.key -out " + d + "/ca.pem",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout " + d +
            "/server.key -out " + d + "/server.csr",
        "openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
            "/ca.key -CAcreateserial -days 2 -extfile " + ext + " -out " + d + "/server.pem",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=console -keyout " + d +
            "/client.key -out " + d + "/client.csr",
        "openssl x509 -req -in " + d + "/client.csr -CA " + d + "/ca.pem -CAkey " + d +
            "/ca.key -CAcreateserial -days 2 -out " + d + "/client.pem",
    };
    for (const std::string& c : cmds) ok = ok && std::system((c + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::string d;
  bool ok = true;
};

TEST(AdminE2eTest, TlsAdminApiTalksOnlyTls) {
  TempDir dir;
  Certificates certs(dir);
  ASSERT_TRUE(certs.ok) << "openssl could not make the test certificates";
  AdminSetup admin(dir, absl::StrCat("tls_cert = \"", certs.d, "/server.pem\"\ntls_key = \"",
                                     certs.d, "/server.key\"\n"));
  EngineProcess engine;
  ASSERT_TRUE(engine.start(admin.table + kSale));

  client::ConnectOptions tls;
  tls.tls = true;
  tls.tls_ca_file = certs.d + "/ca.pem";
  tls.tls_server_name = "localhost";
  absl::StatusOr<v1::NodeStatus> status = admin.client(tls)->status();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->sales_size(), 1);

  EXPECT_FALSE(admin.client()->status().ok()) << "a plaintext client gets nowhere";
  client::ConnectOptions untrusting = tls;
  untrusting.tls_ca_file = dir.write("other-ca.pem", "");
  EXPECT_FALSE(admin.client(untrusting)->status().ok());
  EXPECT_TRUE(engine.stop());
}

TEST(AdminE2eTest, MutualTlsWantsAClientCertificateTheCaSigned) {
  TempDir dir;
  Certificates certs(dir);
  ASSERT_TRUE(certs.ok);
  AdminSetup admin(dir, absl::StrCat("tls_cert = \"", certs.d, "/server.pem\"\ntls_key = \"",
                                     certs.d, "/server.key\"\ntls_client_ca = \"", certs.d,
                                     "/ca.pem\"\n"));
  EngineProcess engine;
  ASSERT_TRUE(engine.start(admin.table + kSale));
  client::ConnectOptions tls;
  tls.tls = true;
  tls.tls_ca_file = certs.d + "/ca.pem";
  tls.tls_server_name = "localhost";
  EXPECT_FALSE(admin.client(tls)->status().ok()) << "no client certificate";
  tls.tls_cert_file = certs.d + "/client.pem";
  tls.tls_key_file = certs.d + "/client.key";
  absl::StatusOr<v1::NodeStatus> status = admin.client(tls)->status();
  EXPECT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(engine.stop());
}

TEST(AdminE2eTest, ATokensFileOthersMayReadStopsTheStartAndNoFileLeavesTheApiOff) {
  TempDir dir;
  AdminSetup admin(dir);
  ::chmod(admin.tokens.c_str(), 0644);
  const std::string config = dir.write(
      "engine.toml", absl::StrCat("[http]\nlisten = \"127.0.0.1:0\"\n", admin.table, kSale));
  RunResult check = runEngine({"--config", config, "--check"});
  EXPECT_EQ(check.exit_code, 2) << "--check refuses what start-up refuses";
  EXPECT_THAT(check.err + check.out, HasSubstr("other users may read"));
  RunResult start = runEngine({"--config", config}, std::chrono::seconds(20));
  EXPECT_EQ(start.exit_code, 2);
  EXPECT_THAT(start.err, HasSubstr("other users may read or write this tokens file"));

  EngineProcess without;
  ASSERT_TRUE(without.start(kSale));
  EXPECT_THAT(without.stderrText(), HasSubstr("admin API off: [admin] tokens is not set"));
  EXPECT_TRUE(without.stop());
}

TEST(AdminE2eTest, TwoEnginesOnOneRedisFollowEachOthersChangesWithinASecond) {
  testing::RedisServer redis;
  absl::Status started = redis.start();
  ASSERT_TRUE(started.ok()) << started;
  TempDir dir;
  AdminSetup admin_a(dir);
  AdminSetup admin_b(dir);
  const std::string store = absl::StrCat("[store]\nkind = \"redis\"\nredis = \"tcp://127.0.0.1:",
                                         redis.port(), "\"\ntimeout = \"5s\"\n");
  EngineProcess a, b;
  ASSERT_TRUE(a.start(store + admin_a.table + "node_id = \"a\"\n" + kSale));
  ASSERT_TRUE(b.start(store + admin_b.table + "node_id = \"b\"\n" + kSale));
  std::unique_ptr<client::AdminClient> on_a = admin_a.client();
  std::unique_ptr<client::AdminClient> on_b = admin_b.client();
  ASSERT_TRUE(on_a->status().ok());
  TestClient shop_b(b.port());

  // A sale created on a is sold by b within a second.
  v1::CreateSaleRequest create;
  create.mutable_sale()->set_id("flash");
  create.mutable_sale()->set_stock_total(3);
  ASSERT_TRUE(on_a->call(&v1::Sales::Stub::Create, create).ok());
  auto t0 = Clock::now();
  ASSERT_TRUE(eventually(
      [&] { return shop_b.post("/api/v1/sales/flash/orders", "first").status == 201; },
      std::chrono::seconds(1)))
      << "b does not serve the new sale within 1 s";
  std::printf("sale created on a was served by b after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         Clock::now() - t0)
                                         .count()));

  // A rule applied on a limits b within a second.
  v1::PutRuleRequest put;
  v1::Rule* r = put.mutable_rule();
  r->set_path("/api/v1/sales/drop/orders");
  r->set_method("POST");
  r->set_rate(1);
  r->set_per(v1::HOUR);
  r->set_burst(1);
  put.set_expected_version(on_a->listRules()->version());
  ASSERT_TRUE(on_a->call(&v1::Rules::Stub::PutRule, put).ok());
  EXPECT_TRUE(eventually(
      [&] { return on_b->listRules()->version() == put.expected_version() + 1; },
      std::chrono::seconds(1)));
  int limited = 0;
  for (int i = 0; i < 5; ++i) {
    if (shop_b.post("/api/v1/sales/drop/orders", "r" + std::to_string(i)).status == 429) ++limited;
  }
  EXPECT_GE(limited, 4);

  // A breaker forced open on a answers b's orders 503.
  v1::SetBreakerModeRequest breaker;
  breaker.set_name("stock_store");
  breaker.set_mode(v1::MODE_FORCED_OPEN);
  ASSERT_TRUE(on_a->call(&v1::Control::Stub::SetBreakerMode, breaker).ok());
  EXPECT_TRUE(eventually(
      [&] { return shop_b.post("/api/v1/sales/flash/orders", "breaker").status == 503; },
      std::chrono::seconds(1)));

  // Both read one audit log.
  v1::ListAuditRequest audit;
  absl::StatusOr<v1::ListAuditResponse> seen_by_b = on_b->call(&v1::Audit::Stub::List, audit);
  ASSERT_TRUE(seen_by_b.ok());
  ASSERT_GE(seen_by_b->entries_size(), 3);
  EXPECT_EQ(seen_by_b->entries(0).action(), "breaker.mode");
  EXPECT_EQ(seen_by_b->entries(0).node(), "a");
  EXPECT_TRUE(a.stop());
  EXPECT_TRUE(b.stop());
}

}  // namespace
}  // namespace seckill::e2e
