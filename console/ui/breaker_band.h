#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

namespace seckill::console {

class SeriesStore;

// The breakers' states over the dashboard's time window, one band per breaker (per node in a
// fleet), coloured by state: closed, open, half-open, forced open, disabled, metrics only.
// Hover names the state and its span. Draws what the SeriesStore holds; nothing else.
class BreakerBand : public QWidget {
  Q_OBJECT

 public:
  explicit BreakerBand(const SeriesStore& store, QWidget* parent = nullptr);

  // Draws [from, to] (inclusive unix seconds) for the breakers of `node` (empty: every node).
  void showWindow(const QString& node, qint64 from, qint64 to);
  // The bands drawn, as "node/breaker" (tests).
  const QStringList& bands() const { return bands_; }

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;

 private:
  struct Band {
    QString node;
    QString breaker;
  };
  QRect bandRect(int index) const;
  int labelWidth() const;

  const SeriesStore& store_;
  QString node_;
  qint64 from_ = 0;
  qint64 to_ = 0;
  QList<Band> rows_;
  QStringList bands_;
};

}  // namespace seckill::console
