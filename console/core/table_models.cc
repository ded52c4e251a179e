#include "console/core/table_models.h"

#include <algorithm>

#include "console/core/labels.h"

namespace seckill::console {
namespace {

namespace v1 = ::seckill::admin::v1;

QVariant rightAligned() { return static_cast<int>(Qt::AlignRight | Qt::AlignVCenter); }

}  // namespace

// ---------------------------------------------------------------- SalesModel

SalesModel::SalesModel(QObject* parent) : QAbstractTableModel(parent) {}

void SalesModel::setSales(const v1::ListSalesResponse& sales) {
  std::vector<v1::Sale> next(sales.sales().begin(), sales.sales().end());
  const bool same_keys =
      rows_.size() == next.size() &&
      std::equal(rows_.begin(), rows_.end(), next.begin(),
                 [](const v1::Sale& a, const v1::Sale& b) { return a.id() == b.id(); });
  if (!same_keys) {
    beginResetModel();
    rows_ = std::move(next);
    endResetModel();
    return;
  }
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].SerializeAsString() == next[i].SerializeAsString()) continue;
    rows_[i] = std::move(next[i]);
    emit dataChanged(index(static_cast<int>(i), 0), index(static_cast<int>(i), kColumnCount - 1));
  }
}

void SalesModel::setLevels(const std::vector<SaleLevel>& levels) {
  for (const SaleLevel& level : levels) {
    const int row = rowOf(level.id);
    if (row < 0) continue;
    v1::Sale& s = rows_[static_cast<size_t>(row)];
    if (s.stock_left() == level.stock_left && s.stock_total() == level.stock_total &&
        s.state() == level.state) {
      continue;
    }
    s.set_stock_left(level.stock_left);
    s.set_stock_total(level.stock_total);
    if (level.stock_left >= 0) s.set_sold(level.stock_total - level.stock_left);
    s.set_state(level.state);
    emit dataChanged(index(row, kState), index(row, kTotal));
  }
}

const v1::Sale& SalesModel::sale(int row) const { return rows_.at(static_cast<size_t>(row)); }

int SalesModel::rowOf(const QString& id) const {
  const std::string key = id.toStdString();
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].id() == key) return static_cast<int>(i);
  }
  return -1;
}

int SalesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int SalesModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant SalesModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const v1::Sale& s = rows_[static_cast<size_t>(index.row())];
  switch (role) {
    case kKeyRole:
      return QString::fromStdString(s.id());
    case kStateRole:
      return static_cast<int>(s.state());
    case kFractionRole:
      return s.stock_total() > 0 && s.stock_left() >= 0
                 ? static_cast<double>(s.stock_left()) / static_cast<double>(s.stock_total())
                 : 0.0;
    case Qt::TextAlignmentRole:
      if (index.column() >= kLeft && index.column() <= kTotal) return rightAligned();
      return {};
    case Qt::DisplayRole:
      break;
    default:
      return {};
  }
  switch (index.column()) {
    case kId:
      return QString::fromStdString(s.id());
    case kName:
      return QString::fromStdString(s.name());
    case kState:
      return label(s.state());
    case kLeft:
      return s.stock_left() < 0 ? QStringLiteral("?") : QString::number(s.stock_left());
    case kSold:
      return QString::number(s.sold());
    case kTotal:
      return QString::number(s.stock_total());
    case kOpens:
      return s.has_opens_at() ? timeLabel(s.opens_at()) : tr("from start");
    case kCloses:
      return s.has_closes_at() ? timeLabel(s.closes_at()) : tr("never");
    case kStrategy:
      return label(s.strategy());
    case kToken:
      return s.require_token() ? tr("required") : tr("no");
    default:
      return {};
  }
}

QVariant SalesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kId:
      return tr("Sale");
    case kName:
      return tr("Name");
    case kState:
      return tr("State");
    case kLeft:
      return tr("Left");
    case kSold:
      return tr("Sold");
    case kTotal:
      return tr("Total");
    case kOpens:
      return tr("Opens");
    case kCloses:
      return tr("Closes");
    case kStrategy:
      return tr("Strategy");
    case kToken:
      return tr("Token");
    default:
      return {};
  }
}

// ---------------------------------------------------------------- BreakersModel

BreakersModel::BreakersModel(QObject* parent) : QAbstractTableModel(parent) {}

