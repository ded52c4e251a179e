#pragma once

#include <QList>
#include <QMetaType>
#include <QMutex>
#include <QObject>
#include <QString>
#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "console/core/stats_point.h"
#include "seckill/admin/v1/admin.pb.h"

class QThread;
class QTimer;

namespace seckill::client {
class AdminClient;
class StatsWatch;
}  // namespace seckill::client

namespace seckill::console {

// Where and how to reach one engine's admin API.
struct EngineAddress {
  QString target;  // HOST:PORT
  QString token;
  QString token_file;  // where the token came from, if a file (shown and remembered)
  bool tls = false;
  QString tls_ca_file;      // empty: the system's roots
  QString tls_server_name;  // empty: the host of `target`
};

// The token of a token file: the first word of its first line that is not empty or a comment
// ("<token> [role name]" as the engine's tokens file has it, or the token alone). Empty, with
// the reason in `*error`, when it cannot be read.
QString readTokenFile(const QString& path, QString* error);

// The state of the link to one engine, as the status bar shows it.
enum class LinkState {
  kIdle,
  kConnecting,    // first attempt under way
  kConnected,     // the stats stream delivers
  kRetrying,      // the engine cannot be reached; the next attempt waits retry_in_ms
  kNotAnswering,  // reachable but silent (stopped, overloaded): no second for the stall time
  kRejected,      // the token was refused (UNAUTHENTICATED / PERMISSION_DENIED): no retry
  kFailed,        // the address or TLS files are unusable: no retry
};

struct LinkStatus {
  LinkState state = LinkState::kIdle;
  QString target;
  QString node;         // the engine's node id, once known
  QString reason;       // why: describeStatus() of the last failure
  int attempt = 0;      // consecutive failed attempts
  int retry_in_ms = 0;  // the back-off before the next attempt
  qint64 since_ms = 0;  // kNotAnswering: the last second received (ms since the epoch)
  qint64 last_point_ms = 0;

  // One line for the status bar at `now_ms`: "streaming", "retry 3 in 1.6 s: UNAVAILABLE: ...",
  // "engine not answering for 7 s (retry 2)".
  QString text(qint64 now_ms) const;
};

// The end of one call an operator asked for.
struct CallResult {
  quint64 id = 0;
  QString what;  // "apply rules", "set breaker stock_store to forced_open"
  bool ok = false;
  int code = 0;                 // absl::StatusCode
  QString error;                // describeStatus(): "ABORTED: ..."
  quint64 current_version = 0;  // ABORTED: the engine's current rule-set version (0: unknown)
  quint64 version = 0;          // a rule-set change: the version it made

  // "apply rules: done" or "apply rules failed: ABORTED: ...".
  QString text() const;
};

// One engine: its admin client and its stats stream, on a QThread of its own. Every RPC runs on
// that thread; results come back as signals carrying copies (protos, plain structs), so
// receivers on the UI thread get them by queued connection and never wait.
//
// The stats stream (client::StatsWatch) resumes after a break with only the seconds after the
// last one delivered; the link state follows it: retries with back-off, and "not answering"
// when a stream stays silent for the stall time (a SIGSTOPped engine keeps its sockets open).
// While the link is down the periodic reads pause; when it comes back everything is read again
// (the engine may have restarted).
//
// Thread-safety: the request methods (validateRule ... refresh) may be called from any thread;
// each queues its work and returns at once with the id its answer will carry. Construct on the
// owning (UI) thread; end it with dispose() (never waits) or delete it there (waits for a call
// in flight, at most its deadline).
class EngineSession : public QObject {
  Q_OBJECT

 public:
  struct Options {
    int poll_ms = 2000;        // rules (with live counters), sales, breakers
    int slow_poll_every = 5;   // status, versions and audit every this many polls
    int stall_ms = 3000;       // a stream silent this long: the engine is not answering
    int backoff_min_ms = 200;  // reconnects: doubling from min to max
    int backoff_max_ms = 5000;
    int deadline_ms = 4000;   // each unary call
    int audit_entries = 500;  // newest audit entries read
    bool history = true;      // ask for the engine's history on the first connect
  };

  // Starts the session's thread and connects at once.
  explicit EngineSession(EngineAddress address) : EngineSession(std::move(address), Options()) {}
  EngineSession(EngineAddress address, Options options);
  ~EngineSession() override;
  EngineSession(const EngineSession&) = delete;
  EngineSession& operator=(const EngineSession&) = delete;

  const EngineAddress& address() const { return address_; }

