// The control state in a state directory: the ControlStore contract
// (tests/support/control_store_suite.h), then what only files have: the state survives a
// reopen and a crash mid-write, one engine per directory, rotation of the audit log, and
// clear refusals of a directory that cannot be used.
#include "engine/store/file/file_control_store.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "engine/core/control/actor.h"
#include "engine/store/codec/control_json.h"
#include "gtest/gtest.h"
#include "tests/support/control_store_suite.h"
#include "tests/support/test_process.h"

namespace seckill::testing {
namespace {

namespace fs = std::filesystem;

class FileControlBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FileControlStore>> s =
        FileControlStore::open(dir_.path() / "state");
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }
  control::ControlStore& store() { return *store_; }

 private:
  TempDir dir_{"seckill-control"};
  std::unique_ptr<FileControlStore> store_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(File, ControlStoreTest, FileControlBackend);

namespace {

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void appendRaw(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::app) << text;
}

size_t lineCount(const fs::path& p) {
  const std::string text = readAll(p);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class FileControlStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<FileControlStore> open(FileControlStoreOptions options = {}) {
    absl::StatusOr<std::unique_ptr<FileControlStore>> s = FileControlStore::open(state_, options);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
  // Some of everything.
  void fill(control::ControlStore& s) {
    for (uint64_t v = 1; v <= 3; ++v) {
      ASSERT_TRUE(s.commitRules(v - 1, ruleVersionFor(v), auditFor("rules.apply", v, 10 + v)).ok());
    }
    ASSERT_TRUE(s.putBreakerSetting({"redis", ratelimit::CircuitBreaker::Mode::kForcedOpen},
                                    auditFor("breaker.mode", 0, 20))
                    .ok());
    ASSERT_TRUE(s.putSale({fullSaleSpec("b", 2), "d"}, auditFor("sale.create", 0, 21)).ok());
    ASSERT_TRUE(s.putSale({fullSaleSpec("a", 1), ""}, auditFor("sale.create", 0, 22)).ok());
    ASSERT_TRUE(s.appendAudit(auditFor("engine.start", 0, 23)).ok());
  }
  void expectFilled(control::ControlStore& s) {
    absl::StatusOr<std::optional<control::RuleVersion>> current = s.currentRules();
    ASSERT_TRUE(current.ok() && current->has_value()) << current.status();
    expectSameVersion(**current, ruleVersionFor(3));
    absl::StatusOr<std::optional<control::RuleVersion>> v2 = s.ruleVersion(2);
    ASSERT_TRUE(v2.ok() && v2->has_value()) << v2.status();
    expectSameVersion(**v2, ruleVersionFor(2));
    EXPECT_EQ(s.ruleVersions(10)->size(), 3u);
    absl::StatusOr<std::vector<control::BreakerSetting>> breakers = s.breakerSettings();
    ASSERT_TRUE(breakers.ok());
    ASSERT_EQ(breakers->size(), 1u);
    EXPECT_EQ((*breakers)[0].mode, ratelimit::CircuitBreaker::Mode::kForcedOpen);
    absl::StatusOr<std::vector<control::SaleRecord>> sales = s.sales();
    ASSERT_TRUE(sales.ok());
    ASSERT_EQ(sales->size(), 2u);
    expectSameSale((*sales)[0], {fullSaleSpec("b", 2), "d"});
    expectSameSale((*sales)[1], {fullSaleSpec("a", 1), ""});
    const std::vector<control::AuditEntry> audit = allAudit(s, {});
    ASSERT_EQ(audit.size(), 7u);
    EXPECT_EQ(audit.front().action, "engine.start");
    EXPECT_EQ(audit.back().action, "rules.apply");
    for (size_t i = 0; i < audit.size(); ++i) EXPECT_EQ(audit[i].seq, audit.size() - i);
  }

  TempDir dir_{"seckill-control"};
  const std::string state_ = (dir_.path() / "var" / "state").string();
};

TEST_F(FileControlStoreTest, CreatesTheDirectoryPrivate) {
  std::unique_ptr<FileControlStore> s = open();
  ASSERT_NE(s, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(state_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(s->describe(), "state dir " + state_);
  EXPECT_TRUE(fs::exists(fs::path(state_) / "lock"));
}

TEST_F(FileControlStoreTest, ReopenReturnsTheSameState) {
  {
    std::unique_ptr<FileControlStore> s = open();
    ASSERT_NE(s, nullptr);
    fill(*s);
    expectFilled(*s);
  }
  std::unique_ptr<FileControlStore> again = open();
  ASSERT_NE(again, nullptr);
  expectFilled(*again);
  // The seq goes on from where it was.
  ASSERT_TRUE(again->appendAudit(auditFor("engine.start", 0, 30)).ok());
  EXPECT_EQ(again->audit({.limit = 1})->entries[0].seq, 8u);
  EXPECT_TRUE(fs::exists(fs::path(state_) / "rules" / "v3.json"));
}

TEST_F(FileControlStoreTest, StaleCommitNamesTheCurrentVersion) {
  std::unique_ptr<FileControlStore> s = open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->commitRules(0, ruleVersionFor(1), auditFor("rules.seed", 1)).ok());
  absl::Status stale = s->commitRules(0, ruleVersionFor(1), auditFor("rules.seed", 1));
  EXPECT_TRUE(absl::IsAborted(stale)) << stale;
  EXPECT_EQ(control::currentVersionOf(stale), 1u);
  EXPECT_TRUE(
      absl::IsInvalidArgument(s->commitRules(1, ruleVersionFor(3), auditFor("rules.apply", 3))));
}

TEST_F(FileControlStoreTest, SecondOpenOfTheSameDirectoryFails) {
  std::unique_ptr<FileControlStore> first = open();
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<FileControlStore>> second = FileControlStore::open(state_ + "/");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  const std::string message(second.status().message());
  EXPECT_NE(message.find(state_), std::string::npos) << message;
  EXPECT_NE(message.find("in use by another engine"), std::string::npos) << message;
  EXPECT_NE(message.find(absl::StrCat("pid ", ::getpid())), std::string::npos) << message;
  first.reset();  // released with the store
  EXPECT_NE(open(), nullptr);
}

// Runs `open(dir)` as the user nobody in a child process when the test runs as root (who may
// write anywhere), else in this process; the refusal's message, or "" if it opened.
std::string refusalOfUnwritable(const std::string& dir) {
  if (::geteuid() != 0) {
    absl::StatusOr<std::unique_ptr<FileControlStore>> s = FileControlStore::open(dir);
    return s.ok() ? "" : std::string(s.status().message());
  }
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    absl::StatusOr<std::unique_ptr<FileControlStore>> s = FileControlStore::open(dir);
    const std::string out = s.ok() ? "" : std::string(s.status().message());
    if (::write(fds[1], out.data(), out.size()) < 0) ::_exit(4);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "the child failed";
  return out;
}

TEST_F(FileControlStoreTest, UnwritableDirectoryIsRefused) {
  const fs::path dir = dir_.path() / "readonly";
  fs::create_directories(dir);
  ::chmod(dir_.path().c_str(), 0711);  // others may reach `dir`
  ::chmod(dir.c_str(), 0500);
  const std::string message = refusalOfUnwritable(dir.string());
  ::chmod(dir.c_str(), 0700);
  ::chmod(dir_.path().c_str(), 0700);
  EXPECT_NE(message.find("state dir " + dir.string() + " is not writable"), std::string::npos)
      << message;
  // Nor a directory that is a file.
  const std::string file = dir_.write("plain", "x");
  absl::StatusOr<std::unique_ptr<FileControlStore>> s = FileControlStore::open(file);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("is not a directory"), absl::string_view::npos) << s.status();
}

TEST_F(FileControlStoreTest, CrashMidWriteLeavesTheLastCompleteState) {
  {
    std::unique_ptr<FileControlStore> s = open();
    ASSERT_NE(s, nullptr);
    fill(*s);
  }
  const fs::path state(state_);
  // A crash while writing the next version: its temp files, a version file that
  // current.json never named, and half an audit line.
  std::ofstream(state / "rules" / "current.json.tmp") << "{\"format\":1,\"curr";
  std::ofstream(state / "rules" / "v4.json") << codec::ruleVersionToJson(ruleVersionFor(4));
  std::ofstream(state / "sales.json.tmp") << "";
  appendRaw(state / "audit.log", "{\"seq\":8,\"at\":17000");
  {
    std::unique_ptr<FileControlStore> s = open();
    ASSERT_NE(s, nullptr);
    expectFilled(*s);
    EXPECT_FALSE(fs::exists(state / "rules" / "current.json.tmp"));
    EXPECT_FALSE(fs::exists(state / "sales.json.tmp"));
    EXPECT_FALSE(fs::exists(state / "rules" / "v4.json"));
    EXPECT_FALSE(s->ruleVersion(4)->has_value());
    // The log goes on cleanly after the cut.
    ASSERT_TRUE(s->commitRules(3, ruleVersionFor(4), auditFor("rules.apply", 4, 40)).ok());
  }
  std::unique_ptr<FileControlStore> s = open();
  ASSERT_NE(s, nullptr);
  const std::vector<control::AuditEntry> audit = allAudit(*s, {});
  ASSERT_EQ(audit.size(), 8u);
  EXPECT_EQ(audit[0].version, 4u);
  EXPECT_EQ(audit[0].seq, 8u);
  EXPECT_EQ(lineCount(state / "audit.log"), 8u);
}

TEST_F(FileControlStoreTest, ChangeWhoseAuditLineWasLostIsAuditedAtOpen) {
  {
    std::unique_ptr<FileControlStore> s = open();
    ASSERT_NE(s, nullptr);
    fill(*s);
    ASSERT_TRUE(s->putSale({fullSaleSpec("c", 9), ""}, auditFor("sale.create", 0, 50)).ok());
  }
  // A crash after sales.json was renamed into place, before its audit line was appended.
  const fs::path log = fs::path(state_) / "audit.log";
  std::string text = readAll(log);
  text.erase(text.rfind('\n', text.size() - 2) + 1);
  std::ofstream(log, std::ios::binary | std::ios::trunc) << text;
  ASSERT_EQ(lineCount(log), 7u);

  std::unique_ptr<FileControlStore> s = open();
  ASSERT_NE(s, nullptr);
  const std::vector<control::AuditEntry> audit = allAudit(*s, {});
  ASSERT_EQ(audit.size(), 8u);
  EXPECT_EQ(audit[0].action, "sale.create");
  EXPECT_EQ(audit[0].seq, 8u);
  EXPECT_EQ(audit[0].at, controlTime(50));
  EXPECT_EQ(s->sales()->size(), 3u);
}

TEST_F(FileControlStoreTest, CorruptFilesAreNamed) {
  {
    std::unique_ptr<FileControlStore> s = open();
    ASSERT_NE(s, nullptr);
    fill(*s);
  }
  const fs::path state(state_);
  const std::string sales = readAll(state / "sales.json");
  std::ofstream(state / "sales.json", std::ios::trunc) << "{oops";
  absl::StatusOr<std::unique_ptr<FileControlStore>> s = FileControlStore::open(state_);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsDataLoss(s.status())) << s.status();
  EXPECT_NE(s.status().message().find((state / "sales.json").string()), absl::string_view::npos)
      << s.status();
  std::ofstream(state / "sales.json", std::ios::trunc) << sales;

  const std::string current = readAll(state / "rules" / "current.json");
  std::string broken = current;
  broken.replace(broken.find("\"rate\":3"), 8, "\"rate\":\"3\"");
  std::ofstream(state / "rules" / "current.json", std::ios::trunc) << broken;
  s = FileControlStore::open(state_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("current.json: \"current.doc.rules[0].rate\""),
            absl::string_view::npos)
      << s.status();
  std::ofstream(state / "rules" / "current.json", std::ios::trunc) << current;

  std::string log = readAll(state / "audit.log");
  log.replace(0, 1, "[");
  std::ofstream(state / "audit.log", std::ios::trunc) << log;
  s = FileControlStore::open(state_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("audit.log line 1"), absl::string_view::npos) << s.status();
}

TEST_F(FileControlStoreTest, AuditLogRotatesAndBothFilesAreRead) {
  const FileControlStoreOptions small{.audit_rotate_bytes = 4096};
  const fs::path state(state_);
  {
    std::unique_ptr<FileControlStore> s = open(small);
    ASSERT_NE(s, nullptr);
    for (int i = 0; i < 80; ++i) ASSERT_TRUE(s->appendAudit(auditFor("test", 0, i)).ok());
    ASSERT_TRUE(fs::exists(state / "audit.log.1"));
    EXPECT_LE(fs::file_size(state / "audit.log.1"), 4096u + 400u);
  }
  const size_t kept = lineCount(state / "audit.log") + lineCount(state / "audit.log.1");
  EXPECT_LT(kept, 80u);
  EXPECT_GT(kept, lineCount(state / "audit.log"));
  std::unique_ptr<FileControlStore> s = open(small);
  ASSERT_NE(s, nullptr);
  const std::vector<control::AuditEntry> audit = allAudit(*s, {}, 9);
  ASSERT_EQ(audit.size(), kept);
  for (size_t i = 0; i < audit.size(); ++i) {
    EXPECT_EQ(audit[i].seq, 80 - i);
    EXPECT_EQ(audit[i].at, controlTime(static_cast<int64_t>(79 - i)));
  }
}

}  // namespace
}  // namespace seckill::testing