void BreakersModel::setBreakers(const QString& node, const v1::ListBreakersResponse& breakers) {
  std::vector<Row> mine;
  for (const v1::Breaker& b : breakers.breakers()) mine.push_back(Row{node, b});
  // Same node, same breakers in the same order: update in place.
  std::vector<size_t> at;
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].node == node) at.push_back(i);
  }
  bool same = at.size() == mine.size();
  for (size_t k = 0; same && k < at.size(); ++k) {
    same = rows_[at[k]].breaker.name() == mine[k].breaker.name();
  }
  if (same) {
    for (size_t k = 0; k < at.size(); ++k) {
      Row& row = rows_[at[k]];
      if (row.breaker.SerializeAsString() == mine[k].breaker.SerializeAsString()) continue;
      row.breaker = mine[k].breaker;
      const int r = static_cast<int>(at[k]);
      emit dataChanged(index(r, 0), index(r, kColumnCount - 1));
    }
    return;
  }
  beginResetModel();
  rows_.erase(
      std::remove_if(rows_.begin(), rows_.end(), [&](const Row& r) { return r.node == node; }),
      rows_.end());
  rows_.insert(rows_.end(), mine.begin(), mine.end());
  std::stable_sort(rows_.begin(), rows_.end(),
                   [](const Row& a, const Row& b) { return a.node < b.node; });
  endResetModel();
}

void BreakersModel::setLevels(const QString& node, const std::vector<BreakerLevel>& levels) {
  for (size_t i = 0; i < rows_.size(); ++i) {
    Row& row = rows_[i];
    if (row.node != node) continue;
    for (const BreakerLevel& level : levels) {
      if (level.name.toStdString() != row.breaker.name()) continue;
      if (row.breaker.state() == level.state && row.breaker.mode() == level.mode) break;
      row.breaker.set_state(level.state);
      row.breaker.set_mode(level.mode);
      const int r = static_cast<int>(i);
      emit dataChanged(index(r, kState), index(r, kMode));
      break;
    }
  }
}

void BreakersModel::removeNode(const QString& node) {
  beginResetModel();
  rows_.erase(
      std::remove_if(rows_.begin(), rows_.end(), [&](const Row& r) { return r.node == node; }),
      rows_.end());
  endResetModel();
}

int BreakersModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int BreakersModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant BreakersModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const Row& row = rows_[static_cast<size_t>(index.row())];
  const v1::Breaker& b = row.breaker;
  switch (role) {
    case kKeyRole:
      return QString::fromStdString(b.name());
    case kStateRole:
      return static_cast<int>(b.state());
    case kModeRole:
      return static_cast<int>(b.mode());
    case kNodeRole:
      return row.node;
    case Qt::TextAlignmentRole:
      if (index.column() >= kCalls) return rightAligned();
      return {};
    case Qt::DisplayRole:
      break;
    default:
      return {};
  }
  switch (index.column()) {
    case kNode:
      return row.node;
    case kName:
      return QString::fromStdString(b.name());
    case kState:
      return label(b.state());
    case kMachine:
      return label(b.machine_state());
    case kMode:
      return label(b.mode());
    case kCalls:
      return QString::number(b.window_calls());
    case kFailures:
      return QString::number(b.window_failures());
    case kSlow:
      return QString::number(b.window_slow());
    case kTransitions:
      return QString::number(b.transitions());
    default:
      return {};
  }
}

QVariant BreakersModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kNode:
      return tr("Node");
    case kName:
      return tr("Breaker");
    case kState:
      return tr("State");
    case kMachine:
      return tr("Machine");
    case kMode:
      return tr("Mode");
    case kCalls:
      return tr("Calls");
    case kFailures:
      return tr("Failures");
    case kSlow:
      return tr("Slow");
    case kTransitions:
      return tr("Transitions");
    default:
      return {};
  }
}

// ---------------------------------------------------------------- OverridesModel

OverridesModel::OverridesModel(QObject* parent) : QAbstractTableModel(parent) {}

void OverridesModel::setOverrides(const v1::RuleSet& set) {
  std::vector<v1::Override> next(set.overrides().begin(), set.overrides().end());
  bool same = next.size() == rows_.size();
  for (size_t i = 0; same && i < next.size(); ++i) {
    same = next[i].prefix() == rows_[i].prefix() && next[i].mode() == rows_[i].mode();
  }
  if (same) return;
  beginResetModel();
  rows_ = std::move(next);
  endResetModel();
}

int OverridesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int OverridesModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant OverridesModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const v1::Override& o = rows_[static_cast<size_t>(index.row())];
  if (role == kKeyRole) return QString::fromStdString(o.prefix());
  if (role == kStateRole) return static_cast<int>(o.mode());
  if (role != Qt::DisplayRole) return {};
  return index.column() == kPrefix ? QString::fromStdString(o.prefix()) : label(o.mode());
}

QVariant OverridesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  return section == kPrefix ? tr("Prefix") : tr("Mode");
}

// ---------------------------------------------------------------- VersionsModel

VersionsModel::VersionsModel(QObject* parent) : QAbstractTableModel(parent) {}

