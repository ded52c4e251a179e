#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/core/control/control_store.h"
#include "engine/core/control/rule_document.h"
#include "gtest/gtest.h"

// The ControlStore contract written once and run against every implementation. A binary
// instantiates it with
//   INSTANTIATE_TYPED_TEST_SUITE_P(Memory, ControlStoreTest, MemoryControlBackend);
// where a Backend is a ::testing::Test (it may own a server or a directory) with
//   control::ControlStore& store();  // the store under test, fresh (empty) for each test
// This header depends on the core only.

namespace seckill::testing {

// Plain instants on whole microseconds: what every store keeps exactly.
inline absl::Time controlTime(int64_t seconds) {
  return absl::FromUnixSeconds(1'700'000'000 + seconds);
}

// A rule with every field away from its default.
inline ratelimit::RuleSpec fullRuleSpec(int64_t rate) {
  ratelimit::RuleSpec r;
  r.id = absl::StrCat("orders-", rate);
  r.path = "/api/v1/sales/*/orders";
  r.method = "POST";
  r.scope = ratelimit::ScopeKind::kHeader;
  r.header = "x-api-key";
  r.algorithm = ratelimit::Algorithm::kTokenBucket;
  r.rate = rate;
  r.per = absl::Minutes(1);
  r.burst = rate + 7;
  r.warmup = absl::Milliseconds(1500);
  r.on_limit = ratelimit::OnLimit::kQueue;
  r.max_wait = absl::Microseconds(250500);
  r.distributed = true;
  r.line = 12;
  return r;
}

// Version `v` of a rule document: its rule's rate is `v`.
inline control::RuleVersion ruleVersionFor(uint64_t v) {
  control::RuleVersion rv;
  rv.change = control::Change{.version = v,
                              .at = controlTime(static_cast<int64_t>(v)),
                              .author = "alice",
                              .peer = "ipv4:127.0.0.1:51234",
                              .source = "api",
                              .comment = absl::StrCat("version ", v),
                              .node = "node-a"};
  ratelimit::RuleSpec plain;
  plain.path = "/api/**";
  plain.rate = 100;
  plain.burst = 100;
  plain.scope = ratelimit::ScopeKind::kIp;
  rv.doc.rules = {fullRuleSpec(static_cast<int64_t>(v)), plain};
  rv.doc.overrides = {{"/api/v1", ratelimit::OverrideMode::kDryRun},
                      {"/admin", ratelimit::OverrideMode::kShed}};
  rv.file_digest = absl::StrCat("digest-", v);
  return rv;
}

inline control::AuditEntry auditFor(std::string action, uint64_t version = 0,
                                    int64_t at_seconds = 0, std::string author = "alice") {
  return control::AuditEntry{.at = controlTime(at_seconds),
                             .author = std::move(author),
                             .peer = "ipv4:10.0.0.1:4000",
                             .node = "node-a",
                             .action = std::move(action),
                             .target = "",
                             .detail = "+ rule a\n- rule b",
                             .version = version};
}

inline void expectSameChange(const control::Change& a, const control::Change& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.at, b.at);
  EXPECT_EQ(a.author, b.author);
  EXPECT_EQ(a.peer, b.peer);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.comment, b.comment);
  EXPECT_EQ(a.node, b.node);
}

inline void expectSameVersion(const control::RuleVersion& a, const control::RuleVersion& b) {
  expectSameChange(a.change, b.change);
  EXPECT_TRUE(control::sameContent(a.doc, b.doc)) << control::diffDocuments(a.doc, b.doc).text();
  ASSERT_EQ(a.doc.rules.size(), b.doc.rules.size());
  for (size_t i = 0; i < a.doc.rules.size(); ++i) {
    EXPECT_EQ(a.doc.rules[i].line, b.doc.rules[i].line);
    EXPECT_EQ(a.doc.rules[i].method, b.doc.rules[i].method);
  }
  EXPECT_EQ(a.file_digest, b.file_digest);
}

inline SaleSpec fullSaleSpec(std::string id, int64_t stock) {
  SaleSpec s;
  s.id = std::move(id);
  s.name = "Phone drop";
  s.stock = stock;
  s.opens_at = controlTime(60);
  s.closes_at = controlTime(3600);
  s.require_token = true;
  s.strategy = StockStrategy::kCounterGate;
  s.pay_timeout = absl::Minutes(7);
  s.dedup_ttl = absl::Seconds(90);
  s.token_ttl = absl::Milliseconds(2500);
  return s;
}

