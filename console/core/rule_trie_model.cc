#include "console/core/rule_trie_model.h"

#include "console/core/labels.h"

namespace seckill::console {

namespace v1 = ::seckill::admin::v1;

struct RuleTrieModel::Item {
  Item* parent = nullptr;
  int row = 0;
  bool is_rule = false;
  QString segment;  // "" for the root
  QString path;
  v1::RuleView view;  // a rule
  std::vector<std::unique_ptr<Item>> children;

  Item* add(std::unique_ptr<Item> child) {
    child->parent = this;
    child->row = static_cast<int>(children.size());
    children.push_back(std::move(child));
    return children.back().get();
  }
};

RuleTrieModel::RuleTrieModel(QObject* parent)
    : QAbstractItemModel(parent), root_(std::make_unique<Item>()) {}

RuleTrieModel::~RuleTrieModel() = default;

std::string RuleTrieModel::shape(const v1::TrieNode& node) {
  std::string out = node.segment() + '{';
  for (const v1::RuleView& r : node.rules()) {
    const std::string bytes = r.rule().SerializeAsString();
    out += std::to_string(bytes.size()) + ':' + bytes;
  }
  for (const v1::TrieNode& child : node.children()) out += shape(child);
  return out + '}';
}

void RuleTrieModel::build(const v1::TrieNode& node, Item* parent) {
  for (const v1::RuleView& r : node.rules()) {
    auto item = std::make_unique<Item>();
    item->is_rule = true;
    item->path = QString::fromStdString(node.path());
    item->view = r;
    Item* added = parent->add(std::move(item));
    rules_by_id_.insert(QString::fromStdString(r.rule().id()), added);
  }
  for (const v1::TrieNode& child : node.children()) {
    auto item = std::make_unique<Item>();
    item->segment = QString::fromStdString(child.segment());
    item->path = QString::fromStdString(child.path());
    build(child, parent->add(std::move(item)));
  }
}

void RuleTrieModel::setRules(const v1::ListRulesResponse& rules) {
  const std::string shape = std::to_string(rules.version()) + '|' + this->shape(rules.root());
  if (shape == shape_) {
    // Same rules: only the counters moved.
    listing_ = rules;
    for (const v1::RuleView& view : rules.rules()) {
      Item* item = rules_by_id_.value(QString::fromStdString(view.rule().id()));
      if (item == nullptr) continue;
      item->view.mutable_counters()->CopyFrom(view.counters());
      emit dataChanged(createIndex(item->row, kPassed, item),
                       createIndex(item->row, kLimited, item));
    }
    return;
  }
  beginResetModel();
  listing_ = rules;
  shape_ = shape;
  rules_by_id_.clear();
  root_ = std::make_unique<Item>();
  // The root node is shown as "/" so that rules on "/" and the first segments hang under it.
  auto top = std::make_unique<Item>();
  top->segment = QStringLiteral("/");
  top->path = QStringLiteral("/");
  build(rules.root(), root_->add(std::move(top)));
  endResetModel();
}

void RuleTrieModel::setLiveCounts(const std::vector<RuleLevel>& rules) {
  QHash<QString, quint64> next;
  for (const RuleLevel& r : rules) next.insert(r.id, r.limited + r.queued + r.shadow_limited);
  if (next == live_limited_) return;
  QList<QString> touched = next.keys();
  for (auto it = live_limited_.cbegin(); it != live_limited_.cend(); ++it) {
    if (!next.contains(it.key())) touched.append(it.key());
  }
  live_limited_ = std::move(next);
  for (const QString& id : touched) {
    Item* item = rules_by_id_.value(id);
    if (item == nullptr) continue;
    const QModelIndex cell = createIndex(item->row, kLimitedPerSecond, item);
    emit dataChanged(cell, cell);
  }
}

const v1::Rule* RuleTrieModel::rule(const QString& id) const {
  const Item* item = rules_by_id_.value(id);
  return item == nullptr ? nullptr : &item->view.rule();
}

QModelIndex RuleTrieModel::indexOfRule(const QString& id) const {
  Item* item = rules_by_id_.value(id);
  return item == nullptr ? QModelIndex() : createIndex(item->row, 0, item);
}

QModelIndex RuleTrieModel::index(int row, int column, const QModelIndex& parent) const {
  const Item* p = parent.isValid() ? static_cast<Item*>(parent.internalPointer()) : root_.get();
  if (row < 0 || column < 0 || column >= kColumnCount ||
      row >= static_cast<int>(p->children.size())) {
    return {};
  }
  return createIndex(row, column, p->children[static_cast<size_t>(row)].get());
}

QModelIndex RuleTrieModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) return {};
  const Item* item = static_cast<Item*>(child.internalPointer());
  Item* p = item->parent;
  if (p == nullptr || p == root_.get()) return {};
  return createIndex(p->row, 0, p);
}

int RuleTrieModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return 0;
  const Item* p = parent.isValid() ? static_cast<Item*>(parent.internalPointer()) : root_.get();
  return static_cast<int>(p->children.size());
}

int RuleTrieModel::columnCount(const QModelIndex&) const { return kColumnCount; }

QVariant RuleTrieModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const Item* item = static_cast<Item*>(index.internalPointer());
  const v1::Rule& r = item->view.rule();
  switch (role) {
    case kRuleIdRole:
      return item->is_rule ? QString::fromStdString(r.id()) : QString();
    case kPathRole:
      return item->path;
    case kIsRuleRole:
      return item->is_rule;
    case kOnLimitRole:
      return item->is_rule ? static_cast<int>(r.on_limit()) : 0;
    case Qt::ToolTipRole:
      if (item->is_rule) {
        return QStringLiteral("%1\nid: %2\n%3")
            .arg(QString::fromStdString(item->view.name()), QString::fromStdString(r.id()),
                 describeRule(r));
      }
      return item->path;
    case Qt::TextAlignmentRole:
      if (index.column() >= kRate && index.column() != kOnLimit) {
        return static_cast<int>(Qt::AlignRight | Qt::AlignVCenter);
      }
      return {};
    case Qt::DisplayRole:
      break;
    default:
      return {};
  }
  if (!item->is_rule) return index.column() == kName ? item->segment : QVariant();
  const v1::RuleCounters& c = item->view.counters();
  switch (index.column()) {
    case kName: {
      // The id without the path its parent items already show: "POST user /min".
      QString id = QString::fromStdString(r.id());
      const QString shorter = QString(id).replace(item->path, QString()).simplified();
      return QStringLiteral("rule · %1").arg(shorter.isEmpty() ? id : shorter);
    }
    case kMethod:
      return methodLabel(r.method());
    case kScope:
      return label(r.scope());
    case kAlgorithm:
      return label(r.algorithm());
    case kRate:
      return rateLabel(r);
    case kBurst:
      return QString::number(r.burst());
    case kOnLimit:
      return label(r.on_limit());
    case kPassed:
      return QString::number(c.passed());
    case kLimited:
      return QString::number(c.limited() + c.queued() + c.shadow_limited());
    case kLimitedPerSecond:
      return QString::number(live_limited_.value(QString::fromStdString(r.id())));
    default:
      return {};
  }
}

QVariant RuleTrieModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kName:
      return tr("Path / rule");
    case kMethod:
      return tr("Method");
    case kScope:
      return tr("Scope");
    case kAlgorithm:
      return tr("Algorithm");
    case kRate:
      return tr("Rate");
    case kBurst:
      return tr("Burst");
    case kOnLimit:
      return tr("On limit");
    case kPassed:
      return tr("Passed");
    case kLimited:
      return tr("Limited");
    case kLimitedPerSecond:
      return tr("Limited/s");
    default:
      return {};
  }
}

}  // namespace seckill::console
