#pragma once

#include <QDialog>
#include <QString>
#include <QStringList>

#include "seckill/admin/v1/admin.pb.h"

class QTextBrowser;

namespace seckill::console {

// Two versions of the rule set side by side: one row per rule (by id), removed rules marked on
// the left, added ones on the right, changed ones on both with the fields that differ named;
// then the overrides. Built from Rules.Diff (which carries both sets).
class DiffView : public QWidget {
  Q_OBJECT

 public:
  explicit DiffView(QWidget* parent = nullptr);
  void setDiff(const seckill::admin::v1::DiffRulesResponse& diff, const QString& left_title,
               const QString& right_title);
  // Rows that differ (tests).
  int changedRows() const { return changed_rows_; }
  QString html() const;

 protected:
  // Re-tints the rows when the palette switches between light and dark.
  void changeEvent(QEvent* event) override;

 private:
  void render();

  QTextBrowser* view_;
  seckill::admin::v1::DiffRulesResponse diff_;
  QString left_title_;
  QString right_title_;
  int changed_rows_ = 0;
};

// Compares two versions; optionally offers a rollback to the older one (the caller confirms and
// sends it on rollbackRequested()).
class DiffDialog : public QDialog {
  Q_OBJECT

 public:
  DiffDialog(const seckill::admin::v1::DiffRulesResponse& diff, bool offer_rollback,
             const QString& rollback_blocked_reason, QWidget* parent = nullptr);
  DiffView* view() const { return view_; }

 signals:
  void rollbackRequested(quint64 to_version);

 private:
  DiffView* view_;
};

// What another operator changed since the version our edits were made on, and what to do:
// reload their version and reapply ours on it, or drop ours.
class ConflictDialog : public QDialog {
  Q_OBJECT

 public:
  enum class Choice { kCancel, kReapply, kDiscard };
  ConflictDialog(const seckill::admin::v1::DiffRulesResponse& theirs, const QString& who,
                 const QStringList& mine, QWidget* parent = nullptr);
  Choice choice() const { return choice_; }
  DiffView* view() const { return view_; }

 private:
  DiffView* view_;
  Choice choice_ = Choice::kCancel;
};

}  // namespace seckill::console
