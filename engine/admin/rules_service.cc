#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/admin/admin_services.h"
#include "engine/admin/proto_convert.h"
#include "engine/core/strings.h"

namespace seckill::admin {
namespace {

grpc::Status invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

grpc::Status needExpected() {
  return invalid(
      "expected_version: required (the version the change is based on; Rules.List gives the "
      "running one)");
}

// The rule with its live counters from the running set (zeros if the set does not have it).
v1::RuleView viewOf(const ratelimit::RuleSpec& spec, const ratelimit::RuleSet& running) {
  v1::RuleView view;
  *view.mutable_rule() = ruleToProto(spec);
  view.set_name(spec.name());
  if (const ratelimit::CompiledRule* r = running.find(spec.id)) {
    const ratelimit::RuleCounters& c = r->state->counters();
    v1::RuleCounters* out = view.mutable_counters();
    out->set_passed(c.passed());
    out->set_limited(c.limited());
    out->set_queued(c.queued());
    out->set_shadow_limited(c.shadowLimited());
  }
  return view;
}

// The URL trie: one node per pattern segment, each rule on the node its pattern ends at.
void addToTrie(v1::TrieNode* root, const v1::RuleView& view) {
  v1::TrieNode* node = root;
  std::string path;
  const std::string& pattern = view.rule().path();
  if (pattern != "/") {
    for (absl::string_view seg : absl::StrSplit(pattern.substr(1), '/')) {
      absl::StrAppend(&path, "/", seg);
      v1::TrieNode* next = nullptr;
      for (v1::TrieNode& child : *node->mutable_children()) {
        if (child.segment() == seg) next = &child;
      }
      if (next == nullptr) {
        next = node->add_children();
        next->set_segment(std::string(seg));
        next->set_path(path);
      }
      node = next;
    }
  }
  *node->add_rules() = view;
}

// Fills the rule ids of problems from the document they are about.
void problemsToProto(const std::vector<ratelimit::RuleProblem>& problems,
                     const control::RuleDocument& doc,
                     google::protobuf::RepeatedPtrField<v1::ValidationError>* out) {
  ::seckill::admin::problemsToProto(problems, out);
  std::vector<ratelimit::RuleSpec> rules = doc.rules;
  ratelimit::assignRuleIds(rules);
  for (v1::ValidationError& e : *out) {
    if (e.rule_index() >= 0 && e.rule_index() < static_cast<int>(rules.size())) {
      e.set_rule_id(rules[e.rule_index()].id);
    }
  }
}

v1::ApplyRulesResponse appliedToProto(const control::RuleControl::Applied& a) {
  v1::ApplyRulesResponse out;
  out.set_version(a.version);
  out.set_changed(a.changed);
  *out.mutable_change() = changeToProto(a.change);
  return out;
}

}  // namespace

absl::StatusOr<control::RuleVersion> RulesService::version(uint64_t v) {
  control::RuleVersion running = deps_.rules.current();
  if (v == 0 || v == running.change.version) return running;
  absl::StatusOr<std::optional<control::RuleVersion>> kept = deps_.state.ruleVersion(v);
  if (!kept.ok()) return kept.status();
  if (!kept->has_value()) {
    return absl::NotFoundError(absl::StrCat("rule set version ", v, " is not kept"));
  }
  return **kept;
}

grpc::Status RulesService::List(grpc::ServerContext*, const v1::ListRulesRequest*,
                                v1::ListRulesResponse* out) {
  const control::RuleVersion v = deps_.rules.current();
  std::shared_ptr<const ratelimit::RuleSet> running = deps_.registry.current();
  out->set_version(v.change.version);
  *out->mutable_change() = changeToProto(v.change);
  *out->mutable_set() = documentToProto(v.doc);
  v1::TrieNode* root = out->mutable_root();
  root->set_path("/");
  for (const ratelimit::RuleSpec& spec : v.doc.rules) {
    v1::RuleView view = viewOf(spec, *running);
    addToTrie(root, view);
    *out->add_rules() = std::move(view);
  }
  return grpc::Status::OK;
}

grpc::Status RulesService::Get(grpc::ServerContext*, const v1::GetRuleRequest* req,
                               v1::GetRuleResponse* out) {
  if (req->id().empty() == req->path().empty()) return invalid("give id or path (not both)");
  const control::RuleVersion v = deps_.rules.current();
  std::shared_ptr<const ratelimit::RuleSet> running = deps_.registry.current();
  out->set_version(v.change.version);
  for (const ratelimit::RuleSpec& spec : v.doc.rules) {
    const bool hit = !req->id().empty()
                         ? spec.id == req->id()
                         : spec.path == req->path() &&
                               (req->method().empty() || spec.method.value_or("") == req->method());
    if (hit) *out->add_rules() = viewOf(spec, *running);
  }
  if (out->rules().empty()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        req->id().empty() ? absl::StrCat("no rule at path \"", req->path(), "\"")
                                          : absl::StrCat("no rule with id \"", req->id(), "\""));
  }
  return grpc::Status::OK;
}

