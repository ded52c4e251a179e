#pragma once

#include <QObject>
#include <QString>
#include <functional>

namespace seckill::console {

class MainWindow;

// Saves each screen of the window as DIR/console-<screen>.png (dashboard, rules, control,
// sales), then the diff of the oldest kept rule version against the running one as
// console-diff.png, then the dashboard again on the dark palette as console-dashboard-dark.png,
// and reports done. Everything is grabbed from the widgets (QWidget::grab), so
// it works the same under Xvfb or the offscreen platform.
class ScreenshotTour : public QObject {
  Q_OBJECT

 public:
  ScreenshotTour(MainWindow* window, QString dir, QObject* parent = nullptr);
  // Starts after `delay_ms`.
  void start(int delay_ms);

 signals:
  void done(bool ok);

 private:
  void step();
  void shootDiff(int tries);
  void shootDark();
  bool save(QWidget* widget, const QString& name);

  MainWindow* window_;
  const QString dir_;
  int page_ = 0;
  bool ok_ = true;
};

}  // namespace seckill::console
