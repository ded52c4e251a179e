// The rate-limit service's decisions on a fake clock: every algorithm, every on_limit mode, the
// operator overrides, hits_addend, distributed rules and their failure policy, refused input.
#include "engine/rls/rls_decider.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/clock.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ratelimit/fake_remote_backend.h"
#include "tests/rls/rls_test_util.h"

namespace seckill::rls {
namespace {

using ratelimit::Algorithm;
using ratelimit::OnLimit;
using ratelimit::RuleSpec;
using ratelimit::ScopeKind;
using ::testing::HasSubstr;
using testing::Desc;
using testing::Response;
using Unit = Response::RateLimit;

RuleSpec rule(std::string path, Algorithm a, int64_t rate, absl::Duration per = absl::Seconds(1)) {
  RuleSpec r;
  r.path = std::move(path);
  r.algorithm = a;
  r.rate = rate;
  r.per = per;
  r.burst = rate;
  return r;
}
RuleSpec perHeader(RuleSpec r, std::string header) {
  r.scope = ScopeKind::kHeader;
  r.header = std::move(header);
  return r;
}

Desc ip(std::string address) { return Desc{{{"remote_address", std::move(address)}}}; }
Desc key(std::string value, std::optional<uint64_t> hits = std::nullopt) {
  return Desc{{{"generic_key", std::move(value)}}, hits};
}

class RlsDeciderTest : public ::testing::Test {
 protected:
  explicit RlsDeciderTest(ratelimit::RemoteLimiterBackend* remote = nullptr,
                          ratelimit::FailurePolicy failure = ratelimit::FailurePolicy::kOpen)
      : limiter_(registry_, remote, ratelimit::DistributedOptions{.failure = failure}),
        decider_(RlsDeps{.clock = clock_,
                         .limiter = limiter_,
                         .on_shadow = [this](const ratelimit::Verdict& v) { shadows_.push_back(v); }},
                 MappingOptions{.domain = "edge", .max_hits_addend = 1000}) {}

  void setRules(std::vector<RuleSpec> rules) {
    absl::StatusOr<uint64_t> v = registry_.replace(std::move(rules));
    ASSERT_TRUE(v.ok()) << v.status();
  }
  Response ask(const std::vector<Desc>& descriptors, uint32_t hits_addend = 0) {
    testing::Answer a = testing::decideNow(decider_, testing::request("edge", descriptors, hits_addend));
    EXPECT_TRUE(a.answered);
    EXPECT_TRUE(a.status.ok()) << a.status;
    return a.response;
  }
  // The code of a one-descriptor request.
  Response::Code code(const Desc& d, uint32_t hits_addend = 0) {
    Response r = ask({d}, hits_addend);
    EXPECT_EQ(r.statuses_size(), 1);
    EXPECT_EQ(r.overall_code(), r.statuses(0).code());
    return r.overall_code();
  }
  void advance(absl::Duration d) { clock_.advance(d); }

