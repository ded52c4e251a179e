#pragma once

#include <QPointer>
#include <QString>
#include <QWidget>

#include "console/ui/confirm.h"
#include "seckill/admin/v1/types.pb.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableView;
class QTableWidget;

namespace seckill::console {

class AuditFilterModel;
class EngineSession;
class Fleet;

// Steering during a sale: overrides per path prefix (none / dry_run / shed), each rule's
// on-limit mode (reject / queue / log), each breaker's mode (forced_open / disabled /
// metrics_only / automatic), and the audit log (who, when, what), filterable. Every change is
// confirmed first by a question that names what shoppers will get.
class ControlPage : public QWidget {
  Q_OBJECT

 public:
  ControlPage(Fleet* fleet, Confirmer confirm, QWidget* parent = nullptr);

  void setSession(EngineSession* session);
  // Empty: changes allowed; else why not.
  void setReadOnly(const QString& reason);

  // The actions, on the selection (or the typed prefix); each asks first.
  void setOverride();
  void clearOverride();
  void setRuleMode();
  void setBreakerMode(seckill::admin::v1::BreakerMode mode);
  // Selects a breaker row by name (first node's); false if absent.
  bool selectBreaker(const QString& name);
  void focusAuditFilter();

  QPushButton* breakerButton(seckill::admin::v1::BreakerMode mode) const;
  QLineEdit* prefixEdit() const { return prefix_; }
  QComboBox* overrideMode() const { return override_mode_; }
  QPushButton* setOverrideButton() const { return set_override_; }
  QLineEdit* auditFilter() const { return audit_filter_; }
  QTableView* auditView() const { return audit_view_; }
  AuditFilterModel* auditModel() const { return audit_model_; }

 signals:
  void message(const QString& text, bool error);

 private:
  void rebuildRules();
  void updateButtons();
  QString selectedBreaker() const;
  QString selectedRule() const;

  Fleet* fleet_;
  Confirmer confirm_;
  QPointer<EngineSession> session_;
  QString read_only_;

  QLabel* read_only_label_;
  QTableView* overrides_;
  QLineEdit* prefix_;
  QComboBox* override_mode_;
  QPushButton* set_override_;
  QPushButton* clear_override_;
  QTableWidget* rules_;
  QComboBox* rule_mode_;
  QSpinBox* max_wait_;
  QPushButton* set_rule_mode_;
  QTableView* breakers_;
  QPushButton* forced_open_;
  QPushButton* disabled_;
  QPushButton* metrics_only_;
  QPushButton* automatic_;
  QLineEdit* audit_filter_;
  QComboBox* audit_action_;
  QTableView* audit_view_;
  AuditFilterModel* audit_model_;
};

}  // namespace seckill::console
