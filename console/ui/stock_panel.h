#pragma once

#include <QWidget>

namespace seckill::console {

class SalesModel;

// Stock left per sale with its state, as bars: what an operator checks first during a drop.
// Draws the SalesModel (which the stats stream updates every second).
class StockPanel : public QWidget {
  Q_OBJECT

 public:
  explicit StockPanel(SalesModel* sales, QWidget* parent = nullptr);

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  SalesModel* sales_;
};

}  // namespace seckill::console
