#include "console/ui/stock_panel.h"

#include <QLocale>
#include <QPainter>

#include "console/core/labels.h"
#include "console/core/table_models.h"
#include "console/ui/theme.h"

namespace seckill::console {
namespace {

constexpr int kRowHeight = 58;

}  // namespace

StockPanel::StockPanel(SalesModel* sales, QWidget* parent) : QWidget(parent), sales_(sales) {
  auto changed = [this] {
    updateGeometry();
    update();
  };
  connect(sales_, &QAbstractItemModel::modelReset, this, changed);
  connect(sales_, &QAbstractItemModel::dataChanged, this, [this] { update(); });
  connect(sales_, &QAbstractItemModel::rowsInserted, this, changed);
  connect(sales_, &QAbstractItemModel::rowsRemoved, this, changed);
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
}

QSize StockPanel::sizeHint() const {
  return QSize(280, std::max(1, sales_->rowCount()) * kRowHeight + 28);
}

QSize StockPanel::minimumSizeHint() const { return QSize(220, sizeHint().height()); }

void StockPanel::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QPalette pal = palette();
  const QLocale locale;
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.setPen(pal.color(QPalette::Text));
  p.drawText(QRect(4, 0, width() - 8, 22), Qt::AlignLeft | Qt::AlignVCenter, tr("Stock left"));
  if (sales_->rowCount() == 0) {
    p.setFont(font());
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(QRect(4, 24, width() - 8, 22), Qt::AlignLeft | Qt::AlignVCenter, tr("No sales"));
    return;
  }
  for (int row = 0; row < sales_->rowCount(); ++row) {
    const v1::Sale& s = sales_->sale(row);
    const int top = 26 + row * kRowHeight;
    const QColor state_color = theme::saleColor(s.state(), pal);
    // Line 1: the sale and its state.
    p.setFont(bold);
    p.setPen(pal.color(QPalette::Text));
    const QString name = QString::fromStdString(s.id());
    p.drawText(QRect(4, top, width() - 8, 18), Qt::AlignLeft | Qt::AlignVCenter, name);
    p.setPen(state_color);
    p.drawText(QRect(4, top, width() - 8, 18), Qt::AlignRight | Qt::AlignVCenter,
               QStringLiteral("● ") + label(s.state()));
    // Line 2: the bar.
    const QRectF bar(4, top + 21, width() - 8, 12);
    p.setPen(Qt::NoPen);
    p.setBrush(pal.color(QPalette::AlternateBase));
    p.drawRoundedRect(bar, 3, 3);
    const double fraction =
        s.stock_total() > 0 && s.stock_left() > 0
            ? static_cast<double>(s.stock_left()) / static_cast<double>(s.stock_total())
            : 0.0;
    if (fraction > 0) {
      p.setBrush(state_color);
      p.drawRoundedRect(
          QRectF(bar.left(), bar.top(), std::max(3.0, bar.width() * fraction), bar.height()), 3, 3);
    }
    p.setPen(pal.color(QPalette::Mid));
    p.setBrush(Qt::NoBrush);
    p.drawRoundedRect(bar, 3, 3);
    // Line 3: the figures.
    p.setFont(font());
    p.setPen(pal.color(QPalette::Text));
    const QString left = s.stock_left() < 0 ? tr("?") : locale.toString(s.stock_left());
    p.drawText(QRect(4, top + 35, width() - 8, 18), Qt::AlignLeft | Qt::AlignVCenter,
               tr("%1 left of %2 · %3 sold")
                   .arg(left, locale.toString(s.stock_total()), locale.toString(s.sold())));
  }
}

}  // namespace seckill::console
