#include "engine/store/mysql/mysql_url.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {
namespace {

absl::StatusOr<std::string> percentDecode(std::string_view s, std::string_view what) {
  std::optional<std::string> out = percentDecoded(s);
  if (!out) {
    return absl::InvalidArgumentError(
        absl::StrCat("mysql url: bad or truncated percent escape in the ", av(what)));
  }
  return *std::move(out);
}

}  // namespace

absl::StatusOr<MysqlUrl> parseMysqlUrl(std::string_view url) {
  constexpr std::string_view kScheme = "mysql://";
  if (!url.starts_with(kScheme)) {
    return absl::InvalidArgumentError("mysql url: must start with mysql://");
  }
  std::string_view rest = url.substr(kScheme.size());
  MysqlUrl out;

  // The query (?socket=...) first: a socket path contains '/'.
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (param.starts_with("socket=") && param.size() > 7) {
        absl::StatusOr<std::string> socket = percentDecode(param.substr(7), "socket");
        if (!socket.ok()) return socket.status();
        out.socket = *std::move(socket);
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "mysql url: unknown query parameter '", av(param), "' (only socket=/path is known)"));
      }
    }
  }

  size_t at = rest.rfind('@');
  if (at == std::string_view::npos) {
    return absl::InvalidArgumentError("mysql url: missing user (mysql://user:password@host/db)");
  }
  std::string_view userinfo = rest.substr(0, at);
  std::string_view hostpart = rest.substr(at + 1);
  size_t colon = userinfo.find(':');
  absl::StatusOr<std::string> user = percentDecode(userinfo.substr(0, colon), "user");
  if (!user.ok()) return user.status();
  if (user->empty()) return absl::InvalidArgumentError("mysql url: empty user");
  out.user = *std::move(user);
  if (colon != std::string_view::npos) {
    absl::StatusOr<std::string> password = percentDecode(userinfo.substr(colon + 1), "password");
    if (!password.ok()) return password.status();
    out.password = *std::move(password);
  }

  size_t slash = hostpart.find('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError("mysql url: missing database (.../db)");
  }
  std::string_view database = hostpart.substr(slash + 1);
  hostpart = hostpart.substr(0, slash);
  if (database.empty()) return absl::InvalidArgumentError("mysql url: empty database");
  if (database.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError("mysql url: database name contains '/'");
  }
  out.database = std::string(database);

  std::string_view host = hostpart;
  if (size_t pc = hostpart.rfind(':'); pc != std::string_view::npos) {
    host = hostpart.substr(0, pc);
    std::string_view port = hostpart.substr(pc + 1);
    int value = 0;
    if (port.empty() || !absl::SimpleAtoi(av(port), &value) || value < 1 || value > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("mysql url: port '", av(port), "' is not a number in 1-65535"));
    }
    out.port = value;
  }
  if (host.empty()) return absl::InvalidArgumentError("mysql url: empty host");
  out.host = std::string(host);
  return out;
}

std::string redactedMysqlUrl(const MysqlUrl& url) {
  return absl::StrCat("mysql://", url.user, url.password.empty() ? "" : ":***", "@", url.host, ":",
                      url.port, "/", url.database,
                      url.socket.empty() ? "" : absl::StrCat("?socket=", url.socket));
}

}  // namespace seckill
