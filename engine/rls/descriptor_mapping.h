#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "envoy/service/ratelimit/v3/rls.pb.h"

// How the rate-limit service's descriptors meet the engine's rules (docs/envoy.md): the
// translation from Envoy's protos to the core's RequestInfo and from its Verdict back. Pure
// functions; no gRPC server types.
namespace seckill::rls {

namespace envoy_rls = ::envoy::service::ratelimit::v3;

// [rls] max_hits_addend: the default, and the largest it may be set to (Envoy's own bound on a
// route's hits_addend; it keeps every limiter's arithmetic in range).
inline constexpr uint64_t kDefaultMaxHitsAddend = 1'000'000;
inline constexpr uint64_t kMaxHitsAddendLimit = 1'000'000'000;
// Larger requests are refused whole (INVALID_ARGUMENT).
inline constexpr size_t kMaxDescriptors = 64;
// A descriptor's path has 1 + 2 x entries segments; a rule names at most kMaxPathSegments (64).
inline constexpr size_t kMaxEntries = 31;
// The entry key a descriptor's client address comes under (Envoy's remote_address action):
// also the request's ip, for scope = "ip" rules.
inline constexpr std::string_view kRemoteAddressKey = "remote_address";

struct MappingOptions {
  // The only domain answered ([rls] domain); a request for another one is refused.
  std::string domain = "seckill";
  // Larger hits_addend values are refused ([rls] max_hits_addend).
  uint64_t max_hits_addend = kDefaultMaxHitsAddend;
};

// One descriptor as the rule trie sees it. Views into the request: valid while it is.
struct DescriptorQuery {
  // "/<domain>/<key1>/<value1>/<key2>/<value2>...", each segment percent-encoded
  // (appendSegment), so a value holding '/' stays one segment.
  std::string path;
  // Every entry as a header named by its key, raw (for scope = "header:<key>" rules); the first
  // of two entries with one key wins.
  absl::InlinedVector<ratelimit::RequestInfo::Header, 4> headers;
  std::string_view ip;  // the remote_address entry's value, or empty
  uint32_t hits = 1;    // 0: a peek (a descriptor's hits_addend of 0)

  // The request the core decides; it views this query.
  ratelimit::RequestInfo info() const {
    return ratelimit::RequestInfo{.method = {}, .path = path, .user_id = {}, .ip = ip,
                                  .headers = headers, .hits = hits};
  }
};

// Validates `request` and maps each of its descriptors, in order, into `out` (replaced).
// InvalidArgument naming the field otherwise: "domain: empty", "descriptors: empty",
// "descriptors[2].entries: empty", "descriptors[0].entries[1].value: empty",
// "descriptors[1].hits_addend: 5000000 exceeds the maximum 1000000 ([rls] max_hits_addend)",
// a domain other than options.domain, more than kMaxDescriptors or kMaxEntries.
//
// hits: the request's hits_addend, 0 counting as 1 (Envoy's default); a descriptor's own
// hits_addend, when set, replaces it, and 0 there means "check without consuming". A
// descriptor's `limit` override is ignored: the engine's rules decide.
absl::Status mapRequest(const envoy_rls::RateLimitRequest& request, const MappingOptions& options,
                        std::vector<DescriptorQuery>* out);

// Appends '/' and `raw` percent-encoded as one path segment: every byte outside RFC 3986's
// unreserved and sub-delims (and ':' '@') as %XX, '%', '*', '/', '?' and '#' included. A rule
// names such a value literally in that form ("/edge/path/%2Fapi%2Fcart").
void appendSegment(std::string& path, std::string_view raw);

// What the response says for one descriptor decided as `v` (see docs/envoy.md):
// kAllow, kDelay (a queue rule's slot is reserved; the service cannot delay) and kShadow (a
// log-mode rule or a dry-run override) are OK; kReject, kShed and kUnavailable (a distributed
// rule's backend failed under distributed_failure = "closed") are OVER_LIMIT. current_limit,
// limit_remaining and duration_until_reset come from the deciding rule (or the tightest one
// that admitted); no rule met leaves them unset.
void toStatus(const ratelimit::Verdict& v, envoy_rls::RateLimitResponse::DescriptorStatus* out);

// True iff `v` answers OVER_LIMIT.
bool isOverLimit(const ratelimit::Verdict& v);

}  // namespace seckill::rls
