// Runs the real seckill-engine binary: exit codes, --help, --check, signals.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/app/test_http.h"

extern char** environ;

namespace seckill::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

namespace fs = std::filesystem;

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A scratch directory per test, removed afterwards.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/seckill-cli-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  // A test that stops early (a failed ASSERT) must not leave an engine behind.
  void TearDown() override {
    for (pid_t pid : live_) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
    }
    fs::remove_all(dir_);
  }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  // Starts seckill-engine with `args`, stdout and stderr going to files.
  pid_t spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::string binary = SECKILL_ENGINE_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, (dir_ / "stdout").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ / "stderr").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0);
    if (rc == 0) live_.push_back(pid);
    return pid;
  }

  // The exit code of `pid` (-signal if killed), waiting at most 20 s.
  int wait(pid_t pid) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "seckill-engine did not exit";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::erase(live_, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  int run(const std::vector<std::string>& args) { return wait(spawn(args)); }

  // Waits until stderr contains `text`; false after 10 s.
  bool awaitStderr(const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (stderrText().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string stdoutText() { return readFile(dir_ / "stdout"); }
  std::string stderrText() { return readFile(dir_ / "stderr"); }

  fs::path dir_;
  std::vector<pid_t> live_;  // spawned and not yet reaped
};

TEST_F(CliTest, HelpDocumentsOptionsAndConfigKeys) {
  EXPECT_EQ(run({"--help"}), 0);
  std::string help = stdoutText();
  for (const char* s : {"--config", "--listen", "--threads", "--check", "[http]", "[orders]",
                        "[[sale]]", "cancel_poll", "pay_timeout", "strategy"}) {
    EXPECT_THAT(help, HasSubstr(s));
  }
}

TEST_F(CliTest, CheckAcceptsTheShippedConfigs) {
  for (const char* name : {"demo.toml", "example.toml"}) {
    EXPECT_EQ(
        run({"--config", std::string(SECKILL_SOURCE_DIR) + "/assets/config/" + name, "--check"}), 0)
        << name << ": " << stderrText();
    EXPECT_THAT(stdoutText(), HasSubstr(": OK ("));
  }
  EXPECT_EQ(run({"--check"}), 0);  // the built-in demo
  EXPECT_THAT(stdoutText(), HasSubstr("built-in demo config: OK (1 sale(s)"));
}

TEST_F(CliTest, CheckRejectsABadConfigNamingFileAndLine) {
  fs::path bad = write("bad.toml", "[[sale]]\nid = \"x\"\nstock = -5\n");
  EXPECT_EQ(run({"--config", bad.string(), "--check"}), 2);
  EXPECT_THAT(stderrText(), HasSubstr(bad.string() + ":3: sale \"x\": stock must be >= 0"));
}

// --check accepts exactly what start-up accepts: every config start-up refuses before it binds
// anything is refused by --check too, with the same message.
TEST_F(CliTest, CheckRefusesWhatStartUpRefuses) {
  const fs::path loose = write("loose.tokens", "op-token-0123456789abcdef operator a\n");
  fs::permissions(loose, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  const fs::path file_not_dir = write("plain-file", "x");
  const fs::path tight = write("tight.tokens", "op-token-0123456789abcdef operator a\n");
  fs::permissions(tight, fs::perms::owner_read | fs::perms::owner_write);
  struct Case {
    std::string body;
    std::string message;
  };
  const std::string redis = "[store]\nkind = \"redis\"\nredis = \"tcp://127.0.0.1:1\"\n";
  const Case cases[] = {
      {redis + "[orders]\nkind = \"mysql\"\nmysql = \"mysql://u:p@127.0.0.1:99999/db\"\n",
       "mysql url: port '99999'"},
      {"[admin]\ntokens = \"" + loose.string() + "\"\n", "other users may read"},
      {"[admin]\ntokens = \"" + (dir_ / "missing.tokens").string() + "\"\n",
       "missing.tokens: No such file"},
      {"[admin]\ntokens = \"" + tight.string() +
           "\"\ntls_cert = \"/nonexistent/c.pem\"\ntls_key = \"/nonexistent/k.pem\"\n",
       "cannot read /nonexistent/c.pem"},
      {"[admin]\nstate_dir = \"" + file_not_dir.string() + "\"\n", "admin.state_dir:"},
      {"[admin]\nstate_dir = \"" + (file_not_dir / "under" / "state").string() + "\"\n",
       "admin.state_dir:"},
      {"[[sale]]\nid = \"s\"\nstock = 1\nopens_at = \"2026-01-02T00:00:00Z\"\n"
       "closes_at = \"2026-01-01T00:00:00Z\"\n",
       "closes_at must be after opens_at"},
      {"[[rule]]\npath = \"/a\"\nrate = 10\nper = \"s\"\n\n[[rule]]\npath = \"/a\"\nrate = 5\n"
       "per = \"min\"\n",
       "contradicts"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const fs::path cfg = write("case" + std::to_string(++i) + ".toml",
                               "[http]\nlisten = \"127.0.0.1:0\"\nthreads = 1\n" + c.body);
    EXPECT_EQ(run({"--config", cfg.string(), "--check"}), 2) << c.body;
    EXPECT_THAT(stderrText(), HasSubstr(c.message)) << c.body;
    EXPECT_EQ(run({"--config", cfg.string()}), 2) << "start-up refuses it too: " << c.body;
    EXPECT_THAT(stderrText(), HasSubstr(c.message)) << c.body;
  }
}

TEST_F(CliTest, BadConfigStopsStartUp) {
  fs::path bad = write("bad.toml", "[http]\nlisten = \"127.0.0.1:0\"\nthreads = 0\n");
  EXPECT_EQ(run({"--config", bad.string()}), 2);
  EXPECT_THAT(stderrText(), HasSubstr(bad.string() + ":3: http.threads must be >= 1"));
}

TEST_F(CliTest, MissingConfigFileAndBadOptionsExit2) {
  EXPECT_EQ(run({"--config", (dir_ / "nope.toml").string(), "--check"}), 2);
  EXPECT_THAT(stderrText(), HasSubstr("nope.toml: cannot open config"));
  EXPECT_EQ(run({"--threads", "0", "--check"}), 2);
  EXPECT_THAT(stderrText(), HasSubstr("--threads 0"));
  EXPECT_EQ(run({"--listen", "localhost:80", "--check"}), 2);
  EXPECT_THAT(stderrText(), HasSubstr("--listen \"localhost:80\""));
  EXPECT_EQ(run({"--threads", "many"}), 2);
  EXPECT_EQ(run({"--no-such-flag"}), 2);
}

TEST_F(CliTest, OverridesApplyOverTheFile) {
  fs::path cfg = write("c.toml",
                       "[http]\nlisten = \"127.0.0.1:1\"\nthreads = 1\n"
                       "[[sale]]\nid = \"a\"\nstock = 1\n");
  EXPECT_EQ(run({"--config", cfg.string(), "--listen", "[::1]:9999", "--threads", "3", "--check"}),
            0);
  EXPECT_THAT(stdoutText(), HasSubstr("listen [::1]:9999, 3 threads"));
}

TEST_F(CliTest, ServesUntilSigtermAndSurvivesSighupWithoutConfig) {
  pid_t pid = spawn({"--listen", "127.0.0.1:0", "--threads", "1"});
  ASSERT_TRUE(awaitStderr("listening on http://127.0.0.1:")) << stderrText();
  std::string log = stderrText();
  EXPECT_THAT(log, HasSubstr("serving the built-in demo sale"));
  EXPECT_THAT(log, HasSubstr("sale \"demo\" (Demo drop): stock 10000, strategy atomic"));

  // The bound port, from "listening on http://127.0.0.1:<port> ...".
  size_t at = log.find("listening on http://127.0.0.1:") + 30;
  int port = std::atoi(log.c_str() + at);
  ASSERT_GT(port, 0);
  EXPECT_THAT(testing::httpGet(static_cast<uint16_t>(port), "/healthz"),
              ::testing::StartsWith("HTTP/1.1 200"));

  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  ASSERT_TRUE(awaitStderr("started without --config, no rules to reload"));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(wait(pid), 0);
  EXPECT_THAT(stderrText(), HasSubstr("SIGTERM received"));
  EXPECT_THAT(stderrText(), HasSubstr("seckill-engine stopped"));
}

TEST_F(CliTest, PortInUseExitsNonZeroWithAClearMessage) {
  pid_t first = spawn({"--listen", "127.0.0.1:0", "--threads", "1"});
  ASSERT_TRUE(awaitStderr("listening on http://127.0.0.1:")) << stderrText();
  std::string log = stderrText();
  int port = std::atoi(log.c_str() + log.find("listening on http://127.0.0.1:") + 30);
  ASSERT_GT(port, 0);

  std::string listen = "127.0.0.1:" + std::to_string(port);
  fs::path second_dir = dir_ / "second";
  fs::create_directory(second_dir);
  std::swap(dir_, second_dir);
  int rc = run({"--listen", listen});
  std::string second_log = stderrText();
  std::swap(dir_, second_dir);
  EXPECT_EQ(rc, 1);
  EXPECT_THAT(second_log, HasSubstr("cannot listen on " + listen));

  ::kill(first, SIGINT);
  EXPECT_EQ(wait(first), 0);
}

}  // namespace
}  // namespace seckill::app
