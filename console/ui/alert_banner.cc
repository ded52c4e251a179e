#include "console/ui/alert_banner.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

#include "console/ui/theme.h"

namespace seckill::console {

AlertBanner::AlertBanner(QWidget* parent) : QFrame(parent) {
  label_ = new QLabel(this);
  label_->setTextFormat(Qt::RichText);
  label_->setWordWrap(true);
  close_ = new QToolButton(this);
  close_->setText(tr("Dismiss"));
  close_->setToolTip(tr("Dismiss the alerts (Esc)"));
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(10, 6, 6, 6);
  layout->addWidget(label_, 1);
  layout->addWidget(close_);
  setAutoFillBackground(true);
  // An alarm red with white text, a deeper red on dark desktops (less glare).
  theme::followPalette(this, [](QWidget* w) {
    QPalette p = w->palette();
    p.setColor(QPalette::Window, theme::isDark(theme::reference(w))
                                     ? QColor(QStringLiteral("#8e1b1b"))
                                     : QColor(QStringLiteral("#c62828")));
    p.setColor(QPalette::WindowText, Qt::white);
    w->setPalette(p);
  });
  connect(close_, &QToolButton::clicked, this, &AlertBanner::dismiss);
  hide();
}

void AlertBanner::raiseAlert(const Alert& alert) {
  ++unread_;
  const QString when =
      QDateTime::fromSecsSinceEpoch(alert.second).toString(QStringLiteral("HH:mm:ss"));
  QString text = QStringLiteral("<b>⚠ %1</b> &nbsp; %2").arg(when, alert.text.toHtmlEscaped());
  if (unread_ > 1) text += tr(" &nbsp; <i>(+%1 earlier)</i>").arg(unread_ - 1);
  label_->setText(text);
  show();
}

void AlertBanner::dismiss() {
  unread_ = 0;
  hide();
}

QString AlertBanner::text() const { return label_->text(); }

}  // namespace seckill::console
