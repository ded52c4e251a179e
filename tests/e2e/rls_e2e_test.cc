// Envoy's rate-limit service on the real seckill-engine binary: a generated gRPC client (what an
// Envoy sends) against [rls] listen, every algorithm and on_limit mode, hits_addend, the
// operator overrides and rule changes made over the admin API (obeyed within a second), the
// metrics, and --check / --rls-listen refusing a bad address as start-up would.
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "console/client/admin_client.h"
#include "envoy/service/ratelimit/v3/rls.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/engine_process.h"

namespace seckill::e2e {
namespace {

using http::testing::TestClient;
using ::testing::HasSubstr;
namespace v1 = ::seckill::admin::v1;
namespace rls = ::envoy::service::ratelimit::v3;
using Code = rls::RateLimitResponse::Code;

constexpr char kToken[] = "op-token-0123456789abcdef";

// Every limit is per hour or tighter, so nothing refills while a test runs.
const std::string kRules = R"(
[[rule]]
path = "/edge/generic_key/tb"
algorithm = "token_bucket"
rate = 2
per = "h"
burst = 2

[[rule]]
path = "/edge/generic_key/lb"
algorithm = "leaky_bucket"
rate = 1
per = "h"
queue = 1

[[rule]]
path = "/edge/generic_key/sw"
algorithm = "sliding_window"
rate = 2
per = "h"

[[rule]]
path = "/edge/generic_key/sl"
algorithm = "sliding_log"
rate = 2
per = "h"

[[rule]]
path = "/edge/remote_address/*"
scope = "header:remote_address"
rate = 1
per = "h"

[[rule]]
path = "/edge/generic_key/queue"
rate = 1
per = "s"
on_limit = "queue"
max_wait = "1200ms"

[[rule]]
path = "/edge/generic_key/shadow"
algorithm = "sliding_log"
rate = 1
per = "h"
on_limit = "log"

[[rule]]
path = "/edge/generic_key/tokens"
rate = 5
per = "h"
burst = 5

[[sale]]
id = "drop"
stock = 10
)";

// Waits up to `timeout` for `done()`.
template <class F>
bool eventually(F done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class RlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = dir_.write("tokens", absl::StrCat(kToken, " operator ops\n"));
    ::chmod(tokens_.c_str(), 0600);
    admin_port_ = testing::freeLoopbackPort();
    rls_port_ = testing::freeLoopbackPort();
    const std::string tables =
        absl::StrCat("[admin]\nlisten = \"127.0.0.1:", admin_port_, "\"\ntokens = \"", tokens_,
                     "\"\n\n[rls]\nlisten = \"127.0.0.1:", rls_port_, "\"\ndomain = \"edge\"\n");
    ASSERT_TRUE(engine_.start(tables + kRules));
    stub_ = rls::RateLimitService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", rls_port_), grpc::InsecureChannelCredentials()));
    client::ConnectOptions o;
    o.target = absl::StrCat("127.0.0.1:", admin_port_);
    o.token = kToken;
    o.deadline = absl::Seconds(5);
    absl::StatusOr<std::unique_ptr<client::AdminClient>> admin = client::AdminClient::create(o);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
  }
  void TearDown() override { EXPECT_TRUE(engine_.stop()); }

