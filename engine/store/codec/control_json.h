#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/core/control/control_store.h"
#include "engine/core/control/rule_document.h"
#include "nlohmann/json_fwd.hpp"

// The control state as JSON: the one codec every persistent ControlStore (state dir, Redis)
// writes and reads. Durations are integer nanoseconds ("per_ns"), instants integer unix
// microseconds ("at"), enums their config names ("token_bucket", "forced_open", "fifo").
//
// RuleDocument, format 2 (written):
//   {"format":2,
//    "rules":[{"id":"...","path":"/api/**","method":"POST"|null,"scope":"user",
//              "algorithm":"token_bucket","rate":10,"per_ns":1000000000,"burst":20,"queue":0,
//              "warmup_ns":0,"on_limit":"reject","max_wait_ns":0,"distributed":false,
//              "line":12}, ...],
//    "overrides":[{"prefix":"/api","mode":"shed"}, ...]}
// Format 1 (read only: what RedisRuleStore wrote before) has no "overrides" and no rule ids.
// RuleVersion:  {"change":{"version":3,"at":<µs>,"author":"","peer":"","source":"api",
//                          "comment":"","node":""},
//                "doc":<RuleDocument>,"file_digest":""}
// BreakerSetting: {"name":"redis","mode":"forced_open","file_mode":"normal"}
// SaleRecord:   {"id":"drop","name":"","stock":10,"opens_at":<µs>,"closes_at":<µs>,
//                "require_token":false,"strategy":"atomic","pay_timeout_ns":...,
//                "dedup_ttl_ns":...,"token_ttl_ns":...,"file_digest":""}
//                (opens_at / closes_at absent or null when the spec has none)
// AuditEntry:   {"seq":1,"at":<µs>,"author":"","peer":"","node":"","action":"rules.apply",
//                "target":"","detail":"","version":3}
//
// Decoding checks shape and types only (not, say, validateDocument): InvalidArgument whose
// message names the value ("rule version JSON: \"doc.rules[2].rate\" must be an integer").
// Never throws.
namespace seckill::codec {

// The rule document format written by ruleDocumentToJson.
inline constexpr int kRuleDocumentFormat = 2;

// The decoders' `what` names the value in their messages ("rule version JSON: ...",
// "/var/lib/seckill/audit.log line 12: ...").
std::string ruleDocumentToJson(const control::RuleDocument& doc);
// Reads format 1 or 2.
absl::StatusOr<control::RuleDocument> ruleDocumentFromJson(
    std::string_view json, std::string_view what = "rule document JSON");

std::string ruleVersionToJson(const control::RuleVersion& version);
absl::StatusOr<control::RuleVersion> ruleVersionFromJson(
    std::string_view json, std::string_view what = "rule version JSON");

std::string breakerSettingToJson(const control::BreakerSetting& setting);
absl::StatusOr<control::BreakerSetting> breakerSettingFromJson(
    std::string_view json, std::string_view what = "breaker setting JSON");

std::string saleRecordToJson(const control::SaleRecord& record);
absl::StatusOr<control::SaleRecord> saleRecordFromJson(std::string_view json,
                                                       std::string_view what = "sale record JSON");

std::string auditEntryToJson(const control::AuditEntry& entry);
absl::StatusOr<control::AuditEntry> auditEntryFromJson(std::string_view json,
                                                       std::string_view what = "audit entry JSON");

// `j` as text, never throwing: invalid UTF-8 in a string (an author, a comment) becomes U+FFFD.
std::string dump(const nlohmann::json& j);

// The same as JSON values, for stores that nest them in a larger document (include
// "nlohmann/json.hpp" to use them). `what` names the value in error messages: "state dir
// sales.json: \"sales[2].stock\" must be an integer" for what = "state dir sales.json",
// path = "sales[2]".
nlohmann::json toJson(const control::RuleDocument& doc);
nlohmann::json toJson(const control::RuleVersion& version);
nlohmann::json toJson(const control::BreakerSetting& setting);
nlohmann::json toJson(const control::SaleRecord& record);
nlohmann::json toJson(const control::AuditEntry& entry);

absl::StatusOr<control::RuleDocument> decodeRuleDocument(const nlohmann::json& j,
                                                         std::string_view what,
                                                         std::string_view path = "");
absl::StatusOr<control::RuleVersion> decodeRuleVersion(const nlohmann::json& j,
                                                       std::string_view what,
                                                       std::string_view path = "");
absl::StatusOr<control::BreakerSetting> decodeBreakerSetting(const nlohmann::json& j,
                                                             std::string_view what,
                                                             std::string_view path = "");
absl::StatusOr<control::SaleRecord> decodeSaleRecord(const nlohmann::json& j, std::string_view what,
                                                     std::string_view path = "");
absl::StatusOr<control::AuditEntry> decodeAuditEntry(const nlohmann::json& j, std::string_view what,
                                                     std::string_view path = "");

}  // namespace seckill::codec
