#include "console/core/rule_draft.h"

#include <algorithm>

#include "console/core/labels.h"

namespace seckill::console {
namespace {

constexpr int64_t kMaxRate = 1'000'000'000;
constexpr int64_t kMaxSlidingLogRate = 100'000;

bool isTokenChar(QChar c) {
  static const QString kSpecial = QStringLiteral("!#$%&'*+-.^_`|~");
  return (c.unicode() < 0x80 && c.isLetterOrNumber()) || kSpecial.contains(c);
}

bool isToken(const QString& s) {
  return !s.isEmpty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

// The characters the engine's trie takes in a literal segment.
bool isSegmentChar(QChar c) {
  static const QString kSpecial = QStringLiteral("-._~!$&'()+,;=:@%");
  return (c.unicode() < 0x80 && c.isLetterOrNumber()) || kSpecial.contains(c);
}

QString pathProblem(const QString& path) {
  if (path.isEmpty()) return QStringLiteral("path is empty");
  if (!path.startsWith(QLatin1Char('/'))) {
    return QStringLiteral("path \"%1\" must start with '/'").arg(path);
  }
  if (path == QStringLiteral("/")) return {};
  const QStringList segments = path.mid(1).split(QLatin1Char('/'));
  if (segments.size() > 64) return QStringLiteral("path has more than 64 segments");
  for (qsizetype i = 0; i < segments.size(); ++i) {
    const QString& seg = segments[i];
    if (seg.isEmpty()) return QStringLiteral("path \"%1\" has an empty segment").arg(path);
    if (seg == QStringLiteral("**")) {
      if (i + 1 != segments.size()) {
        return QStringLiteral("path \"%1\": \"**\" must be the last segment").arg(path);
      }
      continue;
    }
    if (seg == QStringLiteral("*")) continue;
    if (!std::all_of(seg.begin(), seg.end(), isSegmentChar)) {
      return QStringLiteral("path \"%1\": bad character in segment \"%2\"").arg(path, seg);
    }
  }
  return {};
}

bool isPositive(const google::protobuf::Duration& d) {
  return d.seconds() > 0 || (d.seconds() == 0 && d.nanos() > 0);
}

}  // namespace

void RuleDraft::put(const std::string& target, const v1::Rule& rule) {
  if (!target.empty()) {
    auto same = std::find_if(edits_.begin(), edits_.end(), [&](const Edit& e) {
      return e.kind == Edit::Kind::kPut && e.target == target;
    });
    if (same != edits_.end()) {
      same->rule = rule;
      return;
    }
  }
  edits_.push_back(Edit{Edit::Kind::kPut, target, rule});
}

void RuleDraft::remove(const std::string& id) {
  edits_.erase(
      std::remove_if(edits_.begin(), edits_.end(), [&](const Edit& e) { return e.target == id; }),
      edits_.end());
  edits_.push_back(Edit{Edit::Kind::kDelete, id, {}});
}

void RuleDraft::undo() {
  if (!edits_.empty()) edits_.pop_back();
}

v1::RuleSet RuleDraft::applyTo(const v1::RuleSet& base) const {
  v1::RuleSet out = base;
  auto* rules = out.mutable_rules();
  auto find = [rules](const std::string& id) {
    return std::find_if(rules->begin(), rules->end(),
                        [&](const v1::Rule& r) { return !id.empty() && r.id() == id; });
  };
  for (const Edit& e : edits_) {
    auto it = find(e.target);
    if (e.kind == Edit::Kind::kDelete) {
      if (it != rules->end()) rules->erase(it);
    } else if (it != rules->end()) {
      *it = e.rule;
    } else {
      *rules->Add() = e.rule;
    }
  }
  return out;
}

QStringList RuleDraft::describe() const {
  QStringList out;
  for (const Edit& e : edits_) {
    const QString target = QString::fromStdString(e.target);
    if (e.kind == Edit::Kind::kDelete) {
      out << QStringLiteral("- %1").arg(target);
    } else if (e.target.empty()) {
      out << QStringLiteral("+ %1").arg(describeRule(e.rule));
    } else {
      out << QStringLiteral("~ %1: %2").arg(target, describeRule(e.rule));
    }
  }
  return out;
}

v1::Rule withFittingId(const v1::Rule& original, v1::Rule edited) {
  if (original.id().empty()) {
    edited.clear_id();
    return edited;
  }
  const bool custom = QString::fromStdString(original.id()) != defaultRuleId(original);
  const bool same_identity = defaultRuleId(original) == defaultRuleId(edited);
  if (custom || same_identity) {
    edited.set_id(original.id());
  } else {
    edited.clear_id();
  }
  return edited;
}

std::vector<RuleProblem> checkRule(const v1::Rule& r) {
  std::vector<RuleProblem> out;
  auto problem = [&out](const char* field, QString message) {
    out.push_back(RuleProblem{QString::fromLatin1(field), std::move(message)});
  };
  const QString path = QString::fromStdString(r.path());
  if (path.size() > 1024) {
    problem("path", QStringLiteral("path is longer than 1024 bytes"));
  } else if (QString p = pathProblem(path); !p.isEmpty()) {
    problem("path", p);
  }
  const QString method = QString::fromStdString(r.method());
  if (!method.isEmpty()) {
    if (!isToken(method)) {
      problem("method", QStringLiteral("method must be a token"));
    } else if (method.toUpper() != method) {
      problem("method", QStringLiteral("method must be upper-case"));
    }
  }
  if (r.scope().kind() == v1::HEADER) {
    const QString header = QString::fromStdString(r.scope().header());
    if (!isToken(header)) {
      problem("scope", QStringLiteral("header scope needs a header name"));
    } else if (header.toLower() != header) {
      problem("scope", QStringLiteral("header name must be lower-case"));
    }
  }
  if (r.rate() <= 0) {
    problem("rate", QStringLiteral("rate must be > 0"));
  } else if (r.rate() > kMaxRate) {
    problem("rate", QStringLiteral("rate must be <= %1").arg(kMaxRate));
  } else if (r.algorithm() == v1::SLIDING_LOG && r.rate() > kMaxSlidingLogRate) {
    problem("rate", QStringLiteral("sliding_log rate must be <= %1").arg(kMaxSlidingLogRate));
  }
  if (r.burst() < 1) problem("burst", QStringLiteral("burst must be >= 1"));
  if (r.burst() > kMaxRate) problem("burst", QStringLiteral("burst must be <= %1").arg(kMaxRate));
  if (r.queue() < 0) problem("queue", QStringLiteral("queue must be >= 0"));
  const bool bucket = r.algorithm() == v1::ALGORITHM_UNSPECIFIED ||
                      r.algorithm() == v1::TOKEN_BUCKET || r.algorithm() == v1::LEAKY_BUCKET;
  const bool token_bucket =
      r.algorithm() == v1::ALGORITHM_UNSPECIFIED || r.algorithm() == v1::TOKEN_BUCKET;
  if (isPositive(r.warmup()) && !token_bucket) {
    problem("warmup", QStringLiteral("warmup is only supported by token_bucket"));
  }
  if (r.on_limit() == v1::QUEUE) {
    if (!bucket) {
      problem("on_limit", QStringLiteral("on_limit = queue needs token_bucket or leaky_bucket"));
    }
    if (!isPositive(r.max_wait())) {
      problem("max_wait", QStringLiteral("on_limit = queue needs max_wait > 0"));
    }
    if (r.distributed()) {
      problem("on_limit", QStringLiteral("on_limit = queue is not supported with distributed"));
    }
  }
  return out;
}

}  // namespace seckill::console