inline void expectSameSale(const control::SaleRecord& a, const control::SaleRecord& b) {
  EXPECT_EQ(a.spec.id, b.spec.id);
  EXPECT_EQ(a.spec.name, b.spec.name);
  EXPECT_EQ(a.spec.stock, b.spec.stock);
  EXPECT_EQ(a.spec.opens_at, b.spec.opens_at);
  EXPECT_EQ(a.spec.closes_at, b.spec.closes_at);
  EXPECT_EQ(a.spec.require_token, b.spec.require_token);
  EXPECT_EQ(a.spec.strategy, b.spec.strategy);
  EXPECT_EQ(a.spec.pay_timeout, b.spec.pay_timeout);
  EXPECT_EQ(a.spec.dedup_ttl, b.spec.dedup_ttl);
  EXPECT_EQ(a.spec.token_ttl, b.spec.token_ttl);
  EXPECT_EQ(a.file_digest, b.file_digest);
}

// Every audit entry, newest first, read page by page (`page` entries each).
inline std::vector<control::AuditEntry> allAudit(control::ControlStore& store,
                                                 control::AuditQuery query, size_t page = 7) {
  std::vector<control::AuditEntry> out;
  query.limit = page;
  for (int pages = 0; pages < 10'000; ++pages) {
    absl::StatusOr<control::AuditPage> p = store.audit(query);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) break;
    EXPECT_LE(p->entries.size(), page);
    out.insert(out.end(), p->entries.begin(), p->entries.end());
    if (!p->next_before) break;
    EXPECT_FALSE(p->entries.empty());
    EXPECT_EQ(*p->next_before, p->entries.back().seq);
    query.before_seq = p->next_before;
  }
  return out;
}

template <typename Backend>
class ControlStoreTest : public Backend {
 protected:
  // Commits versions 1..n in turn.
  void commitVersions(uint64_t n) {
    for (uint64_t v = 1; v <= n; ++v) {
      ASSERT_TRUE(
          this->store().commitRules(v - 1, ruleVersionFor(v), auditFor("rules.apply", v)).ok())
          << v;
    }
  }
};

TYPED_TEST_SUITE_P(ControlStoreTest);

TYPED_TEST_P(ControlStoreTest, StartsEmpty) {
  control::ControlStore& s = this->store();
  absl::StatusOr<std::optional<control::RuleVersion>> current = s.currentRules();
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_FALSE(current->has_value());
  EXPECT_TRUE(s.ruleVersions(100)->empty());
  EXPECT_FALSE(s.ruleVersion(1)->has_value());
  EXPECT_TRUE(s.breakerSettings()->empty());
  EXPECT_TRUE(s.sales()->empty());
  absl::StatusOr<control::AuditPage> page = s.audit({});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->entries.empty());
  EXPECT_FALSE(page->next_before.has_value());
  EXPECT_FALSE(s.describe().empty());
}

TYPED_TEST_P(ControlStoreTest, CommitKeepsEveryFieldAndItsAuditEntry) {
  control::ControlStore& s = this->store();
  const control::RuleVersion v1 = ruleVersionFor(1);
  ASSERT_TRUE(s.commitRules(0, v1, auditFor("rules.seed", 1)).ok());
  absl::StatusOr<std::optional<control::RuleVersion>> current = s.currentRules();
  ASSERT_TRUE(current.ok() && current->has_value()) << current.status();
  expectSameVersion(**current, v1);
  absl::StatusOr<std::optional<control::RuleVersion>> kept = s.ruleVersion(1);
  ASSERT_TRUE(kept.ok() && kept->has_value()) << kept.status();
  expectSameVersion(**kept, v1);

  absl::StatusOr<control::AuditPage> page = s.audit({});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries.size(), 1u);
  const control::AuditEntry& e = page->entries[0];
  const control::AuditEntry want = auditFor("rules.seed", 1);
  EXPECT_GT(e.seq, 0u);
  EXPECT_EQ(e.at, want.at);
  EXPECT_EQ(e.author, want.author);
  EXPECT_EQ(e.peer, want.peer);
  EXPECT_EQ(e.node, want.node);
  EXPECT_EQ(e.action, want.action);
  EXPECT_EQ(e.target, want.target);
  EXPECT_EQ(e.detail, want.detail);
  EXPECT_EQ(e.version, 1u);
}

