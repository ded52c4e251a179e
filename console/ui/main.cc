// seckill-console: the operator's window on seckill engines. Parses the command line, restores
// the settings and opens the main window (connected at once with --engine, else the connect
// dialog). Hidden options drive the screenshots of docs/img and the benchmark figures.
#include <QApplication>
#include <QElapsedTimer>
#include <QIcon>
#include <QSettings>
#include <QThread>
#include <QTimer>
#include <cstdio>
#include <memory>

#include "console/core/fleet.h"
#include "console/core/loop_probe.h"
#include "console/ui/command_line.h"
#include "console/ui/dashboard_page.h"
#include "console/ui/main_window.h"
#include "console/ui/screenshot_tour.h"
#include "console/ui/theme.h"

namespace {

// With --measure: the UI thread's costliest event since the last report, by CPU time (its own
// work, not the time it waited for a core), named by receiver class and event type.
class ConsoleApplication : public QApplication {
 public:
  using QApplication::QApplication;

  void setMeasuring(bool on) { measuring_ = on; }
  // "12.3 ms QChartView/UpdateRequest", then starts over.
  QString takeSlowest() {
    const QString out = QStringLiteral("%1 ms %2")
                            .arg(static_cast<double>(slowest_us_) / 1000.0, 0, 'f', 1)
                            .arg(slowest_);
    slowest_us_ = 0;
    slowest_.clear();
    return out;
  }

  bool notify(QObject* receiver, QEvent* event) override {
    if (!measuring_ || depth_ > 0 || QThread::currentThread() != thread()) {
      return QApplication::notify(receiver, event);
    }
    ++depth_;  // only the outermost delivery: it includes what it sends on
    const qint64 start = seckill::console::threadCpuMicros();
    const bool done = QApplication::notify(receiver, event);
    const qint64 used = seckill::console::threadCpuMicros() - start;
    --depth_;
    if (used > slowest_us_) {
      slowest_us_ = used;
      slowest_ = QStringLiteral("%1/%2")
                     .arg(QString::fromLatin1(receiver->metaObject()->className()))
                     .arg(static_cast<int>(event->type()));
    }
    return done;
  }

 private:
  bool measuring_ = false;
  int depth_ = 0;
  qint64 slowest_us_ = 0;
  QString slowest_;
};

QIcon appIcon() {
  QIcon icon;
  for (int size : {16, 32, 48, 64, 128, 256}) {
    icon.addFile(QStringLiteral(":/icons/hicolor/%1x%1/seckill-console.png").arg(size),
                 QSize(size, size));
  }
  return icon;
}

}  // namespace

int main(int argc, char** argv) {
  QElapsedTimer since_start;
  since_start.start();
  ConsoleApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("seckill"));
  QApplication::setApplicationName(QStringLiteral("seckill-console"));
  QApplication::setApplicationDisplayName(QStringLiteral("seckill console"));
  QApplication::setApplicationVersion(QStringLiteral(SECKILL_VERSION));
  QApplication::setDesktopFileName(QStringLiteral("seckill-console"));
  QApplication::setWindowIcon(appIcon());

  QString output;
  int exit_code = 0;
  const std::optional<seckill::console::ConsoleOptions> options =
      seckill::console::parseCommandLine(QApplication::arguments(), &output, &exit_code);
  if (!options) {
    std::fputs(qPrintable(output), exit_code == 0 ? stdout : stderr);
    return exit_code;
  }

  seckill::console::theme::applyScheme(app, options->scheme);

  std::unique_ptr<QSettings> settings =
      options->settings_file.isEmpty()
          ? std::make_unique<QSettings>()
          : std::make_unique<QSettings>(options->settings_file, QSettings::IniFormat);
  seckill::console::MainWindow window(*settings, seckill::console::dialogConfirmer());
  window.fleet()->setSyntheticHistory(options->synthetic_history_s);
  if (options->range_s > 0) window.dashboard()->setRangeSeconds(options->range_s);

  std::unique_ptr<seckill::console::LoopProbe> probe;
  if (options->measure) {
    app.setMeasuring(true);
    probe = std::make_unique<seckill::console::LoopProbe>(10);
    probe->start();
    // Every chart reports its first paint; the first of them is the figure.
    auto first = std::make_shared<QMetaObject::Connection>();
    *first = QObject::connect(window.dashboard(), &seckill::console::DashboardPage::firstChartDrawn,
                              &app, [&since_start, first] {
                                QObject::disconnect(*first);
                                std::fprintf(stderr, "seckill-console: first-chart-ms %lld\n",
                                             static_cast<long long>(since_start.elapsed()));
                                std::fflush(stderr);
                              });
    auto* report = new QTimer(&app);
    QObject::connect(report, &QTimer::timeout, &app, [&probe, &window, &app] {
      // The loop's worst delay; the CPU time of the console's longest redraw step and of its
      // costliest event.
      std::fprintf(stderr,
                   "seckill-console: probe-worst-ms %lld ticks %lld redraw-step-cpu-ms %.1f "
                   "slowest-event-cpu %s\n",
                   static_cast<long long>(probe->worstMs()), static_cast<long long>(probe->ticks()),
                   static_cast<double>(window.dashboard()->takeWorstStepCpuUs()) / 1000.0,
                   qPrintable(app.takeSlowest()));
      std::fflush(stderr);
      probe->reset();
    });
    report->start(10000);
  }
  if (options->quit_after_s > 0) {
    QTimer::singleShot(options->quit_after_s * 1000, &app, &QApplication::quit);
  }

  window.show();
  if (!options->engines.isEmpty()) {
    window.connectTo(options->engines);
  } else {
    QTimer::singleShot(0, &window, &seckill::console::MainWindow::showConnectDialog);
  }
  if (!options->screenshot_dir.isEmpty()) {
    auto* tour = new seckill::console::ScreenshotTour(&window, options->screenshot_dir, &app);
    QObject::connect(tour, &seckill::console::ScreenshotTour::done, &app,
                     [](bool ok) { QApplication::exit(ok ? 0 : 1); });
    tour->start(options->screenshot_after_s * 1000);
  }
  return app.exec();
}
