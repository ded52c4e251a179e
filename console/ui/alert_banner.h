#pragma once

#include <QFrame>

#include "console/core/alerts.h"

class QLabel;
class QToolButton;

namespace seckill::console {

// A strip across the top of the window with the newest alert (breaker opened, sale sold out,
// limited share jumped) and how many came before it unread; stays until dismissed (Esc).
class AlertBanner : public QFrame {
  Q_OBJECT

 public:
  explicit AlertBanner(QWidget* parent = nullptr);

  void raiseAlert(const Alert& alert);
  void dismiss();
  int unread() const { return unread_; }
  QString text() const;

 private:
  QLabel* label_;
  QToolButton* close_;
  int unread_ = 0;
};

}  // namespace seckill::console
