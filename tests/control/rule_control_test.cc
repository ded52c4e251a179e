#include "engine/core/control/rule_control.h"

#include <atomic>
#include <thread>
#include <vector>

#include "engine/store/memory/memory_control_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::control {
namespace {

using ratelimit::OverrideMode;
using ratelimit::RuleSpec;
using ::testing::HasSubstr;

RuleSpec rule(std::string path, int64_t rate) {
  RuleSpec r;
  r.path = std::move(path);
  r.scope = ratelimit::ScopeKind::kUser;
  r.rate = rate;
  r.burst = rate;
  return r;
}

// One node's control of the rules over a shared store.
struct Node {
  Node(const Clock& clock, ControlStore& store, std::string name)
      : limiter(registry),
        control(clock, store, registry, limiter, std::move(name),
                [this](bool warning, std::string m) {
                  (warning ? warnings : notes).push_back(std::move(m));
                }) {}
  ratelimit::RuleRegistry registry;
  ratelimit::RateLimiter limiter;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
  RuleControl control;
};

class RuleControlTest : public ::testing::Test {
 protected:
  Actor alice{.name = "alice", .peer = "ipv4:10.0.0.9:4711", .source = "api"};
  ManualClock clock;
  MemoryControlStore store;
  RuleDocument file{{rule("/api/**", 100)}, {{"/admin", OverrideMode::kShed}}};
};

TEST_F(RuleControlTest, AnEmptyStateIsSeededWithTheFileAndInstalled) {
  Node n(clock, store, "n1");
  ASSERT_TRUE(n.control.start(file, "engine.toml").ok());
  EXPECT_EQ(n.control.current().change.version, 1u);
  EXPECT_EQ(n.control.current().change.source, "seed");
  EXPECT_EQ(n.control.current().change.author, "file:engine.toml");
  EXPECT_EQ(n.registry.current()->version(), 1u);
  EXPECT_EQ(n.registry.current()->rules().size(), 1u);
  ASSERT_EQ(n.limiter.overrides().size(), 1u);
  EXPECT_EQ(n.limiter.overrides()[0].prefix, "/admin");
  absl::StatusOr<AuditPage> audit = store.audit({});
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->entries.size(), 1u);
  EXPECT_EQ(audit->entries[0].action, "rules.seed");
  EXPECT_EQ(audit->entries[0].version, 1u);
}

TEST_F(RuleControlTest, AnApiEditSurvivesARestartWithTheSameFile) {
  {
    Node n(clock, store, "n1");
    ASSERT_TRUE(n.control.start(file, "engine.toml").ok());
    RuleDocument edited = file;
    edited.rules[0].rate = 7;
    ASSERT_TRUE(n.control.apply(edited, 1, alice, "slower").ok());
  }
  Node restarted(clock, store, "n1");
  ASSERT_TRUE(restarted.control.start(file, "engine.toml").ok());
  EXPECT_EQ(restarted.control.current().change.version, 2u);
  EXPECT_EQ(restarted.control.current().doc.rules[0].rate, 7) << "the file did not change";
  EXPECT_EQ(restarted.registry.current()->rules()[0].spec.rate, 7);
  EXPECT_TRUE(restarted.warnings.empty());
}

TEST_F(RuleControlTest, AFileEditedWhileTheEngineWasDownIsAppliedAndSaysWhatItReplaced) {
  {
    Node n(clock, store, "n1");
    ASSERT_TRUE(n.control.start(file, "engine.toml").ok());
    RuleDocument edited = file;
    edited.rules[0].rate = 7;
    ASSERT_TRUE(n.control.apply(edited, 1, alice, "").ok());
  }
  RuleDocument new_file = file;
  new_file.rules.push_back(rule("/api/v1/**", 10));
  Node restarted(clock, store, "n1");
  ASSERT_TRUE(restarted.control.start(new_file, "engine.toml").ok());
  EXPECT_EQ(restarted.control.current().change.version, 3u);
  EXPECT_EQ(restarted.control.current().doc.rules.size(), 2u);
  EXPECT_EQ(restarted.control.current().doc.rules[0].rate, 100);
  ASSERT_EQ(restarted.warnings.size(), 1u);
  EXPECT_THAT(restarted.warnings[0], HasSubstr("changed since its rules were last applied"));
  EXPECT_THAT(restarted.warnings[0], HasSubstr("by alice"));
  absl::StatusOr<AuditPage> audit = store.audit({});
  EXPECT_THAT(audit->entries[0].detail, HasSubstr("rate 7 -> 100"));
}

