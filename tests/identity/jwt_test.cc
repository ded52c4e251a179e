#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/identity/identity.h"
#include "tests/support/jwt_mint.h"

namespace seckill::identity {
namespace {

using seckill::testing::b64url;
using seckill::testing::makeEcKey;
using seckill::testing::makeRsaKey;
using seckill::testing::mintEs256;
using seckill::testing::mintHs256;
using seckill::testing::mintRs256;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::string claims(std::string_view extra = "", int64_t exp = 1'800'000'600) {
  return absl::StrCat(R"({"sub":"alice","exp":)", exp, absl::string_view(extra.data(), extra.size()), "}");
}

std::unique_ptr<UserVerifier> verifier(IdentitySettings s) {
  auto v = makeJwtVerifier(s);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? std::move(*v) : nullptr;
}

IdentitySettings hs() {
  IdentitySettings s;
  s.kind = IdentityKind::kJwt;
  s.secret = kSecret;
  return s;
}

Refusal check(const UserVerifier& v, std::string_view token, std::string* user = nullptr,
              absl::Time now = kNow) {
  std::string u;
  Refusal r = v.verify(token, now, u);
  if (user != nullptr) *user = u;
  return r;
}

TEST(JwtTest, Hs256TokenGivesItsSubject) {
  auto v = verifier(hs());
  std::string user;
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims()), &user), Refusal::kOk);
  EXPECT_EQ(user, "alice");
}

TEST(JwtTest, ForgedSignatureIsRefused) {
  auto v = verifier(hs());
  EXPECT_EQ(check(*v, mintHs256("another-secret-another-secret-another", claims())),
            Refusal::kSignature);
  // The claims changed after signing: alice's signature on mallory's claims.
  std::string good = mintHs256(kSecret, claims());
  std::string forged = mintHs256(kSecret, R"({"sub":"mallory","exp":1800000600})");
  const size_t a = good.find('.'), b = good.rfind('.');
  const size_t fa = forged.find('.'), fb = forged.rfind('.');
  std::string spliced = absl::StrCat(good.substr(0, a), forged.substr(fa, fb - fa), good.substr(b));
  EXPECT_EQ(check(*v, spliced), Refusal::kSignature);
}

TEST(JwtTest, AlgNoneAndAlgorithmConfusionAreRefused) {
  auto v = verifier(hs());
  const std::string none = absl::StrCat(b64url(R"({"alg":"none"})"), ".", b64url(claims()), ".");
  EXPECT_EQ(check(*v, none), Refusal::kMalformed);  // no signature part at all
  const std::string none_sig =
      absl::StrCat(b64url(R"({"alg":"none"})"), ".", b64url(claims()), ".AAAA");
  EXPECT_EQ(check(*v, none_sig), Refusal::kAlgorithm);
  // An RS256 verifier must not take the public key as an HMAC secret.
  auto rsa = makeRsaKey();
  IdentitySettings s;
  s.kind = IdentityKind::kJwt;
  s.public_key_pem = rsa.public_pem;
  auto rv = verifier(s);
  EXPECT_EQ(check(*rv, mintHs256(rsa.public_pem, claims())), Refusal::kAlgorithm);
  EXPECT_EQ(check(*rv, mintRs256(rsa, claims())), Refusal::kOk);
}

// Each thread remembers the last header bytes a verifier accepted: that must not let another
// header through, nor the same header to another verifier configured for another algorithm.
TEST(JwtTest, AnAcceptedHeaderIsRememberedOnlyByteForByteAndPerVerifier) {
  auto v = verifier(hs());
  const std::string good = mintHs256(kSecret, claims());
  ASSERT_EQ(check(*v, good), Refusal::kOk);
  // The same header bytes, another payload and a wrong signature: still checked.
  const std::string header = good.substr(0, good.find('.'));
  EXPECT_EQ(check(*v, absl::StrCat(header, ".", b64url(claims(R"(,"x":1)")), ".AAAA")),
            Refusal::kSignature);
  // Other header bytes are parsed again: alg none, crit, not JSON.
  EXPECT_EQ(check(*v, absl::StrCat(b64url(R"({"alg":"none"})"), ".", b64url(claims()), ".AAAA")),
            Refusal::kAlgorithm);
  EXPECT_EQ(check(*v, absl::StrCat(b64url(R"({"alg":"HS256","crit":["b64"]})"), ".",
                                   b64url(claims()), ".AAAA")),
            Refusal::kMalformed);
  // An RS256 verifier on this thread does not inherit the HS256 verifier's header.
  auto rsa = makeRsaKey();
  IdentitySettings s;
  s.kind = IdentityKind::kJwt;
  s.public_key_pem = rsa.public_pem;
  auto rv = verifier(s);
  EXPECT_EQ(check(*rv, mintHs256(rsa.public_pem, claims())), Refusal::kAlgorithm);
  EXPECT_EQ(check(*v, good), Refusal::kOk);
}