  // One ShouldRateLimit call with one descriptor; the whole response.
  rls::RateLimitResponse ask(std::vector<std::pair<std::string, std::string>> entries,
                             uint32_t hits_addend = 0, std::optional<uint64_t> own_hits = {}) {
    rls::RateLimitRequest req;
    req.set_domain("edge");
    req.set_hits_addend(hits_addend);
    auto* d = req.add_descriptors();
    for (auto& [k, v] : entries) {
      auto* e = d->add_entries();
      e->set_key(k);
      e->set_value(v);
    }
    if (own_hits) d->mutable_hits_addend()->set_value(*own_hits);
    rls::RateLimitResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status s = stub_->ShouldRateLimit(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  Code code(const std::string& key, uint32_t hits_addend = 0) {
    return ask({{"generic_key", key}}, hits_addend).overall_code();
  }
  uint64_t version() { return admin_->listRules()->version(); }

  TempDir dir_;
  std::string tokens_;
  uint16_t admin_port_ = 0;
  uint16_t rls_port_ = 0;
  EngineProcess engine_;
  std::unique_ptr<rls::RateLimitService::Stub> stub_;
  std::unique_ptr<client::AdminClient> admin_;
};

TEST_F(RlsE2eTest, EveryAlgorithmLimitsOverGrpc) {
  for (const char* key : {"tb", "lb", "sw", "sl"}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(code(key), rls::RateLimitResponse::OK);
    EXPECT_EQ(code(key), rls::RateLimitResponse::OK);
    rls::RateLimitResponse over = ask({{"generic_key", key}});
    EXPECT_EQ(over.overall_code(), rls::RateLimitResponse::OVER_LIMIT);
    ASSERT_EQ(over.statuses_size(), 1);
    EXPECT_EQ(over.statuses(0).current_limit().unit(), rls::RateLimitResponse::RateLimit::HOUR);
    EXPECT_EQ(over.statuses(0).limit_remaining(), 0u);
    EXPECT_GT(over.statuses(0).duration_until_reset().seconds(), 0);
  }
  // Per client address (Envoy's remote_address action).
  EXPECT_EQ(ask({{"remote_address", "10.0.0.1"}}).overall_code(), rls::RateLimitResponse::OK);
  EXPECT_EQ(ask({{"remote_address", "10.0.0.1"}}).overall_code(),
            rls::RateLimitResponse::OVER_LIMIT);
  EXPECT_EQ(ask({{"remote_address", "10.0.0.2"}}).overall_code(), rls::RateLimitResponse::OK);
  // No rule: OK without a limit.
  rls::RateLimitResponse free = ask({{"generic_key", "unlimited"}});
  EXPECT_EQ(free.overall_code(), rls::RateLimitResponse::OK);
  EXPECT_FALSE(free.statuses(0).has_current_limit());
}

TEST_F(RlsE2eTest, QueueAndLogModesAnswerOkAndShadowIsCounted) {
  // on_limit = queue: a reserved slot is OK (the service cannot delay); beyond max_wait, over.
  EXPECT_EQ(code("queue"), rls::RateLimitResponse::OK);
  EXPECT_EQ(code("queue"), rls::RateLimitResponse::OK);
  EXPECT_EQ(code("queue"), rls::RateLimitResponse::OVER_LIMIT);
  // on_limit = log: always OK; the second would have been limited.
  EXPECT_EQ(code("shadow"), rls::RateLimitResponse::OK);
  EXPECT_EQ(code("shadow"), rls::RateLimitResponse::OK);
  TestClient http(engine_.port());
  const std::string metrics = http.get("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("seckill_rls_shadow_decisions_total 1\n"));
  EXPECT_THAT(metrics, HasSubstr("seckill_rls_decisions_total{code=\"over_limit\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("seckill_rls_requests_total{code=\"ok\"} 4\n"));
  EXPECT_THAT(engine_.stderrText(), HasSubstr("would have limited"));
}

TEST_F(RlsE2eTest, HitsAddendIsTakenWholeOrNotAtAll) {
  rls::RateLimitResponse r = ask({{"generic_key", "tokens"}}, 3);
  EXPECT_EQ(r.overall_code(), rls::RateLimitResponse::OK);
  EXPECT_EQ(r.statuses(0).limit_remaining(), 2u);
  EXPECT_EQ(code("tokens", 3), rls::RateLimitResponse::OVER_LIMIT);
  r = ask({{"generic_key", "tokens"}}, 3, /*own_hits=*/0);  // a descriptor's 0: check only
  EXPECT_EQ(r.overall_code(), rls::RateLimitResponse::OK);
  EXPECT_EQ(r.statuses(0).limit_remaining(), 2u);
  EXPECT_EQ(code("tokens", 2), rls::RateLimitResponse::OK);
  EXPECT_EQ(code("tokens", 0), rls::RateLimitResponse::OVER_LIMIT) << "0 on the request means 1";
}

TEST_F(RlsE2eTest, AdminApiChangesTakeEffectWithinASecond) {
  EXPECT_EQ(code("tb"), rls::RateLimitResponse::OK);
  EXPECT_EQ(code("tb"), rls::RateLimitResponse::OK);
  EXPECT_EQ(code("tb"), rls::RateLimitResponse::OVER_LIMIT);

  // Raise the limit over the admin API: the engine obeys within a second.
  absl::StatusOr<v1::ListRulesResponse> rules = admin_->listRules();
  ASSERT_TRUE(rules.ok()) << rules.status();
  std::optional<v1::Rule> tb;
  for (const auto& entry : rules->rules()) {
    if (entry.rule().path() == "/edge/generic_key/tb") tb = entry.rule();
  }
  ASSERT_TRUE(tb.has_value());
  v1::PutRuleRequest put;
  *put.mutable_rule() = *tb;
  put.mutable_rule()->set_rate(100);
  put.mutable_rule()->set_burst(100);
  put.set_expected_version(rules->version());
  auto t0 = Clock::now();
  ASSERT_TRUE(admin_->call(&v1::Rules::Stub::PutRule, put).ok());
  EXPECT_TRUE(eventually([&] { return code("tb") == rls::RateLimitResponse::OK; },
                         std::chrono::seconds(1)))
      << "the raised limit is not obeyed within 1 s";
  std::printf("rule change obeyed by the rate-limit service after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         Clock::now() - t0)
                                         .count()));
  rls::RateLimitResponse r = ask({{"generic_key", "tb"}});
  EXPECT_EQ(r.statuses(0).current_limit().requests_per_unit(), 100u);

  // A new rule on a descriptor no rule matched.
  EXPECT_EQ(code("fresh"), rls::RateLimitResponse::OK);
  v1::PutRuleRequest add;
  add.mutable_rule()->set_path("/edge/generic_key/fresh");
  add.mutable_rule()->set_rate(1);
  add.mutable_rule()->set_burst(1);
  add.mutable_rule()->set_per(v1::HOUR);
  add.set_expected_version(version());
  ASSERT_TRUE(admin_->call(&v1::Rules::Stub::PutRule, add).ok());
  EXPECT_TRUE(eventually([&] { return code("fresh") == rls::RateLimitResponse::OVER_LIMIT; },
                         std::chrono::seconds(1)));

  // dry_run: a limited descriptor answers OK; shed: everything under the prefix is over limit.
  v1::SetOverrideRequest dry;
  dry.set_prefix("/edge/generic_key/fresh");
  dry.set_mode(v1::DRY_RUN);
  dry.set_expected_version(version());
  ASSERT_TRUE(admin_->call(&v1::Control::Stub::SetOverride, dry).ok());
  EXPECT_TRUE(eventually([&] { return code("fresh") == rls::RateLimitResponse::OK; },
                         std::chrono::seconds(1)));
  v1::SetOverrideRequest shed;
  shed.set_prefix("/edge");
  shed.set_mode(v1::SHED);
  shed.set_expected_version(version());
  ASSERT_TRUE(admin_->call(&v1::Control::Stub::SetOverride, shed).ok());
  EXPECT_TRUE(eventually([&] { return code("unlimited") == rls::RateLimitResponse::OVER_LIMIT; },
                         std::chrono::seconds(1)));
  EXPECT_EQ(code("fresh"), rls::RateLimitResponse::OK) << "the longer prefix wins";
  v1::ClearOverrideRequest clear;
  clear.set_prefix("/edge");
  clear.set_expected_version(version());
  ASSERT_TRUE(admin_->call(&v1::Control::Stub::ClearOverride, clear).ok());
  EXPECT_TRUE(eventually([&] { return code("unlimited") == rls::RateLimitResponse::OK; },
                         std::chrono::seconds(1)));
}

TEST(RlsE2eConfigTest, CheckAndStartRefuseABadRlsAddressAlike) {
  TempDir dir;
  const std::string bad = dir.write(
      "bad.toml", "[http]\nlisten = \"127.0.0.1:0\"\n\n[rls]\nlisten = \"localhost:8081\"\n");
  RunResult check = runEngine({"--config", bad, "--check"});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_THAT(check.err, HasSubstr(":5: rls.listen"));
  RunResult start = runEngine({"--config", bad}, std::chrono::seconds(20));
  EXPECT_EQ(start.exit_code, 2);
  EXPECT_THAT(start.err, HasSubstr(":5: rls.listen"));

  const std::string good = dir.write("good.toml", "[http]\nlisten = \"127.0.0.1:0\"\n");
  RunResult flag = runEngine({"--config", good, "--rls-listen", "nowhere", "--check"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_THAT(flag.err, HasSubstr("--rls-listen \"nowhere\""));
  const std::string unknown = dir.write(
      "unknown.toml", "[http]\nlisten = \"127.0.0.1:0\"\n\n[rls]\nlisten = \"127.0.0.1:0\"\nport = 1\n");
  RunResult typo = runEngine({"--config", unknown, "--check"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(typo.err, HasSubstr(":6: unknown key rls.port"));
  EXPECT_EQ(runEngine({"--config", good, "--rls-listen", "127.0.0.1:0", "--check"}).exit_code, 0);
}

}  // namespace
}  // namespace seckill::e2e
