// seckill-render-icons SVG OUT_DIR: renders the console's icon into the hicolor PNG sizes
// (OUT_DIR/hicolor/<n>x<n>/seckill-console.png, n = 16 32 48 64 128 256), as committed under
// assets/icons. Build target seckill-console-icons runs it on assets/icons/seckill-console.svg.
#include <QDir>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QSvgRenderer>
#include <cstdio>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QGuiApplication app(argc, argv);
  const QStringList args = QCoreApplication::arguments();
  if (args.size() != 3) {
    std::fprintf(stderr, "usage: seckill-render-icons SVG OUT_DIR\n");
    return 2;
  }
  QSvgRenderer svg(args[1]);
  if (!svg.isValid()) {
    std::fprintf(stderr, "seckill-render-icons: cannot read %s\n", qPrintable(args[1]));
    return 1;
  }
  for (int size : {16, 32, 48, 64, 128, 256}) {
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    svg.render(&painter, QRectF(0, 0, size, size));
    painter.end();
    const QString dir = QStringLiteral("%1/hicolor/%2x%2").arg(args[2]).arg(size);
    const QString path = dir + QStringLiteral("/seckill-console.png");
    if (!QDir().mkpath(dir) || !image.save(path, "PNG")) {
      std::fprintf(stderr, "seckill-render-icons: cannot write %s\n", qPrintable(path));
      return 1;
    }
  }
  return 0;
}
