// The UI thread never waits: with an hour of history on screen and the engine under an order
// storm, a timer probe on the UI thread measures the event loop's worst delay; then the engine
// is stopped (SIGSTOP) and the window keeps answering and says so in the status bar, and
// recovers after SIGCONT.
//
// The bound asserted here (1 s) only catches a blocked UI thread: machines here are shared and
// noisy, so the 50 ms target is measured by console/bench-console, not asserted.
#include <signal.h>

#include <QElapsedTimer>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>
#include <cstdio>

#include "console/core/fleet.h"
#include "console/core/loop_probe.h"
#include "console/core/series_store.h"
#include "console/ui/chart_panel.h"
#include "console/ui/dashboard_page.h"
#include "console/ui/main_window.h"
#include "gtest/gtest.h"
#include "tests/console/admin_engine.h"

namespace seckill::console {
namespace {

using testing::AdminEngine;
using testing::OrderStorm;

constexpr qint64 kBlockedUiMs = 1000;

bool statusSays(const MainWindow& window, const char* words) {
  return window.linkTexts().join(' ').contains(QString::fromLatin1(words));
}

TEST(ResponsivenessTest, AnHourOnScreenUnderAnOrderStormAndAStoppedEngine) {
  AdminEngine engine;
  ASSERT_TRUE(
      engine.start("[[sale]]\nid = \"storm\"\nstock = 100000000\n\n"
                   "[[rule]]\npath = \"/api/v1/sales/*/orders\"\nmethod = \"POST\"\n"
                   "rate = 2000\nburst = 200\n"));
  QTemporaryDir dir;
  QSettings settings(dir.filePath("console.ini"), QSettings::IniFormat);
  MainWindow window(settings, [](QWidget*, const Confirmation&) { return false; });
  window.resize(1600, 1000);
  window.show();
  window.fleet()->setSyntheticHistory(3600);
  window.showPage(MainWindow::kDashboard);
  window.dashboard()->setRangeSeconds(3600);
  window.connectTo({engine.address()});
  const SeriesStore& series = window.fleet()->series();
  ASSERT_TRUE(QTest::qWaitFor([&] { return series.size("node-a") == 3600; }, 15000))
      << "an hour: made-up seconds, then the engine's";
  ASSERT_TRUE(
      QTest::qWaitFor([&] { return window.dashboard()->charts()[0]->pointCount() > 0; }, 5000));

  LoopProbe probe(10);
  probe.start();
  {
    OrderStorm storm(engine.httpPort(), "storm", 2);
    QTest::qWait(6000);
    storm.stop();
    EXPECT_GT(storm.answered(), 100) << "the storm ran";
  }
  const qint64 storm_worst = probe.worstMs();
  std::printf("event loop, 1 h on screen, order storm: worst delay %lld ms over %lld ticks\n",
              static_cast<long long>(storm_worst), static_cast<long long>(probe.ticks()));
  EXPECT_LT(storm_worst, kBlockedUiMs);
  EXPECT_GT(probe.ticks(), 100) << "the loop ran all along";
  const qint64 newest = series.newest();
  EXPECT_EQ(series.size("node-a"), 3600) << "bounded to the hour";

  // The engine stops answering (its sockets stay open).
  probe.reset();
  engine.signal(SIGSTOP);
  QElapsedTimer stopped;
  stopped.start();
  ASSERT_TRUE(QTest::qWaitFor([&] { return statusSays(window, "not answering"); }, 15000))
      << window.linkTexts().join(' ').toStdString();
  std::printf("\"not answering\" shown %lld ms after SIGSTOP\n",
              static_cast<long long>(stopped.elapsed()));
  QTest::qWait(1500);
  std::printf("status bar: %s\n", qPrintable(window.linkTexts().join(' ')));
  std::printf("event loop, engine stopped: worst delay %lld ms\n",
              static_cast<long long>(probe.worstMs()));
  EXPECT_LT(probe.worstMs(), kBlockedUiMs);
  // Still answering the operator: switch screens, the charts redraw.
  window.showPage(MainWindow::kRules);
  QTest::qWait(100);
  window.showPage(MainWindow::kDashboard);
  window.dashboard()->setRangeSeconds(300);
  EXPECT_EQ(window.page(), MainWindow::kDashboard);

  engine.signal(SIGCONT);
  ASSERT_TRUE(QTest::qWaitFor([&] { return statusSays(window, "connected"); }, 20000))
      << window.linkTexts().join(' ').toStdString();
  ASSERT_TRUE(QTest::qWaitFor([&] { return series.newest() > newest + 2; }, 10000));
  EXPECT_LT(probe.worstMs(), kBlockedUiMs);
}

}  // namespace
}  // namespace seckill::console
