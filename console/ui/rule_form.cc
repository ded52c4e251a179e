#include "console/ui/rule_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>

#include "console/core/labels.h"
#include "console/ui/theme.h"

namespace seckill::console {
namespace {

namespace v1 = ::seckill::admin::v1;

constexpr int kMaxSpin = 1'000'000'000;

google::protobuf::Duration durationOfMs(qint64 ms) {
  google::protobuf::Duration d;
  d.set_seconds(ms / 1000);
  d.set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
  return d;
}

qint64 msOf(const google::protobuf::Duration& d) {
  return d.seconds() * 1000 + d.nanos() / 1000000;
}

QSpinBox* spin(int min, QWidget* parent) {
  auto* s = new QSpinBox(parent);
  s->setRange(min, kMaxSpin);
  s->setGroupSeparatorShown(true);
  s->setAccelerated(true);
  return s;
}

}  // namespace

RuleForm::RuleForm(QWidget* parent) : QWidget(parent) {
  path_ = new QLineEdit(this);
  path_->setPlaceholderText(QStringLiteral("/api/v1/sales/*/orders"));
  path_->setToolTip(
      tr("Path pattern: literal segments, * for one segment, a final ** for the rest"));
  method_ = new QComboBox(this);
  method_->addItem(tr("any"), QString());
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    method_->addItem(QString::fromLatin1(m), QString::fromLatin1(m));
  }
  scope_ = new QComboBox(this);
  scope_->addItem(QStringLiteral("global"), static_cast<int>(v1::GLOBAL));
  scope_->addItem(QStringLiteral("user"), static_cast<int>(v1::USER));
  scope_->addItem(QStringLiteral("ip"), static_cast<int>(v1::IP));
  scope_->addItem(QStringLiteral("header"), static_cast<int>(v1::HEADER));
  header_ = new QLineEdit(this);
  header_->setPlaceholderText(tr("header name, lower-case"));
  algorithm_ = new QComboBox(this);
  for (v1::Algorithm a :
       {v1::TOKEN_BUCKET, v1::LEAKY_BUCKET, v1::SLIDING_WINDOW, v1::SLIDING_LOG}) {
    algorithm_->addItem(label(a), static_cast<int>(a));
  }
  rate_ = spin(0, this);
  per_ = new QComboBox(this);
  for (v1::Per p : {v1::SECOND, v1::MINUTE, v1::HOUR}) {
    per_->addItem(QStringLiteral("per ") + label(p), static_cast<int>(p));
  }
  burst_ = spin(0, this);
  queue_ = spin(0, this);
  warmup_ = new QDoubleSpinBox(this);
  warmup_->setRange(0, 3600);
  warmup_->setSuffix(QStringLiteral(" s"));
  warmup_->setDecimals(1);
  on_limit_ = new QComboBox(this);
  on_limit_->addItem(tr("reject (429)"), static_cast<int>(v1::REJECT));
  on_limit_->addItem(tr("queue (wait for a slot)"), static_cast<int>(v1::QUEUE));
  on_limit_->addItem(tr("log (admit and count)"), static_cast<int>(v1::LOG));
  max_wait_ = new QSpinBox(this);
  max_wait_->setRange(0, 600000);
  max_wait_->setSuffix(QStringLiteral(" ms"));
  max_wait_->setSingleStep(50);
  distributed_ = new QCheckBox(tr("shared by every node through Redis"), this);
  id_ = new QLabel(this);
  id_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  id_->setWordWrap(true);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);

  fields_ = {{QStringLiteral("path"), path_},
             {QStringLiteral("method"), method_},
             {QStringLiteral("scope"), scope_},
             {QStringLiteral("algorithm"), algorithm_},
             {QStringLiteral("rate"), rate_},
             {QStringLiteral("per"), per_},
             {QStringLiteral("burst"), burst_},
             {QStringLiteral("queue"), queue_},
             {QStringLiteral("warmup"), warmup_},
             {QStringLiteral("on_limit"), on_limit_},
             {QStringLiteral("max_wait"), max_wait_},
             {QStringLiteral("distributed"), distributed_},
             {QStringLiteral("id"), id_}};

  auto* form = new QFormLayout();
  form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
  auto row = [this, form](const QString& text, const QString& key, QWidget* widget,
                          QWidget* extra = nullptr) {
    auto* box = new QVBoxLayout();
    box->setSpacing(1);
    auto* line = new QHBoxLayout();
    line->addWidget(widget, 1);
    if (extra != nullptr) line->addWidget(extra, 1);
    box->addLayout(line);
    auto* error = new QLabel(this);
    error->setWordWrap(true);
    error->hide();
    theme::markAsError(error);
    errors_[key] = error;
    box->addWidget(error);
    form->addRow(text, box);
  };
  row(tr("Path"), QStringLiteral("path"), path_);
  row(tr("Method"), QStringLiteral("method"), method_);
  row(tr("Scope"), QStringLiteral("scope"), scope_, header_);
  row(tr("Algorithm"), QStringLiteral("algorithm"), algorithm_);
  row(tr("Rate"), QStringLiteral("rate"), rate_, per_);
  row(tr("Burst"), QStringLiteral("burst"), burst_);
  row(tr("Queue"), QStringLiteral("queue"), queue_);
  row(tr("Warm-up"), QStringLiteral("warmup"), warmup_);
  row(tr("On limit"), QStringLiteral("on_limit"), on_limit_);
  row(tr("Max wait"), QStringLiteral("max_wait"), max_wait_);
  row(tr("Distributed"), QStringLiteral("distributed"), distributed_);
  row(tr("Id"), QStringLiteral("id"), id_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(form);
  layout->addWidget(summary_);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(300);
  connect(debounce_, &QTimer::timeout, this, [this] {
    if (local_.empty()) emit validateRequested(rule());
  });

  auto edited = [this] { onEdited(); };
  connect(path_, &QLineEdit::textChanged, this, edited);
  connect(header_, &QLineEdit::textChanged, this, edited);
  for (QComboBox* c : {method_, scope_, algorithm_, per_, on_limit_}) {
    connect(c, &QComboBox::currentIndexChanged, this, edited);
  }
  for (QSpinBox* s : {rate_, burst_, queue_, max_wait_}) {
    connect(s, &QSpinBox::valueChanged, this, edited);
  }
  connect(warmup_, &QDoubleSpinBox::valueChanged, this, edited);
  connect(distributed_, &QCheckBox::toggled, this, edited);
  newRule(QStringLiteral("/api/v1/sales/*/orders"));
}

