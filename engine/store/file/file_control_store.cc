#include "engine/store/file/file_control_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/core/control/actor.h"
#include "engine/core/strings.h"
#include "engine/store/codec/control_json.h"
#include "nlohmann/json.hpp"

namespace seckill {

using control::AuditEntry;
using control::AuditPage;
using control::AuditQuery;
using control::BreakerSetting;
using control::Change;
using control::RuleVersion;
using control::SaleRecord;
using nlohmann::json;

namespace {

constexpr int kStateFormat = 1;
constexpr std::string_view kTempSuffix = ".tmp";

std::string errnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// "<what>: <strerror>" with the code errno maps to.
absl::Status ioError(int err, std::string_view what) {
  return absl::Status(absl::ErrnoToStatusCode(err), absl::StrCat(av(what), ": ", errnoText(err)));
}

// Closes the descriptor it owns.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

int openRetry(const std::string& path, int flags, mode_t mode = 0600) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Writes all of `data`; false (errno set) on failure.
bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string parentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status fsyncDir(const std::string& dir) {
  Fd fd(openRetry(dir, O_RDONLY | O_DIRECTORY));
  if (fd.get() < 0) return ioError(errno, absl::StrCat("cannot open ", dir));
  if (::fsync(fd.get()) != 0) return ioError(errno, absl::StrCat("cannot fsync ", dir));
  return absl::OkStatus();
}

// Replaces `path` with `content`: <path>.tmp written, fsynced, renamed over `path`, the
// directory fsynced. On failure `path` is unchanged (or, if only the directory fsync failed,
// already replaced).
absl::Status writeFileAtomic(const std::string& path, std::string_view content) {
  const std::string tmp = absl::StrCat(path, av(kTempSuffix));
  Fd fd(openRetry(tmp, O_WRONLY | O_CREAT | O_TRUNC));
  if (fd.get() < 0) return ioError(errno, absl::StrCat("cannot create ", tmp));
  if (!writeAll(fd.get(), content) || ::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
    absl::Status s = ioError(errno, absl::StrCat("cannot write ", tmp));
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = ioError(errno, absl::StrCat("cannot rename ", tmp, " to ", path));
    ::unlink(tmp.c_str());
    return s;
  }
  return fsyncDir(parentOf(path));
}

// The content of `path`; nullopt if it does not exist.
absl::StatusOr<std::optional<std::string>> readFile(const std::string& path) {
  Fd fd(openRetry(path, O_RDONLY));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ioError(errno, absl::StrCat("cannot open ", path));
  }
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError(errno, absl::StrCat("cannot read ", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return std::optional<std::string>(std::move(out));
}

// Creates `dir` and any missing parent, mode 0700.
absl::Status makeDirs(const std::string& dir) {
  for (size_t pos = 1;; ++pos) {
    pos = dir.find('/', pos);
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return ioError(errno, absl::StrCat("state dir ", dir, ": cannot create ", prefix));
    }
    if (pos == std::string::npos) return absl::OkStatus();
  }
}

// Corrupt state: DataLoss with `message`, which names the file.
absl::Status corrupt(absl::string_view message) {
  return absl::DataLossError(
      absl::StrCat(message, " (the state dir is corrupt: repair or remove the file)"));
}

// A state file's envelope: {"format":1, ...}; DataLoss naming `path` if it is not one.
absl::StatusOr<json> parseStateFile(const std::string& path, const std::string& content) {
  json j = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return corrupt(absl::StrCat(path, ": not a JSON object"));
  }
  auto format = j.find("format");
  if (format == j.end() || !format->is_number_integer() || format->get<int64_t>() != kStateFormat) {
    return corrupt(absl::StrCat(path, ": \"format\" must be ", kStateFormat));
  }
  return j;
}

// Member `key` of a state file; DataLoss naming `path` if absent.
absl::StatusOr<const json*> member(const json& j, const std::string& path, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) {
    return corrupt(absl::StrCat(path, ": \"", key, "\" is missing"));
  }
  return &*it;
}

absl::StatusOr<const json*> arrayMember(const json& j, const std::string& path, const char* key) {
  absl::StatusOr<const json*> m = member(j, path, key);
  if (m.ok() && !(*m)->is_array()) {
    return corrupt(absl::StrCat(path, ": \"", key, "\" must be an array"));
  }
  return m;
}

