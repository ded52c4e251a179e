#pragma once

#include <QString>
#include <QWidget>
#include <map>
#include <vector>

#include "console/core/rule_draft.h"
#include "seckill/admin/v1/admin.pb.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTimer;

namespace seckill::console {

// One rule's fields, checked as the operator types: the console's own checks at once, beside
// the field they concern, and the engine's Validate 300 ms after the last keystroke (the page
// sends the request and hands the answer back). acceptable() is what the Add/Update button
// follows.
class RuleForm : public QWidget {
  Q_OBJECT

 public:
  explicit RuleForm(QWidget* parent = nullptr);

  // Loads an existing rule (`target` = its id) or, with an empty target, a new one.
  void edit(const seckill::admin::v1::Rule& rule, const QString& target);
  // A new rule at `path` with the defaults (token_bucket, 10/s, burst 20, reject).
  void newRule(const QString& path);

  // The rule as the form holds it (id: the target's, when the form was loaded from one).
  seckill::admin::v1::Rule rule() const;
  QString target() const { return target_; }
  // The problems shown: the console's and the engine's.
  std::vector<RuleProblem> problems() const;
  // No problem found by the console, and the engine has not refused this rule.
  bool acceptable() const;

  // The engine's verdict on the request `id` (ignored unless it is the latest one).
  void setEngineResult(quint64 id, const seckill::admin::v1::ValidateRulesResponse& result);
  // The request the page sent for the latest validateRequested().
  void setPendingRequest(quint64 id) { pending_ = id; }
  // The engine could not be asked (e.g. not connected): the console's checks stand alone.
  void setEngineUnavailable(quint64 id, const QString& why);
  void setReadOnly(bool read_only);
  // Whether the engine is to be asked when the typing pauses (300 ms after the last change).
  bool validationPending() const;
  // Asks at once instead of at the end of the pause (nothing when none is pending).
  void validateNow();

  // For tests: the widgets by TOML key ("path", "rate", ...), and the line that sums up.
  QWidget* field(const QString& key) const;
  QLabel* errorLabel(const QString& key) const;
  QLabel* summary() const { return summary_; }

 signals:
  void changed();
  // The rule as typed, free of the console's problems: the page asks the engine.
  void validateRequested(const seckill::admin::v1::Rule& rule);

 private:
  void onEdited();
  void showProblems();
  void updateEnabled();

  QLineEdit* path_;
  QComboBox* method_;
  QComboBox* scope_;
  QLineEdit* header_;
  QComboBox* algorithm_;
  QSpinBox* rate_;
  QComboBox* per_;
  QSpinBox* burst_;
  QSpinBox* queue_;
  QDoubleSpinBox* warmup_;
  QComboBox* on_limit_;
  QSpinBox* max_wait_;
  QCheckBox* distributed_;
  QLabel* id_;
  QLabel* summary_;
  std::map<QString, QWidget*> fields_;
  std::map<QString, QLabel*> errors_;
  QTimer* debounce_;

  QString target_;
  seckill::admin::v1::Rule original_;
  std::vector<RuleProblem> local_;
  std::vector<RuleProblem> engine_;
  bool engine_checked_ = false;
  QString engine_note_;
  quint64 pending_ = 0;
  bool loading_ = false;
  bool read_only_ = false;
};

}  // namespace seckill::console
