#pragma once

#include <QPointer>
#include <QString>
#include <QWidget>

#include "console/ui/confirm.h"

class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableView;

namespace seckill::console {

class EngineSession;
class Fleet;

// The sales: stock left, sold, state and window; create one, adjust the stock of the selected
// one (set the total or move it), open or close it now (both confirmed).
class SalesPage : public QWidget {
  Q_OBJECT

 public:
  SalesPage(Fleet* fleet, Confirmer confirm, QWidget* parent = nullptr);

  void setSession(EngineSession* session);
  void setReadOnly(const QString& reason);

  void createSale();
  void setTotal();
  void moveStock();
  void openSelected();
  void closeSelected();
  bool selectSale(const QString& id);

  QTableView* table() const { return table_; }
  QLineEdit* newId() const { return id_; }
  QPushButton* createButton() const { return create_; }
  QLabel* createProblem() const { return create_problem_; }

 signals:
  void message(const QString& text, bool error);

 private:
  QString selected() const;
  void updateButtons();

  Fleet* fleet_;
  Confirmer confirm_;
  QPointer<EngineSession> session_;
  QString read_only_;

  QLabel* read_only_label_;
  QTableView* table_;
  QLineEdit* id_;
  QLineEdit* name_;
  QSpinBox* stock_;
  QComboBox* strategy_;
  QCheckBox* opens_later_;
  QDateTimeEdit* opens_at_;
  QCheckBox* closes_;
  QDateTimeEdit* closes_at_;
  QCheckBox* token_;
  QSpinBox* pay_timeout_;
  QLabel* create_problem_;
  QPushButton* create_;
  QLabel* selected_label_;
  QSpinBox* total_;
  QPushButton* set_total_;
  QSpinBox* delta_;
  QPushButton* move_;
  QPushButton* open_;
  QPushButton* close_;
};

}  // namespace seckill::console
