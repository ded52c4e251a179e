#pragma once

#include <arpa/inet.h>
#include <mysql.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_process.h"

namespace seckill::testing {

// A real mariadbd for tests: a fresh data directory (mysql_install_db) in a
// temp dir, TCP on a free loopback port, its socket in the temp dir. start()
// installs on first use and waits (bounded) until the server accepts; stop()
// kills it (SIGKILL: a crash, InnoDB recovers on the next start); start()
// again reuses port and data, for outage tests. The destructor stops it and
// removes the directory. Works as root (mariadbd then needs --user=root) and
// as a normal user. Fails (never skips) when the binaries are missing.
//
// A password user (kUser / kPassword, the password needs percent-encoding in
// a URL) is created with all privileges; url(db) names it.
class MariadbServer {
 public:
  static constexpr const char* kUser = "seckill";
  static constexpr const char* kPassword = "p@ss:w/rd";
  static constexpr const char* kPasswordInUrl = "p%40ss%3Aw%2Frd";

  struct Options {
    int flush_log_at_trx_commit = 2;  // 1 = durable; tests do not need the fsyncs
    std::vector<std::string> extra_args;
  };

  MariadbServer() : MariadbServer(Options()) {}
  explicit MariadbServer(Options options) : options_(std::move(options)) {}
  ~MariadbServer() { stop(); }
  MariadbServer(const MariadbServer&) = delete;
  MariadbServer& operator=(const MariadbServer&) = delete;

  absl::Status start() {
    if (pid_ > 0) return absl::OkStatus();
    if (dir_.empty()) return absl::InternalError("mkdtemp failed");
    // After PATH, the sbin directories a normal user's PATH may lack.
    auto find = [](std::initializer_list<std::string_view> names) {
      return findBinary(names, {"/usr/sbin", "/usr/bin", "/usr/local/sbin"});
    };
    std::string server = find({"mariadbd", "mysqld"});
    std::string install = find({"mariadb-install-db", "mysql_install_db"});
    if (server.empty() || install.empty()) {
      return absl::FailedPreconditionError(
          "mariadbd / mysql_install_db not found: install the mariadb-server package "
          "(apt-get install mariadb-server) to run the MySQL tests");
    }
    if (!installed_) {
      std::error_code ec;
      std::filesystem::create_directories(dir_ + "/tmp", ec);
      absl::Status s = installData(install);
      if (!s.ok()) return s;
      installed_ = true;
    }
    const bool fixed_port = port_ != 0;
    absl::Status last = absl::UnavailableError("mariadbd did not start");
    for (int attempt = 0; attempt < (fixed_port ? 20 : 5); ++attempt) {
      if (!fixed_port) port_ = freeLoopbackPort();
      last = spawn(server);
      if (last.ok()) break;
      if (fixed_port) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!last.ok()) return last;
    if (!user_created_) {
      for (const char* host : {"127.0.0.1", "localhost"}) {
        absl::Status s = exec(absl::StrCat("CREATE USER IF NOT EXISTS '", kUser, "'@'", host,
                                           "' IDENTIFIED BY '", kPassword, "'"));
        if (s.ok()) {
          s = exec(absl::StrCat("GRANT ALL ON *.* TO '", kUser, "'@'", host, "'"));
        }
        if (!s.ok()) return s;
      }
      user_created_ = true;
    }
    return absl::OkStatus();
  }

  // Kills the server (SIGKILL) and reaps it. Idempotent.
  void stop() {
    if (pid_ <= 0) return;
    killAndReap(pid_);
    pid_ = -1;
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/mysqld.sock"; }

  // "mysql://seckill:<password>@127.0.0.1:<port>/<db>".
  std::string url(const std::string& db) const {
    return absl::StrCat("mysql://", kUser, ":", kPasswordInUrl, "@127.0.0.1:", port_, "/", db);
  }

  absl::Status createDatabase(const std::string& db) {
    return exec(absl::StrCat("CREATE DATABASE IF NOT EXISTS `", db, "`"));
  }

  // Runs `sql` as root over the socket; rows as text ("NULL" for NULL).
  absl::StatusOr<std::vector<std::vector<std::string>>> query(const std::string& sql,
                                                              const std::string& db = "") const {
    MYSQL* m = connectRoot(db);
    if (m == nullptr) return absl::UnavailableError("mariadb: cannot connect as root");
    std::vector<std::vector<std::string>> rows;
    absl::Status status = absl::OkStatus();
    if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
      status = absl::InternalError(absl::StrCat("mariadb: ", mysql_error(m), " in: ", sql));
    } else if (MYSQL_RES* res = mysql_store_result(m)) {
      unsigned int n = mysql_num_fields(res);
      while (MYSQL_ROW row = mysql_fetch_row(res)) {
        unsigned long* len = mysql_fetch_lengths(res);
        std::vector<std::string> out;
        for (unsigned int i = 0; i < n; ++i) {
          out.push_back(row[i] == nullptr ? "NULL" : std::string(row[i], len[i]));
        }
        rows.push_back(std::move(out));
      }
      mysql_free_result(res);
    } else if (mysql_field_count(m) != 0) {
      status = absl::InternalError(absl::StrCat("mariadb: ", mysql_error(m)));
    }
    mysql_close(m);
    if (!status.ok()) return status;
    return rows;
  }