void VersionsModel::setVersions(const v1::ListVersionsResponse& versions) {
  std::vector<v1::Change> next(versions.versions().begin(), versions.versions().end());
  bool same = current_ == versions.current() && next.size() == rows_.size();
  for (size_t i = 0; same && i < next.size(); ++i) same = next[i].version() == rows_[i].version();
  if (same) return;
  beginResetModel();
  current_ = versions.current();
  rows_ = std::move(next);
  endResetModel();
}

quint64 VersionsModel::versionAt(int row) const {
  return row < 0 || row >= static_cast<int>(rows_.size())
             ? 0
             : rows_[static_cast<size_t>(row)].version();
}

int VersionsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int VersionsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant VersionsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const v1::Change& c = rows_[static_cast<size_t>(index.row())];
  if (role == kKeyRole) return QVariant::fromValue<quint64>(c.version());
  // The columns a table may cut short, in full on hover.
  if (role == Qt::ToolTipRole && (index.column() == kWho || index.column() == kComment)) {
    return data(index, Qt::DisplayRole);
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case kVersion:
      return c.version() == current_ ? tr("%1 (running)").arg(c.version())
                                     : QString::number(c.version());
    case kWhen:
      return timeLabel(c.at());
    case kWho:
      return QString::fromStdString(c.author());
    case kSource:
      return QString::fromStdString(c.source());
    case kComment:
      return QString::fromStdString(c.comment());
    case kNode:
      return QString::fromStdString(c.node());
    default:
      return {};
  }
}

QVariant VersionsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kVersion:
      return tr("Version");
    case kWhen:
      return tr("When");
    case kWho:
      return tr("Who");
    case kSource:
      return tr("Source");
    case kComment:
      return tr("What");
    case kNode:
      return tr("Node");
    default:
      return {};
  }
}

// ---------------------------------------------------------------- AuditModel

AuditModel::AuditModel(QObject* parent) : QAbstractTableModel(parent) {}

void AuditModel::setEntries(const v1::ListAuditResponse& audit) {
  const bool same = static_cast<int>(rows_.size()) == audit.entries_size() &&
                    (rows_.empty() || rows_.front().seq() == audit.entries(0).seq());
  if (same) return;
  beginResetModel();
  rows_.assign(audit.entries().begin(), audit.entries().end());
  endResetModel();
}

int AuditModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int AuditModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant AuditModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const v1::AuditEntry& e = rows_[static_cast<size_t>(index.row())];
  if (role == kKeyRole) return QVariant::fromValue<quint64>(e.seq());
  if (role == Qt::ToolTipRole && index.column() == kDetail) {
    return QString::fromStdString(e.detail());
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case kWhen:
      return timeLabel(e.at());
    case kWho:
      return QString::fromStdString(e.author());
    case kAction:
      return QString::fromStdString(e.action());
    case kTarget:
      return QString::fromStdString(e.target());
    case kDetail:
      return QString::fromStdString(e.detail()).replace(QLatin1Char('\n'), QStringLiteral(" · "));
    case kVersion:
      return e.version() == 0 ? QString() : QString::number(e.version());
    case kNode:
      return QString::fromStdString(e.node());
    case kPeer:
      return QString::fromStdString(e.peer());
    default:
      return {};
  }
}

QVariant AuditModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kWhen:
      return tr("When");
    case kWho:
      return tr("Who");
    case kAction:
      return tr("Action");
    case kTarget:
      return tr("Target");
    case kDetail:
      return tr("Change");
    case kVersion:
      return tr("Version");
    case kNode:
      return tr("Node");
    case kPeer:
      return tr("Peer");
    default:
      return {};
  }
}

// ---------------------------------------------------------------- AuditFilterModel

AuditFilterModel::AuditFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {}

void AuditFilterModel::setText(const QString& text) {
  if (text == text_) return;
  text_ = text;
  invalidateFilter();
}

void AuditFilterModel::setAction(const QString& action) {
  if (action == action_) return;
  action_ = action;
  invalidateFilter();
}

bool AuditFilterModel::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
  const QAbstractItemModel* m = sourceModel();
  if (m == nullptr) return true;
  if (!action_.isEmpty()) {
    const QString action =
        m->index(source_row, AuditModel::kAction, source_parent).data().toString();
    if (!action.startsWith(action_, Qt::CaseInsensitive)) return false;
  }
  if (text_.isEmpty()) return true;
  for (int c = 0; c < m->columnCount(source_parent); ++c) {
    if (m->index(source_row, c, source_parent)
            .data()
            .toString()
            .contains(text_, Qt::CaseInsensitive)) {
      return true;
    }
  }
  return false;
}

}  // namespace seckill::console