QWidget* RuleForm::field(const QString& key) const {
  auto it = fields_.find(key);
  return it == fields_.end() ? nullptr : it->second;
}

QLabel* RuleForm::errorLabel(const QString& key) const {
  auto it = errors_.find(key);
  return it == errors_.end() ? nullptr : it->second;
}

void RuleForm::edit(const v1::Rule& rule, const QString& target) {
  loading_ = true;
  original_ = rule;
  target_ = target;
  path_->setText(QString::fromStdString(rule.path()));
  const QString method = QString::fromStdString(rule.method());
  if (method_->findData(method) < 0) method_->addItem(method, method);
  method_->setCurrentIndex(method_->findData(method));
  scope_->setCurrentIndex(std::max(0, scope_->findData(static_cast<int>(rule.scope().kind()))));
  header_->setText(QString::fromStdString(rule.scope().header()));
  algorithm_->setCurrentIndex(
      std::max(0, algorithm_->findData(static_cast<int>(rule.algorithm()))));
  rate_->setValue(static_cast<int>(std::min<int64_t>(rule.rate(), kMaxSpin)));
  per_->setCurrentIndex(std::max(0, per_->findData(static_cast<int>(rule.per()))));
  burst_->setValue(static_cast<int>(std::min<int64_t>(rule.burst(), kMaxSpin)));
  queue_->setValue(static_cast<int>(std::min<int64_t>(rule.queue(), kMaxSpin)));
  warmup_->setValue(static_cast<double>(msOf(rule.warmup())) / 1000.0);
  on_limit_->setCurrentIndex(std::max(0, on_limit_->findData(static_cast<int>(rule.on_limit()))));
  max_wait_->setValue(static_cast<int>(msOf(rule.max_wait())));
  distributed_->setChecked(rule.distributed());
  loading_ = false;
  onEdited();
}

void RuleForm::newRule(const QString& path) {
  v1::Rule r;
  r.set_path(path.toStdString());
  r.set_method("POST");
  r.mutable_scope()->set_kind(v1::GLOBAL);
  r.set_algorithm(v1::TOKEN_BUCKET);
  r.set_rate(10);
  r.set_per(v1::SECOND);
  r.set_burst(20);
  r.set_on_limit(v1::REJECT);
  edit(r, QString());
}

