#include "console/core/engine_session.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QThread>
#include <QTimer>
#include <algorithm>

#include "console/client/admin_client.h"
#include "console/core/labels.h"

namespace seckill::console {
namespace {

namespace v1 = ::seckill::admin::v1;

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

std::string utf8(const QString& s) { return s.toStdString(); }

QString seconds(qint64 ms) { return QString::number(static_cast<double>(ms) / 1000.0, 'f', 1); }

// The client library's words for a stream that stalled (StatsWatch::follow).
bool isStall(const QString& reason) { return reason.contains(QStringLiteral("no stats snapshot")); }

CallResult resultOf(quint64 id, const QString& what, const absl::Status& status) {
  CallResult r;
  r.id = id;
  r.what = what;
  r.ok = status.ok();
  r.code = static_cast<int>(status.code());
  if (!status.ok()) r.error = describeStatus(status);
  if (std::optional<uint64_t> v = client::currentVersion(status)) r.current_version = *v;
  return r;
}

}  // namespace

QString readTokenFile(const QString& path, QString* error) {
  absl::StatusOr<std::string> token = client::readTokenFile(utf8(path));
  if (!token.ok()) {
    if (error != nullptr) *error = describeStatus(token.status());
    return {};
  }
  return QString::fromStdString(*token);
}

QString LinkStatus::text(qint64 now_ms) const {
  switch (state) {
    case LinkState::kIdle:
      return QStringLiteral("not connected");
    case LinkState::kConnecting:
      return QStringLiteral("connecting…");
    case LinkState::kConnected:
      return QStringLiteral("connected");
    case LinkState::kRetrying:
      return QStringLiteral("unreachable, retry %1 in %2 s: %3")
          .arg(attempt)
          .arg(seconds(retry_in_ms), reason);
    case LinkState::kNotAnswering: {
      const qint64 quiet = since_ms > 0 ? std::max<qint64>(0, now_ms - since_ms) : 0;
      return QStringLiteral("engine not answering for %1 s (retry %2, next in %3 s)")
          .arg(quiet / 1000)
          .arg(attempt)
          .arg(seconds(retry_in_ms));
    }
    case LinkState::kRejected:
      return QStringLiteral("token refused: %1").arg(reason);
    case LinkState::kFailed:
      return QStringLiteral("cannot connect: %1").arg(reason);
  }
  return {};
}

QString CallResult::text() const {
  if (ok) return QStringLiteral("%1: done").arg(what);
  return QStringLiteral("%1 failed: %2").arg(what, error);
}

EngineSession::EngineSession(EngineAddress address, Options options)
    : address_(std::move(address)), options_(options), thread_(std::make_unique<QThread>()) {
  link_.target = address_.target;  // before any other thread runs
  thread_->setObjectName(QStringLiteral("engine %1").arg(address_.target));
  moveToThread(thread_.get());
  thread_->start();
  QMetaObject::invokeMethod(
      this, [this] { open(); }, Qt::QueuedConnection);
}

QThread* EngineSession::dispose() {
  QThread* thread = thread_.release();
  connect(thread, &QThread::finished, this, &QObject::deleteLater);    // in the session's thread
  connect(thread, &QThread::finished, thread, &QObject::deleteLater);  // in the owner's
  QMetaObject::invokeMethod(
      this,
      [this, thread] {
        close();
        thread->quit();
      },
      Qt::QueuedConnection);
  return thread;
}

EngineSession::~EngineSession() {
  if (thread_ != nullptr && thread_->isRunning()) {
    QThread* owner = QThread::currentThread();
    QMetaObject::invokeMethod(
        this,
        [this, owner] {
          close();
          moveToThread(owner);  // so that ~QObject runs where it is called
        },
        Qt::BlockingQueuedConnection);
    thread_->quit();
    thread_->wait();
  }
}

template <class Body>
quint64 EngineSession::post(Body body) {
  const quint64 id = next_id_.fetch_add(1);
  QMetaObject::invokeMethod(
      this,
      [this, id, body = std::move(body)]() mutable {
        if (client_ == nullptr) {
          CallResult r;
          r.id = id;
          r.what = QStringLiteral("request");
          r.code = static_cast<int>(absl::StatusCode::kFailedPrecondition);
          r.error = QStringLiteral("not connected: %1").arg(link().reason);
          emit callFinished(r);
          return;
        }
        body(id);
      },
      Qt::QueuedConnection);
  return id;
}

void EngineSession::open() {
  client::ConnectOptions o;
  o.target = utf8(address_.target);
  o.token = utf8(address_.token);
  o.tls = address_.tls;
  o.tls_ca_file = utf8(address_.tls_ca_file);
  o.tls_server_name = utf8(address_.tls_server_name);
  o.deadline = absl::Milliseconds(options_.deadline_ms);
  absl::StatusOr<std::unique_ptr<client::AdminClient>> made = client::AdminClient::create(o);
  if (!made.ok()) {
    setLink(LinkState::kFailed, describeStatus(made.status()));
    return;
  }
  client_ = *std::move(made);
  setLink(LinkState::kConnecting);

  client::StatsWatch::Callbacks callbacks;
  // Both run on the watch's thread, so that the stream's news never waits behind a slow call
  // on the session's thread.
  callbacks.on_snapshot = [this](const v1::StatsSnapshot& snapshot) {
    StatsPoint point = toPoint(snapshot);
    const bool live = !point.history;
    QMutexLocker lock(&pending_mu_);
    pending_.push_back(std::move(point));
    if (live) {
      deliverLocked();  // each live second at once
    } else if (!flush_posted_) {
      flush_posted_ = true;  // the history in batches
      QMetaObject::invokeMethod(
          this, [this] { flushStats(); }, Qt::QueuedConnection);
    }
  };
  callbacks.on_state = [this](client::StatsWatch::State state, const absl::Status& why) {
    onWatchState(static_cast<int>(state), static_cast<int>(why.code()),
                 why.ok() ? QString() : describeStatus(why));
  };
  client::StatsWatch::Options watch;
  watch.history = options_.history;
  watch.backoff_min = absl::Milliseconds(options_.backoff_min_ms);
  watch.backoff_max = absl::Milliseconds(options_.backoff_max_ms);
  watch.stall_timeout = absl::Milliseconds(options_.stall_ms);
  watch_ = std::make_unique<client::StatsWatch>(*client_, std::move(callbacks), watch);

  poll_timer_ = new QTimer(this);
  poll_timer_->setInterval(options_.poll_ms);
  connect(poll_timer_, &QTimer::timeout, this, &EngineSession::poll);
  poll_timer_->start();
  readAll(true);
}

void EngineSession::close() {
  if (watch_ != nullptr) watch_->stop();  // joins: no callback after this
  watch_.reset();
  delete poll_timer_;
  poll_timer_ = nullptr;
  client_.reset();
  // Requests queued but not started would otherwise follow the object to the owner's thread.
  QCoreApplication::removePostedEvents(this);
}

void EngineSession::flushStats() {
  QMutexLocker lock(&pending_mu_);
  flush_posted_ = false;
  deliverLocked();
}

void EngineSession::deliverLocked() {
  if (pending_.empty()) return;
  std::vector<StatsPoint> batch;
  batch.swap(pending_);
  const QString node = batch.back().node;
  updateLink([&](LinkStatus& link) {
    link.last_point_ms = nowMs();
    const bool changed = link.node != node;
    link.node = node;
    return changed;
  });
  // Emitted under pending_mu_: batches reach the receivers in the order they were taken, whichever
  // thread takes them.
  emit statsReceived(QList<StatsPoint>(std::make_move_iterator(batch.begin()),
                                       std::make_move_iterator(batch.end())));
}

LinkStatus EngineSession::link() const {
  QMutexLocker lock(&link_mu_);
  return link_;
}

template <class Change>
void EngineSession::updateLink(Change change) {
  QMutexLocker lock(&link_mu_);
  if (change(link_)) emit linkChanged(link_);  // under the lock: in order
}

void EngineSession::setLink(LinkState state, const QString& reason) {
  updateLink([&](LinkStatus& link) {
    link.state = state;
    if (state == LinkState::kConnected) {
      link.reason.clear();
      link.attempt = 0;
      link.retry_in_ms = 0;
      link.since_ms = 0;
    } else if (!reason.isEmpty()) {
      link.reason = reason;
    }
    return true;
  });
}

void EngineSession::onWatchState(int state, int code, const QString& reason) {
  using State = client::StatsWatch::State;
  switch (static_cast<State>(state)) {
    case State::kConnecting:
      updateLink([](LinkStatus& link) {
        if (link.state != LinkState::kIdle) return false;  // keep showing why it is retrying
        link.state = LinkState::kConnecting;
        return true;
      });
      break;
    case State::kStreaming: {
      bool back = false;
      updateLink([&](LinkStatus& link) {
        back = link.state != LinkState::kConnected && ever_connected_;
        ever_connected_ = true;
        link.state = LinkState::kConnected;
        link.reason.clear();
        link.attempt = 0;
        link.retry_in_ms = 0;
        link.since_ms = 0;
        return true;
      });
      // The engine may have restarted: read everything again (on the session's thread).
      if (back)
        QMetaObject::invokeMethod(
            this, [this] { readAll(true); }, Qt::QueuedConnection);
      break;
    }
    case State::kRetrying:
      updateLink([&](LinkStatus& link) {
        ++link.attempt;
        const int shift = std::min(link.attempt - 1, 20);
        link.retry_in_ms = static_cast<int>(std::min<qint64>(
            static_cast<qint64>(options_.backoff_min_ms) << shift, options_.backoff_max_ms));
        if (isStall(reason)) {
          if (link.state != LinkState::kNotAnswering) {
            link.since_ms = link.last_point_ms > 0 ? link.last_point_ms : nowMs();
          }
          link.state = LinkState::kNotAnswering;
        } else {
          link.state = LinkState::kRetrying;
        }
        link.reason = reason;
        return true;
      });
      break;
    case State::kStopped:
      if (code == static_cast<int>(absl::StatusCode::kUnauthenticated) ||
          code == static_cast<int>(absl::StatusCode::kPermissionDenied)) {
        QMetaObject::invokeMethod(
            this,
            [this] {
              if (poll_timer_ != nullptr) poll_timer_->stop();
            },
            Qt::QueuedConnection);
        setLink(LinkState::kRejected, reason);
      }
      break;
  }
}

void EngineSession::noteReadFailure(int code, const QString& reason) {
  if (code == static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    if (poll_timer_ != nullptr) poll_timer_->stop();
    setLink(LinkState::kRejected, reason);
  }
}

void EngineSession::poll() {
  if (client_ == nullptr || link().state != LinkState::kConnected) return;  // the watch reconnects
  ++polls_;
  readAll(options_.slow_poll_every > 0 && polls_ % options_.slow_poll_every == 0);
}

void EngineSession::readAll(bool slow) {
  if (client_ == nullptr) return;
  auto failed = [this](const absl::Status& s) {
    noteReadFailure(static_cast<int>(s.code()), describeStatus(s));
    return s.code() == absl::StatusCode::kUnauthenticated;
  };
  if (slow || polls_ == 0) {
    absl::StatusOr<v1::NodeStatus> status = client_->status();
    if (!status.ok()) {
      if (failed(status.status())) return;
    } else {
      emit statusReceived(*status);
    }
  }
  if (absl::StatusOr<v1::ListRulesResponse> rules = client_->listRules(); rules.ok()) {
    emit rulesReceived(*rules);
  } else if (failed(rules.status())) {
    return;
  }
  if (absl::StatusOr<v1::ListSalesResponse> sales = client_->listSales(); sales.ok()) {
    emit salesReceived(*sales);
  }
  if (absl::StatusOr<v1::ListBreakersResponse> breakers = client_->listBreakers(); breakers.ok()) {
    emit breakersReceived(*breakers);
  }
  if (slow || polls_ == 0) {
    v1::ListVersionsRequest versions;
    versions.set_limit(50);
    if (auto r = client_->read(&v1::Rules::Stub::ListVersions, versions); r.ok()) {
      emit versionsReceived(*r);
    }
    v1::ListAuditRequest audit;
    audit.set_page_size(options_.audit_entries);
    if (auto r = client_->read(&v1::Audit::Stub::List, audit); r.ok()) emit auditReceived(*r);
  }
}

// ---------------------------------------------------------------- requests

quint64 EngineSession::validateRule(const v1::Rule& rule) {
  return post([this, rule](quint64 id) {
    v1::ValidateRulesRequest request;
    *request.mutable_rule() = rule;
    auto r = client_->read(&v1::Rules::Stub::Validate, request);
    if (r.ok()) {
      emit validated(id, *r);
    } else {
      emit callFinished(resultOf(id, QStringLiteral("validate rule"), r.status()));
    }
  });
}

quint64 EngineSession::validateSet(const v1::RuleSet& set) {
  return post([this, set](quint64 id) {
    v1::ValidateRulesRequest request;
    *request.mutable_set() = set;
    auto r = client_->read(&v1::Rules::Stub::Validate, request);
    if (r.ok()) {
      emit validated(id, *r);
    } else {
      emit callFinished(resultOf(id, QStringLiteral("validate rules"), r.status()));
    }
  });
}

quint64 EngineSession::applyRules(const v1::RuleSet& set, quint64 expected_version,
                                  const QString& comment) {
  return post([this, set, expected_version, comment](quint64 id) {
    const QString what = QStringLiteral("apply rules on version %1").arg(expected_version);
    emit callStarted(id, what);
    v1::ApplyRulesRequest request;
    *request.mutable_set() = set;
    request.set_expected_version(expected_version);
    request.set_comment(utf8(comment));
    auto r = client_->call(&v1::Rules::Stub::Apply, request);
    CallResult result = resultOf(id, what, r.status());
    if (r.ok()) result.version = r->version();
    emit callFinished(result);
    if (r.ok()) readAll(true);
  });
}

quint64 EngineSession::rollback(quint64 to_version, quint64 expected_version) {
  return post([this, to_version, expected_version](quint64 id) {
    const QString what = QStringLiteral("roll back to version %1").arg(to_version);
    emit callStarted(id, what);
    v1::RollbackRulesRequest request;
    request.set_to_version(to_version);
    request.set_expected_version(expected_version);
    request.set_comment("seckill-console rollback");
    auto r = client_->call(&v1::Rules::Stub::Rollback, request);
    CallResult result = resultOf(id, what, r.status());
    if (r.ok()) result.version = r->version();
    emit callFinished(result);
    if (r.ok()) readAll(true);
  });
}

quint64 EngineSession::diff(quint64 from_version, quint64 to_version) {
  return post([this, from_version, to_version](quint64 id) {
    v1::DiffRulesRequest request;
    request.set_from_version(from_version);
    request.set_to_version(to_version);
    auto r = client_->read(&v1::Rules::Stub::Diff, request);
    if (r.ok()) {
      emit diffReceived(id, *r);
    } else {
      emit callFinished(
          resultOf(id, QStringLiteral("diff version %1 with %2").arg(from_version).arg(to_version),
                   r.status()));
    }
  });
}

quint64 EngineSession::setOverride(const QString& prefix, v1::OverrideMode mode) {
  return post([this, prefix, mode](quint64 id) {
    const QString what = QStringLiteral("set override %1 to %2").arg(prefix, label(mode));
    emit callStarted(id, what);
    v1::SetOverrideRequest request;
    request.set_prefix(utf8(prefix));
    request.set_mode(mode);
    request.set_comment("seckill-console");
    auto r = client_->call(&v1::Control::Stub::SetOverride, request);
    CallResult result = resultOf(id, what, r.status());
    if (r.ok()) result.version = r->version();
    emit callFinished(result);
    if (r.ok()) readAll(true);
  });
}

quint64 EngineSession::clearOverride(const QString& prefix) {
  return post([this, prefix](quint64 id) {
    const QString what = QStringLiteral("clear override %1").arg(prefix);
    emit callStarted(id, what);
    v1::ClearOverrideRequest request;
    request.set_prefix(utf8(prefix));
    request.set_comment("seckill-console");
    auto r = client_->call(&v1::Control::Stub::ClearOverride, request);
    CallResult result = resultOf(id, what, r.status());
    if (r.ok()) result.version = r->version();
    emit callFinished(result);
    if (r.ok()) readAll(true);
  });
}

quint64 EngineSession::setRuleMode(const QString& rule_id, v1::OnLimit mode, int max_wait_ms) {
  return post([this, rule_id, mode, max_wait_ms](quint64 id) {
    const QString what = QStringLiteral("set on_limit of \"%1\" to %2").arg(rule_id, label(mode));
    emit callStarted(id, what);
    v1::SetRuleModeRequest request;
    request.set_id(utf8(rule_id));
    request.set_on_limit(mode);
    if (mode == v1::QUEUE && max_wait_ms > 0) {
      request.mutable_max_wait()->set_seconds(max_wait_ms / 1000);
      request.mutable_max_wait()->set_nanos((max_wait_ms % 1000) * 1000000);
    }
    request.set_comment("seckill-console");
    auto r = client_->call(&v1::Control::Stub::SetRuleMode, request);
    CallResult result = resultOf(id, what, r.status());
    if (r.ok()) result.version = r->version();
    emit callFinished(result);
    if (r.ok()) readAll(true);
  });
}

quint64 EngineSession::setBreakerMode(const QString& breaker, v1::BreakerMode mode) {
  return post([this, breaker, mode](quint64 id) {
    const QString what = QStringLiteral("set breaker %1 to %2").arg(breaker, label(mode));
    emit callStarted(id, what);
    v1::SetBreakerModeRequest request;
    request.set_name(utf8(breaker));
    request.set_mode(mode);
    request.set_comment("seckill-console");
    auto r = client_->call(&v1::Control::Stub::SetBreakerMode, request);
    emit callFinished(resultOf(id, what, r.status()));
    if (r.ok()) {
      if (auto b = client_->listBreakers(); b.ok()) emit breakersReceived(*b);
    }
  });
}

quint64 EngineSession::createSale(const v1::Sale& sale) {
  return post([this, sale](quint64 id) {
    const QString what = QStringLiteral("create sale %1").arg(QString::fromStdString(sale.id()));
    emit callStarted(id, what);
    v1::CreateSaleRequest request;
    *request.mutable_sale() = sale;
    request.set_comment("seckill-console");
    auto r = client_->call(&v1::Sales::Stub::Create, request);
    emit callFinished(resultOf(id, what, r.status()));
    if (r.ok()) {
      if (auto s = client_->listSales(); s.ok()) emit salesReceived(*s);
    }
  });
}

quint64 EngineSession::adjustStock(const QString& sale_id, bool set_total, qint64 amount) {
  return post([this, sale_id, set_total, amount](quint64 id) {
    const QString what = set_total
                             ? QStringLiteral("set stock of %1 to %2").arg(sale_id).arg(amount)
                             : QStringLiteral("move stock of %1 by %2").arg(sale_id).arg(amount);
    emit callStarted(id, what);
    v1::AdjustStockRequest request;
    request.set_id(utf8(sale_id));
    if (set_total) {
      request.set_set_total(amount);
    } else {
      request.set_delta(amount);
    }
    request.set_comment("seckill-console");
    auto r = client_->call(&v1::Sales::Stub::AdjustStock, request);
    emit callFinished(resultOf(id, what, r.status()));
    if (r.ok()) {
      if (auto s = client_->listSales(); s.ok()) emit salesReceived(*s);
    }
  });
}

quint64 EngineSession::openSale(const QString& sale_id) {
  return post([this, sale_id](quint64 id) {
    const QString what = QStringLiteral("open sale %1").arg(sale_id);
    emit callStarted(id, what);
    v1::OpenSaleRequest request;
    request.set_id(utf8(sale_id));
    request.set_comment("seckill-console");
    auto r = client_->call(&v1::Sales::Stub::Open, request);
    emit callFinished(resultOf(id, what, r.status()));
    if (r.ok()) {
      if (auto s = client_->listSales(); s.ok()) emit salesReceived(*s);
    }
  });
}

quint64 EngineSession::closeSale(const QString& sale_id) {
  return post([this, sale_id](quint64 id) {
    const QString what = QStringLiteral("close sale %1").arg(sale_id);
    emit callStarted(id, what);
    v1::CloseSaleRequest request;
    request.set_id(utf8(sale_id));
    request.set_comment("seckill-console");
    auto r = client_->call(&v1::Sales::Stub::Close, request);
    emit callFinished(resultOf(id, what, r.status()));
    if (r.ok()) {
      if (auto s = client_->listSales(); s.ok()) emit salesReceived(*s);
    }
  });
}

quint64 EngineSession::refresh() {
  return post([this](quint64) { readAll(true); });
}

}  // namespace seckill::console
