#include "engine/rls/descriptor_mapping.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::rls {

namespace {

using Status = envoy_rls::RateLimitResponse;

// RFC 3986 pchar minus '%' (always encoded) and '*' (a rule's wildcard): what a literal rule
// segment may hold unencoded.
bool plainSegmentChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("-._~!$&'()+,;=:@").find(c) != std::string_view::npos;
}

absl::Status invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(av(field), ": ", av(problem)));
}

// hits_addend `hits` of `field`, or InvalidArgument above the maximum.
absl::Status checkHits(uint64_t hits, std::string_view field, const MappingOptions& options) {
  if (hits <= options.max_hits_addend) return absl::OkStatus();
  return invalid(field, absl::StrCat(hits, " exceeds the maximum ", options.max_hits_addend,
                                     " ([rls] max_hits_addend)"));
}

Status::RateLimit::Unit unitOf(absl::Duration per) {
  if (per == absl::Seconds(1)) return Status::RateLimit::SECOND;
  if (per == absl::Minutes(1)) return Status::RateLimit::MINUTE;
  if (per == absl::Hours(1)) return Status::RateLimit::HOUR;
  if (per == absl::Hours(24)) return Status::RateLimit::DAY;
  return Status::RateLimit::UNKNOWN;
}

uint32_t clampU32(int64_t v) {
  return static_cast<uint32_t>(std::clamp<int64_t>(v, 0, std::numeric_limits<uint32_t>::max()));
}

}  // namespace

void appendSegment(std::string& path, std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  path.push_back('/');
  for (char c : raw) {
    if (plainSegmentChar(c)) {
      path.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      path.push_back('%');
      path.push_back(kHex[u >> 4]);
      path.push_back(kHex[u & 0xf]);
    }
  }
}

absl::Status mapRequest(const envoy_rls::RateLimitRequest& request, const MappingOptions& options,
                        std::vector<DescriptorQuery>* out) {
  out->clear();
  const std::string& domain = request.domain();
  if (domain.empty()) return invalid("domain", "empty");
  if (domain != options.domain) {
    return invalid("domain", absl::StrCat("\"", domain, "\" is not served here (this service answers for \"",
                                          options.domain, "\": [rls] domain)"));
  }
  if (request.descriptors().empty()) return invalid("descriptors", "empty");
  if (static_cast<size_t>(request.descriptors_size()) > kMaxDescriptors) {
    return invalid("descriptors", absl::StrCat(request.descriptors_size(), " descriptors (at most ",
                                               kMaxDescriptors, ")"));
  }
  if (absl::Status s = checkHits(request.hits_addend(), "hits_addend", options); !s.ok()) return s;
  const uint32_t request_hits = request.hits_addend() == 0 ? 1 : request.hits_addend();

  out->resize(static_cast<size_t>(request.descriptors_size()));
  for (int i = 0; i < request.descriptors_size(); ++i) {
    const auto& d = request.descriptors(i);
    DescriptorQuery& q = (*out)[static_cast<size_t>(i)];
    const std::string field = absl::StrCat("descriptors[", i, "]");
    if (d.entries().empty()) return invalid(absl::StrCat(field, ".entries"), "empty");
    if (static_cast<size_t>(d.entries_size()) > kMaxEntries) {
      return invalid(absl::StrCat(field, ".entries"),
                     absl::StrCat(d.entries_size(), " entries (at most ", kMaxEntries, ")"));
    }
    q.hits = request_hits;
    if (d.has_hits_addend()) {
      const uint64_t hits = d.hits_addend().value();
      if (absl::Status s = checkHits(hits, absl::StrCat(field, ".hits_addend"), options); !s.ok()) {
        return s;
      }
      q.hits = static_cast<uint32_t>(hits);
    }
    size_t bytes = 1 + domain.size();
    for (const auto& e : d.entries()) bytes += 2 + e.key().size() + e.value().size();
    q.path.reserve(bytes + bytes / 4);
    appendSegment(q.path, domain);
    q.headers.reserve(static_cast<size_t>(d.entries_size()));
    for (int j = 0; j < d.entries_size(); ++j) {
      const auto& e = d.entries(j);
      if (e.key().empty()) return invalid(absl::StrCat(field, ".entries[", j, "].key"), "empty");
      if (e.value().empty()) return invalid(absl::StrCat(field, ".entries[", j, "].value"), "empty");
      appendSegment(q.path, e.key());
      appendSegment(q.path, e.value());
      q.headers.push_back(ratelimit::RequestInfo::Header{e.key(), e.value()});
      if (q.ip.empty() && e.key() == kRemoteAddressKey) q.ip = e.value();
    }
  }
  return absl::OkStatus();
}

bool isOverLimit(const ratelimit::Verdict& v) {
  switch (v.kind) {
    case ratelimit::Verdict::kAllow:
    case ratelimit::Verdict::kDelay:
    case ratelimit::Verdict::kShadow:
      return false;
    case ratelimit::Verdict::kReject:
    case ratelimit::Verdict::kShed:
    case ratelimit::Verdict::kUnavailable:
      return true;
  }
  return false;
}

void toStatus(const ratelimit::Verdict& v, Status::DescriptorStatus* out) {
  out->set_code(isOverLimit(v) ? Status::OVER_LIMIT : Status::OK);
  if (v.has_quota) {
    Status::RateLimit* limit = out->mutable_current_limit();
    limit->set_requests_per_unit(clampU32(v.rate));
    limit->set_unit(unitOf(v.window));
    if (!v.rule.empty()) limit->set_name(v.rule);
    out->set_limit_remaining(clampU32(v.remaining));
  }
  // The quota's reset; for an override's shed and a failed backend, when to try again.
  const absl::Duration reset = v.has_quota ? v.reset : isOverLimit(v) ? v.wait : absl::ZeroDuration();
  if (v.has_quota || reset > absl::ZeroDuration()) {
    const int64_t ns = absl::ToInt64Nanoseconds(reset);
    out->mutable_duration_until_reset()->set_seconds(ns / 1'000'000'000);
    out->mutable_duration_until_reset()->set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  }
}

}  // namespace seckill::rls
