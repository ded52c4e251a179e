// Rules in Redis against a real redis-server: JSON round trip, publish on one node reaching
// another node's watcher within a second, invalid sets ignored, seeding never overwrites.
#include "engine/store/redis/redis_rule_store.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/store/redis/redis_rate_limiter.h"
#include "gtest/gtest.h"
#include "tests/redis/redis_world.h"

namespace seckill {
namespace {

using ratelimit::RuleSpec;
using testing::RedisTest;

RuleSpec rule(std::string path, int64_t rate) {
  RuleSpec r;
  r.path = std::move(path);
  r.rate = rate;
  r.burst = rate;
  return r;
}

// Every field away from its default.
RuleSpec fullRule() {
  RuleSpec r;
  r.path = "/api/v1/sales/*/orders";
  r.method = "POST";
  r.scope = ratelimit::ScopeKind::kHeader;
  r.header = "x-api-key";
  r.algorithm = ratelimit::Algorithm::kTokenBucket;
  r.rate = 50;
  r.per = absl::Minutes(1);
  r.burst = 7;
  r.queue = 0;
  r.warmup = absl::Milliseconds(1500);
  r.on_limit = ratelimit::OnLimit::kQueue;
  r.max_wait = absl::Microseconds(250500);
  r.distributed = false;
  r.line = 12;
  return r;
}

bool sameRule(const RuleSpec& a, const RuleSpec& b) {
  return a.identity() == b.identity() && a.on_limit == b.on_limit && a.max_wait == b.max_wait &&
         a.line == b.line && a.distributed == b.distributed && a.name() == b.name();
}

TEST(RuleJson, RoundTripsEveryField) {
  RuleSpec leaky = rule("/api/**", 3);
  leaky.algorithm = ratelimit::Algorithm::kLeakyBucket;
  leaky.queue = 4;
  leaky.distributed = true;
  leaky.scope = ratelimit::ScopeKind::kIp;
  const std::vector<RuleSpec> specs = {fullRule(), leaky};
  absl::StatusOr<std::vector<RuleSpec>> back = rulesFromJson(rulesToJson(specs));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_TRUE(sameRule((*back)[0], specs[0])) << rulesToJson(*back);
  EXPECT_TRUE(sameRule((*back)[1], specs[1])) << rulesToJson(*back);
  EXPECT_FALSE((*back)[1].method.has_value());
}

TEST(RuleJson, RejectsMalformedAndInvalidSets) {
  EXPECT_TRUE(absl::IsInvalidArgument(rulesFromJson("not json").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(rulesFromJson(R"({"format":2,"rules":[]})").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      rulesFromJson(R"({"format":1,"rules":[{"path":"/x","scope":"user"}]})").status()));
  std::string json = rulesToJson({rule("/api/**", 5)});
  json.replace(json.find("\"rate\":5"), 8, "\"rate\":\"5\"");
  absl::Status s = rulesFromJson(json).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("rate"), absl::string_view::npos) << s;
  // Parses, but validateRules refuses it.
  s = rulesFromJson(rulesToJson({rule("/api/**", 0)})).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("rate must be > 0"), absl::string_view::npos) << s;
  EXPECT_TRUE(rulesFromJson(R"({"format":1,"rules":[]})").ok());
}

class RedisRuleStoreTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    RedisClientOptions o;
    o.port = server.port();
    o.connections = 1;
    o.scripts = rateLimitScripts();
    client_a_ = std::make_unique<RedisClient>(o);
    client_b_ = std::make_unique<RedisClient>(o);
    RedisRuleStoreOptions so;
    so.on_error = [this](const absl::Status& s) {
      absl::MutexLock lock(&mu_);
      errors_.push_back(s);
    };
    store_a_ = std::make_unique<RedisRuleStore>(*client_a_, so);
    store_b_ = std::make_unique<RedisRuleStore>(*client_b_, so);
  }
  void TearDown() override {
    store_a_.reset();
    store_b_.reset();
    client_a_->shutdown();
    client_b_->shutdown();
  }
  // Waits (bounded) until `pred` holds under mu_.
  bool waitFor(absl::Duration limit, const std::function<bool()>& pred) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        if (pred()) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    absl::MutexLock lock(&mu_);
    return pred();
  }

  std::unique_ptr<RedisClient> client_a_, client_b_;
  std::unique_ptr<RedisRuleStore> store_a_, store_b_;
  absl::Mutex mu_;
  std::vector<absl::Status> errors_;
  std::vector<std::pair<std::vector<RuleSpec>, uint64_t>> received_;
};

