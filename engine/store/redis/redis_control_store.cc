#include "engine/store/redis/redis_control_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/core/control/actor.h"
#include "engine/core/strings.h"
#include "engine/store/codec/control_json.h"
#include "engine/store/redis/redis_reply_util.h"
#include "engine/store/redis/redis_scripts.h"

namespace seckill {

using control::AuditEntry;
using control::AuditPage;
using control::AuditQuery;
using control::BreakerSetting;
using control::Change;
using control::ControlTopic;
using control::RuleVersion;
using control::SaleRecord;
using redis_internal::asInt;
using redis_internal::asString;

std::vector<RedisScript> controlScripts() {
  return {
      {"control_commit_rules", std::string(redis_scripts::kControlCommitRules)},
      {"control_put", std::string(redis_scripts::kControlPut)},
      {"control_append_audit", std::string(redis_scripts::kControlAppendAudit)},
  };
}

namespace {

namespace keys = redis_keys;

// The sk:{control}:gen field of each ControlTopic.
constexpr std::array<std::string_view, 3> kTopicFields = {"rules", "breakers", "sales"};
// Audit entries read per XREVRANGE while a query filters.
constexpr size_t kAuditBatch = 500;
// More new generations of a topic than this in one poll are not checked one by one.
constexpr uint64_t kMaxGenerationGap = 1024;

size_t topicIndex(ControlTopic t) { return static_cast<size_t>(t); }

absl::Status malformed(std::string_view what) {
  return absl::InternalError(absl::StrCat("Redis control state: malformed reply to ", av(what)));
}

// What a decoder refused in `key`: DataLoss naming the key.
absl::Status corrupt(std::string_view key, const absl::Status& s) {
  return absl::DataLossError(absl::StrCat("Redis ", av(key), ": ", s.message()));
}

std::string str(std::string_view s) { return std::string(s); }

}  // namespace

RedisControlStore::RedisControlStore(RedisClient& client, RedisControlStoreOptions options)
    : client_(client), options_(std::move(options)) {}

RedisControlStore::~RedisControlStore() { stop(); }

absl::StatusOr<std::optional<RuleVersion>> RedisControlStore::currentRules() {
  absl::StatusOr<RedisReply> r =
      client_.commandSync(keys::kControlRoute, {"GET", str(keys::kControlRules)});
  if (!r.ok()) return r.status();
  if (r->isNil()) return std::optional<RuleVersion>();
  absl::StatusOr<RuleVersion> v = codec::ruleVersionFromJson(asString(*r));
  if (!v.ok()) return corrupt(keys::kControlRules, v.status());
  return std::optional<RuleVersion>(*std::move(v));
}

absl::Status RedisControlStore::commitRules(uint64_t expected, const RuleVersion& next,
                                            const AuditEntry& audit) {
  if (next.change.version != expected + 1) {
    return absl::InvalidArgumentError(absl::StrCat("rule set version ", next.change.version,
                                                   " cannot follow version ", expected));
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<RedisReply> r = client_.evalSync(
      keys::kControlRoute, options_.first_script + kScriptControlCommitRules,
      {str(keys::kControlRules), str(keys::kControlRulesVersion), str(keys::kControlRulesHistory),
       str(keys::kControlAudit), str(keys::kControlAuditSeq), str(keys::kControlGen)},
      {absl::StrCat(expected), absl::StrCat(next.change.version), codec::ruleVersionToJson(next),
       codec::auditEntryToJson(audit), absl::StrCat(options_.keep_versions),
       absl::StrCat(options_.audit_length)});
  if (!r.ok()) return r.status();
  const std::vector<RedisReply>& e = r->elements;
  if (e.size() == 2 && asInt(e[0]) == 0 && asInt(e[1]) && *asInt(e[1]) >= 0) {
    return control::staleVersion(expected, static_cast<uint64_t>(*asInt(e[1])));
  }
  if (e.size() != 4 || asInt(e[0]) != 1 || !asInt(e[3])) return malformed("control_commit_rules");
  noteOwn(ControlTopic::kRules, static_cast<uint64_t>(*asInt(e[3])));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Change>> RedisControlStore::ruleVersions(size_t limit) {
  std::vector<Change> out;
  if (limit == 0) return out;
  absl::StatusOr<RedisReply> r =
      client_.commandSync(keys::kControlRoute, {"HKEYS", str(keys::kControlRulesHistory)});
  if (!r.ok()) return r.status();
  std::vector<uint64_t> versions;
  for (const RedisReply& field : r->elements) {
    uint64_t v = 0;
    if (absl::SimpleAtoi(asString(field), &v)) versions.push_back(v);
  }
  std::sort(versions.rbegin(), versions.rend());
  if (versions.size() > limit) versions.resize(limit);
  if (versions.empty()) return out;
  std::vector<std::string> argv = {"HMGET", str(keys::kControlRulesHistory)};
  for (uint64_t v : versions) argv.push_back(absl::StrCat(v));
  absl::StatusOr<RedisReply> got = client_.commandSync(keys::kControlRoute, std::move(argv));
  if (!got.ok()) return got.status();
  if (got->elements.size() != versions.size()) return malformed("HMGET rule history");
  for (size_t i = 0; i < versions.size(); ++i) {
    if (got->elements[i].isNil()) continue;  // trimmed meanwhile
    absl::StatusOr<RuleVersion> v = codec::ruleVersionFromJson(asString(got->elements[i]));
    if (!v.ok()) {
      return corrupt(absl::StrCat(av(keys::kControlRulesHistory), " ", versions[i]), v.status());
    }
    out.push_back(std::move(v->change));
  }
  return out;
}

absl::StatusOr<std::optional<RuleVersion>> RedisControlStore::ruleVersion(uint64_t version) {
  absl::StatusOr<RedisReply> r = client_.commandSync(
      keys::kControlRoute, {"HGET", str(keys::kControlRulesHistory), absl::StrCat(version)});
  if (!r.ok()) return r.status();
  if (r->isNil()) return std::optional<RuleVersion>();
  absl::StatusOr<RuleVersion> v = codec::ruleVersionFromJson(asString(*r));
  if (!v.ok())
    return corrupt(absl::StrCat(av(keys::kControlRulesHistory), " ", version), v.status());
  return std::optional<RuleVersion>(*std::move(v));
}

absl::StatusOr<std::vector<BreakerSetting>> RedisControlStore::breakerSettings() {
  absl::StatusOr<RedisReply> r =
      client_.commandSync(keys::kControlRoute, {"HGETALL", str(keys::kControlBreakers)});
  if (!r.ok()) return r.status();
  if (r->elements.size() % 2 != 0) return malformed("HGETALL breakers");
  std::vector<BreakerSetting> out;
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    absl::StatusOr<BreakerSetting> s = codec::breakerSettingFromJson(asString(r->elements[i + 1]));
    if (!s.ok()) {
      return corrupt(absl::StrCat(av(keys::kControlBreakers), " ", asString(r->elements[i])),
                     s.status());
    }
    out.push_back(*std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const BreakerSetting& a, const BreakerSetting& b) { return a.name < b.name; });
  return out;
}

absl::Status RedisControlStore::putBreakerSetting(const BreakerSetting& setting,
                                                  const AuditEntry& audit) {
  return put(ControlTopic::kBreakers, keys::kControlBreakers, setting.name,
             codec::breakerSettingToJson(setting), audit);
}

absl::StatusOr<std::vector<SaleRecord>> RedisControlStore::sales() {
  // The order first: a sale put between the two reads is then last either way.
  absl::StatusOr<RedisReply> order = client_.commandSync(
      keys::kControlRoute, {"LRANGE", str(keys::kControlSalesOrder), "0", "-1"});
  if (!order.ok()) return order.status();
  absl::StatusOr<RedisReply> all =
      client_.commandSync(keys::kControlRoute, {"HGETALL", str(keys::kControlSales)});
  if (!all.ok()) return all.status();
  if (all->elements.size() % 2 != 0) return malformed("HGETALL sales");
  std::map<std::string, std::string> json;  // id -> record
  for (size_t i = 0; i + 1 < all->elements.size(); i += 2) {
    json[asString(all->elements[i])] = asString(all->elements[i + 1]);
  }
  std::vector<std::string> ids;
  std::set<std::string> listed;
  for (const RedisReply& id : order->elements) {
    std::string s = asString(id);
    if (json.contains(s) && listed.insert(s).second) ids.push_back(std::move(s));
  }
  for (const auto& [id, record] : json) {
    if (!listed.contains(id)) ids.push_back(id);  // not in the order list (written by hand)
  }
  std::vector<SaleRecord> out;
  for (const std::string& id : ids) {
    absl::StatusOr<SaleRecord> r = codec::saleRecordFromJson(json[id]);
    if (!r.ok()) return corrupt(absl::StrCat(av(keys::kControlSales), " ", id), r.status());
    out.push_back(*std::move(r));
  }
  return out;
}

absl::Status RedisControlStore::putSale(const SaleRecord& record, const AuditEntry& audit) {
  return put(ControlTopic::kSales, keys::kControlSales, record.spec.id,
             codec::saleRecordToJson(record), audit);
}

absl::Status RedisControlStore::put(ControlTopic topic, std::string_view hash, std::string field,
                                    std::string json, const AuditEntry& audit) {
  std::vector<std::string> k = {str(hash), str(keys::kControlAudit), str(keys::kControlAuditSeq),
                                str(keys::kControlGen)};
  if (topic == ControlTopic::kSales) k.push_back(str(keys::kControlSalesOrder));
  absl::MutexLock lock(&mu_);
  absl::StatusOr<RedisReply> r =
      client_.evalSync(keys::kControlRoute, options_.first_script + kScriptControlPut, std::move(k),
                       {std::move(field), std::move(json), str(kTopicFields[topicIndex(topic)]),
                        codec::auditEntryToJson(audit), absl::StrCat(options_.audit_length)});
  if (!r.ok()) return r.status();
  if (r->elements.size() != 2 || !asInt(r->elements[1])) return malformed("control_put");
  noteOwn(topic, static_cast<uint64_t>(*asInt(r->elements[1])));
  return absl::OkStatus();
}

absl::Status RedisControlStore::appendAudit(const AuditEntry& audit) {
  absl::StatusOr<RedisReply> r =
      client_.evalSync(keys::kControlRoute, options_.first_script + kScriptControlAppendAudit,
                       {str(keys::kControlAudit), str(keys::kControlAuditSeq)},
                       {codec::auditEntryToJson(audit), absl::StrCat(options_.audit_length)});
  if (!r.ok()) return r.status();
  if (!asInt(*r)) return malformed("control_append_audit");
  return absl::OkStatus();
}

absl::StatusOr<AuditPage> RedisControlStore::audit(const AuditQuery& query) {
  const size_t limit = std::max<size_t>(query.limit, 1);
  AuditPage page;
  // Newest first in batches, filtered as selectAuditPage (memory_control_store.h) does.
  std::string end = "+";
  if (query.before_seq) {
    if (*query.before_seq <= 1) return page;
    end = absl::StrCat(*query.before_seq - 1);  // an ID without "-n": all of that seq
  }
  const size_t batch = std::min(std::max(limit + 1, size_t{100}), kAuditBatch);
  while (true) {
    absl::StatusOr<RedisReply> r = client_.commandSync(
        keys::kControlRoute,
        {"XREVRANGE", str(keys::kControlAudit), end, "-", "COUNT", absl::StrCat(batch)});
    if (!r.ok()) return r.status();
    uint64_t seq = 0;
    for (const RedisReply& item : r->elements) {
      if (item.elements.size() != 2) return malformed("XREVRANGE audit");
      const std::string id = asString(item.elements[0]);
      if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &seq)) return malformed("XREVRANGE audit");
      const std::vector<RedisReply>& fields = item.elements[1].elements;
      const RedisReply* json = nullptr;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (asString(fields[i]) == "entry") json = &fields[i + 1];
      }
      if (json == nullptr) return malformed("XREVRANGE audit: an entry without \"entry\"");
      absl::StatusOr<AuditEntry> e = codec::auditEntryFromJson(asString(*json));
      if (!e.ok()) return corrupt(absl::StrCat(av(keys::kControlAudit), " ", id), e.status());
      e->seq = seq;
      if (query.until && e->at > *query.until) continue;
      if (query.since && e->at < *query.since) return page;  // entries are in time order
      if (!query.author.empty() && e->author != query.author) continue;
      if (page.entries.size() == limit) {
        page.next_before = page.entries.back().seq;
        return page;
      }
      page.entries.push_back(*std::move(e));
    }
    if (r->elements.size() < batch || seq <= 1) return page;
    end = absl::StrCat(seq - 1);
  }
}

