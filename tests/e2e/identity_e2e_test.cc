// [identity] on the real binary: JWTs (HS256, RS256 from a key file) verified before anything
// else, 401s that change nothing, forged X-Forwarded-For from an untrusted address, and
// --check refusing what start-up refuses.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/engine_process.h"
#include "tests/http/http_test_client.h"
#include "tests/support/jwt_mint.h"

namespace seckill::e2e {
namespace {

using http::testing::Reply;
using http::testing::TestClient;
using ::testing::HasSubstr;

const std::string kSecret = "e2e-secret-e2e-secret-e2e-secret-0123456789";
constexpr char kOrders[] = "/api/v1/sales/drop/orders";

std::string claims(std::string_view user, int64_t valid_s = 600) {
  return absl::StrCat(R"({"sub":")", absl::string_view(user.data(), user.size()),
                      R"(","iss":"login","exp":)", absl::ToUnixSeconds(absl::Now()) + valid_s,
                      "}");
}

Reply order(TestClient& c, const std::string& authorization, const std::string& user = {}) {
  http::testing::Headers h;
  if (!authorization.empty()) h.push_back({"Authorization", authorization});
  if (!user.empty()) h.push_back({"X-User-Id", user});
  return c.request("POST", kOrders, h);
}

TEST(IdentityE2eTest, JwtShoppersOnlyAndNothingTouchedOtherwise) {
  TempDir keys;
  const std::string secret = keys.write("jwt.secret", kSecret + "\n");  // echo's newline
  EngineProcess engine;
  ASSERT_TRUE(engine.start(absl::StrCat(R"(
[identity]
kind = "jwt"
secret_file = ")", secret, R"("
issuer = "login"

[[rule]]
path = "/api/v1/sales/*/orders"
scope = "user"
rate = 1
per = "h"
burst = 1

[[sale]]
id = "drop"
stock = 10
)")));
  EXPECT_THAT(engine.stderrText(), HasSubstr("shopper identities: JWT (HS256)"));
  TestClient c(engine.port());
  const std::string alice = "Bearer " + seckill::testing::mintHs256(kSecret, claims("alice"));
  Reply ok = order(c, alice, "mallory");
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_THAT(ok.body, HasSubstr(R"("user_id":"alice")"));

  const std::string forged =
      "Bearer " + seckill::testing::mintHs256("not-the-secret-not-the-secret-not-the", claims("bob"));
  const std::string expired = "Bearer " + seckill::testing::mintHs256(kSecret, claims("bob", -60));
  const std::string wrong_issuer = "Bearer " + seckill::testing::mintHs256(
      kSecret, absl::StrCat(R"({"sub":"bob","iss":"evil","exp":)",
                            absl::ToUnixSeconds(absl::Now()) + 600, "}"));
  for (const std::string& bad : {forged, expired, wrong_issuer, std::string("Bearer x.y.z"),
                                 std::string()}) {
    // bob, unsigned in X-User-Id: what the engine took before [identity].
    Reply r = order(c, bad, "bob");
    EXPECT_EQ(r.status, 401) << bad;
    EXPECT_THAT(r.body, HasSubstr(R"({"error":"unauthorized")"));
    EXPECT_THAT(r.header("WWW-Authenticate"), HasSubstr("Bearer"));
  }
  // Nothing of the 401s reached the sale: 9 units left, bob can still order once verified.
  Reply sale = c.get("/api/v1/sales/drop");
  EXPECT_THAT(sale.body, HasSubstr(R"("stock_left":9)"));
  const std::string bob = "Bearer " + seckill::testing::mintHs256(kSecret, claims("bob"));
  EXPECT_EQ(order(c, bob).status, 201) << "bob's limiter key was never created by the 401s";
  const std::string metrics = c.get("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("seckill_identity_refused_total{reason=\"signature\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("seckill_identity_refused_total{reason=\"missing\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("seckill_http_requests_total{route=\"order\",code=\"401\"} 5"));
  EXPECT_TRUE(engine.stop());
}

TEST(IdentityE2eTest, Rs256FromAPublicKeyFile) {
  TempDir keys;
  auto pair = seckill::testing::makeRsaKey();
  const std::string pub = keys.write("jwt.pub", pair.public_pem);
  EngineProcess engine;
  ASSERT_TRUE(engine.start(absl::StrCat("[identity]\nkind = \"jwt\"\npublic_key_file = \"", pub,
                                        "\"\n\n[[sale]]\nid = \"drop\"\nstock = 10\n")));
  TestClient c(engine.port());
  EXPECT_EQ(order(c, "Bearer " + seckill::testing::mintRs256(pair, claims("carol"))).status, 201);
  // The public key as an HMAC secret: the key-confusion forgery.
  EXPECT_EQ(order(c, "Bearer " + seckill::testing::mintHs256(pair.public_pem, claims("dave"))).status,
            401);
  EXPECT_TRUE(engine.stop());
}

TEST(IdentityE2eTest, ForgedForwardedForFromAnUntrustedAddressIsIgnored) {
  EngineProcess engine;
  ASSERT_TRUE(engine.start(R"(
[identity]
trusted_proxies = ["127.0.0.2"]

[[rule]]
path = "/api/v1/sales/*/orders"
scope = "ip"
rate = 1
per = "h"
burst = 1

[[sale]]
id = "drop"
stock = 100
)"));
  // A client at 127.0.0.1 inventing a new address per request: one budget, its own.
  TestClient direct(engine.port());
  ASSERT_TRUE(direct.connected()) << direct.error();
  auto from = [&](TestClient& c, const std::string& user, const std::string& xff) {
    return c.request("POST", kOrders, {{"X-User-Id", user}, {"X-Forwarded-For", xff}}).status;
  };
  EXPECT_EQ(from(direct, "u1", "198.51.100.1"), 201);
  EXPECT_EQ(from(direct, "u2", "198.51.100.2"), 429);
  EXPECT_EQ(from(direct, "u3", "198.51.100.3"), 429);
  // The trusted proxy at 127.0.0.2: each forwarded client has its own budget.
  TestClient proxy(engine.port(), std::chrono::seconds(10), 0, "127.0.0.2");
  ASSERT_TRUE(proxy.connected()) << proxy.error();
  EXPECT_EQ(from(proxy, "u4", "198.51.100.4"), 201);
  EXPECT_EQ(from(proxy, "u5", "198.51.100.5"), 201);
  EXPECT_EQ(from(proxy, "u6", "evil-prefix, 198.51.100.4"), 429);
  EXPECT_TRUE(engine.stop());
}

TEST(IdentityE2eTest, CheckRefusesWhatStartRefuses) {
  TempDir dir;
  const std::string short_secret = dir.write("short.secret", "too-short\n");
  const std::string not_a_key = dir.write("not.pem", "hello\n");
  struct Case {
    std::string identity;
    std::string message;
  } cases[] = {
      {"kind = \"jwt\"\nsecret_file = \"/nonexistent/jwt.secret\"",
       "identity.secret_file: cannot read /nonexistent/jwt.secret"},
      {absl::StrCat("kind = \"jwt\"\nsecret_file = \"", short_secret, "\""),
       "identity.secret_file: the HS256 secret must be at least 32 bytes"},
      {absl::StrCat("kind = \"jwt\"\npublic_key_file = \"", not_a_key, "\""),
       "identity.public_key_file: not a PEM public key"},
      {"kind = \"header\"", "needs trusted_proxies"},
  };
  for (const Case& c : cases) {
    const std::string config = dir.write(
        "engine.toml", absl::StrCat("[http]\nlisten = \"127.0.0.1:", testing::freeLoopbackPort(),
                                    "\"\n[identity]\n", c.identity, "\n"));
    RunResult check = runEngine({"--config", config, "--check"});
    EXPECT_TRUE(check.exited);
    EXPECT_EQ(check.exit_code, 2) << c.identity << "\n" << check.err;
    EXPECT_THAT(check.err, HasSubstr(c.message));
    EXPECT_THAT(check.err, HasSubstr(config + ":"));  // the file and line
    RunResult start = runEngine({"--config", config}, std::chrono::seconds(20));
    EXPECT_TRUE(start.exited) << "the engine started with " << c.identity;
    EXPECT_EQ(start.exit_code, 2) << start.err;
    EXPECT_THAT(start.err, HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace seckill::e2e
