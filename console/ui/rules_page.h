#pragma once

#include <QPointer>
#include <QString>
#include <QWidget>

#include "console/ui/confirm.h"
#include "seckill/admin/v1/admin.pb.h"

class QLabel;
class QListWidget;
class QPushButton;
class QTableView;
class QTreeView;

namespace seckill::console {

class ConflictDialog;
class DiffDialog;
class EngineSession;
class Fleet;
class RuleEditor;
class RuleForm;

// The rule trie as a tree with live counts; a form to add, edit and delete rules (checked as
// you type, then by the engine); the pending changes with Apply (whole set, expected version);
// the conflict dialog when another operator got there first; version history with a
// side-by-side diff and rollback.
class RulesPage : public QWidget {
  Q_OBJECT

 public:
  RulesPage(Fleet* fleet, RuleEditor* editor, Confirmer confirm, QWidget* parent = nullptr);

  // The engine requests go to (the fleet's primary).
  void setSession(EngineSession* session);
  // Empty: changes allowed; else why not (shown on the page and on the disabled controls).
  void setReadOnly(const QString& reason);

  void newRule();
  // Puts the form's rule into the pending changes.
  void stageRule();
  void deleteSelected();
  void applyChanges();
  // Opens the diff of two versions (to 0: the running one).
  void compareVersions(quint64 from, quint64 to);

  QTreeView* tree() const { return tree_; }
  RuleForm* form() const { return form_; }
  QPushButton* stageButton() const { return stage_; }
  QPushButton* applyButton() const { return apply_; }
  QPushButton* deleteButton() const { return delete_; }
  QTableView* versions() const { return versions_; }
  // The diff or conflict dialog open now, if any (screenshots, tests).
  QWidget* openDialog() const;

 signals:
  // A line for the status bar.
  void message(const QString& text, bool error);

 private:
  void updateButtons();
  void updatePending();
  void onSelection();
  void onConflict(const seckill::admin::v1::DiffRulesResponse& theirs);

  Fleet* fleet_;
  RuleEditor* editor_;
  Confirmer confirm_;
  QPointer<EngineSession> session_;
  QString read_only_;

  QTreeView* tree_;
  RuleForm* form_;
  QPushButton* new_;
  QPushButton* stage_;
  QPushButton* delete_;
  QListWidget* pending_;
  QLabel* pending_title_;
  QLabel* apply_result_;
  QPushButton* undo_;
  QPushButton* discard_;
  QPushButton* apply_;
  QTableView* versions_;
  QPushButton* compare_;
  QPushButton* rollback_;
  QLabel* read_only_label_;
  QString new_path_ = QStringLiteral("/api/v1/sales/*/orders");
  quint64 diff_request_ = 0;
  QPointer<DiffDialog> diff_dialog_;
  QPointer<ConflictDialog> conflict_dialog_;
};

}  // namespace seckill::console