  ManualClock clock_;
  ratelimit::RuleRegistry registry_;
  ratelimit::RateLimiter limiter_;
  std::vector<ratelimit::Verdict> shadows_;
  RlsDecider decider_;
};

// Envoy's remote_address action with a per-value rule: one budget per client address.
TEST_F(RlsDeciderTest, PerClientAddressWithAHeaderScopedRule) {
  setRules({perHeader(rule("/edge/remote_address/*", Algorithm::kTokenBucket, 2), "remote_address")});
  EXPECT_EQ(code(ip("10.0.0.1")), Response::OK);
  Response r = ask({ip("10.0.0.1")});
  ASSERT_EQ(r.overall_code(), Response::OK);
  EXPECT_EQ(r.statuses(0).current_limit().requests_per_unit(), 2u);
  EXPECT_EQ(r.statuses(0).current_limit().unit(), Unit::SECOND);
  EXPECT_EQ(r.statuses(0).limit_remaining(), 0u);
  EXPECT_EQ(r.statuses(0).duration_until_reset().seconds(), 1);  // two tokens at 2/s

  r = ask({ip("10.0.0.1")});
  ASSERT_EQ(r.overall_code(), Response::OVER_LIMIT);
  EXPECT_THAT(r.statuses(0).current_limit().name(), HasSubstr("/edge/remote_address/*"));
  EXPECT_EQ(code(ip("10.0.0.2")), Response::OK) << "another address has its own budget";
  advance(absl::Milliseconds(500));
  EXPECT_EQ(code(ip("10.0.0.1")), Response::OK);
  EXPECT_EQ(code(ip("10.0.0.1")), Response::OVER_LIMIT);
}

// scope = "ip" reads the remote_address entry too.
TEST_F(RlsDeciderTest, IpScopeReadsTheRemoteAddress) {
  RuleSpec r = rule("/edge/remote_address/*", Algorithm::kSlidingLog, 1, absl::Minutes(1));
  r.scope = ScopeKind::kIp;
  setRules({r});
  EXPECT_EQ(code(ip("10.0.0.1")), Response::OK);
  EXPECT_EQ(code(ip("10.0.0.1")), Response::OVER_LIMIT);
  EXPECT_EQ(code(ip("10.0.0.2")), Response::OK);
}

// Each algorithm, 3 a minute on one generic key: three OK, then OVER_LIMIT until the window
// (or bucket) has room again.
TEST_F(RlsDeciderTest, EveryAlgorithmLimitsADescriptor) {
  for (Algorithm a : {Algorithm::kTokenBucket, Algorithm::kLeakyBucket, Algorithm::kSlidingWindow,
                      Algorithm::kSlidingLog}) {
    SCOPED_TRACE(ratelimit::algorithmName(a));
    RuleSpec r = rule("/edge/generic_key/checkout", a, 3, absl::Minutes(1));
    if (a == Algorithm::kLeakyBucket) r.queue = 2;  // 3 at once, then one per 20 s
    setRules({r});
    clock_.set(absl::FromUnixSeconds(1'800'000'000) + absl::Hours(static_cast<int>(a)));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(code(key("checkout")), Response::OK) << i;
    Response over = ask({key("checkout")});
    EXPECT_EQ(over.overall_code(), Response::OVER_LIMIT);
    EXPECT_EQ(over.statuses(0).current_limit().requests_per_unit(), 3u);
    EXPECT_EQ(over.statuses(0).current_limit().unit(), Unit::MINUTE);
    EXPECT_EQ(over.statuses(0).limit_remaining(), 0u);
    EXPECT_GT(over.statuses(0).duration_until_reset().seconds(), 0);
    EXPECT_EQ(code(key("other")), Response::OK) << "a descriptor no rule matches";
    advance(absl::Minutes(2));
    EXPECT_EQ(code(key("checkout")), Response::OK);
  }
}

TEST_F(RlsDeciderTest, ADescriptorNoRuleMatchesIsOkWithoutALimit) {
  setRules({rule("/edge/generic_key/checkout", Algorithm::kTokenBucket, 1)});
  Response r = ask({Desc{{{"generic_key", "checkout"}, {"user", "alice"}}}});
  EXPECT_EQ(r.overall_code(), Response::OK) << "a pattern without ** matches its depth only";
  EXPECT_FALSE(r.statuses(0).has_current_limit());
  EXPECT_FALSE(r.statuses(0).has_duration_until_reset());
}

// The request is over limit iff one descriptor is; every descriptor is decided (and consumes).
TEST_F(RlsDeciderTest, OverLimitIfAnyDescriptorIsAndEachIsDecided) {
  setRules({perHeader(rule("/edge/generic_key/*", Algorithm::kTokenBucket, 1, absl::Hours(1)),
                      "generic_key")});
  Response r = ask({key("a"), key("b")});
  EXPECT_EQ(r.overall_code(), Response::OK);
  r = ask({key("a"), key("c")});
  EXPECT_EQ(r.overall_code(), Response::OVER_LIMIT);
  ASSERT_EQ(r.statuses_size(), 2);
  EXPECT_EQ(r.statuses(0).code(), Response::OVER_LIMIT);
  EXPECT_EQ(r.statuses(1).code(), Response::OK);
  EXPECT_EQ(code(key("c")), Response::OVER_LIMIT) << "c was consumed beside a's refusal";
  const RlsStats s = decider_.stats();
  EXPECT_EQ(s.requests_ok, 1u);
  EXPECT_EQ(s.requests_over_limit, 2u);
  EXPECT_EQ(s.descriptors_ok, 3u);
  EXPECT_EQ(s.descriptors_over_limit, 2u);
}

// Layers as on the HTTP edge: a global rule over the domain and a per-key one beneath it.
TEST_F(RlsDeciderTest, RulesApplyLayerByLayer) {
  setRules({rule("/edge/**", Algorithm::kTokenBucket, 3, absl::Hours(1)),
            perHeader(rule("/edge/generic_key/*", Algorithm::kTokenBucket, 2, absl::Hours(1)),
                      "generic_key")});
  EXPECT_EQ(code(key("a")), Response::OK);
  EXPECT_EQ(code(key("a")), Response::OK);
  Response r = ask({key("a")});  // the per-key rule decides
  EXPECT_EQ(r.overall_code(), Response::OVER_LIMIT);
  EXPECT_EQ(r.statuses(0).current_limit().requests_per_unit(), 2u);
  r = ask({key("b")});  // the global rule took a's third request too (nginx-style layers)
  EXPECT_EQ(r.overall_code(), Response::OVER_LIMIT);
  EXPECT_EQ(r.statuses(0).current_limit().requests_per_unit(), 3u);
}

// on_limit = queue: the slot is reserved and the service cannot delay, so OK; past max_wait the
// rule rejects.
TEST_F(RlsDeciderTest, QueueModeAnswersOkWhileASlotIsReserved) {
  RuleSpec r = rule("/edge/generic_key/batch", Algorithm::kTokenBucket, 1);
  r.on_limit = OnLimit::kQueue;
  r.max_wait = absl::Seconds(2);
  setRules({r});
  EXPECT_EQ(code(key("batch")), Response::OK);  // the token
  EXPECT_EQ(code(key("batch")), Response::OK);  // waits 1 s: reserved
  EXPECT_EQ(code(key("batch")), Response::OK);  // waits 2 s: reserved
  EXPECT_EQ(code(key("batch")), Response::OVER_LIMIT) << "3 s > max_wait";
  advance(absl::Seconds(3));  // the two reserved slots have passed; one token is back
  EXPECT_EQ(code(key("batch")), Response::OK);

  RuleSpec lb = rule("/edge/generic_key/spaced", Algorithm::kLeakyBucket, 1);
  lb.queue = 1;
  lb.on_limit = OnLimit::kQueue;
  lb.max_wait = absl::Seconds(1);
  setRules({lb});
  EXPECT_EQ(code(key("spaced")), Response::OK);
  EXPECT_EQ(code(key("spaced")), Response::OK);  // its slot is 1 s on
  EXPECT_EQ(code(key("spaced")), Response::OVER_LIMIT);
}

// on_limit = log (shadow mode): OK, with the rule's quota, reported for the log and counted.
TEST_F(RlsDeciderTest, LogModeAnswersOkAndReportsTheShadow) {
  RuleSpec r = rule("/edge/generic_key/trial", Algorithm::kSlidingWindow, 2, absl::Minutes(1));
  r.on_limit = OnLimit::kLog;
  setRules({r});
  EXPECT_EQ(code(key("trial")), Response::OK);
  EXPECT_EQ(code(key("trial")), Response::OK);
  EXPECT_TRUE(shadows_.empty());
  Response shadow = ask({key("trial")});
  EXPECT_EQ(shadow.overall_code(), Response::OK);
  EXPECT_EQ(shadow.statuses(0).limit_remaining(), 0u) << "what the rule would have said";
  ASSERT_EQ(shadows_.size(), 1u);
  EXPECT_THAT(shadows_[0].rule, HasSubstr("/edge/generic_key/trial"));
  EXPECT_EQ(decider_.stats().descriptors_shadow, 1u);
  const ratelimit::RuleCounters& c = registry_.current()->rules()[0].state->counters();
  EXPECT_EQ(c.shadowLimited(), 1u);
  EXPECT_EQ(c.passed(), 2u);
}

// The operator overrides by path prefix: dry_run answers OK (shadow), shed OVER_LIMIT without
// evaluating, and another domain's... none: only the overridden subtree changes.
TEST_F(RlsDeciderTest, DryRunAndShedOverrides) {
  setRules({rule("/edge/generic_key/*", Algorithm::kTokenBucket, 1, absl::Hours(1))});
  EXPECT_EQ(code(key("a")), Response::OK);
  EXPECT_EQ(code(key("a")), Response::OVER_LIMIT);
  ASSERT_TRUE(limiter_.setOverride("/edge/generic_key", ratelimit::OverrideMode::kDryRun).ok());
  EXPECT_EQ(code(key("a")), Response::OK);
  EXPECT_EQ(shadows_.size(), 1u);
  ASSERT_TRUE(limiter_.setOverride("/edge", ratelimit::OverrideMode::kShed).ok());
  Response shed = ask({Desc{{{"remote_address", "10.0.0.1"}}}});
  EXPECT_EQ(shed.overall_code(), Response::OVER_LIMIT) << "shed: everything under /edge";
  EXPECT_FALSE(shed.statuses(0).has_current_limit());
  EXPECT_EQ(shed.statuses(0).duration_until_reset().seconds(), 1);
  EXPECT_EQ(code(key("a")), Response::OK) << "the longer dry-run prefix wins";
  limiter_.clearOverride("/edge");
  limiter_.clearOverride("/edge/generic_key");
  EXPECT_EQ(code(key("a")), Response::OVER_LIMIT);
}

// hits_addend: taken all or nothing on every rule met; more than a rule holds is OVER_LIMIT; a
// descriptor's 0 checks without consuming.
TEST_F(RlsDeciderTest, HitsAddendIsConsumedAtomically) {
  setRules({rule("/edge/generic_key/tokens", Algorithm::kTokenBucket, 10, absl::Minutes(1))});
  Response r = ask({key("tokens")}, /*hits_addend=*/4);
  EXPECT_EQ(r.overall_code(), Response::OK);
  EXPECT_EQ(r.statuses(0).limit_remaining(), 6u);
  r = ask({key("tokens")}, 7);
  EXPECT_EQ(r.overall_code(), Response::OVER_LIMIT);
  EXPECT_EQ(r.statuses(0).limit_remaining(), 6u) << "nothing taken";
  r = ask({key("tokens", 0)}, 7);
  EXPECT_EQ(r.overall_code(), Response::OK) << "a peek: one would pass";
  EXPECT_EQ(r.statuses(0).limit_remaining(), 6u);
  r = ask({key("tokens", 6)}, 7);
  EXPECT_EQ(r.overall_code(), Response::OK) << "the descriptor's hits_addend wins";
  EXPECT_EQ(r.statuses(0).limit_remaining(), 0u);
  EXPECT_EQ(ask({key("tokens", 0)}).overall_code(), Response::OVER_LIMIT);
  advance(absl::Minutes(5));
  EXPECT_EQ(ask({key("tokens")}, 11).overall_code(), Response::OVER_LIMIT) << "11 > the burst 10";
  EXPECT_EQ(ask({key("tokens")}, 10).overall_code(), Response::OK);

  for (Algorithm a : {Algorithm::kLeakyBucket, Algorithm::kSlidingWindow, Algorithm::kSlidingLog}) {
    SCOPED_TRACE(ratelimit::algorithmName(a));
    RuleSpec w = rule("/edge/generic_key/w", a, 5, absl::Minutes(1));
    w.queue = 4;
    setRules({w});
    clock_.advance(absl::Hours(1));
    EXPECT_EQ(ask({key("w")}, 3).overall_code(), Response::OK);
    EXPECT_EQ(ask({key("w")}, 3).overall_code(), Response::OVER_LIMIT);
    EXPECT_EQ(ask({key("w")}, 2).overall_code(), Response::OK);
    EXPECT_EQ(ask({key("w")}, 1).overall_code(), Response::OVER_LIMIT);
  }
}

// A refused request decides nothing: its valid descriptors consume nothing either.
TEST_F(RlsDeciderTest, RefusedRequestsConsumeNothing) {
  setRules({rule("/edge/generic_key/*", Algorithm::kTokenBucket, 1, absl::Hours(1))});
  testing::Answer a = testing::decideNow(
      decider_, testing::request("edge", {key("a"), Desc{{{"generic_key", ""}}}}));
  ASSERT_TRUE(a.answered);
  EXPECT_EQ(a.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status.message(), "descriptors[1].entries[0].value: empty");
  a = testing::decideNow(decider_, testing::request("shop", {key("a")}));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kInvalidArgument);
  a = testing::decideNow(decider_, testing::request("edge", {key("a")}, 5000));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(decider_.stats().requests_invalid, 3u);
  EXPECT_EQ(code(key("a")), Response::OK) << "a's token is still there";
}

// A new rule set (the admin API's edits land in the same registry) decides the next call.
TEST_F(RlsDeciderTest, ARuleChangeDecidesTheNextCall) {
  setRules({rule("/edge/generic_key/*", Algorithm::kTokenBucket, 1, absl::Hours(1))});
  EXPECT_EQ(code(key("a")), Response::OK);
  EXPECT_EQ(code(key("a")), Response::OVER_LIMIT);
  setRules({rule("/edge/generic_key/*", Algorithm::kSlidingLog, 5, absl::Hours(1))});
  EXPECT_EQ(code(key("a")), Response::OK);
  setRules({});
  for (int i = 0; i < 10; ++i) EXPECT_EQ(code(key("a")), Response::OK);
}

// Distributed rules: the backend answers later, the call completes then; a failed backend under
// distributed_failure = "closed" is OVER_LIMIT.
class RlsDistributedTest : public RlsDeciderTest {
 protected:
  RlsDistributedTest() : RlsDeciderTest(&backend_, ratelimit::FailurePolicy::kClosed) {}
  ratelimit::testing::FakeRemoteBackend backend_;
};

RuleSpec distributed(RuleSpec r) {
  r.distributed = true;
  return r;
}

TEST_F(RlsDistributedTest, WaitsForTheBackendThenGoesOnWithTheNextDescriptor) {
  setRules({distributed(perHeader(rule("/edge/generic_key/*", Algorithm::kSlidingWindow, 2, absl::Hours(1)),
                                  "generic_key")),
            rule("/edge/remote_address/*", Algorithm::kTokenBucket, 1, absl::Hours(1))});
  backend_.setHolding(true);
  testing::Answer a;
  const testing::Request req =
      testing::request("edge", {key("a", 2), ip("10.0.0.1"), key("b")});
  decider_.decide(req, &a.response, [&a](absl::Status s) {
    a.answered = true;
    a.status = std::move(s);
  });
  EXPECT_FALSE(a.answered) << "the first descriptor waits for the backend";
  EXPECT_EQ(backend_.releaseHeld(), 1u);
  EXPECT_FALSE(a.answered) << "the third one waits too";
  EXPECT_EQ(backend_.releaseHeld(), 1u);
  ASSERT_TRUE(a.answered);
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_EQ(a.response.overall_code(), Response::OK);
  EXPECT_EQ(a.response.statuses(0).limit_remaining(), 0u) << "two hits on the shared state";
  EXPECT_EQ(a.response.statuses(2).limit_remaining(), 1u);
  ASSERT_EQ(backend_.calls().size(), 2u);
  EXPECT_EQ(backend_.calls()[0].key, "a");
  backend_.setHolding(false);
  EXPECT_EQ(code(key("a")), Response::OVER_LIMIT);
}

TEST_F(RlsDistributedTest, AFailedBackendFailsClosedAsOverLimit) {
  setRules({distributed(rule("/edge/generic_key/*", Algorithm::kTokenBucket, 100))});
  EXPECT_EQ(code(key("a")), Response::OK);
  backend_.setFailing(true);
  Response r = ask({key("a")});
  EXPECT_EQ(r.overall_code(), Response::OVER_LIMIT);
  EXPECT_FALSE(r.statuses(0).has_current_limit());
  EXPECT_EQ(r.statuses(0).duration_until_reset().seconds(), 1);
}

class RlsFailOpenTest : public RlsDeciderTest {
 protected:
  RlsFailOpenTest() : RlsDeciderTest(&backend_, ratelimit::FailurePolicy::kOpen) {}
  ratelimit::testing::FakeRemoteBackend backend_;
};

TEST_F(RlsFailOpenTest, AFailedBackendFailsOpenAsOk) {
  setRules({distributed(rule("/edge/generic_key/*", Algorithm::kTokenBucket, 1))});
  backend_.setFailing(true);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(code(key("a")), Response::OK);
}

}  // namespace
}  // namespace seckill::rls
