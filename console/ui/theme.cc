#include "console/ui/theme.h"

#include <QApplication>
#include <QEvent>
#include <QFont>
#include <QLabel>
#include <QStyle>
#include <QStyleFactory>
#include <QStyleHints>
#include <QWidget>
#include <memory>

#include "console/core/table_models.h"

namespace seckill::console::theme {
namespace {

QColor pick(const QPalette& palette, const char* light, const char* dark) {
  return QColor(QString::fromLatin1(isDark(palette) ? dark : light));
}

// Calls its function after each palette change of the widget it filters, once per burst: the
// call runs from the event loop, when the parent's and the application's palettes are final, and
// a palette the function sets itself ends the burst (the same palette again changes nothing).
class PaletteFollower : public QObject {
 public:
  PaletteFollower(QWidget* widget, std::function<void(QWidget*)> restyle)
      : QObject(widget), widget_(widget), restyle_(std::move(restyle)) {
    widget->installEventFilter(this);
  }

  bool eventFilter(QObject* watched, QEvent* event) override {
    const QEvent::Type type = event->type();
    if (watched == widget_ && !pending_ &&
        (type == QEvent::PaletteChange || type == QEvent::ApplicationPaletteChange)) {
      pending_ = true;
      QMetaObject::invokeMethod(
          this,
          [this] {
            pending_ = false;
            restyle_(widget_);
          },
          Qt::QueuedConnection);
    }
    return false;
  }

 private:
  QWidget* const widget_;  // the parent
  const std::function<void(QWidget*)> restyle_;
  bool pending_ = false;
};

}  // namespace

std::optional<Scheme> parseScheme(const QString& text) {
  const QString t = text.trimmed().toLower();
  if (t == QLatin1String("desktop")) return Scheme::kDesktop;
  if (t == QLatin1String("light")) return Scheme::kLight;
  if (t == QLatin1String("dark")) return Scheme::kDark;
  return std::nullopt;
}

bool desktopPrefersDark() {
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
  if (QGuiApplication::styleHints()->colorScheme() == Qt::ColorScheme::Dark) return true;
#endif
  return qEnvironmentVariable("GTK_THEME").endsWith(QLatin1String(":dark"), Qt::CaseInsensitive);
}

QPalette lightPalette() {
  const std::unique_ptr<QStyle> fusion(QStyleFactory::create(QStringLiteral("Fusion")));
  QPalette p = fusion->standardPalette();
  p.setColor(QPalette::Link, QColor(QStringLiteral("#1e6fd9")));
  return p;
}

QPalette darkPalette() {
  // Fusion's own structure (3D shades derived from the button colour) on dark greys.
  const QColor window(QStringLiteral("#2b2d30"));
  const QColor base(QStringLiteral("#1e1f22"));
  const QColor text(QStringLiteral("#e4e6eb"));
  const QColor disabled(QStringLiteral("#7d8087"));
  const QColor button(QStringLiteral("#3a3d42"));  // a step above the window: buttons stand out
  QPalette p(text, button, button.lighter(140), button.darker(160), button.darker(120), text, text,
             base, window);
  p.setColor(QPalette::AlternateBase, QColor(QStringLiteral("#26282b")));
  p.setColor(QPalette::ToolTipBase, QColor(QStringLiteral("#3c3f44")));
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::PlaceholderText, disabled);
  p.setColor(QPalette::Highlight, QColor(QStringLiteral("#3d7bd9")));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Link, QColor(QStringLiteral("#64a8ff")));
  p.setColor(QPalette::LinkVisited, QColor(QStringLiteral("#b197fc")));
  p.setColor(QPalette::Midlight, QColor(QStringLiteral("#3a3d42")));
  p.setColor(QPalette::Mid, QColor(QStringLiteral("#4a4e55")));
  for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
    p.setColor(QPalette::Disabled, role, disabled);
  }
  p.setColor(QPalette::Disabled, QPalette::Base, window);
  p.setColor(QPalette::Disabled, QPalette::Button, window);
  return p;
}

