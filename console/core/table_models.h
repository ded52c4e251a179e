#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>
#include <vector>

#include "console/core/stats_point.h"
#include "seckill/admin/v1/admin.pb.h"

// The admin API's lists as Qt table models: sales, breakers, overrides, rule versions and the
// audit log. Each takes a whole listing and updates in place when only values moved (rows keep
// their selection), resetting only when the rows themselves changed.
//
// Thread: the UI thread (Qt item models are not thread-safe).
namespace seckill::console {

// Every model's machine-readable roles (the display text stays for people).
enum ModelRole {
  kKeyRole = Qt::UserRole + 1,  // the row's key: sale id, breaker name, prefix, version, seq
  kStateRole,                   // the enum value as int (sale state, breaker state, mode)
  kModeRole,                    // breakers: the mode as int
  kNodeRole,                    // breakers: the node id
  kFractionRole,                // sales: stock left / total in [0, 1]
};

class SalesModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    kId,
    kName,
    kState,
    kLeft,
    kSold,
    kTotal,
    kOpens,
    kCloses,
    kStrategy,
    kToken,
    kColumnCount
  };
  explicit SalesModel(QObject* parent = nullptr);

  void setSales(const seckill::admin::v1::ListSalesResponse& sales);
  // The stock and state of the last second (Stats carries them every second).
  void setLevels(const std::vector<SaleLevel>& levels);
  const seckill::admin::v1::Sale& sale(int row) const;
  int rowOf(const QString& id) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<seckill::admin::v1::Sale> rows_;
};

class BreakersModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    kNode,
    kName,
    kState,
    kMachine,
    kMode,
    kCalls,
    kFailures,
    kSlow,
    kTransitions,
    kColumnCount
  };
  explicit BreakersModel(QObject* parent = nullptr);

  // One node's breakers (replacing that node's rows).
  void setBreakers(const QString& node, const seckill::admin::v1::ListBreakersResponse& breakers);
  void setLevels(const QString& node, const std::vector<BreakerLevel>& levels);
  void removeNode(const QString& node);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  struct Row {
    QString node;
    seckill::admin::v1::Breaker breaker;
  };
  std::vector<Row> rows_;
};

class OverridesModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kPrefix, kMode, kColumnCount };
  explicit OverridesModel(QObject* parent = nullptr);

  void setOverrides(const seckill::admin::v1::RuleSet& set);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<seckill::admin::v1::Override> rows_;
};

class VersionsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kVersion, kWhen, kWho, kSource, kComment, kNode, kColumnCount };
  explicit VersionsModel(QObject* parent = nullptr);

  void setVersions(const seckill::admin::v1::ListVersionsResponse& versions);
  quint64 current() const { return current_; }
  quint64 versionAt(int row) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  quint64 current_ = 0;
  std::vector<seckill::admin::v1::Change> rows_;  // newest first
};

class AuditModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kWhen, kWho, kAction, kTarget, kDetail, kVersion, kNode, kPeer, kColumnCount };
  explicit AuditModel(QObject* parent = nullptr);

  // The newest entries first, as Audit.List answers.
  void setEntries(const seckill::admin::v1::ListAuditResponse& audit);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<seckill::admin::v1::AuditEntry> rows_;
};

// The audit rows that contain `text` in any column (case-insensitive) and whose action starts
// with `action` ("" for any; "breaker", "rules", "sale", "override").
class AuditFilterModel : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  explicit AuditFilterModel(QObject* parent = nullptr);
  void setText(const QString& text);
  void setAction(const QString& action);

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;

 private:
  QString text_;
  QString action_;
};

}  // namespace seckill::console
