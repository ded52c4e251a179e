// seckill-console's command line: --help lists the options, --engine connects at start with the
// token of --token-file, one token file per engine or one for all, and the mistakes an operator
// makes are refused with a sentence and exit code 2.
#include "console/ui/command_line.h"

#include <QFile>
#include <QTemporaryDir>

#include "gtest/gtest.h"

namespace seckill::console {
namespace {

struct Parsed {
  std::optional<ConsoleOptions> options;
  QString output;
  int exit_code = -1;
};

Parsed parse(QStringList args) {
  args.prepend(QStringLiteral("seckill-console"));
  Parsed p;
  p.options = parseCommandLine(args, &p.output, &p.exit_code);
  return p;
}

QString writeToken(const QTemporaryDir& dir, const QString& name, const QByteArray& text) {
  QFile f(dir.filePath(name));
  EXPECT_TRUE(f.open(QIODevice::WriteOnly));
  f.write(text);
  f.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
  return f.fileName();
}

TEST(CommandLineTest, HelpListsTheOperatorsOptionsOnly) {
  const Parsed p = parse({"--help"});
  ASSERT_FALSE(p.options.has_value());
  EXPECT_EQ(p.exit_code, 0);
  for (const char* option :
       {"--engine", "--token-file", "--tls", "--tls-ca", "--tls-server-name", "--theme"}) {
    EXPECT_TRUE(p.output.contains(QString::fromLatin1(option))) << option;
  }
  EXPECT_FALSE(p.output.contains("--screenshot-dir")) << "the hidden options stay hidden";
  EXPECT_FALSE(p.output.contains("--synthetic-history"));
}

TEST(CommandLineTest, EnginesWithTheirTokens) {
  QTemporaryDir dir;
  const QString a = writeToken(dir, "a", "# ops\n\ntok-a operator alice\n");
  const QString b = writeToken(dir, "b", "tok-b\n");
  Parsed p = parse({"--engine", "10.0.0.1:9090", "--engine", "10.0.0.2:9090", "--token-file", a,
                    "--token-file", b, "--theme", "dark"});
  ASSERT_TRUE(p.options.has_value()) << p.output.toStdString();
  ASSERT_EQ(p.options->engines.size(), 2);
  EXPECT_EQ(p.options->engines[0].target, "10.0.0.1:9090");
  EXPECT_EQ(p.options->engines[0].token, "tok-a") << "the first word of the first real line";
  EXPECT_EQ(p.options->engines[1].token, "tok-b");
  EXPECT_EQ(p.options->engines[1].token_file, b);
  EXPECT_EQ(p.options->scheme, theme::Scheme::kDark);

  p = parse({"--engine", "h1:1", "--engine", "h2:2", "--token-file", a});
  ASSERT_TRUE(p.options.has_value());
  EXPECT_EQ(p.options->engines[1].token, "tok-a") << "one file for every engine";
  EXPECT_EQ(p.options->scheme, theme::Scheme::kDesktop);

  p = parse({});
  ASSERT_TRUE(p.options.has_value());
  EXPECT_TRUE(p.options->engines.isEmpty()) << "no engine: the connect dialog";
}

TEST(CommandLineTest, MistakesAreRefusedWithTheReason) {
  QTemporaryDir dir;
  const QString a = writeToken(dir, "a", "tok-a\n");
  const struct {
    QStringList args;
    const char* says;
  } cases[] = {
      {{"--engine", "h:1"}, "--engine needs --token-file"},
      {{"--engine", "no-port", "--token-file", a}, "expected HOST:PORT"},
      {{"--engine", "h:1", "--engine", "h:2", "--engine", "h:3", "--token-file", a, "--token-file",
        a},
       "one per --engine"},
      {{"--engine", "h:1", "--token-file", dir.filePath("missing")}, "missing"},
      {{"--tls-ca", a}, "need --tls"},
      {{"--theme", "pink"}, "--theme"},
      {{"--range", "120"}, "60, 300 or 3600"},
      {{"stray"}, "unexpected argument"},
  };
  for (const auto& c : cases) {
    const Parsed p = parse(c.args);
    EXPECT_FALSE(p.options.has_value()) << c.args.join(' ').toStdString();
    EXPECT_EQ(p.exit_code, 2) << c.args.join(' ').toStdString();
    EXPECT_TRUE(p.output.contains(QString::fromLatin1(c.says)))
        << c.args.join(' ').toStdString() << ": " << p.output.toStdString();
  }
}

}  // namespace
}  // namespace seckill::console