v1::Rule RuleForm::rule() const {
  v1::Rule r;
  r.set_path(path_->text().trimmed().toStdString());
  r.set_method(method_->currentData().toString().toStdString());
  r.mutable_scope()->set_kind(static_cast<v1::ScopeKind>(scope_->currentData().toInt()));
  if (r.scope().kind() == v1::HEADER) {
    r.mutable_scope()->set_header(header_->text().trimmed().toStdString());
  }
  r.set_algorithm(static_cast<v1::Algorithm>(algorithm_->currentData().toInt()));
  r.set_rate(rate_->value());
  r.set_per(static_cast<v1::Per>(per_->currentData().toInt()));
  r.set_burst(burst_->value());
  r.set_queue(queue_->value());
  if (warmup_->value() > 0) {
    *r.mutable_warmup() = durationOfMs(static_cast<qint64>(warmup_->value() * 1000));
  }
  r.set_on_limit(static_cast<v1::OnLimit>(on_limit_->currentData().toInt()));
  if (max_wait_->value() > 0) *r.mutable_max_wait() = durationOfMs(max_wait_->value());
  r.set_distributed(distributed_->isChecked());
  if (!target_.isEmpty()) r = withFittingId(original_, r);
  return r;
}

std::vector<RuleProblem> RuleForm::problems() const {
  std::vector<RuleProblem> all = local_;
  all.insert(all.end(), engine_.begin(), engine_.end());
  return all;
}

bool RuleForm::validationPending() const { return debounce_->isActive() && local_.empty(); }

void RuleForm::validateNow() {
  if (!debounce_->isActive()) return;
  debounce_->stop();
  if (local_.empty()) emit validateRequested(rule());
}

bool RuleForm::acceptable() const { return local_.empty() && engine_.empty() && !read_only_; }

void RuleForm::onEdited() {
  if (loading_) return;
  updateEnabled();
  const v1::Rule r = rule();
  local_ = checkRule(r);
  engine_.clear();
  engine_checked_ = false;
  engine_note_.clear();
  pending_ = 0;
  id_->setText(r.id().empty() ? tr("%1 (given by the engine)").arg(defaultRuleId(r))
                              : QString::fromStdString(r.id()));
  showProblems();
  if (local_.empty()) {
    debounce_->start();
  } else {
    debounce_->stop();
  }
  emit changed();
}

void RuleForm::updateEnabled() {
  header_->setEnabled(!read_only_ && scope_->currentData().toInt() == v1::HEADER);
  const auto algorithm = static_cast<v1::Algorithm>(algorithm_->currentData().toInt());
  burst_->setEnabled(!read_only_ && algorithm == v1::TOKEN_BUCKET);
  queue_->setEnabled(!read_only_ && algorithm == v1::LEAKY_BUCKET);
  warmup_->setEnabled(!read_only_ && algorithm == v1::TOKEN_BUCKET);
  max_wait_->setEnabled(!read_only_ && on_limit_->currentData().toInt() == v1::QUEUE);
}

void RuleForm::setEngineResult(quint64 id, const v1::ValidateRulesResponse& result) {
  if (id == 0 || id != pending_) return;
  engine_.clear();
  for (const v1::ValidationError& e : result.errors()) {
    engine_.push_back(
        RuleProblem{QString::fromStdString(e.field()), QString::fromStdString(e.message())});
  }
  engine_checked_ = true;
  showProblems();
  emit changed();
}

void RuleForm::setEngineUnavailable(quint64 id, const QString& why) {
  if (id == 0 || id != pending_) return;
  engine_note_ = why;
  showProblems();
}

void RuleForm::showProblems() {
  std::map<QString, QStringList> by_field;
  QStringList general;
  for (const RuleProblem& p : problems()) {
    if (errors_.count(p.field) != 0) {
      by_field[p.field] << p.message;
    } else {
      general << p.message;
    }
  }
  for (auto& [key, label] : errors_) {
    auto it = by_field.find(key);
    label->setVisible(it != by_field.end());
    if (it != by_field.end()) label->setText(it->second.join(QLatin1Char('\n')));
  }
  const QPalette pal = palette();
  const int count = static_cast<int>(problems().size());
  if (count > 0) {
    QString text = QStringLiteral("<span style=\"color:%1\">✗ %2</span>")
                       .arg(theme::errorColor(pal).name(),
                            count == 1 ? tr("1 problem") : tr("%1 problems").arg(count));
    for (const QString& g : general) text += QStringLiteral("<br>") + g.toHtmlEscaped();
    summary_->setText(text);
  } else if (engine_checked_) {
    summary_->setText(
        QStringLiteral("<span style=\"color:%1\">✓ %2</span>")
            .arg(theme::okColor(pal).name(), tr("valid: the engine accepts this rule")));
  } else if (!engine_note_.isEmpty()) {
    summary_->setText(tr("the console finds no problem; the engine could not check it: %1")
                          .arg(engine_note_.toHtmlEscaped()));
  } else {
    summary_->setText(tr("checking with the engine…"));
  }
}

void RuleForm::setReadOnly(bool read_only) {
  read_only_ = read_only;
  for (auto& [key, widget] : fields_) {
    if (widget != id_) widget->setEnabled(!read_only);
  }
  updateEnabled();
}

}  // namespace seckill::console
