#include "console/ui/breaker_band.h"

#include <QDateTime>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

#include "console/core/labels.h"
#include "console/core/series_store.h"
#include "console/ui/theme.h"

namespace seckill::console {
namespace {

constexpr int kBandHeight = 18;
constexpr int kGap = 4;
constexpr int kLegendHeight = 18;

}  // namespace

BreakerBand::BreakerBand(const SeriesStore& store, QWidget* parent)
    : QWidget(parent), store_(store) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void BreakerBand::showWindow(const QString& node, qint64 from, qint64 to) {
  node_ = node;
  from_ = from;
  to_ = to;
  QList<Band> rows;
  QStringList names;
  const QStringList nodes = store_.nodes();
  for (const QString& n : nodes) {
    if (!node.isEmpty() && n != node) continue;
    for (const QString& b : store_.breakers(n)) {
      rows.append(Band{n, b});
      names.append(n + QLatin1Char('/') + b);
    }
  }
  if (names != bands_) {
    rows_ = rows;
    bands_ = names;
    updateGeometry();
    setFixedHeight(sizeHint().height());
  }
  update();
}

QSize BreakerBand::sizeHint() const {
  const int rows = std::max<int>(1, static_cast<int>(rows_.size()));
  return QSize(400, rows * (kBandHeight + kGap) + kLegendHeight + kGap);
}

QSize BreakerBand::minimumSizeHint() const { return QSize(200, sizeHint().height()); }

int BreakerBand::labelWidth() const {
  int w = 0;
  const bool many = store_.nodes().size() > 1 && node_.isEmpty();
  for (const Band& b : rows_) {
    const QString text = many ? b.node + QStringLiteral(" · ") + b.breaker : b.breaker;
    w = std::max(w, fontMetrics().horizontalAdvance(text));
  }
  return std::max(w + 12, 90);
}

QRect BreakerBand::bandRect(int index) const {
  const int left = labelWidth();
  return QRect(left, index * (kBandHeight + kGap), width() - left - 4, kBandHeight);
}

void BreakerBand::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QPalette pal = palette();
  const bool many = store_.nodes().size() > 1 && node_.isEmpty();
  if (rows_.isEmpty()) {
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(4, 0, 0, -kLegendHeight), Qt::AlignLeft | Qt::AlignVCenter,
               tr("Breakers: no data yet"));
  }
  const double span = static_cast<double>(std::max<qint64>(1, to_ - from_ + 1));
  for (int i = 0; i < rows_.size(); ++i) {
    const Band& band = rows_[i];
    const QRect r = bandRect(i);
    p.setPen(pal.color(QPalette::Text));
    const QString name = many ? band.node + QStringLiteral(" · ") + band.breaker : band.breaker;
    p.drawText(QRect(0, r.top(), r.left() - 6, r.height()), Qt::AlignRight | Qt::AlignVCenter,
               name);
    p.fillRect(r, pal.color(QPalette::AlternateBase));
    for (const SeriesStore::StateRun& run :
         store_.breakerRuns(band.node, band.breaker, from_, to_)) {
      const double x0 = r.left() + (static_cast<double>(run.from - from_) / span) * r.width();
      const double x1 = r.left() + (static_cast<double>(run.to - from_ + 1) / span) * r.width();
      const QRectF cell(x0, r.top(), std::max(1.0, x1 - x0), r.height());
      const QColor color = theme::breakerColor(run.state, pal);
      p.fillRect(cell, color);
      if (run.state == v1::FORCED_OPEN) {
        p.fillRect(cell, QBrush(pal.color(QPalette::Base), Qt::BDiagPattern));
      }
      if (cell.width() > 80 && run.state != v1::CLOSED) {
        p.setPen(Qt::white);
        p.drawText(cell.adjusted(4, 0, -2, 0), Qt::AlignLeft | Qt::AlignVCenter, label(run.state));
      }
    }
    p.setPen(pal.color(QPalette::Mid));
    p.drawRect(r.adjusted(0, 0, -1, -1));
  }
  // The legend: every state's colour.
  int x = labelWidth();
  const int y = std::max<int>(1, static_cast<int>(rows_.size())) * (kBandHeight + kGap);
  const v1::BreakerState states[] = {v1::CLOSED,      v1::HALF_OPEN,    v1::OPEN,
                                     v1::FORCED_OPEN, v1::METRICS_ONLY, v1::DISABLED};
  for (v1::BreakerState s : states) {
    p.fillRect(QRect(x, y + 4, 12, 10), theme::breakerColor(s, pal));
    x += 16;
    const QString text = label(s);
    p.setPen(pal.color(QPalette::Text));
    p.drawText(QPoint(x, y + 13), text);
    x += fontMetrics().horizontalAdvance(text) + 14;
  }
}

void BreakerBand::mouseMoveEvent(QMouseEvent* event) {
  const QPoint pos = event->position().toPoint();
  for (int i = 0; i < rows_.size(); ++i) {
    const QRect r = bandRect(i);
    if (!r.contains(pos)) continue;
    const double span = static_cast<double>(std::max<qint64>(1, to_ - from_ + 1));
    const qint64 second =
        from_ + static_cast<qint64>((pos.x() - r.left()) / static_cast<double>(r.width()) * span);
    for (const SeriesStore::StateRun& run :
         store_.breakerRuns(rows_[i].node, rows_[i].breaker, from_, to_)) {
      if (second < run.from || second > run.to) continue;
      const QString fmt = QStringLiteral("HH:mm:ss");
      QToolTip::showText(event->globalPosition().toPoint(),
                         tr("%1 on %2: %3 from %4 to %5")
                             .arg(rows_[i].breaker, rows_[i].node, label(run.state),
                                  QDateTime::fromSecsSinceEpoch(run.from - 1).toString(fmt),
                                  QDateTime::fromSecsSinceEpoch(run.to).toString(fmt)),
                         this);
      return;
    }
  }
  QToolTip::hideText();
}

}  // namespace seckill::console
