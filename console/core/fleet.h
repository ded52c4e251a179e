#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>
#include <memory>
#include <vector>

#include "console/core/alerts.h"
#include "console/core/engine_session.h"
#include "console/core/series_store.h"

namespace seckill::console {

class AuditModel;
class BreakersModel;
class OverridesModel;
class RuleTrieModel;
class SalesModel;
class VersionsModel;

// The engines an operator watches: the nodes of one fleet (sharing Redis, so one rule set and
// one set of sales), each through its own EngineSession. Holds every node's per-second series
// and their sum, raises alerts, and feeds the item models: rules, sales, overrides, versions and
// audit from the primary (the first engine added, where changes go), breakers from every node.
//
// Thread: the UI thread. The sessions run their calls on their own threads.
class Fleet : public QObject {
  Q_OBJECT

 public:
  explicit Fleet(QObject* parent = nullptr) : Fleet(3600, EngineSession::Options(), parent) {}
  Fleet(int history_seconds, EngineSession::Options options, QObject* parent = nullptr);
  ~Fleet() override;

  // Connects to one more engine; returns its index.
  int addEngine(const EngineAddress& address);
  // Disconnects every engine without waiting (the series and models are kept).
  void clear();

  int size() const { return static_cast<int>(engines_.size()); }
  EngineSession* session(int index) const;
  // Where changes go; nullptr before addEngine().
  EngineSession* primary() const { return session(0); }
  LinkStatus link(int index) const;

  SeriesStore& series() { return series_; }
  const SeriesStore& series() const { return series_; }
  RuleTrieModel* rules() const { return rules_; }
  SalesModel* sales() const { return sales_; }
  BreakersModel* breakers() const { return breakers_; }
  OverridesModel* overrides() const { return overrides_; }
  VersionsModel* versions() const { return versions_; }
  AuditModel* audit() const { return audit_; }

  // Prefills each node, before its first real second, with `seconds` made-up ones
  // (syntheticHistory()): for benchmarks and tests of an hour on screen. 0: off (the default).
  void setSyntheticHistory(int seconds) { synthetic_seconds_ = seconds; }

  // The primary's answer to Node.GetStatus (empty before the first).
  const seckill::admin::v1::NodeStatus& status() const { return status_; }
  // Whether the token may change things (role "operator"); false while unknown.
  bool canChange() const;
  // Why changes are disabled, for a tooltip or a label; empty when they are not.
  QString readOnlyReason() const;

 signals:
  void linkChanged(int index, const seckill::console::LinkStatus& status);
  // New seconds are in series() (once per batch: each second live, a few times for a history).
  void seriesChanged();
  void alertRaised(const seckill::console::Alert& alert);
  // The primary's status changed (role, version, node).
  void statusChanged();
  // The primary's calls (for a status line or a busy indicator).
  void callStarted(quint64 id, const QString& what);
  void callFinished(const seckill::console::CallResult& result);

 private:
  struct Engine {
    std::unique_ptr<EngineSession> session;
    LinkStatus link;
    QString node;  // the node id, once known
  };
  void onStats(int index, const QList<StatsPoint>& points);

  const EngineSession::Options options_;
  std::vector<Engine> engines_;
  QList<QPointer<QThread>> retired_;  // the threads of disposed sessions, until they end
  int generation_ = 0;                // +1 per clear()
  int synthetic_seconds_ = 0;
  SeriesStore series_;
  AlertDetector alerts_;
  seckill::admin::v1::NodeStatus status_;
  RuleTrieModel* rules_;
  SalesModel* sales_;
  BreakersModel* breakers_;
  OverridesModel* overrides_;
  VersionsModel* versions_;
  AuditModel* audit_;
};

}  // namespace seckill::console