void applyScheme(QApplication& app, Scheme scheme) {
  // The platform theme's palette is the desktop's when it knows (Plasma; GNOME with Qt >= 6.5).
  auto apply = [&app, scheme, platform = QApplication::palette()] {
    bool dark = scheme == Scheme::kDark;
    if (scheme == Scheme::kDesktop) {
      if (isDark(platform) || !desktopPrefersDark()) {
        QApplication::setPalette(platform);
        return;
      }
      dark = true;
    }
    // Fusion draws with the palette it is given (native styles may not).
    if (app.style()->name().compare(QLatin1String("fusion"), Qt::CaseInsensitive) != 0) {
      QApplication::setStyle(QStringLiteral("Fusion"));
    }
    QApplication::setPalette(dark ? darkPalette() : lightPalette());
  };
  apply();
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
  if (scheme == Scheme::kDesktop) {
    QObject::connect(QGuiApplication::styleHints(), &QStyleHints::colorSchemeChanged, &app,
                     [apply](Qt::ColorScheme) { apply(); });
  }
#endif
}

void followPalette(QWidget* widget, std::function<void(QWidget*)> restyle) {
  restyle(widget);
  new PaletteFollower(widget, std::move(restyle));
}

QPalette reference(const QWidget* widget) {
  if (widget->parentWidget() != nullptr && !widget->isWindow()) {
    return widget->parentWidget()->palette();
  }
  return QApplication::palette(widget);
}

void markAsError(QLabel* label) {
  followPalette(label, [](QWidget* w) {
    QPalette p = w->palette();
    p.setColor(QPalette::WindowText, errorColor(reference(w)));
    w->setPalette(p);
  });
}

bool isDark(const QPalette& palette) { return palette.color(QPalette::Window).lightness() < 128; }

QColor breakerColor(v1::BreakerState state, const QPalette& palette) {
  switch (state) {
    case v1::CLOSED:
      return pick(palette, "#2e9d4f", "#4cc26f");
    case v1::OPEN:
      return pick(palette, "#d32f2f", "#ff5c5c");
    case v1::HALF_OPEN:
      return pick(palette, "#ef8a00", "#ffab40");
    case v1::FORCED_OPEN:
      return pick(palette, "#8e0000", "#ff1744");
    case v1::DISABLED:
      return pick(palette, "#8a8a8a", "#9e9e9e");
    case v1::METRICS_ONLY:
      return pick(palette, "#1e6fd9", "#64a8ff");
    default:
      return QColor(Qt::transparent);
  }
}

QColor saleColor(v1::SaleState state, const QPalette& palette) {
  switch (state) {
    case v1::OPEN_NOW:
      return okColor(palette);
    case v1::SOLD_OUT:
      return errorColor(palette);
    case v1::SCHEDULED:
      return pick(palette, "#1e6fd9", "#64a8ff");
    case v1::CLOSED_NOW:
      return pick(palette, "#8a8a8a", "#9e9e9e");
    default:
      return palette.color(QPalette::Text);
  }
}

QColor seriesColor(int index, const QPalette& palette) {
  static const char* const kLight[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                       "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  static const char* const kDark[] = {"#5aa9e6", "#ffa94d", "#69db7c", "#ff6b6b",
                                      "#b197fc", "#d0a17a", "#f783ac", "#3bc9db"};
  const int i = ((index % 8) + 8) % 8;
  return pick(palette, kLight[i], kDark[i]);
}

QColor errorColor(const QPalette& palette) { return pick(palette, "#c62828", "#ff6b6b"); }
QColor okColor(const QPalette& palette) { return pick(palette, "#2e7d32", "#69db7c"); }
QColor warningColor(const QPalette& palette) { return pick(palette, "#b26a00", "#ffc048"); }

QString dot(const QColor& color) {
  return QStringLiteral("<span style=\"color:%1\">●</span>").arg(color.name());
}

StateColors::StateColors(Kind kind, int column, QObject* parent)
    : QIdentityProxyModel(parent), kind_(kind), column_(column) {}

QVariant StateColors::data(const QModelIndex& index, int role) const {
  if (index.column() != column_ || (role != Qt::ForegroundRole && role != Qt::FontRole)) {
    return QIdentityProxyModel::data(index, role);
  }
  const int state = QIdentityProxyModel::data(index, kStateRole).toInt();
  const QPalette palette = QApplication::palette();
  const bool healthy = kind_ == Kind::kSale ? state == v1::OPEN_NOW : state == v1::CLOSED;
  if (role == Qt::FontRole) {
    if (healthy) return {};
    QFont bold;
    bold.setBold(true);
    return bold;
  }
  return kind_ == Kind::kSale ? saleColor(static_cast<v1::SaleState>(state), palette)
                              : breakerColor(static_cast<v1::BreakerState>(state), palette);
}

}  // namespace seckill::console::theme
