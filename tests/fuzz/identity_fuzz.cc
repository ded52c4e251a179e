// identity_fuzz: who a shopper request says it is (engine/identity): JWT and signed user id
// verification, and the client address behind trusted proxies.
//
// The input is text, fields separated by '\n' (a missing field is empty):
//   0 the peer address
//   1 the Authorization value     (each '\r' in a field starts another header line: the first
//   2 the user header's value      value counts, the number of lines is the header count)
//   3 X-Forwarded-For
//   4 Forwarded
//   5 JWT claims to sign (JSON)   — when not empty, tokens are minted over them (HS256 with the
//   6 JWT header to sign (JSON)     fixed secret, ES256 with the fixed key) and checked
//   7 "<user>.<expiry>" to sign   — when not empty, signUserId mints a signed user id
//   8 trusted proxies, ','-separated (TrustedProxies::parse), besides the fixed ones
// Fields 1-4 go, as a request's headers, to one ShopperIdentity of each kind: jwt HS256 (with
// issuer and audience), jwt HS256 (user claim "uid", no leeway), jwt ES256 (remembering 64
// tokens), hmac, header, none — all trusting the same proxies, at one fixed time kNow.
//
// Invariants:
// - a credential is accepted only when it holds, checked apart from the engine: the JWT's alg
//   is the configured one with no crit, its HS256 signature is the HMAC of its first two parts,
//   exp + leeway is ahead, nbf (- leeway) behind, iss and aud as configured, and the user claim
//   is the user id returned; a signed id's HMAC and expiry the same;
// - an accepted credential is accepted again by a second verifier (the same user), and refused
//   as expired once its expiry has passed (a remembered token too); a minted token with one byte
//   of its signature or one character of its signed part changed is refused; a signed id
//   minted by signUserId is accepted exactly when its user id is valid and it has not expired;
// - an accepted user is a valid user id (1-64 of [A-Za-z0-9_-]); kind none passes the header
//   as sent; a refusal has a label and a message, and the keyed kinds name no user with it;
//   the header kind accepts only from a trusted peer;
// - clientAddress returns the peer itself when the peer is not trusted; from a trusted peer, a
//   parseable address that is the peer or one in the forwarded chain; canonical addresses
//   (IpAddress::toString) read back to the same address;
// - TrustedProxies::parse accepts a list whose every range contains its own base address, or
//   refuses it naming an entry;
// - never a crash, undefined behaviour or a leak.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "engine/core/sale.h"
#include "engine/core/strings.h"
#include "engine/identity/identity.h"
#include "engine/identity/trusted_proxies.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/jwt_mint.h"

