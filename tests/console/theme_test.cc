// Light and dark: the accents the widgets set on themselves (error text, the alert banner, the
// chart backgrounds, the diff's tints) follow a palette switch, as when the desktop goes dark.
#include "console/ui/theme.h"

#include <QApplication>
#include <QLabel>
#include <QTest>
#include <QtCharts/QChart>

#include "console/core/alerts.h"
#include "console/core/series_store.h"
#include "console/ui/alert_banner.h"
#include "console/ui/chart_panel.h"
#include "console/ui/diff_view.h"
#include "gtest/gtest.h"

namespace seckill::console {
namespace {

namespace v1 = ::seckill::admin::v1;

// The palette changes are delivered by the event loop (once the parent's palette is final).
void settle() {
  QCoreApplication::sendPostedEvents();
  QCoreApplication::processEvents();
}

TEST(ThemeTest, TheSchemesAndTheirPalettes) {
  EXPECT_EQ(theme::parseScheme("dark"), theme::Scheme::kDark);
  EXPECT_EQ(theme::parseScheme(" Light "), theme::Scheme::kLight);
  EXPECT_EQ(theme::parseScheme("desktop"), theme::Scheme::kDesktop);
  EXPECT_FALSE(theme::parseScheme("solarized").has_value());
  EXPECT_TRUE(theme::isDark(theme::darkPalette()));
  EXPECT_FALSE(theme::isDark(theme::lightPalette()));
  // Every accent has a distinct, lighter variant on dark backgrounds.
  const QPalette light = theme::lightPalette();
  const QPalette dark = theme::darkPalette();
  EXPECT_GT(theme::errorColor(dark).lightness(), theme::errorColor(light).lightness());
  EXPECT_GT(theme::breakerColor(v1::OPEN, dark).lightness(),
            theme::breakerColor(v1::OPEN, light).lightness());
  EXPECT_GT(theme::seriesColor(0, dark).lightness(), theme::seriesColor(0, light).lightness());
  // Text on the dark palette reads: far from its background.
  EXPECT_GT(dark.color(QPalette::Text).lightness() - dark.color(QPalette::Base).lightness(), 150);
}

TEST(ThemeTest, AccentsFollowAPaletteSwitch) {
  QWidget window;
  window.setPalette(theme::lightPalette());
  auto* error = new QLabel(QStringLiteral("rate must be > 0"), &window);
  theme::markAsError(error);
  auto* banner = new AlertBanner(&window);
  SeriesStore store;
  auto* chart = new ChartPanel(QStringLiteral("Requests"), QStringLiteral("req/s"), store, &window);
  auto* diff_view = new DiffView(&window);
  v1::DiffRulesResponse diff;
  diff.set_from_version(1);
  diff.set_to_version(2);
  v1::RuleChange* added = diff.add_rules();
  added->set_kind(v1::RuleChange::ADDED);
  added->mutable_after()->set_path("/api");
  added->mutable_after()->set_rate(5);
  diff_view->setDiff(diff, QStringLiteral("v1"), QStringLiteral("v2"));
  settle();

  EXPECT_EQ(error->palette().color(QPalette::WindowText), theme::errorColor(theme::lightPalette()));
  EXPECT_EQ(banner->palette().color(QPalette::Window), QColor(QStringLiteral("#c62828")));
  EXPECT_EQ(chart->chart()->backgroundBrush().color(), theme::lightPalette().color(QPalette::Base));
  const QString light_html = diff_view->html();

  window.setPalette(theme::darkPalette());
  settle();
  EXPECT_EQ(error->palette().color(QPalette::WindowText), theme::errorColor(theme::darkPalette()));
  EXPECT_EQ(error->palette().color(QPalette::Window), theme::darkPalette().color(QPalette::Window))
      << "only the accent is its own; the rest follows the window";
  EXPECT_EQ(banner->palette().color(QPalette::Window), QColor(QStringLiteral("#8e1b1b")));
  EXPECT_EQ(banner->palette().color(QPalette::WindowText), QColor(Qt::white));
  EXPECT_EQ(chart->chart()->backgroundBrush().color(), theme::darkPalette().color(QPalette::Base));
  EXPECT_EQ(chart->chart()->titleBrush().color(), theme::darkPalette().color(QPalette::Text));
  EXPECT_NE(diff_view->html(), light_html) << "the added row's tint is remade on the dark base";
  EXPECT_EQ(diff_view->changedRows(), 1);

  window.setPalette(theme::lightPalette());
  settle();
  EXPECT_EQ(error->palette().color(QPalette::WindowText), theme::errorColor(theme::lightPalette()));
}

TEST(ThemeTest, TheApplicationSchemeReachesEveryWindow) {
  const QPalette before = QApplication::palette();
  QLabel label(QStringLiteral("no sale"));
  theme::markAsError(&label);
  theme::applyScheme(*qApp, theme::Scheme::kDark);
  settle();
  EXPECT_TRUE(theme::isDark(QApplication::palette()));
  EXPECT_EQ(label.palette().color(QPalette::WindowText), theme::errorColor(theme::darkPalette()));
  theme::applyScheme(*qApp, theme::Scheme::kLight);
  settle();
  EXPECT_FALSE(theme::isDark(QApplication::palette()));
  EXPECT_EQ(label.palette().color(QPalette::WindowText), theme::errorColor(theme::lightPalette()));
  QApplication::setPalette(before);
}

}  // namespace
}  // namespace seckill::console
