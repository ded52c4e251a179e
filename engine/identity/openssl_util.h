#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

typedef struct evp_mac_ctx_st EVP_MAC_CTX;
typedef struct evp_pkey_st EVP_PKEY;

// The OpenSSL calls identity verification makes, owned and checked in one place.
namespace seckill::identity {

// An HMAC-SHA256 key, keyed once. sign() and verify() run on a copy of the keyed context kept
// per thread (re-initialised, not copied, for each MAC: OpenSSL 3's context copy costs as much
// as the MAC). Thread-safe.
class HmacKey {
 public:
  HmacKey() = default;
  static absl::StatusOr<HmacKey> make(std::string_view secret);

  // The 32-byte MAC of `data`; empty if OpenSSL failed.
  std::string sign(std::string_view data) const;
  // True iff `mac` is the MAC of `data` (compared in constant time).
  bool verify(std::string_view data, std::string_view mac) const;

 private:
  struct Free {
    void operator()(EVP_MAC_CTX* c) const;
  };
  // This thread's context for this key (made from keyed_ on first use); nullptr on failure.
  EVP_MAC_CTX* threadContext() const;

  std::shared_ptr<EVP_MAC_CTX> keyed_;  // shared: copies of the key share one template
  uint64_t id_ = 0;  // unique per make(): what a thread's context is keyed by
};

// SHA-256 of `data` into `out` (32 bytes), on a context kept per thread. False on failure.
bool sha256(std::string_view data, unsigned char* out);

// A public key read from PEM, for SHA-256 signatures (RS256, ES256).
class PublicKey {
 public:
  enum class Type { kNone, kRsa, kP256, kOther };
  PublicKey() = default;
  // InvalidArgument "not a PEM public key" (or OpenSSL's reason).
  static absl::StatusOr<PublicKey> fromPem(std::string_view pem);

  Type type() const { return type_; }
  int bits() const { return bits_; }
  // True iff `sig` (PKCS#1 v1.5 for RSA, DER for EC) signs `data` with SHA-256.
  bool verify(std::string_view data, std::string_view sig) const;

 private:
  std::shared_ptr<EVP_PKEY> key_;
  Type type_ = Type::kNone;
  int bits_ = 0;
};

// JWS's ECDSA signature (R || S, `half` bytes each) as the DER that OpenSSL verifies; false if
// `raw` is not 2 * `half` bytes.
bool rawEcdsaToDer(std::string_view raw, size_t half, std::string& der);

}  // namespace seckill::identity