  // Ends the session without waiting: it closes on its own thread, then it and its thread are
  // deleted. Call from the owning thread instead of deleting it; returns the thread (to wait for
  // at exit; it deletes itself once finished and its owner's event loop runs).
  QThread* dispose();

  // ---- requests: any thread; the answer comes as validated / diffReceived / callFinished.
  quint64 validateRule(const seckill::admin::v1::Rule& rule);
  quint64 validateSet(const seckill::admin::v1::RuleSet& set);
  // Rules.Apply of the whole set iff the running version is `expected_version`.
  quint64 applyRules(const seckill::admin::v1::RuleSet& set, quint64 expected_version,
                     const QString& comment);
  quint64 rollback(quint64 to_version, quint64 expected_version);
  quint64 diff(quint64 from_version, quint64 to_version);  // to 0: the running version
  quint64 setOverride(const QString& prefix, seckill::admin::v1::OverrideMode mode);
  quint64 clearOverride(const QString& prefix);
  quint64 setRuleMode(const QString& rule_id, seckill::admin::v1::OnLimit mode, int max_wait_ms);
  quint64 setBreakerMode(const QString& breaker, seckill::admin::v1::BreakerMode mode);
  quint64 createSale(const seckill::admin::v1::Sale& sale);
  // Sets the total (`set_total` true) or moves it by `amount`.
  quint64 adjustStock(const QString& sale_id, bool set_total, qint64 amount);
  quint64 openSale(const QString& sale_id);
  quint64 closeSale(const QString& sale_id);
  // Reads everything again now (status, rules, sales, breakers, versions, audit).
  quint64 refresh();

 signals:
  void linkChanged(const seckill::console::LinkStatus& status);
  // New seconds, oldest first (the history arrives as a few large batches).
  void statsReceived(const QList<seckill::console::StatsPoint>& points);
  void statusReceived(const seckill::admin::v1::NodeStatus& status);
  void rulesReceived(const seckill::admin::v1::ListRulesResponse& rules);
  void salesReceived(const seckill::admin::v1::ListSalesResponse& sales);
  void breakersReceived(const seckill::admin::v1::ListBreakersResponse& breakers);
  void versionsReceived(const seckill::admin::v1::ListVersionsResponse& versions);
  void auditReceived(const seckill::admin::v1::ListAuditResponse& audit);
  void validated(quint64 id, const seckill::admin::v1::ValidateRulesResponse& result);
  void diffReceived(quint64 id, const seckill::admin::v1::DiffRulesResponse& diff);
  void callStarted(quint64 id, const QString& what);
  // Every request's end (validate and diff too, when they fail).
  void callFinished(const seckill::console::CallResult& result);

 private:
  // All below: the session's thread only, unless noted.
  void open();
  void close();
  void poll();
  void readAll(bool slow);
  // The link state: any thread (the watch's reports the stream, the session's the calls).
  LinkStatus link() const;
  void setLink(LinkState state, const QString& reason = {});
  // Runs `change(link_)` under link_mu_; emits linkChanged when it returns true.
  template <class Change>
  void updateLink(Change change);
  // On the watch's thread.
  void onWatchState(int state, int code, const QString& reason);
  // Emits the pending seconds; pending_mu_ held.
  void deliverLocked();
  void flushStats();
  // Runs `body(id)` on the session's thread; returns the id at once.
  template <class Body>
  quint64 post(Body body);
  // A change: emits callStarted, runs `call` (returning absl::StatusOr<T>), emits callFinished;
  // on success runs `after(value)`.
  template <class Call, class After>
  void change(quint64 id, const QString& what, Call call, After after);
  // A failed read that means the token is refused.
  void noteReadFailure(int code, const QString& reason);

  const EngineAddress address_;
  const Options options_;
  std::unique_ptr<QThread> thread_;
  std::atomic<quint64> next_id_{1};

  std::unique_ptr<client::AdminClient> client_;
  std::unique_ptr<client::StatsWatch> watch_;
  QTimer* poll_timer_ = nullptr;  // child; lives on the session's thread
  int polls_ = 0;

  mutable QMutex link_mu_;
  LinkStatus link_;              // guarded by link_mu_
  bool ever_connected_ = false;  // guarded by link_mu_

  // Filled by the watch's thread; drained there (live seconds) or on the session's thread
  // (history batches).
  QMutex pending_mu_;
  std::vector<StatsPoint> pending_;  // guarded by pending_mu_
  bool flush_posted_ = false;        // guarded by pending_mu_
};

}  // namespace seckill::console

Q_DECLARE_METATYPE(seckill::console::LinkStatus)
Q_DECLARE_METATYPE(seckill::console::CallResult)
