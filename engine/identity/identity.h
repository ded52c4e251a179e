#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/identity/trusted_proxies.h"

// Who sent a shopper request: the verified user id and the client's address ([identity]).
// An edge part beside engine/http: OpenSSL does the signatures; nothing here does I/O or reads
// a clock (the caller passes `now`).
namespace seckill::identity {

// How the engine learns who a shopper is.
enum class IdentityKind : uint8_t {
  kNone,    // X-User-Id as sent: not verified (a gateway or a trusted network in front)
  kJwt,     // Authorization: Bearer <JWT>, HS256 / RS256 / ES256, the user from a claim
  kHmac,    // X-User-Id: <user>.<expiry unix s>.<base64url HMAC-SHA256 of "<user>.<expiry>">
  kHeader,  // a header the gateway sets after its own authentication, only from trusted_proxies
};
std::string_view identityKindName(IdentityKind k);
// Parses "none" | "jwt" | "hmac" | "header".
absl::StatusOr<IdentityKind> parseIdentityKind(std::string_view name);

// Why a request's identity was refused (its 401). kOk: accepted, or none was needed.
enum class Refusal : uint8_t {
  kOk,
  kMissing,              // no credential where the route needs a user
  kMalformed,            // not a JWT / signed user id, bad base64 or JSON, two of them
  kAlgorithm,            // the JWT's alg is not the configured one ("none" included)
  kSignature,            // the signature does not verify
  kExpired,              // exp (+ leeway) has passed
  kNotYetValid,          // nbf (- leeway) is still ahead
  kIssuer,               // iss is not the configured issuer
  kAudience,             // aud does not name the configured audience
  kUser,                 // the user claim is absent or not a valid user id
  kUntrustedHeader,      // the gateway's user header came from an address not in trusted_proxies
};
inline constexpr size_t kRefusalCount = 11;
// The metric label: "missing", "malformed", "algorithm", "signature", "expired",
// "not_yet_valid", "issuer", "audience", "user", "untrusted_header" ("ok" for kOk).
std::string_view refusalLabel(Refusal r);
// The 401's message: "the token has expired".
std::string_view refusalMessage(Refusal r);

// [identity], with the key files already read (engine/app reads them).
struct IdentitySettings {
  IdentityKind kind = IdentityKind::kNone;
  // jwt (HS256) and hmac: the shared secret, at least 32 bytes (RFC 7518 3.2).
  std::string secret;
  // jwt (RS256 with an RSA key of >= 2048 bits, ES256 with a P-256 key): a PEM public key.
  std::string public_key_pem;
  std::string issuer;    // jwt: required iss; empty = not checked
  std::string audience;  // jwt: aud must name it; empty = not checked
  std::string user_claim = "sub";
  absl::Duration leeway = absl::Seconds(30);  // clock skew allowed on exp and nbf
  // hmac and header: the header that carries the user ("x-user-id" when empty).
  std::string header;
  // jwt: how many accepted tokens are remembered (by SHA-256) so that a shopper's next request
  // skips the signature check; 0 checks every token in full.
  size_t remember_tokens = 65536;
  // Addresses (CIDR or single) allowed to set X-Forwarded-For / Forwarded, and, for
  // kind = header, the user header.
  std::vector<std::string> trusted_proxies;
};

// The largest secret, key file and credential accepted.
inline constexpr size_t kMaxKeyBytes = 64 * 1024;
inline constexpr size_t kMinSecretBytes = 32;

// Verifies one credential (a JWT, a signed user id). Thread-safe; allocation-light.
class UserVerifier {
 public:
  virtual ~UserVerifier() = default;
  // kOk with `user` set to the verified user id, or why not.
  virtual Refusal verify(std::string_view credential, absl::Time now, std::string& user) const = 0;
};

// What identity resolution reads from one request.
struct RequestCredentials {
  std::string_view peer_ip;        // the socket's address
  std::string_view authorization;  // the Authorization header ("" if absent)
  int authorization_count = 0;
  std::string_view user_header;  // the configured user header's value (X-User-Id by default)
  int user_header_count = 0;
  std::string_view forwarded_for;  // every X-Forwarded-For line, joined with ','
  std::string_view forwarded;      // every Forwarded line, joined with ','
};

// The verdict on one request. Its views point into the request's buffers or the Scratch.
struct Resolved {
  Refusal refusal = Refusal::kOk;
  // The verified (or, kind none, claimed) user id; empty if the request names none.
  std::string_view user;
  std::string_view client_ip;  // the client's address (trusted proxies applied)
};

// Buffers resolve() writes into; reused per connection, so a steady client allocates nothing.
struct Scratch {
  std::string user;
  std::string client_ip;
};

// The identity of shopper requests, as configured. Immutable after make(); thread-safe.
class ShopperIdentity {
 public:
  // InvalidArgument naming the [identity] key: "identity.public_key_file: ...".
  static absl::StatusOr<std::unique_ptr<ShopperIdentity>> make(const IdentitySettings& settings);

  IdentityKind kind() const { return kind_; }
  // The lower-case name of the header that carries the user ("x-user-id" unless configured).
  const std::string& userHeader() const { return user_header_; }
  const TrustedProxies& trustedProxies() const { return proxies_; }

  // Resolves a request. A refusal other than kMissing means the credential presented is bad:
  // answer 401 whatever the route. kMissing: the request names no user (routes that need one
  // answer 401).
  Resolved resolve(const RequestCredentials& in, absl::Time now, Scratch& scratch) const;

 private:
  ShopperIdentity() = default;
  IdentityKind kind_ = IdentityKind::kNone;
  std::string user_header_ = "x-user-id";
  TrustedProxies proxies_;
  std::unique_ptr<UserVerifier> verifier_;  // jwt, hmac
};

// A JWT verifier for one algorithm, chosen by the key: HS256 for a secret, RS256 for an RSA
// public key, ES256 for a P-256 one. InvalidArgument (naming the settings key) otherwise.
absl::StatusOr<std::unique_ptr<UserVerifier>> makeJwtVerifier(const IdentitySettings& settings);
// The signed-user-id verifier ([identity] kind = "hmac").
absl::StatusOr<std::unique_ptr<UserVerifier>> makeSignedUserVerifier(
    const IdentitySettings& settings);

// "<user>.<expiry unix s>.<signature>": what a login service hands a shopper for kind = "hmac"
// (tests and seckill-load use it too).
std::string signUserId(std::string_view secret, std::string_view user, absl::Time expiry);

}  // namespace seckill::identity
