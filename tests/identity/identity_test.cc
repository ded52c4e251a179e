#include "engine/identity/identity.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/support/jwt_mint.h"

namespace seckill::identity {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::unique_ptr<ShopperIdentity> make(IdentitySettings s) {
  auto id = ShopperIdentity::make(s);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? std::move(*id) : nullptr;
}

struct Call {
  RequestCredentials in;
  Scratch scratch;
  Resolved out;
};

TEST(SignedUserIdTest, SignedIdVerifiesUntilItExpires) {
  IdentitySettings s;
  s.kind = IdentityKind::kHmac;
  s.secret = kSecret;
  s.leeway = absl::ZeroDuration();
  auto id = make(s);
  const std::string signed_id = signUserId(kSecret, "bob", kNow + absl::Minutes(5));
  Scratch scratch;
  Resolved r = id->resolve({.peer_ip = "192.0.2.7", .user_header = signed_id, .user_header_count = 1},
                           kNow, scratch);
  EXPECT_EQ(r.refusal, Refusal::kOk);
  EXPECT_EQ(r.user, "bob");
  EXPECT_EQ(r.client_ip, "192.0.2.7");
  r = id->resolve({.peer_ip = "192.0.2.7", .user_header = signed_id, .user_header_count = 1},
                  kNow + absl::Minutes(5), scratch);
  EXPECT_EQ(r.refusal, Refusal::kExpired);
  EXPECT_TRUE(r.user.empty());
}

TEST(SignedUserIdTest, ForgedOrMalformedIdsAreRefused) {
  IdentitySettings s;
  s.kind = IdentityKind::kHmac;
  s.secret = kSecret;
  auto id = make(s);
  const absl::Time exp = kNow + absl::Minutes(5);
  const std::string good = signUserId(kSecret, "bob", exp);
  const std::string other_key = signUserId("another-secret-another-secret-another!", "bob", exp);
  // bob's signature with the user swapped, and with the expiry extended.
  std::string swapped = good;
  swapped.replace(0, 3, "eve");
  std::string extended = absl::StrCat("bob.", absl::ToUnixSeconds(exp) + 3600,
                                      good.substr(good.rfind('.')));
  struct Case {
    std::string value;
    Refusal want;
  } cases[] = {
      {"bob", Refusal::kMalformed},          // unsigned: what kind = "none" would have taken
      {other_key, Refusal::kSignature},      {swapped, Refusal::kSignature},
      {extended, Refusal::kSignature},       {"bob.notanumber.AAAA", Refusal::kMalformed},
      {"b b.1.AAAA", Refusal::kMalformed},   {"bob.1.!!!", Refusal::kMalformed},
      {"bob.-1.AAAA", Refusal::kMalformed},  {"", Refusal::kMalformed},
  };
  for (const Case& c : cases) {
    Scratch scratch;
    Resolved r =
        id->resolve({.user_header = c.value, .user_header_count = 1}, kNow, scratch);
    EXPECT_EQ(r.refusal, c.want) << c.value;
    EXPECT_TRUE(r.user.empty()) << c.value;
  }
  Scratch scratch;
  EXPECT_EQ(id->resolve({.user_header = good, .user_header_count = 2}, kNow, scratch).refusal,
            Refusal::kMalformed)
      << "two identity headers are ambiguous";
  EXPECT_EQ(id->resolve({}, kNow, scratch).refusal, Refusal::kMissing);
}

TEST(ShopperIdentityTest, JwtComesInTheAuthorizationHeader) {
  IdentitySettings s;
  s.kind = IdentityKind::kJwt;
  s.secret = kSecret;
  auto id = make(s);
  const std::string token = seckill::testing::mintHs256(kSecret, R"({"sub":"carol","exp":1800000600})");
  Scratch scratch;
  for (std::string auth : {absl::StrCat("Bearer ", token), absl::StrCat("bearer  ", token),
                           absl::StrCat(" BEARER ", token, " ")}) {
    Resolved r = id->resolve(
        {.authorization = auth, .authorization_count = 1, .user_header = "mallory",
         .user_header_count = 1},
        kNow, scratch);
    EXPECT_EQ(r.refusal, Refusal::kOk) << auth;
    EXPECT_EQ(r.user, "carol") << "X-User-Id is ignored when tokens are verified";
  }
  EXPECT_EQ(id->resolve({.authorization = token, .authorization_count = 1}, kNow, scratch).refusal,
            Refusal::kMalformed);
  EXPECT_EQ(id->resolve({.authorization = absl::StrCat("Basic ", token), .authorization_count = 1},
                        kNow, scratch)
                .refusal,
            Refusal::kMalformed);
  EXPECT_EQ(id->resolve({.authorization = "Bearer ", .authorization_count = 1}, kNow, scratch)
                .refusal,
            Refusal::kMalformed);
  EXPECT_EQ(id->resolve({.user_header = "carol", .user_header_count = 1}, kNow, scratch).refusal,
            Refusal::kMissing)
      << "an unsigned X-User-Id is no identity";
}

TEST(ShopperIdentityTest, GatewayHeaderIsBelievedOnlyFromTrustedProxies) {
  IdentitySettings s;
  s.kind = IdentityKind::kHeader;
  s.header = "X-Authenticated-User";
  s.trusted_proxies = {"10.0.0.0/8"};
  auto id = make(s);
  EXPECT_EQ(id->userHeader(), "x-authenticated-user");
  Scratch scratch;
  Resolved r = id->resolve({.peer_ip = "10.1.2.3", .user_header = "dave", .user_header_count = 1,
                            .forwarded_for = "203.0.113.9"},
                           kNow, scratch);
  EXPECT_EQ(r.refusal, Refusal::kOk);
  EXPECT_EQ(r.user, "dave");
  EXPECT_EQ(r.client_ip, "203.0.113.9");
  // The same headers written by a client that reached the engine directly.
  r = id->resolve({.peer_ip = "203.0.113.50", .user_header = "dave", .user_header_count = 1,
                   .forwarded_for = "198.51.100.1"},
                  kNow, scratch);
  EXPECT_EQ(r.refusal, Refusal::kUntrustedHeader);
  EXPECT_TRUE(r.user.empty());
  EXPECT_EQ(r.client_ip, "203.0.113.50");
  r = id->resolve({.peer_ip = "10.1.2.3", .user_header = "a/b", .user_header_count = 1}, kNow,
                  scratch);
  EXPECT_EQ(r.refusal, Refusal::kMalformed);
  r = id->resolve({.peer_ip = "10.1.2.3"}, kNow, scratch);
  EXPECT_EQ(r.refusal, Refusal::kMissing);
}

TEST(ShopperIdentityTest, KindNoneKeepsTodaysBehaviour) {
  auto id = make(IdentitySettings{});
  Scratch scratch;
  Resolved r = id->resolve({.peer_ip = "192.0.2.1", .user_header = "erin", .user_header_count = 1,
                            .forwarded_for = "1.2.3.4"},
                           kNow, scratch);
  EXPECT_EQ(r.refusal, Refusal::kOk);
  EXPECT_EQ(r.user, "erin");
  EXPECT_EQ(r.client_ip, "192.0.2.1") << "no trusted proxies: X-Forwarded-For is not believed";
}

TEST(ShopperIdentityTest, SettingsAreRefusedWithTheKeyNamed) {
  auto message = [](IdentitySettings s) {
    auto id = ShopperIdentity::make(s);
    return id.ok() ? std::string("ok") : std::string(id.status().message());
  };
  IdentitySettings s;
  s.kind = IdentityKind::kHeader;
  EXPECT_NE(message(s).find("identity.trusted_proxies: kind = \"header\" needs"),
            std::string::npos);
  s.trusted_proxies = {"10.0.0.0/33"};
  EXPECT_NE(message(s).find("identity.trusted_proxies: \"10.0.0.0/33\""), std::string::npos);
  s.trusted_proxies = {"10.0.0.0/8"};
  s.header = "x user";
  EXPECT_NE(message(s).find("identity.header"), std::string::npos);
  s = {};
  s.kind = IdentityKind::kNone;
  s.secret = kSecret;
  EXPECT_NE(message(s).find("verifies no signature"), std::string::npos);
  s = {};
  s.kind = IdentityKind::kHmac;
  s.secret = "short";
  EXPECT_NE(message(s).find("identity.secret_file: the HMAC secret must be at least 32"),
            std::string::npos);
  s = {};
  s.kind = IdentityKind::kJwt;
  s.header = "x-user";
  EXPECT_NE(message(s).find("identity.header: only kind"), std::string::npos);
  EXPECT_EQ(parseIdentityKind("oauth").status().message(),
            "unknown identity kind \"oauth\" (expected \"none\", \"jwt\", \"hmac\" or \"header\")");
}

}  // namespace
}  // namespace seckill::identity
