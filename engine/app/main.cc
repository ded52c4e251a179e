// seckill-engine: reads the config, wires the engine, serves until SIGINT/SIGTERM.
//
// Exit codes: 0 clean stop (or --check OK, --help); 1 start-up failure (e.g.
// the address is in use); 2 bad command line or config.

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/strings/str_cat.h"
#include "engine/admin/token_auth.h"
#include "engine/app/config.h"
#include "engine/app/engine_app.h"
#include "engine/app/identity_setup.h"
#include "engine/app/sd_notify.h"
#include "engine/core/sale_catalog.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

#ifndef SECKILL_VERSION
#define SECKILL_VERSION "unknown"
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitStartFailed = 1;
constexpr int kExitBadConfig = 2;

struct CommandLine {
  std::optional<std::string> config_path;
  std::optional<std::string> listen;
  std::optional<int64_t> threads;
  std::optional<std::string> admin_listen;
  std::optional<std::string> rls_listen;
  std::optional<std::string> admin_tokens;
  std::optional<std::string> state_dir;
  bool check = false;
};

std::string str(absl::string_view s) { return std::string(s.data(), s.size()); }

// Prints a config problem (compiler-style "file:line: message" lines) and
// returns the exit code for it.
int badConfig(const absl::Status& status) {
  std::cerr << status.message() << "\n";
  return kExitBadConfig;
}

// The config to run: the file, or the demo sale, with the overrides applied.
absl::StatusOr<seckill::app::EngineConfig> loadConfig(const CommandLine& cmd) {
  absl::StatusOr<seckill::app::EngineConfig> config =
      cmd.config_path ? seckill::app::loadConfigFile(*cmd.config_path) : seckill::app::demoConfig();
  if (!config.ok()) return config;
  if (cmd.listen) {
    if (absl::Status s = seckill::app::overrideListen(*config, *cmd.listen); !s.ok()) return s;
  }
  if (cmd.threads) {
    if (absl::Status s = seckill::app::overrideThreads(*config, *cmd.threads); !s.ok()) return s;
  }
  if (cmd.admin_listen) {
    absl::StatusOr<seckill::app::ListenAddress> a = seckill::app::parseListenAddress(*cmd.admin_listen);
    if (!a.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--admin-listen \"", *cmd.admin_listen,
                                                     "\": ", a.status().message()));
    }
    config->admin.listen = seckill::app::formatListenAddress(a->host, a->port);
  }
  if (cmd.rls_listen) {
    absl::StatusOr<seckill::app::ListenAddress> a = seckill::app::parseListenAddress(*cmd.rls_listen);
    if (!a.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--rls-listen \"", *cmd.rls_listen,
                                                     "\": ", a.status().message()));
    }
    config->rls.listen = seckill::app::formatListenAddress(a->host, a->port);
  }
  if (cmd.admin_tokens) config->admin.tokens = *cmd.admin_tokens;
  if (cmd.state_dir) config->admin.state_dir = *cmd.state_dir;
  // The same checks start-up makes before it binds anything, so --check agrees with a start.
  if (auto catalog = seckill::SaleCatalog::create(config->sales); !catalog.ok()) {
    return catalog.status();
  }
  if (!config->admin.tokens.empty()) {
    absl::StatusOr<seckill::admin::TokenTable> tokens =
        seckill::admin::TokenTable::load(config->admin.tokens);
    if (!tokens.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("admin tokens: ", tokens.status().message()));
    }
  }
  if (const std::string& dir = config->admin.state_dir;
      !dir.empty() && config->limits.rule_store != seckill::app::LimitsConfig::RuleStore::kRedis) {
    // What FileControlStore::open needs: a directory it may write, or one it may create.
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::InvalidArgumentError(
            absl::StrCat("admin.state_dir: state dir ", dir, " is not a directory"));
      }
      if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("admin.state_dir: state dir ", dir, " is not writable"));
      }
    } else {
      const std::string parent = std::filesystem::path(dir).parent_path().string();
      if (::access(parent.empty() ? "." : parent.c_str(), W_OK | X_OK) != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "admin.state_dir: state dir ", dir, " does not exist and ", parent,
            " is not writable"));
      }
    }
  }
  // The TLS files are read when the admin listener starts, which needs tokens.
  for (const std::string* tls : {&config->admin.tls_cert, &config->admin.tls_key,
                                 &config->admin.tls_client_ca}) {
    if (!config->admin.tokens.empty() && !tls->empty() && ::access(tls->c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("admin TLS: cannot read ", *tls));
    }
  }
  // [identity]: its key files read and the keys checked, as start-up does.
  if (auto id = seckill::app::makeShopperIdentity(*config); !id.ok()) return id.status();
  return config;
}

void setUpLogging() {
  auto logger = spdlog::stderr_color_mt("seckill");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(std::move(logger));
}

