#pragma once

#include <QDialog>
#include <QList>

#include "console/core/engine_session.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSettings;

namespace seckill::console {

// Where to connect: the engine's admin address (several, comma-separated, for the nodes of one
// fleet), the token from a file or typed, and TLS (CA file, server name). Recent engines are
// offered from QSettings; a typed token is stored there only when "remember token" is ticked
// (a token file's path is remembered, never its content).
class ConnectDialog : public QDialog {
  Q_OBJECT

 public:
  ConnectDialog(QSettings& settings, QWidget* parent = nullptr);

  // The engines to connect to (valid after accept()).
  QList<EngineAddress> addresses() const { return addresses_; }

  void accept() override;

  // For tests.
  QComboBox* addressBox() const { return address_; }
  QLineEdit* tokenEdit() const { return token_; }
  QLineEdit* tokenFileEdit() const { return token_file_; }
  QRadioButton* typedToken() const { return typed_; }
  QCheckBox* rememberToken() const { return remember_; }
  QLabel* problem() const { return problem_; }

 private:
  void loadRecent(int index);
  void updateEnabled();

  QSettings& settings_;
  QComboBox* address_;
  QRadioButton* from_file_;
  QRadioButton* typed_;
  QLineEdit* token_file_;
  QLineEdit* token_;
  QCheckBox* remember_;
  QCheckBox* tls_;
  QLineEdit* ca_;
  QLineEdit* server_name_;
  QLabel* problem_;
  QList<EngineAddress> addresses_;
};

// The recent engines in `settings`, newest first / remembering one (at most 10 are kept).
QList<EngineAddress> recentEngines(QSettings& settings);
void rememberEngine(QSettings& settings, const EngineAddress& address, bool remember_token);

}  // namespace seckill::console
