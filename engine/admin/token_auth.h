#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/server_credentials.h"

namespace seckill::admin {

enum class Role { kViewer, kOperator };
std::string_view roleName(Role r);

// Who a token is.
struct Principal {
  std::string name;
  Role role = Role::kViewer;
};

// The admin tokens: one `<token> <role> <name>` per line (role viewer | operator; blank lines
// and lines starting with '#' are skipped). Only SHA-256 digests of the tokens are kept, and a
// lookup compares the presented token's digest with every entry in constant time, so neither
// the answer's timing nor a memory dump gives a token away.
class TokenTable {
 public:
  // Reads `path`. Refused (PermissionDenied, naming the file and its mode) when other users
  // may read or write it; InvalidArgument naming the line for a malformed line, a token shorter
  // than 16 characters, an unknown role or a duplicate token; NotFound when absent.
  static absl::StatusOr<TokenTable> load(const std::string& path);
  // From text (tests); `source` prefixes messages.
  static absl::StatusOr<TokenTable> parse(std::string_view text, std::string_view source);

  // The principal of `token`, or nullopt.
  std::optional<Principal> find(std::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::array<unsigned char, 32> digest;
    Principal who;
  };
  std::vector<Entry> entries_;
};

// The tokens the admin listener accepts now: a TokenTable that SIGHUP can replace while the
// listener serves (a revoked token stops working at once). Thread-safe.
class AdminTokens {
 public:
  explicit AdminTokens(TokenTable table) : table_(std::move(table)) {}
  void replace(TokenTable table) {
    absl::MutexLock lock(&mu_);
    table_ = std::move(table);
  }
  std::optional<Principal> find(std::string_view token) const {
    absl::MutexLock lock(&mu_);
    return table_.find(token);
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return table_.size();
  }

 private:
  mutable absl::Mutex mu_;
  TokenTable table_ ABSL_GUARDED_BY(mu_);
};

// TLS settings of the admin listener ([admin] tls_cert / tls_key / tls_client_ca).
struct TlsFiles {
  std::string cert;       // PEM chain; empty: no TLS
  std::string key;        // PEM private key
  std::string client_ca;  // PEM roots; set: clients must present a certificate they sign
};

// Server credentials (plain TCP, or TLS from `tls`) that authenticate EVERY call, of every
// service (health and reflection included), before any handler runs: the call's
// `authorization: Bearer <token>` metadata must name a token of `tokens`, else the call fails
// with UNAUTHENTICATED. (Handlers look the principal up again from the call's metadata; see
// callerOf.) InvalidArgument when a TLS file cannot be read. `tokens` must outlive every
// server built with the credentials.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> authenticatingCredentials(
    const AdminTokens& tokens, const TlsFiles& tls);

}  // namespace seckill::admin