int serve(seckill::app::EngineConfig config, const std::string& config_path) {
  const bool demo = config_path.empty();
  // Every thread started from here on inherits this mask, so the signals are
  // only ever taken by sigwait() below: no work in a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<seckill::app::EngineApp>> app = seckill::app::EngineApp::create(
      std::move(config), config_path,
      seckill::app::EngineOptions{.clock = nullptr, .engine_version = SECKILL_VERSION});
  if (!app.ok()) {
    spdlog::error("cannot start: {}", str(app.status().message()));
    return app.status().code() == absl::StatusCode::kInvalidArgument ? kExitBadConfig
                                                                     : kExitStartFailed;
  }
  (*app)->start();

  spdlog::info("seckill-engine {} started", SECKILL_VERSION);
  if (demo) {
    spdlog::info("no --config given: serving the built-in demo sale (as assets/config/demo.toml)");
  }
  for (const std::string& line : (*app)->describe()) spdlog::info("{}", line);
  for (const std::string& w : seckill::app::configWarnings((*app)->config(), absl::Now())) {
    spdlog::warn("{}", w);
  }
  if ((*app)->config().identity.kind == seckill::identity::IdentityKind::kNone) {
    spdlog::warn("{}", seckill::app::identitySummary((*app)->config().identity));
  }
  seckill::app::notifySystemd("READY=1");

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      // Reloads the rate rules and overrides (through the control plane: applied iff the file
      // changed since it was last applied) and the admin tokens; each logs its result.
      seckill::app::notifySystemd("RELOADING=1");
      if (demo) {
        spdlog::warn("SIGHUP: started without --config, no rules to reload");
      } else {
        (void)(*app)->reloadRules();
      }
      (*app)->reloadTokens();
      seckill::app::notifySystemd("READY=1");
      continue;
    }
    spdlog::info("{} received: shutting down (requests in flight are answered first)",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    seckill::app::notifySystemd("STOPPING=1");
    break;
  }
  // A second SIGINT/SIGTERM during a stuck shutdown now kills the process.
  sigdelset(&signals, SIGHUP);
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);

  (*app)->stop();
  spdlog::info("seckill-engine stopped");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's abseil checks every Mutex acquisition against a global lock-order
  // graph (deadlock detection), which showed in the order path's profile. The
  // tests keep it on; the server does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CommandLine cmd;
  CLI::App cli{"seckill-engine: the flash-sale engine; serves the shopper HTTP API.",
               "seckill-engine"};
  cli.set_version_flag("--version", SECKILL_VERSION);
  cli.add_option("-c,--config", cmd.config_path,
                 "TOML config file. Without it, the built-in demo sale \"demo\" (stock 10000) "
                 "is served on 127.0.0.1:8080")
      ->option_text("FILE");
  cli.add_option("--listen", cmd.listen,
                 "Listen address, overrides [http] listen: 127.0.0.1:8080, 0.0.0.0:80, "
                 "[::1]:8080; port 0 picks a free port")
      ->option_text("HOST:PORT");
  cli.add_option("--threads", cmd.threads, "HTTP worker threads (>= 1), overrides [http] threads")
      ->option_text("N");
  cli.add_option("--admin-listen", cmd.admin_listen,
                 "Admin API (gRPC) listen address, overrides [admin] listen "
                 "(default 127.0.0.1:9090)")
      ->option_text("HOST:PORT");
  cli.add_option("--rls-listen", cmd.rls_listen,
                 "Envoy rate-limit service (gRPC) listen address, overrides [rls] listen "
                 "(off without one)")
      ->option_text("HOST:PORT");
  cli.add_option("--admin-tokens", cmd.admin_tokens,
                 "Admin tokens file (\"<token> <role> <name>\" lines), overrides [admin] "
                 "tokens; without one the admin API is off")
      ->option_text("FILE");
  cli.add_option("--state-dir", cmd.state_dir,
                 "Where rules, modes, sales and the audit log persist, overrides [admin] "
                 "state_dir")
      ->option_text("DIR");
  cli.add_flag("--check", cmd.check,
               "Validate the config (and overrides) and exit: 0 valid, 2 invalid");
  cli.footer(std::string(seckill::app::configKeysHelp()));
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error is a bad command line.
    return cli.exit(e) == 0 ? kExitOk : kExitBadConfig;
  }

  setUpLogging();
  absl::StatusOr<seckill::app::EngineConfig> config = loadConfig(cmd);
  if (!config.ok()) return badConfig(config.status());

  if (cmd.check) {
    for (const std::string& w : seckill::app::configWarnings(*config, absl::Now())) {
      spdlog::warn("{}", w);
    }
    std::cout << (cmd.config_path ? *cmd.config_path : std::string("built-in demo config"))
              << ": OK (" << config->sales.size() << " sale(s), listen "
              << seckill::app::formatListenAddress(config->http.host, config->http.port) << ", "
              << config->http.threads << " threads)\n";
    return kExitOk;
  }
  return serve(*std::move(config), cmd.config_path.value_or(""));
}
