#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include "console/core/engine_session.h"
#include "console/core/rule_draft.h"
#include "seckill/admin/v1/admin.pb.h"

namespace seckill::console {

// The operator's side of a rule change: pending edits on a base version, and the protocol that
// sends them. apply() asks the engine to validate the whole resulting set, then applies it with
// expected_version = the base; when another operator changed the rules meanwhile (ABORTED), it
// fetches the diff from the base to the running version and reports a conflict. After that,
// reloadAndReapply() takes the running set as the new base, replays the edits on it and applies
// again; discard() drops them.
//
// While nothing is pending the base follows the engine's listings; while edits are pending it
// stays the version they were made on.
//
// Thread: the UI thread; talks to the session by its request methods and signals.
class RuleEditor : public QObject {
  Q_OBJECT

 public:
  explicit RuleEditor(QObject* parent = nullptr);

  // The engine changes go to (the fleet's primary); nullptr: none.
  void setSession(EngineSession* session);

  quint64 baseVersion() const { return base_version_; }
  const seckill::admin::v1::RuleSet& baseSet() const { return base_; }
  // The base with the pending edits applied: what apply() sends.
  seckill::admin::v1::RuleSet draftSet() const { return draft_.applyTo(base_); }
  const RuleDraft& draft() const { return draft_; }
  bool busy() const { return step_ != Step::kIdle; }

  void put(const std::string& target, const seckill::admin::v1::Rule& rule);
  void remove(const std::string& id);
  void undo();
  void discard();

  void apply(const QString& comment);
  void reloadAndReapply();

 signals:
  void draftChanged();
  void busyChanged(bool busy);
  void applied(quint64 version);
  // The engine refused the set; its problems, each naming the rule and field.
  void invalid(const seckill::admin::v1::ValidateRulesResponse& result);
  // A call failed for another reason (the message names the gRPC code).
  void failed(const QString& message);
  // Another operator made version `theirs.to_version()` since our base `theirs.from_version()`.
  void conflict(const seckill::admin::v1::DiffRulesResponse& theirs);

 private:
  enum class Step { kIdle, kValidating, kApplying, kDiffing };
  void setStep(Step step);
  void onRules(const seckill::admin::v1::ListRulesResponse& rules);
  void onValidated(quint64 id, const seckill::admin::v1::ValidateRulesResponse& result);
  void onFinished(const CallResult& result);
  void onDiff(quint64 id, const seckill::admin::v1::DiffRulesResponse& diff);

  QPointer<EngineSession> session_;
  QMetaObject::Connection connections_[4];
  quint64 base_version_ = 0;
  seckill::admin::v1::RuleSet base_;
  RuleDraft draft_;
  Step step_ = Step::kIdle;
  quint64 pending_id_ = 0;  // the request of the current step
  QString comment_;
  seckill::admin::v1::DiffRulesResponse last_conflict_;
};

}  // namespace seckill::console
