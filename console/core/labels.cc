#include "console/core/labels.h"

#include <QDateTime>
#include <QStringList>

namespace seckill::console {

QString label(v1::SaleState s) {
  switch (s) {
    case v1::SCHEDULED:
      return QStringLiteral("scheduled");
    case v1::OPEN_NOW:
      return QStringLiteral("open");
    case v1::SOLD_OUT:
      return QStringLiteral("sold_out");
    case v1::CLOSED_NOW:
      return QStringLiteral("closed");
    default:
      return QStringLiteral("?");
  }
}

QString label(v1::BreakerState s) {
  switch (s) {
    case v1::CLOSED:
      return QStringLiteral("closed");
    case v1::OPEN:
      return QStringLiteral("open");
    case v1::HALF_OPEN:
      return QStringLiteral("half_open");
    case v1::FORCED_OPEN:
      return QStringLiteral("forced_open");
    case v1::DISABLED:
      return QStringLiteral("disabled");
    case v1::METRICS_ONLY:
      return QStringLiteral("metrics_only");
    default:
      return QStringLiteral("?");
  }
}

QString label(v1::BreakerMode m) {
  switch (m) {
    case v1::AUTOMATIC:
      return QStringLiteral("automatic");
    case v1::MODE_FORCED_OPEN:
      return QStringLiteral("forced_open");
    case v1::MODE_DISABLED:
      return QStringLiteral("disabled");
    case v1::MODE_METRICS_ONLY:
      return QStringLiteral("metrics_only");
    default:
      return QStringLiteral("?");
  }
}

QString label(v1::OverrideMode m) {
  switch (m) {
    case v1::NONE:
      return QStringLiteral("none");
    case v1::DRY_RUN:
      return QStringLiteral("dry_run");
    case v1::SHED:
      return QStringLiteral("shed");
    default:
      return QStringLiteral("?");
  }
}

QString label(v1::OnLimit o) {
  switch (o) {
    case v1::REJECT:
      return QStringLiteral("reject");
    case v1::QUEUE:
      return QStringLiteral("queue");
    case v1::LOG:
      return QStringLiteral("log");
    default:
      return QStringLiteral("reject");  // the engine's default
  }
}

QString label(v1::Algorithm a) {
  switch (a) {
    case v1::TOKEN_BUCKET:
      return QStringLiteral("token_bucket");
    case v1::LEAKY_BUCKET:
      return QStringLiteral("leaky_bucket");
    case v1::SLIDING_WINDOW:
      return QStringLiteral("sliding_window");
    case v1::SLIDING_LOG:
      return QStringLiteral("sliding_log");
    default:
      return QStringLiteral("token_bucket");
  }
}

QString label(v1::Per p) {
  switch (p) {
    case v1::MINUTE:
      return QStringLiteral("min");
    case v1::HOUR:
      return QStringLiteral("h");
    default:
      return QStringLiteral("s");
  }
}

QString label(v1::StockStrategy s) {
  switch (s) {
    case v1::FIFO:
      return QStringLiteral("fifo");
    case v1::OPTIMISTIC:
      return QStringLiteral("optimistic");
    case v1::COUNTER_GATE:
      return QStringLiteral("counter_gate");
    default:
      return QStringLiteral("atomic");
  }
}

QString label(const v1::Scope& s) {
  switch (s.kind()) {
    case v1::USER:
      return QStringLiteral("user");
    case v1::IP:
      return QStringLiteral("ip");
    case v1::HEADER:
      return QStringLiteral("header:") + QString::fromStdString(s.header());
    default:
      return QStringLiteral("global");
  }
}

QString methodLabel(const std::string& method) {
  return method.empty() ? QStringLiteral("*") : QString::fromStdString(method);
}

QString rateLabel(const v1::Rule& rule) {
  return QStringLiteral("%1/%2").arg(rule.rate()).arg(label(rule.per()));
}

QString durationLabel(const google::protobuf::Duration& d) {
  const qint64 ms = d.seconds() * 1000 + d.nanos() / 1000000;
  if (ms == 0) return QStringLiteral("-");
  if (ms % 1000 != 0) {
    if (ms < 1000) return QStringLiteral("%1ms").arg(ms);
    return QStringLiteral("%1s").arg(static_cast<double>(ms) / 1000.0);
  }
  const qint64 s = ms / 1000;
  QString out;
  if (s >= 3600) out += QStringLiteral("%1h").arg(s / 3600);
  if (s % 3600 >= 60) out += QStringLiteral("%1m").arg(s % 3600 / 60);
  if (s % 60 > 0) out += QStringLiteral("%1s").arg(s % 60);
  return out;
}

QString timeLabel(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return QStringLiteral("-");
  return QDateTime::fromSecsSinceEpoch(ts.seconds())
      .toLocalTime()
      .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString describeRule(const v1::Rule& rule) {
  QStringList parts;
  parts << methodLabel(rule.method()) << QString::fromStdString(rule.path()) << label(rule.scope())
        << label(rule.algorithm()) << rateLabel(rule);
  if (rule.burst() > 1) parts << QStringLiteral("burst %1").arg(rule.burst());
  parts << label(rule.on_limit());
  if (rule.queue() > 0) parts << QStringLiteral("queue %1").arg(rule.queue());
  if (rule.has_warmup()) parts << QStringLiteral("warmup %1").arg(durationLabel(rule.warmup()));
  if (rule.has_max_wait()) {
    parts << QStringLiteral("max_wait %1").arg(durationLabel(rule.max_wait()));
  }
  if (rule.distributed()) parts << QStringLiteral("distributed");
  return parts.join(QLatin1Char(' '));
}

QString defaultRuleId(const v1::Rule& rule) {
  const QString method =
      rule.method().empty() ? QStringLiteral("ANY") : QString::fromStdString(rule.method());
  return QStringLiteral("%1 %2 %3 /%4")
      .arg(method, QString::fromStdString(rule.path()), label(rule.scope()), label(rule.per()));
}

QString describeStatus(const absl::Status& status) {
  if (status.ok()) return QStringLiteral("OK");
  QString text = QString::fromStdString(absl::StatusCodeToString(status.code()));
  if (!status.message().empty()) {
    text +=
        QStringLiteral(": ") +
        QString::fromUtf8(status.message().data(), static_cast<qsizetype>(status.message().size()));
  }
  return text;
}

QString breakerModeConsequence(const QString& breaker, v1::BreakerMode mode) {
  switch (mode) {
    case v1::MODE_FORCED_OPEN:
      return QStringLiteral(
                 "Breaker %1 will deny every call: every order will be answered 503 "
                 "circuit_open until you switch it back to automatic.")
          .arg(breaker);
    case v1::MODE_DISABLED:
      return QStringLiteral(
                 "Breaker %1 will allow every call and record nothing: if the backend fails, "
                 "shoppers wait for it and see its errors, with no protection, until you switch "
                 "it back.")
          .arg(breaker);
    case v1::MODE_METRICS_ONLY:
      return QStringLiteral(
                 "Breaker %1 will allow every call and only report what it would do: shoppers "
                 "are never denied by it, even while the backend fails, until you switch it "
                 "back.")
          .arg(breaker);
    case v1::AUTOMATIC:
      return QStringLiteral(
                 "Breaker %1 goes back to its state machine: it opens (orders answered 503) when "
                 "the backend fails or slows, and closes again on its own.")
          .arg(breaker);
    default:
      return QStringLiteral("Breaker %1 changes mode.").arg(breaker);
  }
}

QString overrideConsequence(const QString& prefix, v1::OverrideMode mode) {
  switch (mode) {
    case v1::SHED:
      return QStringLiteral(
                 "Every shopper request under %1 will be answered 503 shed until you clear the "
                 "override.")
          .arg(prefix);
    case v1::DRY_RUN:
      return QStringLiteral(
                 "Every rule under %1 will only log: no shopper there is limited (429 or queued) "
                 "until you clear the override.")
          .arg(prefix);
    case v1::NONE:
      return QStringLiteral(
                 "Requests under %1 are exempt from the overrides of wider prefixes: the rules "
                 "apply as configured.")
          .arg(prefix);
    default:
      return QStringLiteral("The override of %1 changes.").arg(prefix);
  }
}

QString clearOverrideConsequence(const QString& prefix) {
  return QStringLiteral(
             "The override of %1 is removed: requests there follow the wider prefixes' overrides "
             "and the rules again.")
      .arg(prefix);
}

QString ruleModeConsequence(const QString& rule_id, v1::OnLimit mode) {
  switch (mode) {
    case v1::LOG:
      return QStringLiteral(
                 "Rule \"%1\" will only count: shoppers over its limit are admitted until you "
                 "switch it back.")
          .arg(rule_id);
    case v1::QUEUE:
      return QStringLiteral(
                 "Shoppers over the limit of rule \"%1\" will wait for a slot (up to max_wait) "
                 "instead of getting 429 at once.")
          .arg(rule_id);
    default:
      return QStringLiteral(
                 "Shoppers over the limit of rule \"%1\" will be answered 429 with Retry-After.")
          .arg(rule_id);
  }
}

QString closeSaleConsequence(const QString& sale_id) {
  return QStringLiteral(
             "Sale %1 closes now: every new order will be answered 409 sale_not_open until you "
             "open it again. Orders already placed are kept.")
      .arg(sale_id);
}

QString openSaleConsequence(const QString& sale_id) {
  return QStringLiteral("Sale %1 opens now: shoppers can order at once.").arg(sale_id);
}

QString rollbackConsequence(uint64_t to_version, uint64_t current_version) {
  return QStringLiteral(
             "The rules and overrides of version %1 replace the running version %2 (as a new "
             "version): shoppers are limited by them at once.")
      .arg(to_version)
      .arg(current_version);
}

}  // namespace seckill::console