TEST_F(RuleControlTest, AStaleVersionIsRefusedWithTheCurrentOneAndChangesNothing) {
  Node n(clock, store, "n1");
  ASSERT_TRUE(n.control.start(file, "f").ok());
  RuleDocument edited = file;
  edited.rules[0].rate = 5;
  ASSERT_TRUE(n.control.apply(edited, 1, alice, "").ok());
  edited.rules[0].rate = 6;
  absl::StatusOr<RuleControl::Applied> stale = n.control.apply(edited, 1, alice, "");
  ASSERT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  EXPECT_EQ(currentVersionOf(stale.status()), 2u);
  EXPECT_THAT(stale.status().message(), HasSubstr("current version is 2"));
  EXPECT_EQ(n.control.current().doc.rules[0].rate, 5);
  EXPECT_EQ(n.registry.current()->version(), 2u);
}

TEST_F(RuleControlTest, OfTwoApplierWithTheSameVersionExactlyOneWins) {
  Node n(clock, store, "n1");
  ASSERT_TRUE(n.control.start(file, "f").ok());
  std::atomic<int> won{0};
  std::atomic<int> aborted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RuleDocument d = file;
      d.rules[0].rate = 10 + t;
      absl::StatusOr<RuleControl::Applied> a = n.control.apply(d, 1, alice, "");
      if (a.ok()) won.fetch_add(1);
      if (absl::IsAborted(a.status())) aborted.fetch_add(1);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(aborted.load(), 7);
  EXPECT_EQ(n.control.current().change.version, 2u);
}

TEST_F(RuleControlTest, AnInvalidSetIsRefusedWholeNamingTheRuleAndField) {
  Node n(clock, store, "n1");
  ASSERT_TRUE(n.control.start(file, "f").ok());
  RuleDocument bad = file;
  bad.rules.push_back(rule("/x", 0));
  absl::StatusOr<RuleControl::Applied> a = n.control.apply(bad, 1, alice, "");
  ASSERT_TRUE(absl::IsInvalidArgument(a.status()));
  EXPECT_THAT(a.status().message(), HasSubstr("rule 2"));
  EXPECT_THAT(a.status().message(), HasSubstr("rate must be > 0"));
  EXPECT_EQ(n.control.current().change.version, 1u);
  EXPECT_EQ(store.audit({})->entries.size(), 1u) << "nothing audited";
}

TEST_F(RuleControlTest, AnUnchangedSetMakesNoVersion) {
  Node n(clock, store, "n1");
  ASSERT_TRUE(n.control.start(file, "f").ok());
  absl::StatusOr<RuleControl::Applied> a = n.control.apply(file, 1, alice, "");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->changed);
  EXPECT_EQ(a->version, 1u);
}

TEST_F(RuleControlTest, EditsWithoutAnExpectedVersionApplyToWhatIsCurrent) {
  Node n(clock, store, "n1");
  ASSERT_TRUE(n.control.start(file, "f").ok());
  auto setShed = [](RuleDocument& d) {
    d.overrides.push_back({"/api/v1", OverrideMode::kShed});
    return absl::OkStatus();
  };
  absl::StatusOr<RuleControl::Applied> a =
      n.control.edit("override.set", "/api/v1", setShed, std::nullopt, alice, "");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->version, 2u);
  EXPECT_EQ(n.limiter.overrides().size(), 2u);
  absl::StatusOr<RuleControl::Applied> refused = n.control.edit(
      "rule.delete", "x", [](RuleDocument&) { return absl::NotFoundError("no rule x"); },
      std::nullopt, alice, "");
  EXPECT_TRUE(absl::IsNotFound(refused.status()));
  absl::StatusOr<RuleControl::Applied> stale =
      n.control.edit("override.set", "/z", setShed, 1, alice, "");
  EXPECT_TRUE(absl::IsAborted(stale.status()));
  absl::StatusOr<AuditPage> audit = store.audit({});
  EXPECT_EQ(audit->entries[0].action, "override.set");
  EXPECT_EQ(audit->entries[0].target, "/api/v1");
  EXPECT_EQ(audit->entries[0].author, "alice");
  EXPECT_EQ(audit->entries[0].peer, "ipv4:10.0.0.9:4711");
  EXPECT_THAT(audit->entries[0].detail, HasSubstr("+ override /api/v1 shed"));
}

