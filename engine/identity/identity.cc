#include "engine/identity/identity.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/core/sale.h"
#include "engine/core/strings.h"
#include "engine/identity/openssl_util.h"

namespace seckill::identity {
namespace {

// [identity] kind = "hmac": "<user>.<expiry unix s>.<base64url HMAC-SHA256>", signed over
// "<user>.<expiry>". User ids are [A-Za-z0-9_-], so '.' cannot occur inside one.
class SignedUserVerifier final : public UserVerifier {
 public:
  SignedUserVerifier(HmacKey key, absl::Duration leeway) : key_(std::move(key)), leeway_(leeway) {}

  Refusal verify(std::string_view credential, absl::Time now, std::string& user) const override {
    const size_t dot1 = credential.find('.');
    if (dot1 == std::string_view::npos) return Refusal::kMalformed;
    const size_t dot2 = credential.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos) return Refusal::kMalformed;
    const std::string_view id = credential.substr(0, dot1);
    const std::string_view expiry = credential.substr(dot1 + 1, dot2 - dot1 - 1);
    if (!isValidId(id)) return Refusal::kMalformed;
    int64_t exp = 0;
    auto [p, ec] = std::from_chars(expiry.data(), expiry.data() + expiry.size(), exp);
    if (ec != std::errc() || p != expiry.data() + expiry.size() || exp < 0 || exp > (1LL << 40)) {
      return Refusal::kMalformed;
    }
    std::string mac;
    if (!absl::WebSafeBase64Unescape(av(credential.substr(dot2 + 1)), &mac)) {
      return Refusal::kMalformed;
    }
    if (!key_.verify(credential.substr(0, dot2), mac)) return Refusal::kSignature;
    if (now >= absl::FromUnixSeconds(exp) + leeway_) return Refusal::kExpired;
    user.assign(id);
    return Refusal::kOk;
  }

 private:
  const HmacKey key_;
  const absl::Duration leeway_;
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view identityKindName(IdentityKind k) {
  switch (k) {
    case IdentityKind::kNone: return "none";
    case IdentityKind::kJwt: return "jwt";
    case IdentityKind::kHmac: return "hmac";
    case IdentityKind::kHeader: return "header";
  }
  return "none";
}

absl::StatusOr<IdentityKind> parseIdentityKind(std::string_view name) {
  for (IdentityKind k :
       {IdentityKind::kNone, IdentityKind::kJwt, IdentityKind::kHmac, IdentityKind::kHeader}) {
    if (name == identityKindName(k)) return k;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown identity kind \"", av(name), "\" (expected \"none\", \"jwt\", \"hmac\" or \"header\")"));
}

std::string_view refusalLabel(Refusal r) {
  switch (r) {
    case Refusal::kOk: return "ok";
    case Refusal::kMissing: return "missing";
    case Refusal::kMalformed: return "malformed";
    case Refusal::kAlgorithm: return "algorithm";
    case Refusal::kSignature: return "signature";
    case Refusal::kExpired: return "expired";
    case Refusal::kNotYetValid: return "not_yet_valid";
    case Refusal::kIssuer: return "issuer";
    case Refusal::kAudience: return "audience";
    case Refusal::kUser: return "user";
    case Refusal::kUntrustedHeader: return "untrusted_header";
  }
  return "malformed";
}

std::string_view refusalMessage(Refusal r) {
  switch (r) {
    case Refusal::kOk: return "";
    case Refusal::kMissing: return "this request needs a verified shopper identity";
    case Refusal::kMalformed: return "the identity is malformed";
    case Refusal::kAlgorithm: return "the token's algorithm is not accepted";
    case Refusal::kSignature: return "the identity's signature does not verify";
    case Refusal::kExpired: return "the identity has expired (or has no expiry)";
    case Refusal::kNotYetValid: return "the token is not valid yet";
    case Refusal::kIssuer: return "the token's issuer is not accepted";
    case Refusal::kAudience: return "the token is not for this audience";
    case Refusal::kUser: return "the token names no valid user id";
    case Refusal::kUntrustedHeader: return "the identity header came from an untrusted address";
  }
  return "the identity is malformed";
}

absl::StatusOr<std::unique_ptr<UserVerifier>> makeSignedUserVerifier(const IdentitySettings& s) {
  if (s.secret.size() < kMinSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identity.secret_file: the HMAC secret must be at least ", kMinSecretBytes,
        " bytes; it has ", s.secret.size()));
  }
  if (s.leeway < absl::ZeroDuration() || s.leeway > absl::Minutes(10)) {
    return absl::InvalidArgumentError("identity.leeway: must be between 0s and 10m");
  }
  auto key = HmacKey::make(s.secret);
  if (!key.ok()) return key.status();
  return std::make_unique<SignedUserVerifier>(std::move(*key), s.leeway);
}

