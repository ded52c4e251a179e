#include "console/ui/command_line.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QCoreApplication>

namespace seckill::console {
namespace {

QCommandLineOption hidden(QCommandLineOption option) {
  option.setFlags(QCommandLineOption::HiddenFromHelp);
  return option;
}

}  // namespace

std::optional<ConsoleOptions> parseCommandLine(const QStringList& arguments, QString* output,
                                               int* exit_code) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QCoreApplication::translate(
      "main",
      "The operator console of seckill engines: live traffic, rules, breakers and sales.\n"
      "Without --engine it opens the connect dialog."));
  const QCommandLineOption help = parser.addHelpOption();
  const QCommandLineOption version = parser.addVersionOption();
  const QCommandLineOption engine(
      QStringLiteral("engine"),
      QStringLiteral("The engine's admin API (its [admin] listen), HOST:PORT. Repeat for the "
                     "nodes of one fleet; the first one is where changes go."),
      QStringLiteral("HOST:PORT"));
  const QCommandLineOption token_file(
      QStringLiteral("token-file"),
      QStringLiteral("A file whose first line starts with the token (the engine's tokens file "
                     "format works). One for every engine, or one per --engine in order."),
      QStringLiteral("PATH"));
  const QCommandLineOption tls(QStringLiteral("tls"), QStringLiteral("Talk TLS to the engines."));
  const QCommandLineOption tls_ca(QStringLiteral("tls-ca"),
                                  QStringLiteral("The CA certificates (PEM) to trust with --tls."),
                                  QStringLiteral("FILE"));
  const QCommandLineOption tls_server_name(
      QStringLiteral("tls-server-name"),
      QStringLiteral("The name the engine's certificate must carry (default: the host)."),
      QStringLiteral("NAME"));
  const QCommandLineOption theme_option(
      QStringLiteral("theme"),
      QStringLiteral("desktop (the default: light or dark as the desktop asks), light or dark."),
      QStringLiteral("SCHEME"), QStringLiteral("desktop"));
  const QCommandLineOption settings = hidden(QCommandLineOption(
      QStringLiteral("settings"), QStringLiteral("settings file"), QStringLiteral("FILE")));
  const QCommandLineOption shots = hidden(QCommandLineOption(
      QStringLiteral("screenshot-dir"), QStringLiteral("screenshots"), QStringLiteral("DIR")));
  const QCommandLineOption shots_after = hidden(QCommandLineOption(
      QStringLiteral("screenshot-after"), QStringLiteral("seconds"), QStringLiteral("SECONDS")));
  const QCommandLineOption range = hidden(QCommandLineOption(
      QStringLiteral("range"), QStringLiteral("seconds"), QStringLiteral("SECONDS")));
  const QCommandLineOption measure =
      hidden(QCommandLineOption(QStringLiteral("measure"), QStringLiteral("figures")));
  const QCommandLineOption synthetic = hidden(QCommandLineOption(
      QStringLiteral("synthetic-history"), QStringLiteral("seconds"), QStringLiteral("SECONDS")));
  const QCommandLineOption quit_after = hidden(QCommandLineOption(
      QStringLiteral("quit-after"), QStringLiteral("seconds"), QStringLiteral("SECONDS")));
  parser.addOptions({engine, token_file, tls, tls_ca, tls_server_name, theme_option, settings,
                     shots, shots_after, range, measure, synthetic, quit_after});

  auto fail = [&](const QString& message) -> std::optional<ConsoleOptions> {
    *output = QStringLiteral("seckill-console: %1\n").arg(message);
    *exit_code = 2;
    return std::nullopt;
  };
  if (!parser.parse(arguments)) return fail(parser.errorText());
  if (parser.isSet(help)) {
    *output = parser.helpText();
    *exit_code = 0;
    return std::nullopt;
  }
  if (parser.isSet(version)) {
    *output = QStringLiteral("seckill-console %1\n").arg(QCoreApplication::applicationVersion());
    *exit_code = 0;
    return std::nullopt;
  }
  if (!parser.positionalArguments().isEmpty()) {
    return fail(QStringLiteral("unexpected argument %1 (see --help)")
                    .arg(parser.positionalArguments().first()));
  }

  ConsoleOptions out;
  const QStringList targets = parser.values(engine);
  const QStringList files = parser.values(token_file);
  if (!targets.isEmpty() && files.isEmpty()) {
    return fail(QStringLiteral("--engine needs --token-file"));
  }
  if (files.size() > 1 && files.size() != targets.size()) {
    return fail(QStringLiteral("give one --token-file, or one per --engine (%1 engines, %2 files)")
                    .arg(targets.size())
                    .arg(files.size()));
  }
  if (!parser.isSet(tls) && (parser.isSet(tls_ca) || parser.isSet(tls_server_name))) {
    return fail(QStringLiteral("--tls-ca and --tls-server-name need --tls"));
  }
  for (qsizetype i = 0; i < targets.size(); ++i) {
    EngineAddress a;
    a.target = targets[i].trimmed();
    if (a.target.isEmpty() || !a.target.contains(QLatin1Char(':'))) {
      return fail(QStringLiteral("--engine %1: expected HOST:PORT").arg(targets[i]));
    }
    a.token_file = files.size() == 1 ? files.first() : files[i];
    QString error;
    a.token = readTokenFile(a.token_file, &error);
    if (a.token.isEmpty()) return fail(error);
    a.tls = parser.isSet(tls);
    a.tls_ca_file = parser.value(tls_ca);
    a.tls_server_name = parser.value(tls_server_name);
    out.engines.append(a);
  }
  out.settings_file = parser.value(settings);
  const std::optional<theme::Scheme> scheme = theme::parseScheme(parser.value(theme_option));
  if (!scheme) return fail(QStringLiteral("--theme: desktop, light or dark"));
  out.scheme = *scheme;
  out.screenshot_dir = parser.value(shots);
  bool ok = true;
  if (parser.isSet(shots_after)) {
    out.screenshot_after_s = parser.value(shots_after).remove(QLatin1Char('s')).toInt(&ok);
    if (!ok || out.screenshot_after_s < 0) {
      return fail(QStringLiteral("--screenshot-after: a number of seconds"));
    }
  }
  if (parser.isSet(range)) {
    out.range_s = parser.value(range).toInt(&ok);
    if (!ok || (out.range_s != 60 && out.range_s != 300 && out.range_s != 3600)) {
      return fail(QStringLiteral("--range: 60, 300 or 3600"));
    }
  }
  out.measure = parser.isSet(measure);
  if (parser.isSet(synthetic)) {
    out.synthetic_history_s = parser.value(synthetic).toInt(&ok);
    if (!ok || out.synthetic_history_s < 0) {
      return fail(QStringLiteral("--synthetic-history: a number of seconds"));
    }
  }
  if (parser.isSet(quit_after)) {
    out.quit_after_s = parser.value(quit_after).toInt(&ok);
    if (!ok || out.quit_after_s < 0) {
      return fail(QStringLiteral("--quit-after: a number of seconds"));
    }
  }
  return out;
}

}  // namespace seckill::console