TEST_F(RuleControlTest, AFileReloadOnlyAppliesAChangedFile) {
  Node n(clock, store, "n1");
  ASSERT_TRUE(n.control.start(file, "f").ok());
  RuleDocument edited = file;
  edited.rules[0].rate = 3;
  ASSERT_TRUE(n.control.apply(edited, 1, alice, "").ok());
  // SIGHUP with the file as it was: the API's edit stays.
  absl::StatusOr<RuleControl::Applied> same = n.control.importFile(file, "f");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->changed);
  EXPECT_EQ(n.control.current().doc.rules[0].rate, 3);
  // An edited file is the newest edit: it applies, and says what it replaced.
  RuleDocument new_file = file;
  new_file.rules[0].rate = 200;
  absl::StatusOr<RuleControl::Applied> changed = n.control.importFile(new_file, "f");
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(changed->changed);
  EXPECT_EQ(n.control.current().doc.rules[0].rate, 200);
  ASSERT_EQ(n.warnings.size(), 1u);
  EXPECT_THAT(n.warnings[0], HasSubstr("an edit through the admin API by alice"));
  // And an API edit after it builds on it.
  RuleDocument on_top = n.control.current().doc;
  on_top.overrides.clear();
  ASSERT_TRUE(n.control.apply(on_top, changed->version, alice, "").ok());
  EXPECT_EQ(n.control.current().doc.rules[0].rate, 200);
}

TEST_F(RuleControlTest, RollbackMakesAnOldDocumentCurrentAsANewVersion) {
  Node n(clock, store, "n1");
  ASSERT_TRUE(n.control.start(file, "f").ok());
  RuleDocument edited = file;
  edited.rules[0].rate = 3;
  ASSERT_TRUE(n.control.apply(edited, 1, alice, "").ok());
  absl::StatusOr<RuleControl::Applied> r = n.control.rollback(1, 2, alice, "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 3u);
  EXPECT_EQ(r->change.source, "rollback");
  EXPECT_EQ(n.control.current().doc.rules[0].rate, 100);
  EXPECT_TRUE(absl::IsNotFound(n.control.rollback(99, 3, alice, "").status()));
  EXPECT_TRUE(absl::IsAborted(n.control.rollback(1, 2, alice, "").status()));
}

TEST_F(RuleControlTest, AnotherNodeFollowsTheStateItShares) {
  Node a(clock, store, "a");
  Node b(clock, store, "b");
  ASSERT_TRUE(a.control.start(file, "f").ok());
  ASSERT_TRUE(b.control.start(file, "f").ok());
  EXPECT_EQ(b.control.current().change.version, 1u) << "b joined a's state";
  RuleDocument edited = file;
  edited.rules[0].rate = 9;
  ASSERT_TRUE(a.control.apply(edited, 1, alice, "").ok());
  ASSERT_TRUE(b.control.follow().ok());
  EXPECT_EQ(b.control.current().change.version, 2u);
  EXPECT_EQ(b.registry.current()->version(), 2u);
  EXPECT_EQ(b.registry.current()->rules()[0].spec.rate, 9);
  // b applying on the version it saw before following would have been stale:
  edited.rules[0].rate = 11;
  EXPECT_TRUE(absl::IsAborted(a.control.apply(edited, 1, alice, "").status()));
}

}  // namespace
}  // namespace seckill::control