  absl::Status exec(const std::string& sql, const std::string& db = "") const {
    return query(sql, db).status();
  }

  // The first column of the first row, or an error.
  absl::StatusOr<std::string> scalar(const std::string& sql, const std::string& db = "") const {
    auto rows = query(sql, db);
    if (!rows.ok()) return rows.status();
    if (rows->empty() || (*rows)[0].empty()) return absl::NotFoundError("no row: " + sql);
    return (*rows)[0][0];
  }

 private:
  static void initLibrary() {
    static std::once_flag once;
    std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
  }

  MYSQL* connectRoot(const std::string& db) const {
    initLibrary();
    MYSQL* m = mysql_init(nullptr);
    if (m == nullptr) return nullptr;
    unsigned int timeout = 2;
    unsigned int protocol = MYSQL_PROTOCOL_SOCKET;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_options(m, MYSQL_OPT_PROTOCOL, &protocol);
    if (mysql_real_connect(m, "localhost", "root", "", db.empty() ? nullptr : db.c_str(), 0,
                           socket().c_str(), 0) == nullptr) {
      mysql_close(m);
      return nullptr;
    }
    return m;
  }

  // mariadbd refuses to run as root unless told to.
  static std::vector<std::string> userArgs() {
    if (geteuid() != 0) return {};
    return {"--user=root"};
  }

  std::vector<std::string> commonArgs() const {
    // A tmpdir of its own: a starting server deletes the '#sql*' files it finds
    // in its tmpdir, which breaks another instance bootstrapping in /tmp.
    std::vector<std::string> a = {
        absl::StrCat("--tmpdir=", dir_, "/tmp"), "--innodb-log-file-size=16M",
        "--innodb-buffer-pool-size=64M",
        absl::StrCat("--innodb-flush-log-at-trx-commit=", options_.flush_log_at_trx_commit)};
    for (const std::string& u : userArgs()) a.push_back(u);
    return a;
  }

  // Runs `args` to completion, its output into `log`; an error unless it exits 0.
  static absl::Status run(const std::vector<std::string>& args, const std::string& log) {
    pid_t pid = spawnProcess(args, log);
    if (pid < 0) return absl::InternalError("cannot spawn " + args[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::InternalError(
          absl::StrCat(args[0], " failed (status ", status, "): ", readFileTail(log, 2000)));
    }
    return absl::OkStatus();
  }

  absl::Status installData(const std::string& install) {
    std::vector<std::string> args = {install,
                                     "--no-defaults",
                                     absl::StrCat("--datadir=", dir_, "/data"),
                                     "--auth-root-authentication-method=normal",
                                     "--skip-test-db",
                                     "--skip-name-resolve"};
    for (const std::string& a : commonArgs()) args.push_back(a);
    return run(args, dir_ + "/install.log");
  }

  absl::Status spawn(const std::string& binary) {
    std::filesystem::remove(socket());  // left by a killed server
    std::vector<std::string> args = {binary,
                                     "--no-defaults",
                                     absl::StrCat("--datadir=", dir_, "/data"),
                                     absl::StrCat("--socket=", socket()),
                                     absl::StrCat("--pid-file=", dir_, "/mysqld.pid"),
                                     absl::StrCat("--log-error=", dir_, "/error.log"),
                                     absl::StrCat("--port=", port_),
                                     "--bind-address=127.0.0.1",
                                     "--skip-networking=0",
                                     "--skip-name-resolve",
                                     "--skip-log-bin",
                                     "--performance-schema=OFF",
                                     "--max-connections=500"};
    for (const std::string& a : commonArgs()) args.push_back(a);
    for (const std::string& a : options_.extra_args) args.push_back(a);
    pid_t pid = spawnProcess(args);  // it logs to --log-error
    if (pid < 0) return absl::InternalError("cannot spawn " + binary);
    auto accepts = [this] {
      if (!acceptsTcp()) return false;
      MYSQL* m = connectRoot("");
      if (m == nullptr) return false;
      mysql_close(m);
      return true;
    };
    switch (awaitStartup(pid, std::chrono::seconds(60), std::chrono::milliseconds(20), accepts)) {
      case Startup::kReady:
        pid_ = pid;
        return absl::OkStatus();
      case Startup::kExited:
        return absl::UnavailableError(absl::StrCat("mariadbd exited on port ", port_, ": ",
                                                   readFileTail(dir_ + "/error.log", 2000)));
      case Startup::kTimedOut:
        break;
    }
    killAndReap(pid);
    return absl::UnavailableError(absl::StrCat("mariadbd did not accept on ", port_));
  }

  bool acceptsTcp() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    return ok;
  }

  const Options options_;
  TempDir tmp_{"seckill-mariadb", "/tmp"};
  const std::string dir_ = tmp_.path().string();
  int port_ = 0;
  pid_t pid_ = -1;
  bool installed_ = false;
  bool user_created_ = false;
};

}  // namespace seckill::testing
