#include "engine/identity/openssl_util.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace seckill::identity {
namespace {

constexpr size_t kSha256Bytes = 32;

std::string opensslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

}  // namespace

void HmacKey::Free::operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }

namespace {

// One thread's MAC context: for the key `id`, or none yet.
struct ThreadMac {
  uint64_t id = 0;
  EVP_MAC_CTX* ctx = nullptr;
  ~ThreadMac() { EVP_MAC_CTX_free(ctx); }
};

std::atomic<uint64_t> next_key_id{1};

}  // namespace

EVP_MAC_CTX* HmacKey::threadContext() const {
  // One slot per thread: a thread that alternates between keys re-copies (tests do; the engine
  // has one key). Keyed by id_, never by address, so a key made where a freed one lived does
  // not inherit its context.
  thread_local ThreadMac slot;
  if (slot.id != id_) {
    EVP_MAC_CTX_free(slot.ctx);
    slot.ctx = EVP_MAC_CTX_dup(keyed_.get());
    slot.id = slot.ctx != nullptr ? id_ : 0;
  }
  return slot.ctx;
}

bool sha256(std::string_view data, unsigned char* out) {
  struct ThreadDigest {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~ThreadDigest() {
      EVP_MD_CTX_free(ctx);
      EVP_MD_free(md);
    }
  };
  thread_local ThreadDigest d;
  unsigned int n = 0;
  const bool ok = d.md != nullptr && d.ctx != nullptr &&
                  EVP_DigestInit_ex(d.ctx, d.md, nullptr) == 1 &&
                  EVP_DigestUpdate(d.ctx, data.data(), data.size()) == 1 &&
                  EVP_DigestFinal_ex(d.ctx, out, &n) == 1 && n == kSha256Bytes;
  if (!ok) ERR_clear_error();
  return ok;
}

absl::StatusOr<HmacKey> HmacKey::make(std::string_view secret) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return absl::InternalError(absl::StrCat("HMAC: ", opensslError()));
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context holds its own reference
  if (ctx == nullptr) return absl::InternalError(absl::StrCat("HMAC: ", opensslError()));
  HmacKey key;
  key.keyed_ = std::shared_ptr<EVP_MAC_CTX>(ctx, Free());
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                   params) != 1) {
    return absl::InternalError(absl::StrCat("HMAC: ", opensslError()));
  }
  key.id_ = next_key_id.fetch_add(1, std::memory_order_relaxed);
  return key;
}

namespace {

// The MAC of `data` under the keyed `ctx` into `out` (32 bytes).
bool macInto(EVP_MAC_CTX* ctx, std::string_view data, unsigned char* out) {
  size_t n = 0;
  // A NULL key re-initialises with the key already set.
  const bool ok = ctx != nullptr && EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
                  EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                                 data.size()) == 1 &&
                  EVP_MAC_final(ctx, out, &n, kSha256Bytes) == 1 && n == kSha256Bytes;
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace

std::string HmacKey::sign(std::string_view data) const {
  if (keyed_ == nullptr) return {};
  unsigned char mac[kSha256Bytes];
  if (!macInto(threadContext(), data, mac)) return {};
  return std::string(reinterpret_cast<const char*>(mac), kSha256Bytes);
}

bool HmacKey::verify(std::string_view data, std::string_view mac) const {
  if (keyed_ == nullptr || mac.size() != kSha256Bytes) return false;
  unsigned char expected[kSha256Bytes];
  return macInto(threadContext(), data, expected) &&
         CRYPTO_memcmp(expected, mac.data(), kSha256Bytes) == 0;
}

absl::StatusOr<PublicKey> PublicKey::fromPem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return absl::InternalError(opensslError());
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "not a PEM public key (\"-----BEGIN PUBLIC KEY-----\"; a certificate or a private key "
        "is not accepted)");
  }
  PublicKey key;
  key.key_ = std::shared_ptr<EVP_PKEY>(raw, &EVP_PKEY_free);
  key.bits_ = EVP_PKEY_get_bits(raw);
  switch (EVP_PKEY_get_base_id(raw)) {
    case EVP_PKEY_RSA:
      key.type_ = Type::kRsa;
      break;
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(raw, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                         &len) == 1 &&
          std::strcmp(group, "prime256v1") == 0) {
        key.type_ = Type::kP256;
      } else {
        key.type_ = Type::kOther;
      }
      break;
    }
    default:
      key.type_ = Type::kOther;
  }
  ERR_clear_error();
  return key;
}

bool PublicKey::verify(std::string_view data, std::string_view sig) const {
  if (key_ == nullptr) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key_.get(),
                              nullptr) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                       sig.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

bool rawEcdsaToDer(std::string_view raw, size_t half, std::string& der) {
  if (raw.size() != 2 * half) return false;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), &ECDSA_SIG_free);
  if (sig == nullptr) return false;
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), half, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + half, half, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  const int n = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (n <= 0) return false;
  der.resize(static_cast<size_t>(n));
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  return i2d_ECDSA_SIG(sig.get(), &p) == n;
}

}  // namespace seckill::identity