TEST(JwtTest, Rs256AndEs256Verify) {
  auto rsa = makeRsaKey();
  auto ec = makeEcKey();
  IdentitySettings s;
  s.kind = IdentityKind::kJwt;
  s.public_key_pem = rsa.public_pem;
  auto rv = verifier(s);
  s.public_key_pem = ec.public_pem;
  auto ev = verifier(s);
  std::string user;
  EXPECT_EQ(check(*rv, mintRs256(rsa, claims()), &user), Refusal::kOk);
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(check(*ev, mintEs256(ec, claims()), &user), Refusal::kOk);
  // Another key of the same kind: a forgery.
  EXPECT_EQ(check(*rv, mintRs256(makeRsaKey(), claims())), Refusal::kSignature);
  EXPECT_EQ(check(*ev, mintEs256(makeEcKey(), claims())), Refusal::kSignature);
  // An ES256 signature cut short, and one in DER instead of R || S.
  std::string es = mintEs256(ec, claims());
  EXPECT_EQ(check(*ev, es.substr(0, es.size() - 4)), Refusal::kSignature);
}

TEST(JwtTest, ExpiryAndNotBeforeHonourTheLeeway) {
  IdentitySettings s = hs();
  s.leeway = absl::Seconds(30);
  auto v = verifier(s);
  const int64_t now = absl::ToUnixSeconds(kNow);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims("", now - 29))), Refusal::kOk);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims("", now - 30))), Refusal::kExpired);
  EXPECT_EQ(check(*v, mintHs256(kSecret, R"({"sub":"alice"})")), Refusal::kExpired)
      << "a token without exp is refused";
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(absl::StrCat(",\"nbf\":", now + 30)))),
            Refusal::kOk);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(absl::StrCat(",\"nbf\":", now + 31)))),
            Refusal::kNotYetValid);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(",\"nbf\":\"soon\""))), Refusal::kMalformed);
  EXPECT_EQ(check(*v, mintHs256(kSecret, R"({"sub":"alice","exp":1e300})")), Refusal::kMalformed);
  EXPECT_EQ(check(*v, mintHs256(kSecret, R"({"sub":"alice","exp":1800000600.5})")), Refusal::kOk);
}

TEST(JwtTest, ATokenSeenBeforeIsStillCheckedForExpiry) {
  IdentitySettings s = hs();
  s.leeway = absl::ZeroDuration();
  auto v = verifier(s);
  const std::string token = mintHs256(kSecret, claims("", absl::ToUnixSeconds(kNow) + 10));
  std::string user;
  for (int i = 0; i < 3; ++i) {  // the second and third are answered from the verified tokens
    EXPECT_EQ(check(*v, token, &user, kNow + absl::Seconds(i)), Refusal::kOk);
    EXPECT_EQ(user, "alice");
  }
  EXPECT_EQ(check(*v, token, &user, kNow + absl::Seconds(10)), Refusal::kExpired);
  EXPECT_EQ(check(*v, token, &user, kNow + absl::Seconds(5)), Refusal::kOk);
  // A one-character change of a known token is checked in full.
  std::string changed = token;
  changed[changed.size() - 2] = changed[changed.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(check(*v, changed, &user, kNow), Refusal::kSignature);
}

TEST(JwtTest, IssuerAndAudienceAreChecked) {
  IdentitySettings s = hs();
  s.issuer = "https://login.example";
  s.audience = "seckill";
  auto v = verifier(s);
  const std::string iss = R"(,"iss":"https://login.example")";
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(absl::StrCat(iss, R"(,"aud":"seckill")")))),
            Refusal::kOk);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(absl::StrCat(iss, R"(,"aud":["x","seckill"])")))),
            Refusal::kOk);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(absl::StrCat(iss, R"(,"aud":["x"])")))),
            Refusal::kAudience);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(iss))), Refusal::kAudience);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(R"(,"iss":"evil","aud":"seckill")"))),
            Refusal::kIssuer);
}

TEST(JwtTest, UserComesFromTheNamedClaimAndMustBeAValidId) {
  IdentitySettings s = hs();
  s.user_claim = "uid";
  auto v = verifier(s);
  std::string user;
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(R"(,"uid":"u-42")")), &user), Refusal::kOk);
  EXPECT_EQ(user, "u-42");
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(R"(,"uid":4242)")), &user), Refusal::kOk);
  EXPECT_EQ(user, "4242");
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims())), Refusal::kUser);  // no uid
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(R"(,"uid":"a b")"))), Refusal::kUser);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(R"(,"uid":"../x")"))), Refusal::kUser);
  EXPECT_EQ(check(*v, mintHs256(kSecret, claims(R"(,"uid":["a"])"))), Refusal::kUser);
}

