#pragma once

#include <QColor>
#include <QIdentityProxyModel>
#include <QPalette>
#include <QString>
#include <functional>
#include <optional>

#include "seckill/admin/v1/types.pb.h"

class QApplication;
class QLabel;
class QWidget;

// Colours that carry meaning (a state, a series, an error), chosen to read on the desktop's
// light and dark palettes alike. Text and backgrounds always come from the palette; only these
// accents are fixed, with a lighter variant on dark backgrounds. Widgets that set an accent on
// themselves do it through followPalette(), so a desktop switching light/dark re-colours them.
namespace seckill::console::theme {

namespace v1 = ::seckill::admin::v1;

// Where the application's palette comes from.
enum class Scheme {
  kDesktop,  // the desktop's (the platform theme's palette, or Fusion dark if it asks for dark)
  kLight,    // Fusion, light
  kDark,     // Fusion, dark
};
// "desktop", "light" or "dark"; nullopt for anything else.
std::optional<Scheme> parseScheme(const QString& text);
// Whether the desktop asks applications for a dark look: Qt >= 6.5 says (QStyleHints); older Qt
// is told by GTK_THEME ("Adwaita:dark"). False when nothing says so.
bool desktopPrefersDark();
// Fusion's palettes, with this console's link colours.
QPalette lightPalette();
QPalette darkPalette();
// Sets the application's style and palette for `scheme`. kDesktop keeps the platform's palette
// unless the desktop prefers dark and that palette is light; with Qt >= 6.5 it also follows the
// desktop's later switches. Call once, after the QApplication is made.
void applyScheme(QApplication& app, Scheme scheme);

// Whether the palette's window background is dark.
bool isDark(const QPalette& palette);

// Runs `restyle(widget)` now, and again after each change of the widget's palette (its parent's
// or the application's changed): for the accents a widget sets on its own palette. The palette
// to judge light or dark by is reference(widget). The follower is a child of `widget`.
void followPalette(QWidget* widget, std::function<void(QWidget*)> restyle);
// The palette `widget` inherits: its parent's, or the application's for a window.
QPalette reference(const QWidget* widget);
// Shows `label`'s text in errorColor(), following palette changes.
void markAsError(QLabel* label);

QColor breakerColor(v1::BreakerState state, const QPalette& palette);
QColor saleColor(v1::SaleState state, const QPalette& palette);
// A qualitative series palette (blue, orange, green, red, purple, ...), by index.
QColor seriesColor(int index, const QPalette& palette);
QColor errorColor(const QPalette& palette);
QColor okColor(const QPalette& palette);
QColor warningColor(const QPalette& palette);

// "<span style='color:#rrggbb'>●</span>" for rich-text labels.
QString dot(const QColor& color);

// Shows a model's state column (its kStateRole, see table_models.h) in the state's colour, bold
// when it is not the healthy one: a sold-out sale or an open breaker stands out in a table.
class StateColors : public QIdentityProxyModel {
 public:
  enum class Kind { kSale, kBreaker };
  StateColors(Kind kind, int column, QObject* parent);
  QVariant data(const QModelIndex& index, int role) const override;

 private:
  const Kind kind_;
  const int column_;
};

}  // namespace seckill::console::theme