// The version N of "v<N>.json"; nullopt for other names.
std::optional<uint64_t> versionOfFile(const std::string& file_name) {
  absl::string_view name = file_name;
  if (!absl::ConsumePrefix(&name, "v") || !absl::ConsumeSuffix(&name, ".json") || name.empty() ||
      !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t v = 0;
  if (!absl::SimpleAtoi(name, &v)) return std::nullopt;
  return v;
}

// Removes the *.tmp files in `dir`: writes a crash interrupted.
void removeTempFiles(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (absl::EndsWith(e.path().filename().string(), av(kTempSuffix))) {
      std::filesystem::remove(e.path(), ec);
    }
  }
}

}  // namespace

std::string FileControlStore::versionFile(uint64_t version) {
  return absl::StrCat("rules/v", version, ".json");
}

absl::StatusOr<std::unique_ptr<FileControlStore>> FileControlStore::open(
    const std::string& dir_in, FileControlStoreOptions options) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return absl::InvalidArgumentError("state dir: the path is empty");
  if (absl::Status s = makeDirs(dir); !s.ok()) return s;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ioError(errno, absl::StrCat("state dir ", dir));
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("state dir ", dir, " is not a directory"));
  }
  auto unwritable = [&dir](int err, std::string_view what) {
    return absl::PermissionDeniedError(
        absl::StrCat("state dir ", dir, " is not writable (", av(what), ": ", errnoText(err), ")"));
  };
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return unwritable(errno, "access");

  const std::string lock_path = dir + "/lock";
  Fd lock(openRetry(lock_path, O_RDWR | O_CREAT));
  if (lock.get() < 0) return unwritable(errno, absl::StrCat("cannot create ", lock_path));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ioError(errno, absl::StrCat("cannot lock ", lock_path));
    std::string holder;
    if (absl::StatusOr<std::optional<std::string>> pid = readFile(lock_path);
        pid.ok() && pid->has_value()) {
      holder = std::string(absl::StripAsciiWhitespace(**pid));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("state dir ", dir, " is in use by another engine",
                     holder.empty() ? "" : absl::StrCat(" (pid ", holder, ")"), ": ", lock_path,
                     " is locked; every engine needs a state dir of its own"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(lock.get(), 0) != 0 || ::pwrite(lock.get(), pid.data(), pid.size(), 0) < 0) {
    return unwritable(errno, absl::StrCat("cannot write ", lock_path));
  }
  const std::string rules_dir = dir + "/rules";
  if (::mkdir(rules_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return unwritable(errno, absl::StrCat("cannot create ", rules_dir));
  }
  removeTempFiles(dir);
  removeTempFiles(rules_dir);

  std::unique_ptr<FileControlStore> store(
      new FileControlStore(std::move(dir), std::move(options), lock.release()));
  {
    absl::MutexLock l(&store->mu_);
    if (absl::Status s = store->load(); !s.ok()) return s;
  }
  return store;
}

FileControlStore::FileControlStore(std::string dir, FileControlStoreOptions options, int lock_fd)
    : dir_(std::move(dir)), options_(options), lock_fd_(lock_fd) {}

FileControlStore::~FileControlStore() {
  {
    absl::MutexLock lock(&mu_);
    (void)flushPending();  // else written again at the next open
    if (audit_fd_ >= 0) ::close(audit_fd_);
  }
  ::close(lock_fd_);  // releases the flock
}

absl::Status FileControlStore::load() {
  std::vector<AuditEntry> embedded;
  if (absl::Status s = loadRules(embedded); !s.ok()) return s;
  if (absl::Status s = loadBreakers(embedded); !s.ok()) return s;
  if (absl::Status s = loadSales(embedded); !s.ok()) return s;
  if (absl::Status s = loadAudit(); !s.ok()) return s;
  // The audit entries of the last writes, if a crash came before their audit.log lines.
  uint64_t last = audit_index_.empty() ? 0 : audit_index_.back().seq;
  std::sort(embedded.begin(), embedded.end(),
            [](const AuditEntry& a, const AuditEntry& b) { return a.seq < b.seq; });
  for (const AuditEntry& e : embedded) {
    if (e.seq <= last) continue;
    if (absl::Status s = appendLine(e); !s.ok()) return s;
    last = e.seq;
  }
  next_seq_ = last + 1;
  return absl::OkStatus();
}

absl::Status FileControlStore::loadRules(std::vector<AuditEntry>& embedded) {
  const std::string current_path = path("rules/current.json");
  absl::StatusOr<std::optional<std::string>> content = readFile(current_path);
  if (!content.ok()) return content.status();
  if (content->has_value()) {
    absl::StatusOr<json> j = parseStateFile(current_path, **content);
    if (!j.ok()) return j.status();
    absl::StatusOr<const json*> current = member(*j, current_path, "current");
    if (!current.ok()) return current.status();
    absl::StatusOr<const json*> audit = member(*j, current_path, "audit");
    if (!audit.ok()) return audit.status();
    absl::StatusOr<RuleVersion> v = codec::decodeRuleVersion(**current, current_path, "current");
    if (!v.ok()) return corrupt(v.status().message());
    absl::StatusOr<AuditEntry> e = codec::decodeAuditEntry(**audit, current_path, "audit");
    if (!e.ok()) return corrupt(e.status().message());
    current_ = *std::move(v);
    embedded.push_back(*std::move(e));
  }
  const uint64_t current_version = current_ ? current_->change.version : 0;
  std::error_code ec;
  std::vector<uint64_t> found;
  for (const auto& entry : std::filesystem::directory_iterator(path("rules"), ec)) {
    std::optional<uint64_t> v = versionOfFile(entry.path().filename().string());
    if (!v) continue;
    if (*v > current_version) {
      // Written by a commit that a crash stopped before current.json.
      ::unlink(path(versionFile(*v)).c_str());
      continue;
    }
    found.push_back(*v);
  }
  if (ec) return ioError(ec.value(), absl::StrCat("cannot list ", path("rules")));
  std::sort(found.begin(), found.end());
  if (found.size() > options_.keep_versions) {
    const size_t drop = found.size() - options_.keep_versions;
    for (size_t i = 0; i < drop; ++i) ::unlink(path(versionFile(found[i])).c_str());
    found.erase(found.begin(), found.begin() + static_cast<ptrdiff_t>(drop));
  }
  for (uint64_t v : found) {
    if (current_ && v == current_version) continue;
    const std::string file = path(versionFile(v));
    absl::StatusOr<std::optional<std::string>> text = readFile(file);
    if (!text.ok()) return text.status();
    if (!text->has_value()) continue;
    absl::StatusOr<RuleVersion> rv = codec::ruleVersionFromJson(**text, file);
    if (!rv.ok()) return corrupt(rv.status().message());
    versions_[v] = rv->change;
  }
  if (current_) {
    versions_[current_version] = current_->change;
    if (std::find(found.begin(), found.end(), current_version) == found.end()) {
      if (absl::Status s = writeFileAtomic(path(versionFile(current_version)),
                                           codec::ruleVersionToJson(*current_));
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status FileControlStore::loadBreakers(std::vector<AuditEntry>& embedded) {
  const std::string file = path("breakers.json");
  absl::StatusOr<std::optional<std::string>> content = readFile(file);
  if (!content.ok()) return content.status();
  if (!content->has_value()) return absl::OkStatus();
  absl::StatusOr<json> j = parseStateFile(file, **content);
  if (!j.ok()) return j.status();
  absl::StatusOr<const json*> list = arrayMember(*j, file, "breakers");
  if (!list.ok()) return list.status();
  absl::StatusOr<const json*> audit = member(*j, file, "audit");
  if (!audit.ok()) return audit.status();
  for (size_t i = 0; i < (*list)->size(); ++i) {
    absl::StatusOr<BreakerSetting> b =
        codec::decodeBreakerSetting((**list)[i], file, absl::StrCat("breakers[", i, "]"));
    if (!b.ok()) return corrupt(b.status().message());
    breakers_[b->name] = *std::move(b);
  }
  absl::StatusOr<AuditEntry> e = codec::decodeAuditEntry(**audit, file, "audit");
  if (!e.ok()) return corrupt(e.status().message());
  embedded.push_back(*std::move(e));
  return absl::OkStatus();
}

absl::Status FileControlStore::loadSales(std::vector<AuditEntry>& embedded) {
  const std::string file = path("sales.json");
  absl::StatusOr<std::optional<std::string>> content = readFile(file);
  if (!content.ok()) return content.status();
  if (!content->has_value()) return absl::OkStatus();
  absl::StatusOr<json> j = parseStateFile(file, **content);
  if (!j.ok()) return j.status();
  absl::StatusOr<const json*> list = arrayMember(*j, file, "sales");
  if (!list.ok()) return list.status();
  absl::StatusOr<const json*> audit = member(*j, file, "audit");
  if (!audit.ok()) return audit.status();
  for (size_t i = 0; i < (*list)->size(); ++i) {
    absl::StatusOr<SaleRecord> r =
        codec::decodeSaleRecord((**list)[i], file, absl::StrCat("sales[", i, "]"));
    if (!r.ok()) return corrupt(r.status().message());
    sales_.push_back(*std::move(r));
  }
  absl::StatusOr<AuditEntry> e = codec::decodeAuditEntry(**audit, file, "audit");
  if (!e.ok()) return corrupt(e.status().message());
  embedded.push_back(*std::move(e));
  return absl::OkStatus();
}

absl::Status FileControlStore::loadAudit() {
  if (absl::Status s = indexAuditFile(path("audit.log.1"), /*rotated=*/true, /*repair=*/false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = indexAuditFile(path("audit.log"), /*rotated=*/false, /*repair=*/true);
      !s.ok()) {
    return s;
  }
  const std::string log = path("audit.log");
  audit_fd_ = openRetry(log, O_RDWR | O_APPEND | O_CREAT);
  if (audit_fd_ < 0) return ioError(errno, absl::StrCat("cannot open ", log));
  struct stat st {};
  if (::fstat(audit_fd_, &st) != 0) return ioError(errno, absl::StrCat("cannot stat ", log));
  audit_size_ = static_cast<uint64_t>(st.st_size);
  return fsyncDir(dir_);  // audit.log may be new
}

absl::Status FileControlStore::indexAuditFile(const std::string& file, bool rotated, bool repair) {
  absl::StatusOr<std::optional<std::string>> content = readFile(file);
  if (!content.ok()) return content.status();
  if (!content->has_value()) return absl::OkStatus();
  const std::string& text = **content;
  size_t pos = 0;
  for (size_t line = 1; pos < text.size(); ++line) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      // A crash mid-append: the entry was never acknowledged. Cut it off so the next line
      // starts clean.
      if (repair) {
        Fd fd(openRetry(file, O_WRONLY));
        if (fd.get() < 0 || ::ftruncate(fd.get(), static_cast<off_t>(pos)) != 0 ||
            ::fsync(fd.get()) != 0) {
          return ioError(errno, absl::StrCat("cannot cut the truncated last line off ", file));
        }
      }
      break;
    }
    const std::string_view body(text.data() + pos, nl - pos);
    if (!body.empty()) {
      absl::StatusOr<AuditEntry> e =
          codec::auditEntryFromJson(body, absl::StrCat(file, " line ", line));
      if (!e.ok()) return corrupt(e.status().message());
      audit_index_.push_back(AuditRef{.seq = e->seq,
                                      .at = e->at,
                                      .author = std::move(e->author),
                                      .rotated = rotated,
                                      .offset = pos,
                                      .length = static_cast<uint32_t>(body.size())});
    }
    pos = nl + 1;
  }
  return absl::OkStatus();
}

absl::Status FileControlStore::rotate() {
  const std::string log = path("audit.log");
  const std::string fresh = absl::StrCat(log, av(kTempSuffix));
  Fd fd(openRetry(fresh, O_RDWR | O_APPEND | O_CREAT | O_TRUNC));
  if (fd.get() < 0) return ioError(errno, absl::StrCat("cannot create ", fresh));
  if (::rename(log.c_str(), path("audit.log.1").c_str()) != 0) {
    absl::Status s = ioError(errno, absl::StrCat("cannot rotate ", log));
    ::unlink(fresh.c_str());
    return s;
  }
  // A crash here leaves no audit.log: open() creates an empty one.
  if (::rename(fresh.c_str(), log.c_str()) != 0) {
    absl::Status s = ioError(errno, absl::StrCat("cannot rename ", fresh, " to ", log));
    ::rename(path("audit.log.1").c_str(), log.c_str());
    ::unlink(fresh.c_str());
    return s;
  }
  ::close(audit_fd_);
  audit_fd_ = fd.release();
  audit_size_ = 0;
  while (!audit_index_.empty() && audit_index_.front().rotated) audit_index_.pop_front();
  for (AuditRef& ref : audit_index_) ref.rotated = true;
  return fsyncDir(dir_);
}

absl::Status FileControlStore::appendLine(const AuditEntry& entry) {
  if (audit_size_ >= options_.audit_rotate_bytes) {
    if (absl::Status s = rotate(); !s.ok()) return s;
  }
  std::string line = codec::auditEntryToJson(entry);
  const size_t length = line.size();
  line.push_back('\n');
  if (!writeAll(audit_fd_, line) || ::fdatasync(audit_fd_) != 0) {
    absl::Status s = ioError(errno, absl::StrCat("cannot append to ", path("audit.log")));
    (void)::ftruncate(audit_fd_, static_cast<off_t>(audit_size_));  // no partial line
    return s;
  }
  audit_index_.push_back(AuditRef{.seq = entry.seq,
                                  .at = entry.at,
                                  .author = entry.author,
                                  .rotated = false,
                                  .offset = audit_size_,
                                  .length = static_cast<uint32_t>(length)});
  audit_size_ += line.size();
  return absl::OkStatus();
}

absl::Status FileControlStore::flushPending() {
  while (!pending_.empty()) {
    if (absl::Status s = appendLine(pending_.front()); !s.ok()) return s;
    pending_.pop_front();
  }
  return absl::OkStatus();
}

AuditEntry FileControlStore::sequenced(const AuditEntry& audit) {
  AuditEntry e = audit;
  e.seq = next_seq_++;  // even if the write fails: a seq is never given twice
  return e;
}

void FileControlStore::recordWritten(AuditEntry entry) {
  // The state file carries the entry, so it is durable already; a failed append is retried
  // before the next change (which is refused while it fails) and at the next open.
  pending_.push_back(std::move(entry));
  (void)flushPending();
}

absl::StatusOr<std::optional<RuleVersion>> FileControlStore::currentRules() {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::Status FileControlStore::commitRules(uint64_t expected, const RuleVersion& next,
                                           const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  const uint64_t current = current_ ? current_->change.version : 0;
  if (current != expected) return control::staleVersion(expected, current);
  if (next.change.version != expected + 1) {
    return absl::InvalidArgumentError(absl::StrCat("rule set version ", next.change.version,
                                                   " cannot follow version ", expected));
  }
  if (absl::Status s = flushPending(); !s.ok()) return s;
  const AuditEntry entry = sequenced(audit);
  const uint64_t version = next.change.version;
  if (absl::Status s = writeFileAtomic(path(versionFile(version)), codec::ruleVersionToJson(next));
      !s.ok()) {
    return s;
  }
  const json state = {
      {"format", kStateFormat}, {"current", codec::toJson(next)}, {"audit", codec::toJson(entry)}};
  if (absl::Status s = writeFileAtomic(path("rules/current.json"), codec::dump(state)); !s.ok()) {
    ::unlink(path(versionFile(version)).c_str());
    return s;
  }
  current_ = next;
  versions_[version] = next.change;
  while (versions_.size() > options_.keep_versions) {
    ::unlink(path(versionFile(versions_.begin()->first)).c_str());
    versions_.erase(versions_.begin());
  }
  recordWritten(entry);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Change>> FileControlStore::ruleVersions(size_t limit) {
  absl::MutexLock lock(&mu_);
  std::vector<Change> out;
  for (auto it = versions_.rbegin(); it != versions_.rend() && out.size() < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::optional<RuleVersion>> FileControlStore::ruleVersion(uint64_t version) {
  absl::MutexLock lock(&mu_);
  if (!versions_.contains(version)) return std::optional<RuleVersion>();
  if (current_ && current_->change.version == version) return current_;
  const std::string file = path(versionFile(version));
  absl::StatusOr<std::optional<std::string>> text = readFile(file);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return std::optional<RuleVersion>();
  absl::StatusOr<RuleVersion> v = codec::ruleVersionFromJson(**text, file);
  if (!v.ok()) return corrupt(v.status().message());
  return std::optional<RuleVersion>(*std::move(v));
}

absl::StatusOr<std::vector<BreakerSetting>> FileControlStore::breakerSettings() {
  absl::MutexLock lock(&mu_);
  std::vector<BreakerSetting> out;
  for (const auto& [name, s] : breakers_) out.push_back(s);
  return out;
}

absl::Status FileControlStore::putBreakerSetting(const BreakerSetting& setting,
                                                 const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = flushPending(); !s.ok()) return s;
  std::map<std::string, BreakerSetting> next = breakers_;
  next[setting.name] = setting;
  const AuditEntry entry = sequenced(audit);
  json list = json::array();
  for (const auto& [name, s] : next) list.push_back(codec::toJson(s));
  const json state = {
      {"format", kStateFormat}, {"breakers", std::move(list)}, {"audit", codec::toJson(entry)}};
  if (absl::Status s = writeFileAtomic(path("breakers.json"), codec::dump(state)); !s.ok()) {
    return s;
  }
  breakers_ = std::move(next);
  recordWritten(entry);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SaleRecord>> FileControlStore::sales() {
  absl::MutexLock lock(&mu_);
  return sales_;
}

absl::Status FileControlStore::putSale(const SaleRecord& record, const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = flushPending(); !s.ok()) return s;
  std::vector<SaleRecord> next = sales_;
  auto it = std::find_if(next.begin(), next.end(),
                         [&](const SaleRecord& r) { return r.spec.id == record.spec.id; });
  if (it == next.end()) {
    next.push_back(record);
  } else {
    *it = record;
  }
  const AuditEntry entry = sequenced(audit);
  json list = json::array();
  for (const SaleRecord& r : next) list.push_back(codec::toJson(r));
  const json state = {
      {"format", kStateFormat}, {"sales", std::move(list)}, {"audit", codec::toJson(entry)}};
  if (absl::Status s = writeFileAtomic(path("sales.json"), codec::dump(state)); !s.ok()) {
    return s;
  }
  sales_ = std::move(next);
  recordWritten(entry);
  return absl::OkStatus();
}

absl::Status FileControlStore::appendAudit(const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = flushPending(); !s.ok()) return s;
  return appendLine(sequenced(audit));
}

absl::StatusOr<AuditEntry> FileControlStore::readAudit(const AuditRef& ref, int log_fd,
                                                       int rotated_fd) {
  const std::string file = path(ref.rotated ? "audit.log.1" : "audit.log");
  const int fd = ref.rotated ? rotated_fd : log_fd;
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", file));
  std::string line(ref.length, '\0');
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n =
        ::pread(fd, line.data() + done, line.size() - done, static_cast<off_t>(ref.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ioError(n < 0 ? errno : EIO, absl::StrCat("cannot read ", file));
    done += static_cast<size_t>(n);
  }
  absl::StatusOr<AuditEntry> e = codec::auditEntryFromJson(line, file);
  if (!e.ok()) return corrupt(e.status().message());
  return e;
}

absl::StatusOr<AuditPage> FileControlStore::audit(const AuditQuery& query) {
  absl::MutexLock lock(&mu_);
  const size_t limit = std::max<size_t>(query.limit, 1);
  AuditPage page;
  // As selectAuditPage (memory_control_store.h), over the pending entries (the newest), then
  // the index: filter on what the index holds, read only the entries of the page.
  std::vector<const AuditRef*> refs;
  uint64_t last_seq = 0;
  size_t taken = 0;
  // Answers false once the page is complete.
  auto consider = [&](uint64_t seq, absl::Time at, const std::string& author, bool& take) {
    take = false;
    if (query.before_seq && seq >= *query.before_seq) return true;
    if (query.until && at > *query.until) return true;
    if (query.since && at < *query.since) return false;  // entries are in time order
    if (!query.author.empty() && author != query.author) return true;
    if (taken == limit) {
      page.next_before = last_seq;
      return false;
    }
    take = true;
    ++taken;
    last_seq = seq;
    return true;
  };
  bool more = true;
  for (auto it = pending_.rbegin(); more && it != pending_.rend(); ++it) {
    bool take = false;
    more = consider(it->seq, it->at, it->author, take);
    if (take) page.entries.push_back(*it);
  }
  for (auto it = audit_index_.rbegin(); more && it != audit_index_.rend(); ++it) {
    bool take = false;
    more = consider(it->seq, it->at, it->author, take);
    if (take) refs.push_back(&*it);
  }
  if (refs.empty()) return page;
  Fd rotated(refs.back()->rotated ? openRetry(path("audit.log.1"), O_RDONLY) : -1);
  for (const AuditRef* ref : refs) {
    absl::StatusOr<AuditEntry> e = readAudit(*ref, audit_fd_, rotated.get());
    if (!e.ok()) return e.status();
    page.entries.push_back(*std::move(e));
  }
  return page;
}

}  // namespace seckill
