#include "engine/core/control/breaker_control.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::control {

using ratelimit::CircuitBreaker;

BreakerControl::BreakerControl(const Clock& clock, ControlStore& store,
                               std::vector<CircuitBreaker*> breakers, std::string node,
                               Notify notify)
    : clock_(clock),
      store_(store),
      breakers_(std::move(breakers)),
      node_(std::move(node)),
      notify_(std::move(notify)) {}

CircuitBreaker* BreakerControl::find(std::string_view name) const {
  for (CircuitBreaker* b : breakers_) {
    if (b->name() == name) return b;
  }
  return nullptr;
}

absl::Status BreakerControl::start(CircuitBreaker::Mode file_mode) {
  absl::MutexLock lock(&mu_);
  file_mode_ = file_mode;
  absl::StatusOr<std::vector<BreakerSetting>> settings = store_.breakerSettings();
  if (!settings.ok()) return settings.status();
  const absl::Time now = clock_.now();
  for (CircuitBreaker* b : breakers_) {
    CircuitBreaker::Mode mode = file_mode;
    for (const BreakerSetting& s : *settings) {
      if (s.name != b->name()) continue;
      if (s.file_mode == file_mode) {
        mode = s.mode;
        if (notify_ && mode != file_mode) {
          notify_(true, absl::StrCat("breaker ", b->name(), ": mode ",
                                     av(ratelimit::breakerModeName(mode)),
                                     ", set through the admin API, kept over the file's ",
                                     av(ratelimit::breakerModeName(file_mode))));
        }
      } else if (notify_ && s.mode != file_mode) {
        notify_(true, absl::StrCat("breaker ", b->name(), ": the file's mode changed to ",
                                   av(ratelimit::breakerModeName(file_mode)), " since ",
                                   av(ratelimit::breakerModeName(s.mode)),
                                   " was set through the admin API; the file's applies"));
      }
    }
    b->setMode(mode, now);
  }
  return absl::OkStatus();
}

absl::StatusOr<CircuitBreaker*> BreakerControl::setMode(std::string_view name,
                                                       CircuitBreaker::Mode mode,
                                                       const Actor& actor,
                                                       const std::string& comment) {
  CircuitBreaker* b = find(name);
  if (b == nullptr) return absl::NotFoundError(absl::StrCat("unknown breaker \"", av(name), "\""));
  switch (mode) {
    case CircuitBreaker::Mode::kNormal:
    case CircuitBreaker::Mode::kForcedOpen:
    case CircuitBreaker::Mode::kDisabled:
    case CircuitBreaker::Mode::kMetricsOnly:
      break;
    default:
      return absl::InvalidArgumentError("mode: unknown breaker mode");
  }
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.now();
  const CircuitBreaker::Mode before = b->mode();
  const BreakerSetting setting{.name = b->name(), .mode = mode, .file_mode = file_mode_};
  const AuditEntry audit{.at = now,
                         .author = actor.name,
                         .peer = actor.peer,
                         .node = node_,
                         .action = "breaker.mode",
                         .target = b->name(),
                         .detail = absl::StrCat(av(ratelimit::breakerModeName(before)), " -> ",
                                                av(ratelimit::breakerModeName(mode)),
                                                comment.empty() ? "" : ": ", comment),
                         .version = 0};
  if (absl::Status s = store_.putBreakerSetting(setting, audit); !s.ok()) return s;
  b->setMode(mode, now);
  return b;
}

absl::Status BreakerControl::follow() {
  absl::StatusOr<std::vector<BreakerSetting>> settings = store_.breakerSettings();
  if (!settings.ok()) return settings.status();
  const absl::Time now = clock_.now();
  for (const BreakerSetting& s : *settings) {
    CircuitBreaker* b = find(s.name);
    if (b != nullptr && b->mode() != s.mode) b->setMode(s.mode, now);
  }
  return absl::OkStatus();
}

}  // namespace seckill::control