TYPED_TEST_P(ControlStoreTest, CommitIsACompareAndSetOnTheVersion) {
  control::ControlStore& s = this->store();
  ASSERT_TRUE(s.commitRules(0, ruleVersionFor(1), auditFor("rules.apply", 1)).ok());
  // A writer that read "no version yet" lost.
  absl::Status stale = s.commitRules(0, ruleVersionFor(1), auditFor("rules.apply", 1));
  EXPECT_TRUE(absl::IsAborted(stale)) << stale;
  EXPECT_NE(stale.message().find("current version is 1"), absl::string_view::npos) << stale;
  // Two writers on version 1, racing, again and again: exactly one wins each round, and the
  // loser writes nothing (no version, no audit entry).
  for (uint64_t base = 1; base <= 6; ++base) {
    constexpr int kWriters = 4;
    std::atomic<int> go{0};
    std::atomic<int> won{0};
    std::atomic<int> aborted{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        go.fetch_add(1);
        while (go.load() < kWriters) std::this_thread::yield();
        control::RuleVersion next = ruleVersionFor(base + 1);
        next.change.author = absl::StrCat("writer-", w);
        absl::Status st = s.commitRules(base, next, auditFor("rules.apply", base + 1));
        if (st.ok()) won.fetch_add(1);
        if (absl::IsAborted(st)) aborted.fetch_add(1);
      });
    }
    for (std::thread& t : writers) t.join();
    EXPECT_EQ(won.load(), 1) << "round " << base;
    EXPECT_EQ(aborted.load(), kWriters - 1) << "round " << base;
    absl::StatusOr<std::optional<control::RuleVersion>> current = s.currentRules();
    ASSERT_TRUE(current.ok() && current->has_value());
    EXPECT_EQ((*current)->change.version, base + 1);
  }
  EXPECT_EQ(s.ruleVersions(100)->size(), 7u);
  EXPECT_EQ(allAudit(s, {}).size(), 7u);
}

TYPED_TEST_P(ControlStoreTest, VersionsAreListedNewestFirstAndPrunedTo100) {
  this->commitVersions(105);
  control::ControlStore& s = this->store();
  absl::StatusOr<std::vector<control::Change>> all = s.ruleVersions(1000);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 100u);
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].version, 105 - i);
    EXPECT_EQ((*all)[i].comment, absl::StrCat("version ", 105 - i));
  }
  absl::StatusOr<std::vector<control::Change>> three = s.ruleVersions(3);
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(three->size(), 3u);
  expectSameChange((*three)[2], ruleVersionFor(103).change);
  EXPECT_TRUE(s.ruleVersions(0)->empty());

  EXPECT_FALSE(s.ruleVersion(5)->has_value());    // pruned
  EXPECT_FALSE(s.ruleVersion(106)->has_value());  // never was
  absl::StatusOr<std::optional<control::RuleVersion>> oldest = s.ruleVersion(6);
  ASSERT_TRUE(oldest.ok() && oldest->has_value()) << oldest.status();
  expectSameVersion(**oldest, ruleVersionFor(6));
  absl::StatusOr<std::optional<control::RuleVersion>> middle = s.ruleVersion(50);
  ASSERT_TRUE(middle.ok() && middle->has_value());
  expectSameVersion(**middle, ruleVersionFor(50));
}

TYPED_TEST_P(ControlStoreTest, BreakerSettingsAreReplacedByName) {
  control::ControlStore& s = this->store();
  using Mode = ratelimit::CircuitBreaker::Mode;
  ASSERT_TRUE(
      s.putBreakerSetting({"redis", Mode::kForcedOpen, Mode::kNormal}, auditFor("breaker.mode"))
          .ok());
  ASSERT_TRUE(
      s.putBreakerSetting({"mysql", Mode::kDisabled, Mode::kMetricsOnly}, auditFor("breaker.mode"))
          .ok());
  ASSERT_TRUE(
      s.putBreakerSetting({"redis", Mode::kNormal, Mode::kDisabled}, auditFor("breaker.mode"))
          .ok());
  absl::StatusOr<std::vector<control::BreakerSetting>> got = s.breakerSettings();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].name, "mysql");  // by name
  EXPECT_EQ((*got)[0].mode, Mode::kDisabled);
  EXPECT_EQ((*got)[0].file_mode, Mode::kMetricsOnly);
  EXPECT_EQ((*got)[1].name, "redis");
  EXPECT_EQ((*got)[1].mode, Mode::kNormal);
  EXPECT_EQ((*got)[1].file_mode, Mode::kDisabled);
  EXPECT_EQ(allAudit(s, {}).size(), 3u);
}

TYPED_TEST_P(ControlStoreTest, SalesAreUpsertedInFirstPutOrder) {
  control::ControlStore& s = this->store();
  control::SaleRecord b{fullSaleSpec("b", 5), "digest-b"};
  control::SaleRecord a{fullSaleSpec("a", 7), ""};
  a.spec.opens_at.reset();
  a.spec.closes_at.reset();
  a.spec.strategy = StockStrategy::kFifo;
  control::SaleRecord c{fullSaleSpec("c", 0), ""};
  for (const control::SaleRecord* r : {&b, &a, &c}) {
    ASSERT_TRUE(s.putSale(*r, auditFor("sale.put")).ok());
  }
  a.spec.stock = 70;
  a.spec.name = "renamed";
  ASSERT_TRUE(s.putSale(a, auditFor("sale.put")).ok());
  absl::StatusOr<std::vector<control::SaleRecord>> got = s.sales();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  expectSameSale((*got)[0], b);
  expectSameSale((*got)[1], a);
  expectSameSale((*got)[2], c);
  EXPECT_FALSE((*got)[1].spec.opens_at.has_value());
  EXPECT_EQ(allAudit(s, {}).size(), 4u);
}

