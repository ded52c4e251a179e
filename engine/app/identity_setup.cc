#include "engine/app/identity_setup.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/core/strings.h"

namespace seckill::app {
namespace {

// `path`'s bytes; the message names the key and the path.
absl::StatusOr<std::string> readKeyFile(std::string_view key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("identity.", av(key), ": cannot read ",
                                                   path, ": ", std::strerror(errno)));
  }
  std::string bytes;
  bytes.resize(identity::kMaxKeyBytes + 1);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() > identity::kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("identity.", av(key), ": ", path,
                                                   " is larger than ", identity::kMaxKeyBytes,
                                                   " bytes; is it the right file?"));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<identity::ShopperIdentity>> makeShopperIdentity(
    const EngineConfig& config) {
  const IdentityConfig& c = config.identity;
  auto at = [&](int64_t line, const absl::Status& s) {
    if (config.source.empty() || line == 0) return s;
    return absl::InvalidArgumentError(absl::StrCat(config.source, ":", line, ": ", s.message()));
  };
  identity::IdentitySettings s;
  s.kind = c.kind;
  s.issuer = c.issuer;
  s.audience = c.audience;
  s.user_claim = c.user_claim;
  s.leeway = c.leeway;
  s.header = c.header;
  s.trusted_proxies = c.trusted_proxies;
  if (!c.secret_file.empty()) {
    auto bytes = readKeyFile("secret_file", c.secret_file);
    if (!bytes.ok()) return at(c.secret_file_line, bytes.status());
    // A secret written with `echo` ends in a newline that is not part of it.
    while (!bytes->empty() && (bytes->back() == '\n' || bytes->back() == '\r')) bytes->pop_back();
    s.secret = std::move(*bytes);
  }
  if (!c.public_key_file.empty()) {
    auto bytes = readKeyFile("public_key_file", c.public_key_file);
    if (!bytes.ok()) return at(c.public_key_file_line, bytes.status());
    s.public_key_pem = std::move(*bytes);
  }
  auto id = identity::ShopperIdentity::make(s);
  if (!id.ok()) {
    const std::string m(id.status().message());
    const int64_t line = m.starts_with("identity.secret_file")       ? c.secret_file_line
                         : m.starts_with("identity.public_key_file") ? c.public_key_file_line
                                                                     : c.line;
    return at(line, id.status());
  }
  return id;
}

std::string identitySummary(const IdentityConfig& c) {
  using identity::IdentityKind;
  std::string proxies =
      c.trusted_proxies.empty()
          ? std::string("no trusted proxies: the client address is the socket's")
          : absl::StrCat("X-Forwarded-For / Forwarded believed from ",
                         absl::StrJoin(c.trusted_proxies, ", "));
  switch (c.kind) {
    case IdentityKind::kNone:
      return absl::StrCat(
          "shopper identities are NOT verified: X-User-Id is taken as sent ([identity] kind = "
          "\"none\"); ",
          proxies);
    case IdentityKind::kJwt:
      return absl::StrCat("shopper identities: JWT (", c.secret_file.empty() ? "RS256/ES256" : "HS256",
                          ") in Authorization: Bearer, user from claim \"", c.user_claim, "\"",
                          c.issuer.empty() ? "" : ", issuer checked",
                          c.audience.empty() ? "" : ", audience checked", "; ", proxies);
    case IdentityKind::kHmac:
      return absl::StrCat("shopper identities: HMAC-signed ",
                          c.header.empty() ? "X-User-Id" : c.header, "; ", proxies);
    case IdentityKind::kHeader:
      return absl::StrCat("shopper identities: ", c.header.empty() ? "X-User-Id" : c.header,
                          " as set by the gateway, believed only from trusted proxies; ",
                          proxies);
  }
  return "";
}

}  // namespace seckill::app