grpc::Status RulesService::Validate(grpc::ServerContext* context,
                                    const v1::ValidateRulesRequest* req,
                                    v1::ValidateRulesResponse* out) {
  control::RuleDocument doc;
  std::vector<ratelimit::RuleProblem> problems;
  switch (req->source_case()) {
    case v1::ValidateRulesRequest::kSet: {
      absl::StatusOr<control::RuleDocument> d = documentFromProto(req->set(), "set");
      if (!d.ok()) return answer(*context, d.status());
      doc = *std::move(d);
      break;
    }
    case v1::ValidateRulesRequest::kToml: {
      absl::StatusOr<control::RuleDocument> d = deps_.rule_file.parse(req->toml(), &problems);
      if (!d.ok()) {
        out->set_valid(false);
        if (problems.empty()) problems.push_back({-1, "", 0, std::string(d.status().message())});
        problemsToProto(problems, control::RuleDocument{}, out->mutable_errors());
        return grpc::Status::OK;
      }
      doc = *std::move(d);
      break;
    }
    case v1::ValidateRulesRequest::kRule: {
      absl::StatusOr<ratelimit::RuleSpec> r = ruleFromProto(req->rule(), "rule");
      if (!r.ok()) return answer(*context, r.status());
      doc = deps_.rules.current().doc;
      std::vector<ratelimit::RuleSpec> one{*r};
      ratelimit::assignRuleIds(one);
      bool replaced = false;
      for (ratelimit::RuleSpec& existing : doc.rules) {
        if (existing.id == one[0].id) {
          existing = one[0];
          replaced = true;
        }
      }
      if (!replaced) doc.rules.push_back(one[0]);
      break;
    }
    default:
      return invalid("source: give set, toml or rule");
  }
  control::normalize(doc);
  problems = control::checkDocument(doc);
  out->set_valid(problems.empty());
  problemsToProto(problems, doc, out->mutable_errors());
  *out->mutable_set() = documentToProto(doc);
  return grpc::Status::OK;
}

grpc::Status RulesService::Apply(grpc::ServerContext* context, const v1::ApplyRulesRequest* req,
                                 v1::ApplyRulesResponse* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (!req->has_expected_version()) return needExpected();
  absl::StatusOr<control::RuleDocument> doc;
  switch (req->source_case()) {
    case v1::ApplyRulesRequest::kSet:
      doc = documentFromProto(req->set(), "set");
      break;
    case v1::ApplyRulesRequest::kToml:
      doc = deps_.rule_file.parse(req->toml(), nullptr);
      break;
    default:
      return invalid("source: give set or toml");
  }
  if (!doc.ok()) return answer(*context, doc.status());
  absl::StatusOr<control::RuleControl::Applied> a = deps_.rules.apply(
      *std::move(doc), req->expected_version(), caller.actor(), req->comment());
  if (!a.ok()) return answer(*context, a.status());
  *out = appliedToProto(*a);
  return grpc::Status::OK;
}