TEST_F(RedisRuleStoreTest, APublishOnOneNodeReachesTheOtherWithinASecond) {
  // Node B: its registry is fed by the watcher, as the app wires it.
  ratelimit::RuleRegistry registry_b;
  ASSERT_TRUE(store_b_->seedIfAbsent({rule("/api/**", 10)}).value());
  auto initial = store_b_->fetch();
  ASSERT_TRUE(initial.ok() && initial->has_value());
  ASSERT_TRUE(registry_b.replace((*initial)->specs).ok());
  const uint64_t seeded = (*initial)->version;
  EXPECT_GT(seeded, 1'700'000'000'000u);  // starts at Redis TIME in ms
  ASSERT_TRUE(store_b_
                  ->watch([&](std::vector<RuleSpec> specs, uint64_t version) {
                    EXPECT_TRUE(registry_b.replace(specs).ok());
                    absl::MutexLock lock(&mu_);
                    received_.emplace_back(std::move(specs), version);
                  })
                  .ok());
  // Node A edits the set.
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<uint64_t> v = store_a_->publish({rule("/api/**", 10), rule("/admin/**", 2)});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, seeded + 1);
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return !received_.empty(); }))
      << "no update within 1 s";
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(1));
  {
    absl::MutexLock lock(&mu_);
    ASSERT_EQ(received_.size(), 1u);
    EXPECT_EQ(received_[0].second, seeded + 1);
    ASSERT_EQ(received_[0].first.size(), 2u);
    EXPECT_EQ(received_[0].first[1].path, "/admin/**");
  }
  EXPECT_EQ(registry_b.snapshot().rules().size(), 2u);
  // B's own publish is not handed back to B.
  ASSERT_TRUE(store_b_->publish({rule("/api/**", 20)}).ok());
  ASSERT_TRUE(store_a_->publish({rule("/api/**", 30)}).ok());
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return received_.size() >= 2; }));
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(received_.size(), 2u);
  EXPECT_EQ(received_.back().second, seeded + 3);
  EXPECT_EQ(received_.back().first[0].rate, 30);
}

TEST_F(RedisRuleStoreTest, AnInvalidSetInRedisIsReportedAndIgnored) {
  ASSERT_TRUE(store_a_->publish({rule("/api/**", 10)}).ok());
  ASSERT_TRUE(store_b_
                  ->watch([&](std::vector<RuleSpec> specs, uint64_t version) {
                    absl::MutexLock lock(&mu_);
                    received_.emplace_back(std::move(specs), version);
                  })
                  .ok());
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return received_.size() == 1; }));
  // Someone writes garbage, then an invalid rule, straight into Redis.
  ASSERT_TRUE(server.query({"SET", std::string(redis_keys::kRuleSet), "{oops"}).ok());
  ASSERT_TRUE(server.query({"INCR", std::string(redis_keys::kRuleVersion)}).ok());
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return errors_.size() == 1; }));
  ASSERT_TRUE(server.query({"SET", std::string(redis_keys::kRuleSet),
                            rulesToJson({rule("/api/**", 0)})})
                  .ok());
  ASSERT_TRUE(server.query({"INCR", std::string(redis_keys::kRuleVersion)}).ok());
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return errors_.size() == 2; }));
  {
    absl::MutexLock lock(&mu_);
    EXPECT_NE(errors_[1].message().find("rate must be > 0"), absl::string_view::npos)
        << errors_[1];
    EXPECT_EQ(received_.size(), 1u);  // nothing handed over
  }
  EXPECT_TRUE(absl::IsInvalidArgument(store_b_->fetch().status()));
  // Publishing an invalid set is refused before anything is written.
  EXPECT_TRUE(absl::IsInvalidArgument(store_a_->publish({rule("/x", -1)}).status()));
  // The next valid set goes through.
  ASSERT_TRUE(store_a_->publish({rule("/api/**", 12)}).ok());
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return received_.size() == 2; }));
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(received_.back().first[0].rate, 12);
  EXPECT_EQ(errors_.size(), 2u);  // each bad version reported once
}

TEST_F(RedisRuleStoreTest, SeedIfAbsentNeverOverwrites) {
  EXPECT_FALSE(store_a_->fetch().value().has_value());
  absl::StatusOr<bool> seeded = store_a_->seedIfAbsent({rule("/api/**", 10)});
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  EXPECT_TRUE(*seeded);
  absl::StatusOr<uint64_t> published = store_a_->publish({rule("/api/**", 11)});
  ASSERT_TRUE(published.ok());
  seeded = store_b_->seedIfAbsent({rule("/api/**", 99)});
  ASSERT_TRUE(seeded.ok());
  EXPECT_FALSE(*seeded);
  auto got = store_b_->fetch();
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->version, *published);
  EXPECT_EQ((*got)->specs[0].rate, 11);
}

TEST_F(RedisRuleStoreTest, TheWatcherSurvivesARedisOutage) {
  ASSERT_TRUE(store_b_
                  ->watch([&](std::vector<RuleSpec> specs, uint64_t version) {
                    absl::MutexLock lock(&mu_);
                    received_.emplace_back(std::move(specs), version);
                  })
                  .ok());
  ASSERT_TRUE(store_a_->publish({rule("/api/**", 4)}).ok());
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return received_.size() == 1; }));
  server.stop();
  ASSERT_TRUE(waitFor(absl::Seconds(2), [&] { return errors_.size() == 1; }));
  ASSERT_TRUE(server.start().ok());
  // Redis came back empty (versions restart from its clock, so they cannot repeat one the
  // nodes saw); a publish once the client has reconnected reaches the watcher.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!store_a_->publish({rule("/api/**", 5)}).ok() && absl::Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(waitFor(absl::Seconds(2), [&] { return received_.size() == 2; }));
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(received_[1].first[0].rate, 5);
  EXPECT_NE(received_[1].second, received_[0].second);
  EXPECT_EQ(errors_.size(), 1u);  // one report per outage
}

}  // namespace
}  // namespace seckill
