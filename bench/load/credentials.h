#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// What a shopper shows the engine to say who they are, as a login service would hand it out:
// the user id as sent, an HS256 JWT, or an HMAC-signed user id (the engine's [identity],
// docs/identity.md). seckill-load mints them itself: it plays the login service too.
namespace seckill::load {

enum class IdentityMode : uint8_t {
  kNone,  // X-User-Id: <user>
  kJwt,   // Authorization: Bearer <HS256 JWT, sub = user>
  kHmac,  // X-User-Id: <user>.<expiry>.<base64url HMAC-SHA256>
};

struct IdentitySpec {
  IdentityMode mode = IdentityMode::kNone;
  std::string secret_file;  // kJwt, kHmac
};

// Parses "none", "jwt:FILE" or "hmac:FILE".
absl::StatusOr<IdentitySpec> parseIdentitySpec(std::string_view text);

// One request header.
struct Credential {
  std::string_view name;
  std::string value;
};

// Mints each user's credential. The same user always gets the same one (a shopper reuses the
// token of their login for every request). Thread-safe (const).
class CredentialMinter {
 public:
  // `secret`: the key file's bytes (a trailing newline is not part of it); `expires_unix`: the
  // exp / expiry of every credential.
  CredentialMinter(IdentityMode mode, std::string secret, int64_t expires_unix);
  CredentialMinter() = default;

  IdentityMode mode() const { return mode_; }
  Credential forUser(std::string_view user) const;

 private:
  std::string mac(std::string_view data) const;  // base64url, unpadded

  IdentityMode mode_ = IdentityMode::kNone;
  std::string secret_;
  int64_t expires_unix_ = 0;
  uint64_t id_ = 0;  // unique per minter: what a thread's keyed MAC context belongs to
};

}  // namespace seckill::load
