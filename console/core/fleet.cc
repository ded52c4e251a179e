#include "console/core/fleet.h"

#include <map>

#include "console/core/rule_trie_model.h"
#include "console/core/table_models.h"

namespace seckill::console {

namespace v1 = ::seckill::admin::v1;

Fleet::Fleet(int history_seconds, EngineSession::Options options, QObject* parent)
    : QObject(parent),
      options_(options),
      series_(history_seconds),
      rules_(new RuleTrieModel(this)),
      sales_(new SalesModel(this)),
      breakers_(new BreakersModel(this)),
      overrides_(new OverridesModel(this)),
      versions_(new VersionsModel(this)),
      audit_(new AuditModel(this)) {}

Fleet::~Fleet() {
  blockSignals(true);  // its owner may be half destroyed already (a parent's ~QObject)
  clear();
  // At exit the sessions' threads are waited for (a call in flight ends by its deadline).
  for (const QPointer<QThread>& thread : retired_) {
    if (thread != nullptr && thread->wait(10000)) delete thread;
  }
}

EngineSession* Fleet::session(int index) const {
  if (index < 0 || index >= size()) return nullptr;
  return engines_[static_cast<size_t>(index)].session.get();
}

LinkStatus Fleet::link(int index) const {
  if (index < 0 || index >= size()) return {};
  return engines_[static_cast<size_t>(index)].link;
}

int Fleet::addEngine(const EngineAddress& address) {
  const int index = size();
  const int gen = generation_;
  Engine engine;
  engine.session = std::make_unique<EngineSession>(address, options_);
  engine.link.target = address.target;
  EngineSession* s = engine.session.get();
  engines_.push_back(std::move(engine));

  connect(s, &EngineSession::linkChanged, this, [this, index, gen](const LinkStatus& link) {
    if (gen != generation_ || index >= size()) return;
    Engine& e = engines_[static_cast<size_t>(index)];
    e.link = link;
    if (!link.node.isEmpty()) e.node = link.node;
    emit linkChanged(index, link);
  });
  connect(s, &EngineSession::statsReceived, this,
          [this, index, gen](const QList<StatsPoint>& points) {
            if (gen == generation_) onStats(index, points);
          });
  connect(s, &EngineSession::breakersReceived, this,
          [this, index, gen, target = address.target](const v1::ListBreakersResponse& b) {
            if (gen != generation_ || index >= size()) return;
            const QString& node = engines_[static_cast<size_t>(index)].node;
            breakers_->setBreakers(node.isEmpty() ? target : node, b);
          });
  connect(s, &EngineSession::statusReceived, this,
          [this, index, gen](const v1::NodeStatus& status) {
            if (gen != generation_ || index >= size()) return;
            Engine& e = engines_[static_cast<size_t>(index)];
            const QString node = QString::fromStdString(status.node_id());
            if (e.node != node && !node.isEmpty()) {
              if (!e.node.isEmpty()) breakers_->removeNode(e.node);
              e.node = node;
            }
            if (index == 0) {
              status_ = status;
              emit statusChanged();
            }
          });
  if (index == 0) {
    connect(s, &EngineSession::rulesReceived, this,
            [this, gen](const v1::ListRulesResponse& rules) {
              if (gen != generation_) return;
              rules_->setRules(rules);
              overrides_->setOverrides(rules.set());
            });
    connect(s, &EngineSession::salesReceived, this, [this, gen](const v1::ListSalesResponse& r) {
      if (gen == generation_) sales_->setSales(r);
    });
    connect(s, &EngineSession::versionsReceived, this,
            [this, gen](const v1::ListVersionsResponse& r) {
              if (gen == generation_) versions_->setVersions(r);
            });
    connect(s, &EngineSession::auditReceived, this, [this, gen](const v1::ListAuditResponse& r) {
      if (gen == generation_) audit_->setEntries(r);
    });
    connect(s, &EngineSession::callStarted, this, &Fleet::callStarted);
    connect(s, &EngineSession::callFinished, this, &Fleet::callFinished);
  }
  return index;
}

void Fleet::clear() {
  // Signals a session queued before it went are still delivered: generation_ drops them.
  for (Engine& e : engines_) {
    QThread* thread = e.session.release()->dispose();
    retired_.append(thread);
  }
  retired_.removeAll(nullptr);
  engines_.clear();
  ++generation_;  // what the old sessions queued before they went is dropped
  status_.Clear();
  emit statusChanged();
}

bool Fleet::canChange() const { return status_.caller_role() == "operator"; }

QString Fleet::readOnlyReason() const {
  if (canChange()) return {};
  if (engines_.empty()) return tr("Not connected to an engine.");
  if (status_.caller_role().empty()) {
    return tr("Waiting for the engine to say what this token may do.");
  }
  return tr("Read-only: this token (%1) has the role \"%2\"; changes need an operator token.")
      .arg(QString::fromStdString(status_.caller_name()),
           QString::fromStdString(status_.caller_role()));
}

void Fleet::onStats(int index, const QList<StatsPoint>& points) {
  if (index >= size() || points.isEmpty()) return;
  Engine& engine = engines_[static_cast<size_t>(index)];
  bool added = false;
  if (synthetic_seconds_ > 0 && series_.size(points.front().node) == 0) {
    for (const StatsPoint& p : syntheticHistory(points.front(), synthetic_seconds_)) series_.add(p);
  }
  for (const StatsPoint& p : points) {
    if (!series_.add(p)) continue;
    added = true;
    for (const Alert& a : alerts_.observe(p)) emit alertRaised(a);
  }
  if (!added) return;
  const StatsPoint& last = points.back();
  if (engine.node.isEmpty()) engine.node = last.node;
  breakers_->setLevels(last.node, last.breakers);
  if (index == 0) sales_->setLevels(last.sales);
  // Live per-rule counts: the fleet's sum of each node's latest second.
  std::map<QString, RuleLevel> sum;
  for (const QString& node : series_.nodes()) {
    const StatsPoint* latest = series_.latest(node);
    if (latest == nullptr || latest->second < series_.newest() - 2) continue;
    for (const RuleLevel& r : latest->rules) {
      RuleLevel& s = sum[r.id];
      s.id = r.id;
      s.passed += r.passed;
      s.limited += r.limited;
      s.queued += r.queued;
      s.shadow_limited += r.shadow_limited;
    }
  }
  std::vector<RuleLevel> levels;
  for (auto& [id, level] : sum) levels.push_back(level);
  rules_->setLiveCounts(levels);
  emit seriesChanged();
}

}  // namespace seckill::console