absl::StatusOr<RedisControlStore::Generations> RedisControlStore::readGenerations() {
  absl::StatusOr<RedisReply> r = client_.commandSync(
      keys::kControlRoute, {"HMGET", str(keys::kControlGen), str(kTopicFields[0]),
                            str(kTopicFields[1]), str(kTopicFields[2])});
  if (!r.ok()) return r.status();
  if (r->elements.size() != kTopics) return malformed("HMGET generations");
  Generations g{};
  for (size_t i = 0; i < kTopics; ++i) {
    g[i] = static_cast<uint64_t>(std::max<int64_t>(asInt(r->elements[i]).value_or(0), 0));
  }
  return g;
}

void RedisControlStore::noteOwn(ControlTopic topic, uint64_t generation) {
  if (!watching_) return;  // nobody compares: keep nothing
  own_[topicIndex(topic)].insert(generation);
}

absl::Status RedisControlStore::watch(std::function<void(ControlTopic)> changed) {
  absl::MutexLock lock(&mu_);
  if (watching_) return absl::FailedPreconditionError("the control watcher runs already");
  watching_ = true;
  changed_ = std::move(changed);
  // The baseline: changes before this call are not reported. Read under mu_, so no write of
  // this store is half noted.
  absl::StatusOr<Generations> g = readGenerations();
  if (g.ok()) seen_ = *g;
  watcher_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void RedisControlStore::stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

void RedisControlStore::run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), options_.poll_interval)) return;
    }
    pollOnce();
  }
}

