#pragma once

#include <QAbstractItemModel>
#include <QHash>
#include <QString>
#include <memory>
#include <string>
#include <vector>

#include "console/core/stats_point.h"
#include "seckill/admin/v1/admin.pb.h"

namespace seckill::console {

// The engine's URL trie (Rules.List) as a tree: one item per path segment, and each rule as a
// child of its segment, before the deeper segments. Columns: the segment or rule, method, scope,
// algorithm, rate, burst, on-limit, passed and limited since the engine started, and limited/s
// in the last second.
//
// A new listing of the same version with the same rules only updates the counters (dataChanged,
// so expansion and selection stay); another version resets the model.
//
// Thread: the UI thread (Qt item models are not thread-safe).
class RuleTrieModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column {
    kName,
    kMethod,
    kScope,
    kAlgorithm,
    kRate,
    kBurst,
    kOnLimit,
    kPassed,
    kLimited,
    kLimitedPerSecond,
    kColumnCount
  };
  enum Role {
    kRuleIdRole = Qt::UserRole + 1,  // a rule's id; empty for a segment
    kPathRole,                       // the pattern up to the item: "/api/v1/sales/*"
    kIsRuleRole,                     // bool
    kOnLimitRole,                    // a rule's v1::OnLimit as int
  };

  explicit RuleTrieModel(QObject* parent = nullptr);
  ~RuleTrieModel() override;

  // Takes a listing (see the class comment for reset vs. update).
  void setRules(const seckill::admin::v1::ListRulesResponse& rules);
  // The last second's per-rule counts (the busiest rules only; the rest show 0).
  void setLiveCounts(const std::vector<RuleLevel>& rules);

  quint64 version() const { return listing_.version(); }
  const seckill::admin::v1::ListRulesResponse& listing() const { return listing_; }
  // The rule with this id in the listing; nullptr if none.
  const seckill::admin::v1::Rule* rule(const QString& id) const;
  // The index of the rule with this id (column 0); invalid if none.
  QModelIndex indexOfRule(const QString& id) const;
  int ruleCount() const { return listing_.set().rules_size(); }

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  struct Item;
  void build(const seckill::admin::v1::TrieNode& node, Item* parent);
  static std::string shape(const seckill::admin::v1::TrieNode& node);

  seckill::admin::v1::ListRulesResponse listing_;
  std::string shape_;  // the tree's structure and rules, to tell an update from a reset
  std::unique_ptr<Item> root_;
  QHash<QString, Item*> rules_by_id_;
  QHash<QString, quint64> live_limited_;
};

}  // namespace seckill::console