TEST(JwtTest, MalformedTokensAreRefusedWithoutThrowing) {
  auto v = verifier(hs());
  const std::string good = mintHs256(kSecret, claims());
  for (std::string bad : {std::string(""), std::string("."), std::string(".."),
                          std::string("abc"), std::string("a.b"), std::string("a.b.c.d.e"),
                          std::string("!!!.???.***"), absl::StrCat(good, ".x"),
                          absl::StrCat(b64url("[1,2]"), ".", b64url("{}"), ".AAAA"),
                          absl::StrCat(b64url("{\"alg\":"), ".", b64url("{}"), ".AAAA"),
                          absl::StrCat(b64url(R"({"alg":"HS256","crit":["x"]})"), ".e30.AAAA"),
                          std::string(70000, 'a')}) {
    EXPECT_NE(check(*v, bad), Refusal::kOk) << bad.substr(0, 80);
  }
  // Signed, but the claims are not a JSON object.
  EXPECT_EQ(check(*v, mintHs256(kSecret, "[1]")), Refusal::kMalformed);
  EXPECT_EQ(check(*v, mintHs256(kSecret, "{\"sub\":")), Refusal::kMalformed);
  // Signed claims that only a lax reader would take: a member twice (which one wins?),
  // something after the object, a NUL, bad UTF-8, a non-finite or huge number.
  for (std::string bad :
       {std::string(R"({"sub":"alice","sub":"mallory","exp":1800000600})"),
        std::string(R"({"sub":"alice","exp":1800000600,"exp":1900000000})"),
        std::string(R"({"sub":"alice","exp":1800000600} {})"),
        std::string(R"({"sub":"alice","exp":1800000600}x)"),
        std::string("{\"sub\":\"alice\",\"exp\":1800000600}\0{}", 35),
        std::string("{\"sub\":\"al\xff\",\"exp\":1800000600}"),
        std::string(R"({"sub":"alice","exp":NaN})"), std::string(R"({"sub":"alice","exp":1e999})"),
        std::string(R"({"sub":"alice","exp":1e300})")}) {
    EXPECT_EQ(check(*v, mintHs256(kSecret, bad)), Refusal::kMalformed) << bad;
  }
  // Deep nesting in a member nobody reads is skipped without recursing.
  const std::string deep = absl::StrCat(R"({"sub":"alice","exp":1800000600,"x":)",
                                        std::string(2000, '['), std::string(2000, ']'), "}");
  EXPECT_EQ(check(*v, mintHs256(kSecret, deep)), Refusal::kOk);
  // Numbers as JSON allows them: an exp written as a float, escapes in the user claim.
  std::string user;
  EXPECT_EQ(check(*v, mintHs256(kSecret, R"({"sub":"alice","exp":1.8000006e9})"), &user),
            Refusal::kOk);
  EXPECT_EQ(user, "alice");
}

TEST(JwtTest, SettingsAreRefusedWithTheKeyNamed) {
  IdentitySettings s;
  s.kind = IdentityKind::kJwt;
  EXPECT_NE(makeJwtVerifier(s).status().message().find("exactly one of secret_file"),
            std::string::npos);
  s.secret = "short";
  EXPECT_NE(makeJwtVerifier(s).status().message().find("identity.secret_file: the HS256 secret "
                                                       "must be at least 32 bytes"),
            std::string::npos);
  s.secret.clear();
  s.public_key_pem = "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n";
  EXPECT_NE(makeJwtVerifier(s).status().message().find("identity.public_key_file: not a PEM"),
            std::string::npos);
  s.public_key_pem = makeRsaKey(1024).public_pem;
  EXPECT_NE(makeJwtVerifier(s).status().message().find("at least 2048 bits; this has 1024"),
            std::string::npos);
  s.public_key_pem = makeEcKey("P-384").public_pem;
  EXPECT_NE(makeJwtVerifier(s).status().message().find("RSA (RS256) or EC P-256"),
            std::string::npos);
  s = hs();
  s.leeway = absl::Hours(1);
  EXPECT_NE(makeJwtVerifier(s).status().message().find("identity.leeway"), std::string::npos);
  s = hs();
  s.user_claim.clear();
  EXPECT_NE(makeJwtVerifier(s).status().message().find("identity.user_claim"), std::string::npos);
}

}  // namespace
}  // namespace seckill::identity
