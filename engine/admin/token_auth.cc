#include "engine/admin/token_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/core/strings.h"
#include "grpc/grpc_security.h"

namespace seckill::admin {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr std::string_view kBearer = "Bearer ";

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> out;
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out.data());
  return out;
}

absl::StatusOr<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The credentials: a C server credential (insecure or SSL) with the token check installed as
// its auth metadata processor, wrapped for ServerBuilder. The C API is used because gRPC's C++
// InsecureServerCredentials() refuses an AuthMetadataProcessor, while the core's insecure
// credentials run it like any other.
class AuthenticatingCredentials final : public grpc::ServerCredentials {
 public:
  AuthenticatingCredentials(grpc_server_credentials* creds, const AdminTokens& tokens)
      : creds_(creds) {
    grpc_auth_metadata_processor p{&AuthenticatingCredentials::process, nullptr,
                                   const_cast<AdminTokens*>(&tokens)};
    grpc_server_credentials_set_auth_metadata_processor(creds_, p);
  }
  ~AuthenticatingCredentials() override { grpc_server_credentials_release(creds_); }

  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  static void process(void* state, grpc_auth_context* context, const grpc_metadata* md,
                      size_t num_md, grpc_process_auth_metadata_done_cb cb, void* user_data) {
    const auto* tokens = static_cast<const AdminTokens*>(state);
    std::optional<Principal> who;
    for (size_t i = 0; i < num_md; ++i) {
      if (grpc_slice_str_cmp(md[i].key, "authorization") != 0) continue;
      const std::string_view value(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(md[i].value)),
                                   GRPC_SLICE_LENGTH(md[i].value));
      if (value.size() > kBearer.size() && value.substr(0, kBearer.size()) == kBearer) {
        who = tokens->find(value.substr(kBearer.size()));
      }
      break;
    }
    if (!who) {
      cb(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED,
         "missing or unknown admin token (send \"authorization: Bearer <token>\")");
      return;
    }
    (void)context;  // shared by every call of the connection: no per-call identity goes there
    cb(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
  }

  grpc_server_credentials* creds_;
};

}  // namespace

std::string_view roleName(Role r) { return r == Role::kOperator ? "operator" : "viewer"; }

absl::StatusOr<TokenTable> TokenTable::parse(std::string_view text, std::string_view source) {
  TokenTable table;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(av(text), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(av(source), ":", line_no, ": ", av(why)));
    };
    if (words.size() != 3) return bad("expected \"<token> <role> <name>\"");
    if (words[0].size() < kMinTokenLength) {
      return bad(absl::StrCat("token shorter than ", kMinTokenLength, " characters"));
    }
    Entry e;
    if (words[1] == "operator") {
      e.who.role = Role::kOperator;
    } else if (words[1] == "viewer") {
      e.who.role = Role::kViewer;
    } else {
      return bad(absl::StrCat("unknown role \"", words[1], "\" (viewer | operator)"));
    }
    e.who.name = std::string(words[2]);
    e.digest = sha256(std::string_view(words[0].data(), words[0].size()));
    for (const Entry& other : table.entries_) {
      if (other.digest == e.digest) return bad("the same token is on an earlier line");
    }
    table.entries_.push_back(std::move(e));
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::load(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    std::string message = absl::StrCat(path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::PermissionDeniedError(message);
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        path, ": other users may read or write this tokens file (mode ",
        absl::Hex(st.st_mode & 0777), "); refusing it: chmod o-rw ", path));
  }
  absl::StatusOr<std::string> text = readFile(path);
  if (!text.ok()) return text.status();
  return parse(*text, path);
}

std::optional<Principal> TokenTable::find(std::string_view token) const {
  const std::array<unsigned char, 32> d = sha256(token);
  const Entry* hit = nullptr;
  for (const Entry& e : entries_) {
    // Every entry is compared, whatever matched before.
    if (CRYPTO_memcmp(e.digest.data(), d.data(), d.size()) == 0) hit = &e;
  }
  if (hit == nullptr) return std::nullopt;
  return hit->who;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> authenticatingCredentials(
    const AdminTokens& tokens, const TlsFiles& tls) {
  grpc_server_credentials* creds = nullptr;
  if (tls.cert.empty()) {
    creds = grpc_insecure_server_credentials_create();
  } else {
    absl::StatusOr<std::string> cert = readFile(tls.cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = readFile(tls.key);
    if (!key.ok()) return key.status();
    std::string ca;
    if (!tls.client_ca.empty()) {
      absl::StatusOr<std::string> c = readFile(tls.client_ca);
      if (!c.ok()) return c.status();
      ca = *std::move(c);
    }
    grpc_ssl_pem_key_cert_pair pair{key->c_str(), cert->c_str()};
    creds = grpc_ssl_server_credentials_create_ex(
        ca.empty() ? nullptr : ca.c_str(), &pair, 1,
        ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                   : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
        nullptr);
    if (creds == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("admin TLS: cannot use ", tls.cert, " and ", tls.key));
    }
  }
  return std::shared_ptr<grpc::ServerCredentials>(
      std::make_shared<AuthenticatingCredentials>(creds, tokens));
}

}  // namespace seckill::admin
