// The cost of one identity verification, per kind and algorithm, beside the client-address
// walk: what [identity] adds to every shopper request before the rate rules run.
#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "engine/identity/identity.h"
#include "tests/support/jwt_mint.h"

namespace seckill::identity {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-bench-secret";
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const std::string kClaims =
    R"({"sub":"shopper-123456","exp":1800000600,"iss":"https://login.example","aud":"seckill"})";

std::unique_ptr<ShopperIdentity> identity(IdentitySettings s) {
  s.issuer = s.kind == IdentityKind::kJwt ? "https://login.example" : "";
  s.audience = s.kind == IdentityKind::kJwt ? "seckill" : "";
  auto id = ShopperIdentity::make(s);
  if (!id.ok()) std::abort();
  return std::move(*id);
}

void run(benchmark::State& state, const ShopperIdentity& id, RequestCredentials in) {
  Scratch scratch;
  for (auto _ : state) {
    Resolved r = id.resolve(in, kNow, scratch);
    if (r.refusal != Refusal::kOk) state.SkipWithError("refused");
    benchmark::DoNotOptimize(r);
  }
}

void BM_None(benchmark::State& state) {
  auto id = identity({});
  run(state, *id, {.peer_ip = "192.0.2.1", .user_header = "shopper-123456", .user_header_count = 1});
}
BENCHMARK(BM_None);

void BM_TrustedProxyChain(benchmark::State& state) {
  IdentitySettings s;
  s.trusted_proxies = {"10.0.0.0/8", "172.16.0.0/12"};
  auto id = identity(s);
  run(state, *id,
      {.peer_ip = "10.0.0.1", .user_header = "shopper-123456", .user_header_count = 1,
       .forwarded_for = "198.51.100.7, 172.16.0.4"});
}
BENCHMARK(BM_TrustedProxyChain);

void BM_SignedUserId(benchmark::State& state) {
  IdentitySettings s;
  s.kind = IdentityKind::kHmac;
  s.secret = kSecret;
  auto id = identity(s);
  const std::string v = signUserId(kSecret, "shopper-123456", kNow + absl::Hours(1));
  run(state, *id, {.peer_ip = "192.0.2.1", .user_header = v, .user_header_count = 1});
}
BENCHMARK(BM_SignedUserId);

// range(0) = 1: a shopper's repeated token (remembered); 0: every token checked in full.
void jwt(benchmark::State& state, IdentitySettings s, const std::string& token) {
  s.kind = IdentityKind::kJwt;
  s.remember_tokens = state.range(0) != 0 ? 65536 : 0;
  auto id = identity(s);
  const std::string auth = absl::StrCat("Bearer ", token);
  run(state, *id, {.peer_ip = "192.0.2.1", .authorization = auth, .authorization_count = 1});
}

void BM_JwtHs256(benchmark::State& state) {
  IdentitySettings s;
  s.secret = kSecret;
  jwt(state, s, seckill::testing::mintHs256(kSecret, kClaims));
}
BENCHMARK(BM_JwtHs256)->ArgName("remembered")->Arg(0)->Arg(1);

void BM_JwtRs256(benchmark::State& state) {
  auto k = seckill::testing::makeRsaKey(2048);
  IdentitySettings s;
  s.public_key_pem = k.public_pem;
  jwt(state, s, seckill::testing::mintRs256(k, kClaims));
}
BENCHMARK(BM_JwtRs256)->ArgName("remembered")->Arg(0)->Arg(1);

void BM_JwtEs256(benchmark::State& state) {
  auto k = seckill::testing::makeEcKey();
  IdentitySettings s;
  s.public_key_pem = k.public_pem;
  jwt(state, s, seckill::testing::mintEs256(k, kClaims));
}
BENCHMARK(BM_JwtEs256)->ArgName("remembered")->Arg(0)->Arg(1);

// A forged HS256 token: what a flood of bad tokens costs before its 401.
void BM_JwtHs256Forged(benchmark::State& state) {
  IdentitySettings s;
  s.kind = IdentityKind::kJwt;
  s.secret = kSecret;
  auto id = identity(s);
  const std::string auth =
      absl::StrCat("Bearer ", seckill::testing::mintHs256("x-other-secret-x-other-secret-x-other", kClaims));
  Scratch scratch;
  for (auto _ : state) {
    Resolved r = id->resolve({.authorization = auth, .authorization_count = 1}, kNow, scratch);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_JwtHs256Forged);

}  // namespace
}  // namespace seckill::identity

BENCHMARK_MAIN();