grpc::Status RulesService::PutRule(grpc::ServerContext* context, const v1::PutRuleRequest* req,
                                   v1::ApplyRulesResponse* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (!req->has_expected_version()) return needExpected();
  absl::StatusOr<ratelimit::RuleSpec> rule = ruleFromProto(req->rule(), "rule");
  if (!rule.ok()) return answer(*context, rule.status());
  std::vector<ratelimit::RuleSpec> one{*std::move(rule)};
  ratelimit::assignRuleIds(one);
  const std::string id = one[0].id;
  absl::StatusOr<control::RuleControl::Applied> a = deps_.rules.edit(
      "rule.put", id,
      [&one](control::RuleDocument& doc) {
        for (ratelimit::RuleSpec& existing : doc.rules) {
          if (existing.id == one[0].id) {
            existing = one[0];
            return absl::OkStatus();
          }
        }
        doc.rules.push_back(one[0]);
        return absl::OkStatus();
      },
      req->expected_version(), caller.actor(), req->comment());
  if (!a.ok()) return answer(*context, a.status());
  *out = appliedToProto(*a);
  return grpc::Status::OK;
}

grpc::Status RulesService::DeleteRule(grpc::ServerContext* context,
                                      const v1::DeleteRuleRequest* req,
                                      v1::ApplyRulesResponse* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (!req->has_expected_version()) return needExpected();
  if (req->id().empty()) return invalid("id: required");
  absl::StatusOr<control::RuleControl::Applied> a = deps_.rules.edit(
      "rule.delete", req->id(),
      [&req](control::RuleDocument& doc) {
        const size_t before = doc.rules.size();
        std::erase_if(doc.rules, [&](const ratelimit::RuleSpec& r) { return r.id == req->id(); });
        if (doc.rules.size() == before) {
          return absl::NotFoundError(absl::StrCat("no rule with id \"", req->id(), "\""));
        }
        return absl::OkStatus();
      },
      req->expected_version(), caller.actor(), req->comment());
  if (!a.ok()) return answer(*context, a.status());
  *out = appliedToProto(*a);
  return grpc::Status::OK;
}

grpc::Status RulesService::ListVersions(grpc::ServerContext* context,
                                        const v1::ListVersionsRequest* req,
                                        v1::ListVersionsResponse* out) {
  if (req->limit() < 0 || req->limit() > 1000) return invalid("limit: 0-1000 (0: 50)");
  const size_t limit = req->limit() == 0 ? 50 : static_cast<size_t>(req->limit());
  absl::StatusOr<std::vector<control::Change>> versions = deps_.state.ruleVersions(limit);
  if (!versions.ok()) return answer(*context, versions.status());
  out->set_current(deps_.rules.current().change.version);
  for (const control::Change& c : *versions) *out->add_versions() = changeToProto(c);
  return grpc::Status::OK;
}

grpc::Status RulesService::Diff(grpc::ServerContext* context, const v1::DiffRulesRequest* req,
                                v1::DiffRulesResponse* out) {
  if (req->from_version() == 0) return invalid("from_version: required");
  absl::StatusOr<control::RuleVersion> from = version(req->from_version());
  if (!from.ok()) return answer(*context, from.status());
  absl::StatusOr<control::RuleVersion> to = version(req->to_version());
  if (!to.ok()) return answer(*context, to.status());
  *out = diffToProto(control::diffDocuments(from->doc, to->doc));
  out->set_from_version(from->change.version);
  out->set_to_version(to->change.version);
  *out->mutable_from_set() = documentToProto(from->doc);
  *out->mutable_to_set() = documentToProto(to->doc);
  return grpc::Status::OK;
}

grpc::Status RulesService::Rollback(grpc::ServerContext* context,
                                    const v1::RollbackRulesRequest* req,
                                    v1::ApplyRulesResponse* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (!req->has_expected_version()) return needExpected();
  if (req->to_version() == 0) return invalid("to_version: required");
  absl::StatusOr<control::RuleControl::Applied> a = deps_.rules.rollback(
      req->to_version(), req->expected_version(), caller.actor(), req->comment());
  if (!a.ok()) return answer(*context, a.status());
  *out = appliedToProto(*a);
  return grpc::Status::OK;
}

grpc::Status RulesService::Export(grpc::ServerContext* context, const v1::ExportRulesRequest* req,
                                  v1::ExportRulesResponse* out) {
  absl::StatusOr<control::RuleVersion> v = version(req->version());
  if (!v.ok()) return answer(*context, v.status());
  out->set_version(v->change.version);
  out->set_toml(deps_.rule_file.format(v->doc));
  return grpc::Status::OK;
}

}  // namespace seckill::admin
