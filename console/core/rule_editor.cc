#include "console/core/rule_editor.h"

#include "absl/status/status.h"

namespace seckill::console {

namespace v1 = ::seckill::admin::v1;

RuleEditor::RuleEditor(QObject* parent) : QObject(parent) {}

void RuleEditor::setSession(EngineSession* session) {
  for (QMetaObject::Connection& c : connections_) disconnect(c);
  session_ = session;
  setStep(Step::kIdle);
  if (session == nullptr) return;
  connections_[0] = connect(session, &EngineSession::rulesReceived, this, &RuleEditor::onRules);
  connections_[1] = connect(session, &EngineSession::validated, this, &RuleEditor::onValidated);
  connections_[2] = connect(session, &EngineSession::callFinished, this, &RuleEditor::onFinished);
  connections_[3] = connect(session, &EngineSession::diffReceived, this, &RuleEditor::onDiff);
}

void RuleEditor::setStep(Step step) {
  const bool was = busy();
  step_ = step;
  if (step == Step::kIdle) pending_id_ = 0;
  if (was != busy()) emit busyChanged(busy());
}

void RuleEditor::onRules(const v1::ListRulesResponse& rules) {
  if (!draft_.empty() && base_version_ != 0) return;  // edits keep the base they were made on
  if (base_version_ == rules.version() &&
      base_.SerializeAsString() == rules.set().SerializeAsString()) {
    return;
  }
  base_version_ = rules.version();
  base_ = rules.set();
  emit draftChanged();
}

void RuleEditor::put(const std::string& target, const v1::Rule& rule) {
  draft_.put(target, rule);
  emit draftChanged();
}

void RuleEditor::remove(const std::string& id) {
  draft_.remove(id);
  emit draftChanged();
}

void RuleEditor::undo() {
  draft_.undo();
  emit draftChanged();
}

void RuleEditor::discard() {
  draft_.clear();
  emit draftChanged();
  if (session_ != nullptr) session_->refresh();  // the base follows the engine again
}

void RuleEditor::apply(const QString& comment) {
  if (busy() || draft_.empty()) return;
  if (session_ == nullptr) {
    emit failed(tr("Not connected to an engine."));
    return;
  }
  comment_ = comment;
  setStep(Step::kValidating);
  pending_id_ = session_->validateSet(draftSet());
}

void RuleEditor::reloadAndReapply() {
  if (busy() || session_ == nullptr) return;
  if (last_conflict_.to_version() == 0) return;
  // The diff carries the running set: it is the new base.
  base_version_ = last_conflict_.to_version();
  base_ = last_conflict_.to_set();
  last_conflict_.Clear();
  emit draftChanged();
  apply(comment_);
}

void RuleEditor::onValidated(quint64 id, const v1::ValidateRulesResponse& result) {
  if (step_ != Step::kValidating || id != pending_id_) return;
  if (!result.valid()) {
    setStep(Step::kIdle);
    emit invalid(result);
    return;
  }
  setStep(Step::kApplying);
  pending_id_ = session_->applyRules(draftSet(), base_version_, comment_);
}

void RuleEditor::onFinished(const CallResult& result) {
  if (step_ == Step::kIdle || result.id != pending_id_) return;
  if (result.ok) {
    draft_.clear();
    setStep(Step::kIdle);
    base_version_ = result.version;  // the listing that follows brings the set
    emit draftChanged();
    emit applied(result.version);
    return;
  }
  if (step_ == Step::kApplying && result.code == static_cast<int>(absl::StatusCode::kAborted)) {
    setStep(Step::kDiffing);
    pending_id_ = session_->diff(base_version_, result.current_version);
    return;
  }
  setStep(Step::kIdle);
  emit failed(result.text());
}

void RuleEditor::onDiff(quint64 id, const v1::DiffRulesResponse& diff) {
  if (step_ != Step::kDiffing || id != pending_id_) return;
  setStep(Step::kIdle);
  last_conflict_ = diff;
  emit conflict(diff);
}

}  // namespace seckill::console
