#include "bench/load/credentials.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <atomic>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace seckill::load {
namespace {

absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// OpenSSL 3's one-shot HMAC() fetches the algorithm on every call (about 1 us); a keyed context
// kept per thread costs a tenth of that, so the client's minting stays small next to the engine.
struct ThreadMac {
  uint64_t minter = 0;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx{nullptr, &EVP_MAC_CTX_free};
};

std::atomic<uint64_t> next_minter_id{1};

EVP_MAC* hmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace

absl::StatusOr<IdentitySpec> parseIdentitySpec(std::string_view text) {
  IdentitySpec spec;
  if (text == "none") return spec;
  const size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  if (colon == std::string_view::npos || colon + 1 == text.size() ||
      (kind != "jwt" && kind != "hmac")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--identity \"", av(text), "\": expected none, jwt:SECRET_FILE or hmac:SECRET_FILE"));
  }
  spec.mode = kind == "jwt" ? IdentityMode::kJwt : IdentityMode::kHmac;
  spec.secret_file = std::string(text.substr(colon + 1));
  return spec;
}

CredentialMinter::CredentialMinter(IdentityMode mode, std::string secret, int64_t expires_unix)
    : mode_(mode),
      secret_(std::move(secret)),
      expires_unix_(expires_unix),
      id_(next_minter_id.fetch_add(1)) {
  while (!secret_.empty() && (secret_.back() == '\n' || secret_.back() == '\r')) secret_.pop_back();
}

std::string CredentialMinter::mac(std::string_view data) const {
  thread_local ThreadMac mine;
  if (mine.minter != id_ || !mine.ctx) {
    mine.ctx.reset(hmacAlgorithm() ? EVP_MAC_CTX_new(hmacAlgorithm()) : nullptr);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
    if (!mine.ctx ||
        EVP_MAC_init(mine.ctx.get(), reinterpret_cast<const unsigned char*>(secret_.data()),
                     secret_.size(), params) != 1) {
      mine.ctx.reset();
      return {};
    }
    mine.minter = id_;
  } else if (EVP_MAC_init(mine.ctx.get(), nullptr, 0, nullptr) != 1) {  // same key, restart
    return {};
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t n = 0;
  if (EVP_MAC_update(mine.ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(mine.ctx.get(), out, &n, sizeof out) != 1) {
    return {};
  }
  return absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(out), n));
}

Credential CredentialMinter::forUser(std::string_view user) const {
  switch (mode_) {
    case IdentityMode::kNone:
      return {"X-User-Id", std::string(user)};
    case IdentityMode::kHmac: {
      std::string signed_part = absl::StrCat(av(user), ".", expires_unix_);
      return {"X-User-Id", absl::StrCat(signed_part, ".", mac(signed_part))};
    }
    case IdentityMode::kJwt: {
      static const std::string header =
          absl::WebSafeBase64Escape(R"({"alg":"HS256","typ":"JWT"})");
      std::string signed_part = absl::StrCat(
          header, ".",
          absl::WebSafeBase64Escape(
              absl::StrCat(R"({"sub":")", av(user), R"(","exp":)", expires_unix_, "}")));
      return {"Authorization", absl::StrCat("Bearer ", signed_part, ".", mac(signed_part))};
    }
  }
  return {"X-User-Id", std::string(user)};
}

}  // namespace seckill::load
