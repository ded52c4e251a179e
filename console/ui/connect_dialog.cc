#include "console/ui/connect_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSettings>
#include <QVBoxLayout>

#include "console/ui/theme.h"

namespace seckill::console {
namespace {

constexpr int kMaxRecent = 10;

QString key(const QString& target) { return target.trimmed(); }

}  // namespace

QList<EngineAddress> recentEngines(QSettings& settings) {
  QList<EngineAddress> out;
  const int n = settings.beginReadArray(QStringLiteral("recent"));
  for (int i = 0; i < n; ++i) {
    settings.setArrayIndex(i);
    EngineAddress a;
    a.target = settings.value(QStringLiteral("target")).toString();
    a.token_file = settings.value(QStringLiteral("token_file")).toString();
    a.token = settings.value(QStringLiteral("token")).toString();
    a.tls = settings.value(QStringLiteral("tls")).toBool();
    a.tls_ca_file = settings.value(QStringLiteral("tls_ca")).toString();
    a.tls_server_name = settings.value(QStringLiteral("tls_server_name")).toString();
    if (!a.target.isEmpty()) out.append(a);
  }
  settings.endArray();
  return out;
}

void rememberEngine(QSettings& settings, const EngineAddress& address, bool remember_token) {
  QList<EngineAddress> recent = recentEngines(settings);
  recent.erase(
      std::remove_if(recent.begin(), recent.end(),
                     [&](const EngineAddress& a) { return key(a.target) == key(address.target); }),
      recent.end());
  EngineAddress kept = address;
  // A token read from a file is never stored: the path is.
  if (!remember_token || !address.token_file.isEmpty()) kept.token.clear();
  recent.prepend(kept);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.beginWriteArray(QStringLiteral("recent"), static_cast<int>(recent.size()));
  for (int i = 0; i < recent.size(); ++i) {
    settings.setArrayIndex(i);
    const EngineAddress& a = recent[i];
    settings.setValue(QStringLiteral("target"), a.target);
    settings.setValue(QStringLiteral("token_file"), a.token_file);
    if (a.token.isEmpty()) {
      settings.remove(QStringLiteral("token"));
    } else {
      settings.setValue(QStringLiteral("token"), a.token);
    }
    settings.setValue(QStringLiteral("tls"), a.tls);
    settings.setValue(QStringLiteral("tls_ca"), a.tls_ca_file);
    settings.setValue(QStringLiteral("tls_server_name"), a.tls_server_name);
  }
  settings.endArray();
}

ConnectDialog::ConnectDialog(QSettings& settings, QWidget* parent)
    : QDialog(parent), settings_(settings) {
  setWindowTitle(tr("Connect to an engine"));
  address_ = new QComboBox(this);
  address_->setEditable(true);
  address_->setInsertPolicy(QComboBox::NoInsert);
  address_->lineEdit()->setPlaceholderText(QStringLiteral("127.0.0.1:9090"));
  address_->setToolTip(
      tr("HOST:PORT of the engine's [admin] listen; several, comma-separated, for the nodes of one "
         "fleet"));
  for (const EngineAddress& a : recentEngines(settings_)) address_->addItem(a.target);

  from_file_ = new QRadioButton(tr("Token file"), this);
  typed_ = new QRadioButton(tr("Token"), this);
  from_file_->setChecked(true);
  token_file_ = new QLineEdit(this);
  token_file_->setPlaceholderText(tr("a file whose first line starts with the token"));
  auto* browse = new QPushButton(tr("Browse…"), this);
  token_ = new QLineEdit(this);
  token_->setEchoMode(QLineEdit::Password);
  remember_ = new QCheckBox(tr("Remember this token on this computer"), this);
  remember_->setToolTip(
      tr("Stored in the console's settings file in plain text; leave off on shared machines"));

  tls_ = new QCheckBox(tr("TLS"), this);
  ca_ = new QLineEdit(this);
  ca_->setPlaceholderText(tr("CA file (PEM); empty: the system's roots"));
  auto* browse_ca = new QPushButton(tr("Browse…"), this);
  server_name_ = new QLineEdit(this);
  server_name_->setPlaceholderText(tr("server name in the certificate; empty: the host"));

  problem_ = new QLabel(this);
  problem_->setWordWrap(true);
  theme::markAsError(problem_);

  auto* form = new QFormLayout();
  form->addRow(tr("Engine"), address_);
  auto* file_row = new QHBoxLayout();
  file_row->addWidget(token_file_, 1);
  file_row->addWidget(browse);
  form->addRow(from_file_, file_row);
  form->addRow(typed_, token_);
  form->addRow(QString(), remember_);
  form->addRow(QString(), tls_);
  auto* ca_row = new QHBoxLayout();
  ca_row->addWidget(ca_, 1);
  ca_row->addWidget(browse_ca);
  form->addRow(tr("CA file"), ca_row);
  form->addRow(tr("Server name"), server_name_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(problem_);
  layout->addWidget(buttons);

  connect(buttons, &QDialogButtonBox::accepted, this, &ConnectDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Token file"), QDir::homePath());
    if (!f.isEmpty()) token_file_->setText(f);
  });
  connect(browse_ca, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("CA file"), QDir::homePath(),
                                                   tr("PEM (*.pem *.crt);;All files (*)"));
    if (!f.isEmpty()) ca_->setText(f);
  });
  for (QRadioButton* r : {from_file_, typed_}) {
    connect(r, &QRadioButton::toggled, this, &ConnectDialog::updateEnabled);
  }
  connect(tls_, &QCheckBox::toggled, this, &ConnectDialog::updateEnabled);
  connect(address_, &QComboBox::activated, this, &ConnectDialog::loadRecent);
  if (address_->count() > 0) loadRecent(0);
  updateEnabled();
  resize(560, sizeHint().height());
}

