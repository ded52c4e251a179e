#include "console/ui/chart_panel.h"

#include <QContextMenuEvent>
#include <QDateTime>
#include <QFileDialog>
#include <QGraphicsLineItem>
#include <QMenu>
#include <QSaveFile>
#include <QToolTip>
#include <QWheelEvent>
#include <QtCharts/QChart>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>

#include "console/core/series_store.h"
#include "console/ui/theme.h"

namespace seckill::console {
namespace {

// The smallest 1, 2 or 5 times a power of ten that is >= v.
double niceCeil(double v) {
  if (v <= 0) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

QDateTimeAxis* timeAxis(QChart* chart) {
  const auto axes = chart->axes(Qt::Horizontal);
  return axes.isEmpty() ? nullptr : qobject_cast<QDateTimeAxis*>(axes.first());
}

QValueAxis* valueAxis(QChart* chart) {
  const auto axes = chart->axes(Qt::Vertical);
  return axes.isEmpty() ? nullptr : qobject_cast<QValueAxis*>(axes.first());
}

}  // namespace

ChartPanel::ChartPanel(const QString& title, const QString& unit, const SeriesStore& store,
                       QWidget* parent)
    // Given its chart at once: setChart() would leave the view's default chart unowned.
    : QChartView(new QChart(), parent), store_(store), unit_(unit) {
  QChart* chart = this->chart();
  chart->setTitle(title);
  chart->setMargins(QMargins(4, 2, 4, 2));
  chart->setBackgroundRoundness(0);
  chart->legend()->setAlignment(Qt::AlignTop);
  chart->legend()->setShowToolTips(true);
  auto* x = new QDateTimeAxis(chart);
  x->setTickCount(7);
  auto* y = new QValueAxis(chart);
  y->setLabelFormat(QStringLiteral("%.0f"));
  y->setTickCount(5);
  y->setRange(0, 1);
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  setRenderHint(QPainter::Antialiasing);
  setMouseTracking(true);
  setMinimumHeight(180);
  marker_ = new QGraphicsLineItem();
  marker_->setZValue(100);
  marker_->hide();
  chart->scene()->addItem(marker_);
  applyPalette();
}

QString ChartPanel::title() const { return chart()->title(); }

void ChartPanel::applyPalette() {
  const QPalette p = palette();
  QChart* c = chart();
  c->setBackgroundBrush(p.base());
  c->setBackgroundPen(QPen(p.color(QPalette::Mid)));
  c->setTitleBrush(p.text());
  c->legend()->setLabelColor(p.color(QPalette::Text));
  QFont title = c->titleFont();
  title.setBold(true);
  title.setPointSizeF(std::max(9.0, font().pointSizeF() + 1));
  c->setTitleFont(title);
  for (QAbstractAxis* axis : c->axes()) {
    axis->setLabelsBrush(p.text());
    axis->setLinePenColor(p.color(QPalette::Mid));
    axis->setGridLineColor(p.color(QPalette::Midlight));
    axis->setTitleBrush(p.text());
  }
  marker_->setPen(QPen(p.color(QPalette::Highlight), 1, Qt::DashLine));
  for (int i = 0; i < c->series().size(); ++i) {
    if (auto* s = qobject_cast<QLineSeries*>(c->series()[i])) {
      QPen pen(theme::seriesColor(i, p), 2);
      s->setPen(pen);
    }
  }
}

void ChartPanel::changeEvent(QEvent* event) {
  QChartView::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) applyPalette();
}

void ChartPanel::setLines(const QList<Line>& lines) {
  if (lines == lines_) return;
  lines_ = lines;
  QChart* c = chart();
  c->removeAllSeries();
  for (const Line& line : lines_) {
    auto* s = new QLineSeries(c);
    s->setName(line.name);
    c->addSeries(s);
    s->attachAxis(timeAxis(c));
    s->attachAxis(valueAxis(c));
  }
  applyPalette();
  if (to_ > 0) showWindow(from_, to_);
}

void ChartPanel::showWindow(qint64 from, qint64 to) {
  from_ = from;
  to_ = to;
  QChart* c = chart();
  // At most one point per pixel (two for long windows): more cannot be seen, and costs every
  // second.
  const int width = static_cast<int>(c->plotArea().width());
  const int max_points = std::max(60, to - from > 600 ? width / 2 : width);
  double top = 0;
  const auto series = c->series();
  for (int i = 0; i < series.size() && i < lines_.size(); ++i) {
    const Line& line = lines_[i];
    QList<QPointF> points = store_.range(line.node, line.metric, from, to, max_points);
    for (const QPointF& p : points) top = std::max(top, p.y());
    static_cast<QLineSeries*>(series[i])->replace(points);
  }
  if (QValueAxis* y = valueAxis(c)) {
    const double ceil = niceCeil(top * 1.1);
    if (y->max() != ceil || y->min() != 0) y->setRange(0, ceil);
    y->setLabelFormat(ceil <= 1   ? QStringLiteral("%.2f")
                      : ceil < 10 ? QStringLiteral("%.1f")
                                  : QStringLiteral("%.0f"));
    y->setTitleText(unit_);
  }
  if (QDateTimeAxis* x = timeAxis(c)) {
    x->setFormat(to - from > 600 ? QStringLiteral("HH:mm") : QStringLiteral("HH:mm:ss"));
    x->setRange(QDateTime::fromSecsSinceEpoch(from), QDateTime::fromSecsSinceEpoch(to));
  }
}

int ChartPanel::pointCount() const {
  int n = 0;
  for (QAbstractSeries* s : chart()->series()) {
    n += static_cast<int>(static_cast<QLineSeries*>(s)->count());
  }
  return n;
}

QString ChartPanel::csv() const {
  QString header = QStringLiteral("time,unix_second");
  // One store query per line: the nodes may differ per line.
  std::vector<QList<QPointF>> columns;
  for (const Line& line : lines_) {
    header += QLatin1Char(',') + QString(line.name).replace(QLatin1Char(','), QLatin1Char(' '));
    columns.push_back(
        store_.range(line.node, line.metric, from_, to_, static_cast<int>(to_ - from_ + 1)));
  }
  QString out = header + QLatin1Char('\n');
  std::vector<qsizetype> at(columns.size(), 0);
  for (qint64 s = from_; s <= to_; ++s) {
    QString row;
    bool any = false;
    for (size_t c = 0; c < columns.size(); ++c) {
      row += QLatin1Char(',');
      const QList<QPointF>& col = columns[c];
      while (at[c] < col.size() && col[at[c]].x() < static_cast<double>(s * 1000)) ++at[c];
      if (at[c] < col.size() && col[at[c]].x() == static_cast<double>(s * 1000)) {
        row += QString::number(col[at[c]].y(), 'g', 10);
        any = true;
      }
    }
    if (!any) continue;
    out += QDateTime::fromSecsSinceEpoch(s, Qt::UTC).toString(Qt::ISODate) + QLatin1Char(',') +
           QString::number(s) + row + QLatin1Char('\n');
  }
  return out;
}

bool ChartPanel::savePng(const QString& path) { return grab().save(path, "PNG"); }

void ChartPanel::paintEvent(QPaintEvent* event) {
  QChartView::paintEvent(event);
  if (!drawn_ && pointCount() > 0) {
    drawn_ = true;
    emit firstDrawn();
  }
}

void ChartPanel::mouseMoveEvent(QMouseEvent* event) {
  QChartView::mouseMoveEvent(event);
  QChart* c = chart();
  const QPointF scene = mapToScene(event->position().toPoint());
  const QPointF in_chart = c->mapFromScene(scene);
  if (!c->plotArea().contains(in_chart) || to_ <= 0) {
    hideHover();
    return;
  }
  const QPointF value = c->mapToValue(in_chart);
  const qint64 second = std::clamp<qint64>(std::llround(value.x() / 1000.0), from_, to_);
  QString text =
      QStringLiteral("<b>%1</b>")
          .arg(QDateTime::fromSecsSinceEpoch(second).toString(QStringLiteral("HH:mm:ss")));
  for (int i = 0; i < lines_.size(); ++i) {
    const Line& line = lines_[i];
    const std::optional<double> v = store_.value(line.node, line.metric, second);
    text +=
        QStringLiteral("<br>%1 %2: <b>%3</b>")
            .arg(theme::dot(theme::seriesColor(i, palette())), line.name.toHtmlEscaped(),
                 v ? QString::number(*v, 'f', isSummed(line.metric) ? 0 : 1) : QStringLiteral("–"));
  }
  const QPointF at = c->mapToPosition(QPointF(static_cast<double>(second * 1000), 0));
  const QRectF area = c->plotArea();
  const QPointF top = c->mapToScene(QPointF(at.x(), area.top()));
  const QPointF bottom = c->mapToScene(QPointF(at.x(), area.bottom()));
  marker_->setLine(QLineF(top, bottom));
  marker_->show();
  QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void ChartPanel::hideHover() {
  marker_->hide();
  QToolTip::hideText();
}

void ChartPanel::leaveEvent(QEvent* event) {
  QChartView::leaveEvent(event);
  hideHover();
}

void ChartPanel::wheelEvent(QWheelEvent* event) {
  const int steps = event->angleDelta().y() / 120;
  if (steps == 0) return;
  const qint64 span = std::max<qint64>(10, (to_ - from_ + 1) / 10);
  emit scrollRequested(-steps * span);
  event->accept();
}

void ChartPanel::contextMenuEvent(QContextMenuEvent* event) {
  QMenu menu(this);
  QAction* png = menu.addAction(tr("Save chart as PNG…"));
  QAction* csv_action = menu.addAction(tr("Save data as CSV…"));
  QAction* chosen = menu.exec(event->globalPos());
  if (chosen == png) {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save chart"), title() + QStringLiteral(".png"), tr("PNG images (*.png)"));
    if (!path.isEmpty()) savePng(path);
  } else if (chosen == csv_action) {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save data"), title() + QStringLiteral(".csv"), tr("CSV files (*.csv)"));
    if (path.isEmpty()) return;
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly)) {
      file.write(csv().toUtf8());
      file.commit();
    }
  }
}

}  // namespace seckill::console