namespace seckill::fuzz {
namespace {

using identity::IdentityKind;
using identity::IdentitySettings;
using identity::IpAddress;
using identity::Refusal;
using identity::ShopperIdentity;
using identity::TrustedProxies;
using identity::UserVerifier;
using nlohmann::json;

constexpr std::string_view kSecret = "seckill-fuzz-secret-0123456789abcdef";  // 36 bytes
constexpr std::string_view kIssuer = "seckill-login";
constexpr std::string_view kAudience = "seckill";
constexpr int64_t kNowUnix = 1800000000;  // 2027-01-15
const absl::Time kNow = absl::FromUnixSeconds(kNowUnix);
// Past every expiry a verifier takes (numeric dates are bounded by 2^40 s).
const absl::Time kFarFuture = absl::FromUnixSeconds(int64_t{1} << 42);

// A fixed P-256 key, so that the ES256 seeds and runs are reproducible.
constexpr std::string_view kEcPrivatePem = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiHlzSmDz3Z5PYnsS
1GUK9nQodCvEiVPGGYu5vBDqWWyhRANCAAQNWhcwEd8DACN6yiip6FOOwglTGDSz
pRrlc7QtHMjoZtEhpx4DVsLjWRMn6J2hYp8QSTtYpPdXIU+gW10g/I/O
-----END PRIVATE KEY-----
)";

const std::vector<std::string> kProxies = {"10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::1"};

std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

testing::TestKeyPair loadEcKey() {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(kEcPrivatePem.data(), static_cast<int>(kEcPrivatePem.size())), &BIO_free);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) failed(__FILE__, __LINE__, "PEM_read_bio_PrivateKey", "the fixed key");
  testing::TestKeyPair out;
  out.key = std::shared_ptr<EVP_PKEY>(key, &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> pem(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PUBKEY(pem.get(), key);
  char* text = nullptr;
  const long n = BIO_get_mem_data(pem.get(), &text);
  out.public_pem.assign(text, static_cast<size_t>(n));
  return out;
}

// One configured identity and, for the keyed kinds, a second verifier of the same settings.
struct Subject {
  std::string name;
  IdentitySettings settings;
  std::unique_ptr<ShopperIdentity> identity;
  std::unique_ptr<UserVerifier> second;
};

struct World {
  testing::TestKeyPair ec = loadEcKey();
  std::vector<Subject> subjects;  // one per kind (two HS256 jwt), all behind kProxies

  World() {
    auto add = [&](std::string name, IdentitySettings s) {
      s.trusted_proxies = kProxies;
      auto made = ShopperIdentity::make(s);
      if (!made.ok()) failed(__FILE__, __LINE__, "ShopperIdentity::make", made.status().ToString());
      Subject subject{std::move(name), s, std::move(*made), nullptr};
      if (s.kind == IdentityKind::kJwt) subject.second = std::move(*identity::makeJwtVerifier(s));
      if (s.kind == IdentityKind::kHmac) {
        subject.second = std::move(*identity::makeSignedUserVerifier(s));
      }
      subjects.push_back(std::move(subject));
    };
    IdentitySettings s;
    s.kind = IdentityKind::kJwt;
    s.secret = std::string(kSecret);
    s.issuer = std::string(kIssuer);
    s.audience = std::string(kAudience);
    add("jwt HS256", s);
    s = IdentitySettings();
    s.kind = IdentityKind::kJwt;
    s.secret = std::string(kSecret);
    s.user_claim = "uid";
    s.leeway = absl::ZeroDuration();
    add("jwt HS256 uid", s);
    s = IdentitySettings();
    s.kind = IdentityKind::kJwt;
    s.public_key_pem = ec.public_pem;
    s.remember_tokens = 64;
    add("jwt ES256", s);
    s = IdentitySettings();
    s.kind = IdentityKind::kHmac;
    s.secret = std::string(kSecret);
    add("hmac", s);
    s = IdentitySettings();
    s.kind = IdentityKind::kHeader;
    add("header", s);
    s = IdentitySettings();
    s.kind = IdentityKind::kNone;
    add("none", s);
  }
};

World& world() {
  static World* w = new World();  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

// A header's lines: the first value, and how many there were ("" is none).
struct HeaderLines {
  std::string_view first;
  int count = 0;
};
HeaderLines headerLines(std::string_view field) {
  if (field.empty()) return {};
  const size_t cr = field.find('\r');
  return {field.substr(0, cr), 1 + static_cast<int>(std::count(field.begin(), field.end(), '\r'))};
}

// Without the spaces and tabs around it (what the engine strips off a header value).
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<json> jsonObject(std::string_view base64url) {
  std::string text;
  if (!absl::WebSafeBase64Unescape(av(base64url), &text)) return std::nullopt;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// What an accepted JWT must hold, checked apart from the engine's verifier.
void checkAcceptedJwt(const Subject& s, std::string_view token, std::string_view user) {
  std::vector<std::string_view> parts;
  for (absl::string_view p : absl::StrSplit(av(token), '.')) parts.push_back(sv(p));
  FUZZ_CHECK(parts.size() == 3, absl::StrCat(s.name, ": accepted ", av(token)));
  std::optional<json> header = jsonObject(parts[0]);
  FUZZ_CHECK(header.has_value(), absl::StrCat(s.name, ": accepted a bad header: ", av(token)));
  const bool hs = !s.settings.secret.empty();
  FUZZ_CHECK(header->contains("alg") && (*header)["alg"] == (hs ? "HS256" : "ES256") &&
                 !header->contains("crit"),
             absl::StrCat(s.name, ": accepted header ", header->dump()));
  if (hs) {
    std::string sig;
    FUZZ_CHECK(absl::WebSafeBase64Unescape(av(parts[2]), &sig), token);
    const std::string signed_part(token.substr(0, parts[0].size() + 1 + parts[1].size()));
    FUZZ_CHECK(sig == testing::hs256(kSecret, signed_part),
               absl::StrCat(s.name, ": accepted a wrong signature: ", av(token)));
  }
  std::optional<json> claims = jsonObject(parts[1]);
  FUZZ_CHECK(claims.has_value(), absl::StrCat(s.name, ": accepted bad claims: ", av(token)));
  const double now = static_cast<double>(kNowUnix);
  const double leeway = absl::ToDoubleSeconds(s.settings.leeway);
  FUZZ_CHECK(claims->contains("exp") && (*claims)["exp"].is_number() &&
                 (*claims)["exp"].get<double>() + leeway + 1 > now,
             absl::StrCat(s.name, ": accepted without a future exp: ", claims->dump()));
  if (claims->contains("nbf")) {
    FUZZ_CHECK((*claims)["nbf"].is_number() && (*claims)["nbf"].get<double>() - leeway - 1 <= now,
               absl::StrCat(s.name, ": accepted before nbf: ", claims->dump()));
  }
  if (!s.settings.issuer.empty()) {
    FUZZ_CHECK(claims->contains("iss") && (*claims)["iss"] == s.settings.issuer,
               absl::StrCat(s.name, ": accepted iss: ", claims->dump()));
  }
  if (!s.settings.audience.empty()) {
    bool named = false;
    if (claims->contains("aud")) {
      const json& aud = (*claims)["aud"];
      named = aud == s.settings.audience;
      if (aud.is_array()) {
        for (const json& a : aud) named = named || a == s.settings.audience;
      }
    }
    FUZZ_CHECK(named, absl::StrCat(s.name, ": accepted aud: ", claims->dump()));
  }
  const std::string& claim = s.settings.user_claim;
  FUZZ_CHECK(claims->contains(claim), absl::StrCat(s.name, ": accepted without ", claim));
  const json& u = (*claims)[claim];
  std::string named;
  if (u.is_string()) {
    named = u.get<std::string>();
  } else if (u.is_number_unsigned()) {
    named = absl::StrCat(u.get<uint64_t>());
  } else if (u.is_number_integer()) {
    named = absl::StrCat(u.get<int64_t>());
  }
  FUZZ_CHECK(named == user, absl::StrCat(s.name, ": user \"", av(user), "\" from ", claims->dump()));
}

// What an accepted signed user id must hold.
void checkAcceptedSignedId(const Subject& s, std::string_view credential, std::string_view user) {
  const size_t dot1 = credential.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : credential.find('.', dot1 + 1);
  FUZZ_CHECK(dot2 != std::string_view::npos, credential);
  FUZZ_CHECK(credential.substr(0, dot1) == user, credential);
  const std::string_view expiry = credential.substr(dot1 + 1, dot2 - dot1 - 1);
  FUZZ_CHECK(isDigits(expiry) && expiry.size() <= 13, absl::StrCat("expiry ", av(expiry)));
  int64_t exp = 0;
  for (char c : expiry) exp = exp * 10 + (c - '0');
  FUZZ_CHECK(kNow < absl::FromUnixSeconds(exp) + s.settings.leeway,
             absl::StrCat("accepted an expired signed id: ", av(credential)));
  std::string mac;
  FUZZ_CHECK(absl::WebSafeBase64Unescape(av(credential.substr(dot2 + 1)), &mac), credential);
  FUZZ_CHECK(mac == testing::hs256(kSecret, credential.substr(0, dot2)),
             absl::StrCat("accepted a wrong signature: ", av(credential)));
}

// A credential accepted by `s` at kNow for `user`: the checks every accepted one gets.
void checkAccepted(const Subject& s, std::string_view credential, std::string_view user) {
  FUZZ_CHECK(isValidId(user), absl::StrCat(s.name, ": accepted user \"", av(user), "\""));
  if (s.settings.kind == IdentityKind::kJwt) checkAcceptedJwt(s, credential, user);
  if (s.settings.kind == IdentityKind::kHmac) checkAcceptedSignedId(s, credential, user);
  std::string again;
  const Refusal r = s.second->verify(credential, kNow, again);
  FUZZ_CHECK(r == Refusal::kOk && again == user,
             absl::StrCat(s.name, ": accepted once, then ", av(identity::refusalLabel(r))));
  std::string later;
  const Refusal expired = s.second->verify(credential, kFarFuture, later);
  FUZZ_CHECK(expired == Refusal::kExpired,
             absl::StrCat(s.name, ": after every expiry: ", av(identity::refusalLabel(expired))));
}

// The addresses a forwarded chain names, found apart from TrustedProxies: every run of
// characters between separators, and that run without an IPv4 address's port.
std::vector<IpAddress> chainAddresses(std::string_view forwarded_for, std::string_view forwarded) {
  std::vector<IpAddress> out;
  for (std::string_view text : {forwarded_for, forwarded}) {
    for (absl::string_view p : absl::StrSplit(av(text), absl::ByAnyChar(",;=\"[] \t"))) {
      const std::string_view piece = sv(p);
      if (auto a = IpAddress::parse(piece)) out.push_back(*a);
      const size_t colon = piece.find(':');
      if (colon != std::string_view::npos && piece.find(':', colon + 1) == std::string_view::npos) {
        if (auto a = IpAddress::parse(piece.substr(0, colon))) out.push_back(*a);
      }
    }
  }
  return out;
}

void checkAddress(const IpAddress& a) {
  const std::string text = a.toString();
  const std::optional<IpAddress> back = IpAddress::parse(text);
  FUZZ_CHECK(back.has_value() && back->bytes == a.bytes && back->v4 == a.v4,
             absl::StrCat("\"", text, "\" does not read back"));
}

void checkClientAddress(const TrustedProxies& proxies, std::string_view peer,
                        std::string_view forwarded_for, std::string_view forwarded,
                        std::string_view client) {
  if (!proxies.contains(peer)) {
    FUZZ_CHECK(client == peer, absl::StrCat("untrusted peer ", av(peer), " gave ", av(client)));
    return;
  }
  const std::optional<IpAddress> a = IpAddress::parse(client);
  FUZZ_CHECK(a.has_value(), absl::StrCat("client address \"", av(client), "\""));
  checkAddress(*a);
  if (client == peer) return;
  for (const IpAddress& named : chainAddresses(forwarded_for, forwarded)) {
    checkAddress(named);
    if (named.bytes == a->bytes) return;
  }
  FUZZ_CHECK(false, absl::StrCat("client ", av(client), " is neither the peer ", av(peer),
                                 " nor in the chain \"", av(forwarded_for), "\" / \"",
                                 av(forwarded), "\""));
}

void fuzzRequest(const std::vector<std::string_view>& f) {
  const HeaderLines authorization = headerLines(f[1]);
  const HeaderLines user_header = headerLines(f[2]);
  identity::RequestCredentials in{.peer_ip = f[0],
                                  .authorization = authorization.first,
                                  .authorization_count = authorization.count,
                                  .user_header = user_header.first,
                                  .user_header_count = user_header.count,
                                  .forwarded_for = f[3],
                                  .forwarded = f[4]};
  for (const Subject& s : world().subjects) {
    identity::Scratch scratch;
    const identity::Resolved out = s.identity->resolve(in, kNow, scratch);
    checkClientAddress(s.identity->trustedProxies(), in.peer_ip, in.forwarded_for, in.forwarded,
                       out.client_ip);
    if (out.refusal != Refusal::kOk) {
      FUZZ_CHECK(identity::refusalLabel(out.refusal) != "ok" &&
                     !identity::refusalMessage(out.refusal).empty(),
                 s.name);
    }
    switch (s.settings.kind) {
      case IdentityKind::kNone:
        FUZZ_CHECK(out.user == in.user_header, "kind none changed the user");
        FUZZ_CHECK((out.refusal == Refusal::kMissing) == (in.user_header_count == 0) &&
                       (out.refusal == Refusal::kOk) == (in.user_header_count > 0),
                   identity::refusalLabel(out.refusal));
        continue;
      case IdentityKind::kHeader:
        if (out.refusal == Refusal::kOk) {
          FUZZ_CHECK(s.identity->trustedProxies().contains(in.peer_ip),
                     absl::StrCat("the user header believed from ", av(in.peer_ip)));
          FUZZ_CHECK(in.user_header_count == 1 && out.user == in.user_header && isValidId(out.user),
                     out.user);
        } else {
          FUZZ_CHECK(out.user.empty(), "a refusal named a user");
        }
        continue;
      case IdentityKind::kJwt:
      case IdentityKind::kHmac:
        break;
    }
    if (out.refusal != Refusal::kOk) {
      FUZZ_CHECK(out.user.empty(), absl::StrCat(s.name, ": a refusal named a user"));
      continue;
    }
    // The credential as resolve() took it out of the header.
    std::string_view credential =
        trimmed(s.settings.kind == IdentityKind::kHmac ? in.user_header : in.authorization);
    if (s.settings.kind == IdentityKind::kJwt) {
      FUZZ_CHECK(credential.size() > 7, credential);
      credential = trimmed(credential.substr(7));  // "Bearer "
    }
    checkAccepted(s, credential, out.user);
  }
}

// Resolves `credential` as the only one of its request, from a direct peer, at `now`; at
// kNow, an accepted one gets checkAccepted.
identity::Resolved resolveOne(const Subject& s, std::string_view credential,
                              identity::Scratch& scratch, absl::Time now = kNow) {
  const std::string bearer = absl::StrCat("Bearer ", av(credential));
  identity::RequestCredentials in{.peer_ip = "198.51.100.7"};
  if (s.settings.kind == IdentityKind::kHmac) {
    in.user_header = credential;
    in.user_header_count = 1;
  } else {
    in.authorization = bearer;
    in.authorization_count = 1;
  }
  identity::Resolved out = s.identity->resolve(in, now, scratch);
  if (out.refusal == Refusal::kOk && now == kNow) {
    // `out.user` lives in `scratch`; a copy, as the checks resolve again.
    checkAccepted(s, credential, std::string(out.user));
  }
  return out;
}

// `token` with one byte of its signature changed, and with one character of its signed part
// changed: both must be refused.
void checkTampered(const Subject& s, const std::string& token, size_t pick) {
  const size_t dot2 = token.rfind('.');
  std::string sig;
  FUZZ_CHECK(absl::WebSafeBase64Unescape(av(std::string_view(token).substr(dot2 + 1)), &sig) &&
                 !sig.empty(),
             token);
  sig[pick % sig.size()] ^= static_cast<char>(1 + pick % 255);
  const std::string forged = absl::StrCat(token.substr(0, dot2 + 1), testing::b64url(sig));
  identity::Scratch scratch;
  Refusal r = resolveOne(s, forged, scratch).refusal;
  FUZZ_CHECK(r == Refusal::kSignature || r == Refusal::kMalformed,
             absl::StrCat(s.name, ": a changed signature got ", av(identity::refusalLabel(r))));
  std::string edited = token;
  char& c = edited[pick % dot2];
  c = c == 'A' ? 'B' : (c == '.' ? '-' : 'A');
  r = resolveOne(s, edited, scratch).refusal;
  FUZZ_CHECK(r != Refusal::kOk, absl::StrCat(s.name, ": a changed token was accepted: ", edited));
}

void fuzzMintedJwt(std::string_view claims, std::string_view header, size_t pick) {
  World& w = world();
  for (const Subject& s : w.subjects) {
    if (s.settings.kind != IdentityKind::kJwt) continue;
    const bool hs = !s.settings.secret.empty();
    std::string token;
    if (hs) {
      token = header.empty() ? testing::mintHs256(kSecret, claims)
                             : testing::mintHs256(kSecret, claims, header);
    } else {
      token = header.empty() ? testing::mintEs256(w.ec, claims)
                             : testing::mintEs256(w.ec, claims, header);
    }
    identity::Scratch scratch;
    const identity::Resolved first = resolveOne(s, token, scratch);
    if (first.refusal != Refusal::kOk) continue;
    const std::string user(first.user);
    checkTampered(s, token, pick);
    // Again, after the tampered ones (ES256: now from the remembered tokens).
    const identity::Resolved again = resolveOne(s, token, scratch);
    FUZZ_CHECK(again.refusal == Refusal::kOk && again.user == user,
               absl::StrCat(s.name, ": accepted once, then ",
                            av(identity::refusalLabel(again.refusal))));
    const Refusal later = resolveOne(s, token, scratch, kFarFuture).refusal;
    FUZZ_CHECK(later == Refusal::kExpired,
               absl::StrCat(s.name, ": after every expiry: ", av(identity::refusalLabel(later))));
  }
}

// "<user>.<expiry>": signUserId's signed id is accepted exactly when it should be.
void fuzzSignedId(std::string_view spec, size_t pick) {
  const size_t dot = spec.rfind('.');
  if (dot == std::string_view::npos) return;
  const std::string_view user = spec.substr(0, dot);
  const std::string_view expiry = spec.substr(dot + 1);
  const bool negative = !expiry.empty() && expiry.front() == '-';
  if (!isDigits(negative ? expiry.substr(1) : expiry) || expiry.size() > 15) return;
  int64_t exp = 0;
  for (char c : expiry.substr(negative ? 1 : 0)) exp = exp * 10 + (c - '0');
  if (negative) exp = -exp;
  const std::string credential = identity::signUserId(kSecret, user, absl::FromUnixSeconds(exp));
  for (const Subject& s : world().subjects) {
    if (s.settings.kind != IdentityKind::kHmac) continue;
    const bool valid = isValidId(user) && exp >= 0 && exp <= (int64_t{1} << 40) &&
                       kNow < absl::FromUnixSeconds(exp) + s.settings.leeway;
    identity::Scratch scratch;
    const identity::Resolved out = resolveOne(s, credential, scratch);
    FUZZ_CHECK((out.refusal == Refusal::kOk) == valid,
               absl::StrCat(credential, ": ", av(identity::refusalLabel(out.refusal))));
    if (valid) {
      FUZZ_CHECK(out.user == user, out.user);
      checkTampered(s, credential, pick);
    }
  }
}

void fuzzProxies(std::string_view list, const std::vector<std::string_view>& f) {
  std::vector<std::string> entries;
  for (absl::string_view e : absl::StrSplit(av(list), ',')) entries.emplace_back(e);
  absl::StatusOr<TrustedProxies> proxies = TrustedProxies::parse(entries);
  if (!proxies.ok()) {
    const std::string_view message = sv(proxies.status().message());
    bool names_one = false;
    for (const std::string& e : entries) {
      names_one = names_one || message.find(absl::StrCat("\"", e, "\"")) != std::string_view::npos;
    }
    FUZZ_CHECK(proxies.status().code() == absl::StatusCode::kInvalidArgument && names_one,
               proxies.status().ToString());
    return;
  }
  for (const std::string& e : entries) {
    const std::optional<IpAddress> base =
        IpAddress::parse(std::string_view(e).substr(0, e.find('/')));
    FUZZ_CHECK(base.has_value() && proxies->contains(*base),
               absl::StrCat("the range \"", e, "\" does not contain its own address"));
  }
  std::string scratch;
  const std::string_view client = proxies->clientAddress(f[0], f[3], f[4], scratch);
  checkClientAddress(*proxies, f[0], f[3], f[4], client);
}

}  // namespace
}  // namespace seckill::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> fields;
  for (absl::string_view f : absl::StrSplit(absl::string_view(bytes.data(), bytes.size()),
                                            absl::MaxSplits('\n', 8))) {
    fields.emplace_back(f.data(), f.size());
  }
  fields.resize(9);
  size_t pick = 14695981039346656037u;  // FNV-1a: which byte the tampering checks change
  for (unsigned char c : bytes) pick = (pick ^ c) * 1099511628211u;
  seckill::fuzz::fuzzRequest(fields);
  if (!fields[5].empty()) seckill::fuzz::fuzzMintedJwt(fields[5], fields[6], pick);
  if (!fields[7].empty()) seckill::fuzz::fuzzSignedId(fields[7], pick);
  if (!fields[8].empty()) seckill::fuzz::fuzzProxies(fields[8], fields);
  return 0;
}