void RedisControlStore::pollOnce() {
  absl::StatusOr<Generations> now = readGenerations();
  if (!now.ok()) {
    if (!failing_ && options_.on_error) {
      options_.on_error(absl::Status(
          now.status().code(), absl::StrCat("control watcher: cannot read the generations from "
                                            "Redis (changes of other nodes wait): ",
                                            now.status().message())));
    }
    failing_ = true;
    return;
  }
  failing_ = false;
  std::vector<ControlTopic> changed;
  {
    absl::MutexLock lock(&mu_);
    for (size_t t = 0; t < kTopics; ++t) {
      std::set<uint64_t>& own = own_[t];
      const uint64_t to = (*now)[t];
      bool foreign = false;
      if (!seen_) {
        foreign = true;  // no baseline: anything may have changed
      } else if (const uint64_t from = (*seen_)[t]; to != from) {
        if (to < from || to - from > kMaxGenerationGap) {
          foreign = true;  // Redis lost the counter (a restart without persistence), or many
          own.clear();
        } else {
          for (uint64_t gen = from + 1; gen <= to && !foreign; ++gen) foreign = !own.contains(gen);
        }
      }
      own.erase(own.begin(), own.upper_bound(to));
      if (foreign) changed.push_back(static_cast<ControlTopic>(t));
    }
    seen_ = *now;
  }
  for (ControlTopic t : changed) {
    if (changed_) changed_(t);
  }
}

}  // namespace seckill
