#include "bench/load/credentials.h"

#include "absl/time/time.h"
#include "engine/identity/identity.h"
#include "gtest/gtest.h"

namespace seckill::load {
namespace {

const std::string kSecret = "load-secret-load-secret-load-secret-0123";
const int64_t kExpires = 1'800'000'600;

// What seckill-load mints, the engine accepts: checked with the engine's own verifier.
std::string verified(identity::IdentityKind kind, const Credential& c) {
  identity::IdentitySettings s;
  s.kind = kind;
  s.secret = kSecret;
  auto id = identity::ShopperIdentity::make(s);
  EXPECT_TRUE(id.ok()) << id.status();
  identity::RequestCredentials in;
  if (c.name == "Authorization") {
    in.authorization = c.value;
    in.authorization_count = 1;
  } else {
    in.user_header = c.value;
    in.user_header_count = 1;
  }
  identity::Scratch scratch;
  identity::Resolved r = (*id)->resolve(in, absl::FromUnixSeconds(kExpires - 60), scratch);
  return r.refusal == identity::Refusal::kOk ? std::string(r.user)
                                              : std::string(identity::refusalLabel(r.refusal));
}

TEST(CredentialsTest, MintedJwtsAndSignedIdsVerify) {
  CredentialMinter jwt(IdentityMode::kJwt, kSecret + "\n", kExpires);
  const Credential c = jwt.forUser("ld-1-42");
  EXPECT_EQ(c.name, "Authorization");
  EXPECT_EQ(verified(identity::IdentityKind::kJwt, c), "ld-1-42");
  EXPECT_EQ(jwt.forUser("ld-1-42").value, c.value) << "one token per shopper";
  CredentialMinter hmac(IdentityMode::kHmac, kSecret, kExpires);
  EXPECT_EQ(verified(identity::IdentityKind::kHmac, hmac.forUser("ld-1-43")), "ld-1-43");
  // A minter with another secret makes credentials the engine refuses.
  CredentialMinter other(IdentityMode::kJwt, "x" + kSecret, kExpires);
  EXPECT_EQ(verified(identity::IdentityKind::kJwt, other.forUser("ld-1-44")), "signature");
  // Each thread keeps one keyed MAC context: switching minters on a thread re-keys it.
  EXPECT_EQ(verified(identity::IdentityKind::kJwt, jwt.forUser("ld-1-45")), "ld-1-45");
  EXPECT_EQ(verified(identity::IdentityKind::kJwt, other.forUser("ld-1-46")), "signature");
  CredentialMinter none;
  EXPECT_EQ(none.forUser("u").name, "X-User-Id");
  EXPECT_EQ(none.forUser("u").value, "u");
}

TEST(CredentialsTest, IdentitySpecs) {
  EXPECT_EQ(parseIdentitySpec("none")->mode, IdentityMode::kNone);
  auto jwt = parseIdentitySpec("jwt:/tmp/s");
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->mode, IdentityMode::kJwt);
  EXPECT_EQ(jwt->secret_file, "/tmp/s");
  EXPECT_EQ(parseIdentitySpec("hmac:a:b")->secret_file, "a:b");
  for (const char* bad : {"", "jwt", "jwt:", "oauth:/x", "JWT:/x"}) {
    EXPECT_FALSE(parseIdentitySpec(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace seckill::load
