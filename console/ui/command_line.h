#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

#include "console/core/engine_session.h"
#include "console/ui/theme.h"

namespace seckill::console {

// What seckill-console was started with.
struct ConsoleOptions {
  QList<EngineAddress> engines;  // empty: show the connect dialog
  QString settings_file;         // hidden: an INI file instead of the user's settings
  theme::Scheme scheme = theme::Scheme::kDesktop;  // --theme
  // Hidden, for docs/img and benchmarks:
  QString screenshot_dir;  // save each screen as console-<screen>.png there, then quit
  int screenshot_after_s = 20;
  int range_s = 0;              // the dashboard's range at start (0: as remembered)
  bool measure = false;         // print the start-up and event-loop figures to stderr
  int synthetic_history_s = 0;  // prefill each node with this many made-up seconds
  int quit_after_s = 0;         // quit by itself (benchmarks)
};

// Parses the arguments (argv[0] first). Returns nullopt with `*exit_code` set when the process
// should end at once: 0 after --help / --version (text in `*output`), 2 on a bad argument
// (message in `*output`). Token files are read here.
std::optional<ConsoleOptions> parseCommandLine(const QStringList& arguments, QString* output,
                                               int* exit_code);

}  // namespace seckill::console