std::string signUserId(std::string_view secret, std::string_view user, absl::Time expiry) {
  const std::string payload = absl::StrCat(av(user), ".", absl::ToUnixSeconds(expiry));
  auto key = HmacKey::make(secret);
  if (!key.ok()) return {};
  return absl::StrCat(payload, ".", absl::WebSafeBase64Escape(key->sign(payload)));
}

absl::StatusOr<std::unique_ptr<ShopperIdentity>> ShopperIdentity::make(
    const IdentitySettings& settings) {
  std::unique_ptr<ShopperIdentity> id(new ShopperIdentity());
  id->kind_ = settings.kind;
  if (!settings.header.empty()) {
    for (char c : settings.header) {
      const bool token_char = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                              c == '_' || c == '.';
      if (!token_char) {
        return absl::InvalidArgumentError(absl::StrCat(
            "identity.header: \"", av(settings.header), "\" is not a header name"));
      }
    }
    if (settings.kind == IdentityKind::kNone || settings.kind == IdentityKind::kJwt) {
      return absl::InvalidArgumentError(
          "identity.header: only kind = \"hmac\" or \"header\" reads a user header");
    }
    id->user_header_ = absl::AsciiStrToLower(settings.header);
  }
  auto proxies = TrustedProxies::parse(settings.trusted_proxies);
  if (!proxies.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("identity.trusted_proxies: ", proxies.status().message()));
  }
  id->proxies_ = std::move(*proxies);
  const bool keyed = settings.kind == IdentityKind::kJwt || settings.kind == IdentityKind::kHmac;
  if (!keyed && (!settings.secret.empty() || !settings.public_key_pem.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identity: kind = \"", av(identityKindName(settings.kind)),
        "\" verifies no signature; secret_file and public_key_file are for \"jwt\" and \"hmac\""));
  }
  switch (settings.kind) {
    case IdentityKind::kNone:
      break;
    case IdentityKind::kJwt: {
      auto v = makeJwtVerifier(settings);
      if (!v.ok()) return v.status();
      id->verifier_ = std::move(*v);
      break;
    }
    case IdentityKind::kHmac: {
      if (!settings.public_key_pem.empty()) {
        return absl::InvalidArgumentError(
            "identity.public_key_file: kind = \"hmac\" takes a secret_file");
      }
      auto v = makeSignedUserVerifier(settings);
      if (!v.ok()) return v.status();
      id->verifier_ = std::move(*v);
      break;
    }
    case IdentityKind::kHeader:
      if (id->proxies_.empty()) {
        return absl::InvalidArgumentError(
            "identity.trusted_proxies: kind = \"header\" needs the gateway's addresses (anyone "
            "else could name any user)");
      }
      break;
  }
  return id;
}

Resolved ShopperIdentity::resolve(const RequestCredentials& in, absl::Time now,
                                  Scratch& scratch) const {
  Resolved out;
  out.client_ip =
      proxies_.clientAddress(in.peer_ip, in.forwarded_for, in.forwarded, scratch.client_ip);
  switch (kind_) {
    case IdentityKind::kNone:
      // As sent; the API checks the form (one header, a valid id).
      out.user = in.user_header;
      out.refusal = in.user_header_count == 0 ? Refusal::kMissing : Refusal::kOk;
      return out;
    case IdentityKind::kHeader: {
      if (in.user_header_count == 0) {
        out.refusal = Refusal::kMissing;
      } else if (!proxies_.contains(in.peer_ip)) {
        out.refusal = Refusal::kUntrustedHeader;
      } else if (in.user_header_count != 1 || !isValidId(in.user_header)) {
        out.refusal = Refusal::kMalformed;
      } else {
        out.user = in.user_header;
      }
      return out;
    }
    case IdentityKind::kHmac:
    case IdentityKind::kJwt:
      break;
  }
  std::string_view credential;
  int count = 0;
  if (kind_ == IdentityKind::kHmac) {
    credential = trimmed(in.user_header);
    count = in.user_header_count;
  } else {
    count = in.authorization_count;
    credential = trimmed(in.authorization);
    if (count == 1) {
      // RFC 6750 2.1: "Bearer" (case-insensitive), one or more spaces, the token.
      if (credential.size() < 7 || !absl::EqualsIgnoreCase(av(credential.substr(0, 6)), "bearer") ||
          credential[6] != ' ') {
        out.refusal = Refusal::kMalformed;
        return out;
      }
      credential = trimmed(credential.substr(7));
    }
  }
  if (count == 0) {
    out.refusal = Refusal::kMissing;
    return out;
  }
  if (count != 1 || credential.empty()) {
    out.refusal = Refusal::kMalformed;
    return out;
  }
  out.refusal = verifier_->verify(credential, now, scratch.user);
  if (out.refusal == Refusal::kOk) out.user = scratch.user;
  return out;
}

}  // namespace seckill::identity
