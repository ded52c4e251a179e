// Descriptors onto the rule trie's paths and headers, and verdicts back onto statuses.
#include "engine/rls/descriptor_mapping.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rls/rls_test_util.h"

namespace seckill::rls {
namespace {

using ::testing::HasSubstr;
using testing::Desc;
using testing::request;

MappingOptions edge() { return MappingOptions{.domain = "edge", .max_hits_addend = 1000}; }

// The queries view the request: keep it alive while they are read.
std::vector<DescriptorQuery> mapOk(const testing::Request& r, const MappingOptions& o = edge()) {
  std::vector<DescriptorQuery> out;
  absl::Status s = mapRequest(r, o, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// The InvalidArgument message of a refused request ("" if it was accepted).
std::string refusal(const testing::Request& r, const MappingOptions& o = edge()) {
  std::vector<DescriptorQuery> out;
  absl::Status s = mapRequest(r, o, &out);
  if (s.ok()) return "";
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

TEST(DescriptorMappingTest, EntriesBecomePathSegmentsAndHeaders) {
  const auto r = request("edge", {Desc{{{"generic_key", "checkout"}, {"user", "alice"}}},
                                  Desc{{{"remote_address", "10.0.0.7"}}}});
  auto q = mapOk(r);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].path, "/edge/generic_key/checkout/user/alice");
  ASSERT_EQ(q[0].headers.size(), 2u);
  EXPECT_EQ(q[0].headers[0].name, "generic_key");
  EXPECT_EQ(q[0].headers[0].value, "checkout");
  EXPECT_EQ(q[0].headers[1].name, "user");
  EXPECT_EQ(q[0].headers[1].value, "alice");
  EXPECT_EQ(q[0].ip, "");
  EXPECT_EQ(q[1].path, "/edge/remote_address/10.0.0.7");
  EXPECT_EQ(q[1].ip, "10.0.0.7") << "remote_address is also the request's ip";
  const ratelimit::RequestInfo info = q[1].info();
  EXPECT_EQ(info.method, "") << "only rules without a method meet a descriptor";
  EXPECT_EQ(info.path, q[1].path);
  EXPECT_EQ(info.headers.size(), 1u);
  EXPECT_EQ(info.hits, 1u);
}

TEST(DescriptorMappingTest, ValuesAreEscapedSoEachStaysOneSegment) {
  const auto r = request("edge", {Desc{{{"path", "/api/v1/cart?x=1#top"},
                                        {"header_match", "100%*"},
                                        {"ip6", "2001:db8::1"},
                                        {"name", "a b\xc3\xa9"}}}});
  auto q = mapOk(r);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].path,
            "/edge/path/%2Fapi%2Fv1%2Fcart%3Fx=1%23top/header_match/100%25%2A/ip6/2001:db8::1/"
            "name/a%20b%C3%A9");
  EXPECT_EQ(q[0].headers[0].value, "/api/v1/cart?x=1#top") << "headers carry the raw value";
  std::string seg;
  appendSegment(seg, "-._~!$&'()+,;=:@");
  EXPECT_EQ(seg, "/-._~!$&'()+,;=:@") << "pchar stays as it is";
}

TEST(DescriptorMappingTest, HitsAddendRequestLevelThenDescriptorLevel) {
  auto q = mapOk(request("edge", {Desc{{{"k", "a"}}}, Desc{{{"k", "b"}}, 7}, Desc{{{"k", "c"}}, 0}},
                         /*hits_addend=*/0));
  EXPECT_EQ(q[0].hits, 1u) << "an unset request hits_addend counts one";
  EXPECT_EQ(q[1].hits, 7u) << "a descriptor's own hits_addend replaces the request's";
  EXPECT_EQ(q[2].hits, 0u) << "a descriptor's 0 is a peek";
  q = mapOk(request("edge", {Desc{{{"k", "a"}}}, Desc{{{"k", "b"}}, 2}}, /*hits_addend=*/5));
  EXPECT_EQ(q[0].hits, 5u);
  EXPECT_EQ(q[1].hits, 2u);
  q = mapOk(request("edge", {Desc{{{"k", "a"}}, 1000}}, 1000));
  EXPECT_EQ(q[0].hits, 1000u) << "the maximum itself is fine";
}

TEST(DescriptorMappingTest, RefusesBadRequestsNamingTheField) {
  EXPECT_EQ(refusal(request("", {Desc{{{"k", "v"}}}})), "domain: empty");
  EXPECT_THAT(refusal(request("other", {Desc{{{"k", "v"}}}})),
              HasSubstr("domain: \"other\" is not served here"));
  EXPECT_EQ(refusal(request("edge", {})), "descriptors: empty");
  EXPECT_EQ(refusal(request("edge", {Desc{{{"k", "v"}}}, Desc{{{"k", "v"}}}, Desc{}})),
            "descriptors[2].entries: empty");
  EXPECT_EQ(refusal(request("edge", {Desc{{{"k", "v"}, {"", "v"}}}})),
            "descriptors[0].entries[1].key: empty");
  EXPECT_EQ(refusal(request("edge", {Desc{{{"k", ""}}}})), "descriptors[0].entries[0].value: empty");
  EXPECT_EQ(refusal(request("edge", {Desc{{{"k", "v"}}}}, 1001)),
            "hits_addend: 1001 exceeds the maximum 1000 ([rls] max_hits_addend)");
  EXPECT_EQ(refusal(request("edge", {Desc{{{"k", "v"}}}, Desc{{{"k", "v"}}, uint64_t{1} << 40}})),
            "descriptors[1].hits_addend: 1099511627776 exceeds the maximum 1000 ([rls] "
            "max_hits_addend)");
  std::vector<Desc> many(kMaxDescriptors + 1, Desc{{{"k", "v"}}});
  EXPECT_THAT(refusal(request("edge", many)), HasSubstr("descriptors: 65 descriptors (at most 64)"));
  Desc wide;
  for (size_t i = 0; i <= kMaxEntries; ++i) wide.entries.emplace_back("k", "v");
  EXPECT_THAT(refusal(request("edge", {wide})), HasSubstr("descriptors[0].entries: 32 entries"));
}

TEST(DescriptorMappingTest, StatusCarriesTheDecidingRulesLimit) {
  ratelimit::Verdict v;
  v.kind = ratelimit::Verdict::kReject;
  v.rule = "ANY /edge/remote_address/* header:remote_address token_bucket 10/min";
  v.has_quota = true;
  v.rate = 10;
  v.window = absl::Minutes(1);
  v.limit = 20;
  v.remaining = 0;
  v.reset = absl::Milliseconds(1500);
  testing::DescriptorStatus s;
  toStatus(v, &s);
  EXPECT_EQ(s.code(), testing::Response::OVER_LIMIT);
  EXPECT_EQ(s.current_limit().requests_per_unit(), 10u);
  EXPECT_EQ(s.current_limit().unit(), testing::Response::RateLimit::MINUTE);
  EXPECT_EQ(s.current_limit().name(), v.rule);
  EXPECT_EQ(s.limit_remaining(), 0u);
  EXPECT_EQ(s.duration_until_reset().seconds(), 1);
  EXPECT_EQ(s.duration_until_reset().nanos(), 500'000'000);

  for (auto [per, unit] : {std::pair{absl::Seconds(1), testing::Response::RateLimit::SECOND},
                           std::pair{absl::Hours(1), testing::Response::RateLimit::HOUR}}) {
    v.window = per;
    s.Clear();
    toStatus(v, &s);
    EXPECT_EQ(s.current_limit().unit(), unit);
  }

  ratelimit::Verdict none;  // no rule met
  s.Clear();
  toStatus(none, &s);
  EXPECT_EQ(s.code(), testing::Response::OK);
  EXPECT_FALSE(s.has_current_limit());
  EXPECT_FALSE(s.has_duration_until_reset());

  for (auto kind : {ratelimit::Verdict::kDelay, ratelimit::Verdict::kShadow}) {
    ratelimit::Verdict ok;
    ok.kind = kind;
    EXPECT_FALSE(isOverLimit(ok));
  }
  ratelimit::Verdict shed;
  shed.kind = ratelimit::Verdict::kShed;
  shed.wait = absl::Seconds(1);
  s.Clear();
  toStatus(shed, &s);
  EXPECT_EQ(s.code(), testing::Response::OVER_LIMIT);
  EXPECT_FALSE(s.has_current_limit());
  EXPECT_EQ(s.duration_until_reset().seconds(), 1) << "when to try again";
  ratelimit::Verdict down;
  down.kind = ratelimit::Verdict::kUnavailable;
  EXPECT_TRUE(isOverLimit(down));
}

}  // namespace
}  // namespace seckill::rls
