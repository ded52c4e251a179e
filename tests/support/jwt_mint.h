#pragma once

// Test-side JWT minting: keys made on the fly, tokens signed with OpenSSL (the engine only
// ever verifies). Header-only; link OpenSSL::Crypto.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace seckill::testing {

// A key pair: the private key for signing, the PEM public key the engine is given.
struct TestKeyPair {
  std::shared_ptr<EVP_PKEY> key;
  std::string public_pem;
};

inline TestKeyPair makeKeyPair(const char* type, const char* param_name = nullptr,
                               const char* param = nullptr, unsigned int bits = 0) {
  EVP_PKEY* pkey = nullptr;
  if (bits != 0) {
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, type, static_cast<size_t>(bits));
  } else {
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, type, param);
  }
  (void)param_name;
  if (pkey == nullptr) throw std::runtime_error("keygen failed");
  TestKeyPair out;
  out.key = std::shared_ptr<EVP_PKEY>(pkey, &EVP_PKEY_free);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, pkey);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  out.public_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}
inline TestKeyPair makeRsaKey(unsigned int bits = 2048) { return makeKeyPair("RSA", nullptr, nullptr, bits); }
inline TestKeyPair makeEcKey(const char* curve = "P-256") { return makeKeyPair("EC", nullptr, curve); }

inline std::string b64url(std::string_view s) { return absl::WebSafeBase64Escape(absl::string_view(s.data(), s.size())); }

inline std::string hs256(std::string_view secret, std::string_view data) {
  unsigned char mac[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &n);
  return std::string(reinterpret_cast<char*>(mac), n);
}

inline std::string signWith(EVP_PKEY* key, std::string_view data, bool ec_raw) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t len = 0;
  EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(data.data()), data.size());
  sig.resize(len);
  if (!ec_raw) return sig;
  // DER -> R || S, 32 bytes each.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(es);
  return raw;
}

// header and claims are JSON texts; the token is "b64(header).b64(claims).b64(sig)".
inline std::string mintHs256(std::string_view secret, std::string_view claims,
                             std::string_view header = R"({"alg":"HS256","typ":"JWT"})") {
  std::string signing = absl::StrCat(b64url(header), ".", b64url(claims));
  return absl::StrCat(signing, ".", b64url(hs256(secret, signing)));
}
inline std::string mintRs256(const TestKeyPair& k, std::string_view claims,
                             std::string_view header = R"({"alg":"RS256","typ":"JWT"})") {
  std::string signing = absl::StrCat(b64url(header), ".", b64url(claims));
  return absl::StrCat(signing, ".", b64url(signWith(k.key.get(), signing, false)));
}
inline std::string mintEs256(const TestKeyPair& k, std::string_view claims,
                             std::string_view header = R"({"alg":"ES256","typ":"JWT"})") {
  std::string signing = absl::StrCat(b64url(header), ".", b64url(claims));
  return absl::StrCat(signing, ".", b64url(signWith(k.key.get(), signing, true)));
}

}  // namespace seckill::testing