TYPED_TEST_P(ControlStoreTest, AuditPagesNewestFirstAndFilters) {
  control::ControlStore& s = this->store();
  for (int i = 0; i < 25; ++i) {
    control::AuditEntry e = auditFor("test", 0, i, i % 2 == 0 ? "alice" : "bob");
    e.target = absl::StrCat("t", i);
    ASSERT_TRUE(s.appendAudit(e).ok());
  }
  absl::StatusOr<control::AuditPage> first = s.audit({.limit = 10});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->entries.size(), 10u);
  EXPECT_EQ(first->entries.front().target, "t24");
  EXPECT_EQ(first->entries.back().target, "t15");
  ASSERT_TRUE(first->next_before.has_value());
  absl::StatusOr<control::AuditPage> second =
      s.audit({.limit = 10, .before_seq = first->next_before});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->entries.size(), 10u);
  EXPECT_EQ(second->entries.front().target, "t14");
  absl::StatusOr<control::AuditPage> third =
      s.audit({.limit = 10, .before_seq = second->next_before});
  ASSERT_TRUE(third.ok());
  ASSERT_EQ(third->entries.size(), 5u);
  EXPECT_EQ(third->entries.back().target, "t0");
  EXPECT_FALSE(third->next_before.has_value());

  const std::vector<control::AuditEntry> all = allAudit(s, {});
  ASSERT_EQ(all.size(), 25u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].seq, all[i].seq);

  const std::vector<control::AuditEntry> alice = allAudit(s, {.author = "alice"}, 4);
  ASSERT_EQ(alice.size(), 13u);
  for (const control::AuditEntry& e : alice) EXPECT_EQ(e.author, "alice");
  EXPECT_EQ(alice.front().target, "t24");
  EXPECT_EQ(alice.back().target, "t0");

  const std::vector<control::AuditEntry> window =
      allAudit(s, {.since = controlTime(5), .until = controlTime(9)}, 2);
  ASSERT_EQ(window.size(), 5u);
  EXPECT_EQ(window.front().target, "t9");
  EXPECT_EQ(window.back().target, "t5");

  const std::vector<control::AuditEntry> bob_window =
      allAudit(s, {.since = controlTime(5), .until = controlTime(9), .author = "bob"});
  ASSERT_EQ(bob_window.size(), 3u);
  EXPECT_EQ(bob_window[0].target, "t9");
  EXPECT_EQ(bob_window[2].target, "t5");

  EXPECT_TRUE(s.audit({.author = "nobody"})->entries.empty());
  EXPECT_TRUE(s.audit({.before_seq = all.back().seq})->entries.empty());
}

TYPED_TEST_P(ControlStoreTest, EveryChangeIsAudited) {
  control::ControlStore& s = this->store();
  ASSERT_TRUE(s.commitRules(0, ruleVersionFor(1), auditFor("rules.seed", 1, 1)).ok());
  ASSERT_TRUE(s.putBreakerSetting({"redis"}, auditFor("breaker.mode", 0, 2)).ok());
  ASSERT_TRUE(s.putSale({fullSaleSpec("drop", 3), ""}, auditFor("sale.create", 0, 3)).ok());
  ASSERT_TRUE(s.commitRules(1, ruleVersionFor(2), auditFor("rule.put", 2, 4)).ok());
  ASSERT_TRUE(s.appendAudit(auditFor("rules.reload", 0, 5)).ok());
  EXPECT_TRUE(absl::IsAborted(s.commitRules(1, ruleVersionFor(2), auditFor("rule.put", 2, 6))));
  const std::vector<control::AuditEntry> all = allAudit(s, {});
  std::vector<std::string> actions;
  for (const control::AuditEntry& e : all) actions.push_back(e.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"rules.reload", "rule.put", "sale.create",
                                               "breaker.mode", "rules.seed"}));
  EXPECT_EQ(all[1].version, 2u);
}

REGISTER_TYPED_TEST_SUITE_P(ControlStoreTest, StartsEmpty, CommitKeepsEveryFieldAndItsAuditEntry,
                            CommitIsACompareAndSetOnTheVersion,
                            VersionsAreListedNewestFirstAndPrunedTo100,
                            BreakerSettingsAreReplacedByName, SalesAreUpsertedInFirstPutOrder,
                            AuditPagesNewestFirstAndFilters, EveryChangeIsAudited);

}  // namespace seckill::testing
