// The console tests' main: a Qt application (QApplication for the widget tests, QCoreApplication
// for the core's) on the offscreen platform, then every GoogleTest test on the main thread,
// which is the application's (the tests spin the event loop with QTest::qWaitFor).
#include <QCoreApplication>
#include <QStandardPaths>

#ifdef SECKILL_CONSOLE_WIDGETS
#include <QApplication>
#endif

#include "gtest/gtest.h"

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QStandardPaths::setTestModeEnabled(true);  // QSettings() never touches the user's files
  ::testing::InitGoogleTest(&argc, argv);
#ifdef SECKILL_CONSOLE_WIDGETS
  QApplication app(argc, argv);
#else
  QCoreApplication app(argc, argv);
#endif
  return RUN_ALL_TESTS();
}