void ConnectDialog::loadRecent(int index) {
  const QList<EngineAddress> recent = recentEngines(settings_);
  if (index < 0 || index >= recent.size()) return;
  const EngineAddress& a = recent[index];
  address_->setEditText(a.target);
  token_file_->setText(a.token_file);
  token_->setText(a.token);
  (a.token_file.isEmpty() && !a.token.isEmpty() ? typed_ : from_file_)->setChecked(true);
  remember_->setChecked(!a.token.isEmpty());
  tls_->setChecked(a.tls);
  ca_->setText(a.tls_ca_file);
  server_name_->setText(a.tls_server_name);
  updateEnabled();
}

void ConnectDialog::updateEnabled() {
  token_file_->setEnabled(from_file_->isChecked());
  token_->setEnabled(typed_->isChecked());
  remember_->setEnabled(typed_->isChecked());
  ca_->setEnabled(tls_->isChecked());
  server_name_->setEnabled(tls_->isChecked());
}

void ConnectDialog::accept() {
  static const QRegularExpression kTarget(
      QStringLiteral("^[^\\s:,]+:[0-9]{1,5}$|^\\[[0-9a-fA-F:]+\\]:[0-9]{1,5}$"));
  QStringList targets;
  for (const QString& t : address_->currentText().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    targets << t.trimmed();
  }
  if (targets.isEmpty()) {
    problem_->setText(tr("Give the engine's admin address, HOST:PORT."));
    return;
  }
  for (const QString& t : targets) {
    if (!kTarget.match(t).hasMatch()) {
      problem_->setText(tr("\"%1\" is not HOST:PORT.").arg(t));
      return;
    }
  }
  EngineAddress base;
  if (from_file_->isChecked()) {
    QString error;
    base.token_file = token_file_->text().trimmed();
    base.token = readTokenFile(base.token_file, &error);
    if (base.token.isEmpty()) {
      problem_->setText(base.token_file.isEmpty() ? tr("Choose the token file.") : error);
      return;
    }
  } else {
    base.token = token_->text().trimmed();
    if (base.token.isEmpty()) {
      problem_->setText(tr("Type the token, or choose a token file."));
      return;
    }
  }
  base.tls = tls_->isChecked();
  if (base.tls) {
    base.tls_ca_file = ca_->text().trimmed();
    base.tls_server_name = server_name_->text().trimmed();
  }
  addresses_.clear();
  for (const QString& t : targets) {
    EngineAddress a = base;
    a.target = t;
    addresses_.append(a);
  }
  EngineAddress remembered = base;
  remembered.target = targets.join(QStringLiteral(", "));
  rememberEngine(settings_, remembered, typed_->isChecked() && remember_->isChecked());
  QDialog::accept();
}

}  // namespace seckill::console
