#include "console/ui/control_page.h"

#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

#include "console/core/engine_session.h"
#include "console/core/fleet.h"
#include "console/core/labels.h"
#include "console/core/rule_trie_model.h"
#include "console/core/table_models.h"
#include "console/ui/theme.h"

namespace seckill::console {
namespace {

namespace v1 = ::seckill::admin::v1;

QTableView* table(QAbstractItemModel* model, QWidget* parent) {
  auto* t = new QTableView(parent);
  t->setModel(model);
  t->setSelectionBehavior(QAbstractItemView::SelectRows);
  t->setSelectionMode(QAbstractItemView::SingleSelection);
  t->verticalHeader()->hide();
  t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  t->horizontalHeader()->setStretchLastSection(true);
  t->setAlternatingRowColors(true);
  t->setWordWrap(false);
  return t;
}

void keepTip(QWidget* w, const QString& reason) {
  if (!w->property("tip").isValid()) w->setProperty("tip", w->toolTip());
  w->setToolTip(reason.isEmpty() ? w->property("tip").toString() : reason);
}

}  // namespace

ControlPage::ControlPage(Fleet* fleet, Confirmer confirm, QWidget* parent)
    : QWidget(parent), fleet_(fleet), confirm_(std::move(confirm)) {
  read_only_label_ = new QLabel(this);
  read_only_label_->setWordWrap(true);
  read_only_label_->hide();

  // Overrides.
  overrides_ = table(fleet_->overrides(), this);
  prefix_ = new QLineEdit(this);
  prefix_->setPlaceholderText(QStringLiteral("/api/v1/sales"));
  prefix_->setToolTip(tr("A path prefix, segment-wise; \"/\" covers everything"));
  override_mode_ = new QComboBox(this);
  override_mode_->addItem(tr("shed (503 everything)"), static_cast<int>(v1::SHED));
  override_mode_->addItem(tr("dry_run (rules only log)"), static_cast<int>(v1::DRY_RUN));
  override_mode_->addItem(tr("none (exempt from wider overrides)"), static_cast<int>(v1::NONE));
  set_override_ = new QPushButton(tr("Set…"), this);
  set_override_->setToolTip(tr("Set the override of this prefix"));
  clear_override_ = new QPushButton(tr("Clear…"), this);
  clear_override_->setToolTip(tr("Remove the override of this prefix"));
  auto* overrides_box = new QGroupBox(tr("Overrides per prefix"), this);
  auto* ol = new QVBoxLayout(overrides_box);
  ol->addWidget(overrides_, 1);
  auto* orow = new QHBoxLayout();
  orow->addWidget(prefix_, 2);
  orow->addWidget(override_mode_, 2);
  orow->addWidget(set_override_);
  orow->addWidget(clear_override_);
  ol->addLayout(orow);

  // On-limit modes.
  rules_ = new QTableWidget(0, 3, this);
  rules_->setHorizontalHeaderLabels({tr("Rule"), tr("On limit"), tr("Rate")});
  rules_->setSelectionBehavior(QAbstractItemView::SelectRows);
  rules_->setSelectionMode(QAbstractItemView::SingleSelection);
  rules_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  rules_->verticalHeader()->hide();
  rules_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  rules_->setAlternatingRowColors(true);
  rule_mode_ = new QComboBox(this);
  rule_mode_->addItem(tr("reject (429)"), static_cast<int>(v1::REJECT));
  rule_mode_->addItem(tr("queue (wait)"), static_cast<int>(v1::QUEUE));
  rule_mode_->addItem(tr("log (admit, count)"), static_cast<int>(v1::LOG));
  max_wait_ = new QSpinBox(this);
  max_wait_->setRange(0, 600000);
  max_wait_->setSuffix(QStringLiteral(" ms"));
  max_wait_->setValue(500);
  max_wait_->setToolTip(tr("queue: the longest a shopper may wait for a slot"));
  set_rule_mode_ = new QPushButton(tr("Switch…"), this);
  set_rule_mode_->setToolTip(tr("Switch the selected rule's on-limit mode"));
  auto* rules_box = new QGroupBox(tr("On-limit mode per rule"), this);
  auto* rl = new QVBoxLayout(rules_box);
  rl->addWidget(rules_, 1);
  auto* rrow = new QHBoxLayout();
  rrow->addWidget(rule_mode_, 2);
  rrow->addWidget(max_wait_, 1);
  rrow->addWidget(set_rule_mode_);
  rl->addLayout(rrow);

  // Breakers.
  auto* breaker_colors =
      new theme::StateColors(theme::StateColors::Kind::kBreaker, BreakersModel::kState, this);
  breaker_colors->setSourceModel(fleet_->breakers());
  breakers_ = table(breaker_colors, this);
  forced_open_ = new QPushButton(tr("Force open…"), this);
  forced_open_->setToolTip(tr("Deny every call: orders answered 503 until switched back"));
  disabled_ = new QPushButton(tr("Disable…"), this);
  disabled_->setToolTip(tr("Allow every call, record nothing"));
  metrics_only_ = new QPushButton(tr("Metrics only…"), this);
  metrics_only_->setToolTip(tr("Allow every call; run and report the state machine"));
  automatic_ = new QPushButton(tr("Automatic…"), this);
  automatic_->setToolTip(tr("Give the breaker back to its state machine"));
  auto* breakers_box = new QGroupBox(tr("Circuit breakers"), this);
  auto* bl = new QVBoxLayout(breakers_box);
  bl->addWidget(breakers_, 1);
  auto* brow = new QHBoxLayout();
  for (QPushButton* b : {forced_open_, disabled_, metrics_only_, automatic_}) brow->addWidget(b);
  bl->addLayout(brow);

  // Audit.
  audit_model_ = new AuditFilterModel(this);
  audit_model_->setSourceModel(fleet_->audit());
  audit_filter_ = new QLineEdit(this);
  audit_filter_->setPlaceholderText(tr("Filter: who, what, target… (Ctrl+F)"));
  audit_filter_->setClearButtonEnabled(true);
  audit_action_ = new QComboBox(this);
  audit_action_->addItem(tr("every action"), QString());
  for (const char* a : {"rules", "rule", "override", "breaker", "sale"}) {
    audit_action_->addItem(QString::fromLatin1(a), QString::fromLatin1(a));
  }
  audit_view_ = table(audit_model_, this);
  QHeaderView* audit_header = audit_view_->horizontalHeader();
  audit_header->setStretchLastSection(false);
  audit_header->setSectionResizeMode(QHeaderView::ResizeToContents);
  for (int column : {static_cast<int>(AuditModel::kWho), static_cast<int>(AuditModel::kTarget)}) {
    audit_header->setSectionResizeMode(column, QHeaderView::Interactive);
    audit_header->resizeSection(column, 150);
  }
  audit_header->setSectionResizeMode(AuditModel::kDetail, QHeaderView::Stretch);
  auto* audit_box = new QGroupBox(tr("Audit log"), this);
  auto* al = new QVBoxLayout(audit_box);
  auto* arow = new QHBoxLayout();
  arow->addWidget(audit_filter_, 3);
  arow->addWidget(audit_action_, 1);
  al->addLayout(arow);
  al->addWidget(audit_view_, 1);

  auto* grid = new QGridLayout();
  grid->addWidget(overrides_box, 0, 0);
  grid->addWidget(breakers_box, 0, 1);
  grid->addWidget(rules_box, 1, 0);
  grid->addWidget(audit_box, 1, 1);
  grid->setColumnStretch(0, 2);
  grid->setColumnStretch(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(read_only_label_);
  layout->addLayout(grid, 1);

  connect(set_override_, &QPushButton::clicked, this, &ControlPage::setOverride);
  connect(clear_override_, &QPushButton::clicked, this, &ControlPage::clearOverride);
  connect(set_rule_mode_, &QPushButton::clicked, this, &ControlPage::setRuleMode);
  connect(forced_open_, &QPushButton::clicked, this,
          [this] { setBreakerMode(v1::MODE_FORCED_OPEN); });
  connect(disabled_, &QPushButton::clicked, this, [this] { setBreakerMode(v1::MODE_DISABLED); });
  connect(metrics_only_, &QPushButton::clicked, this,
          [this] { setBreakerMode(v1::MODE_METRICS_ONLY); });
  connect(automatic_, &QPushButton::clicked, this, [this] { setBreakerMode(v1::AUTOMATIC); });
  connect(audit_filter_, &QLineEdit::textChanged, audit_model_, &AuditFilterModel::setText);
  connect(audit_action_, &QComboBox::currentIndexChanged, this,
          [this] { audit_model_->setAction(audit_action_->currentData().toString()); });
  connect(overrides_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& index) {
            if (!index.isValid()) return;
            prefix_->setText(index.data(kKeyRole).toString());
            const int mode = index.data(kStateRole).toInt();
            override_mode_->setCurrentIndex(std::max(0, override_mode_->findData(mode)));
          });
  connect(rules_, &QTableWidget::currentCellChanged, this, [this](int row) {
    if (row < 0) return;
    const int mode = rules_->item(row, 1)->data(Qt::UserRole).toInt();
    rule_mode_->setCurrentIndex(std::max(0, rule_mode_->findData(mode)));
    updateButtons();
  });
  connect(breakers_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          &ControlPage::updateButtons);
  connect(prefix_, &QLineEdit::textChanged, this, &ControlPage::updateButtons);
  connect(fleet_->rules(), &QAbstractItemModel::modelReset, this, &ControlPage::rebuildRules);
  connect(fleet_->breakers(), &QAbstractItemModel::modelReset, this, [this] {
    if (!breakers_->currentIndex().isValid() && fleet_->breakers()->rowCount() > 0) {
      breakers_->selectRow(0);
    }
    updateButtons();
  });
  auto* find = new QShortcut(QKeySequence::Find, this);
  find->setContext(Qt::WidgetWithChildrenShortcut);
  connect(find, &QShortcut::activated, this, &ControlPage::focusAuditFilter);
  rebuildRules();
  updateButtons();
}

void ControlPage::setSession(EngineSession* session) {
  if (session_ != nullptr) disconnect(session_, nullptr, this, nullptr);
  session_ = session;
  if (session == nullptr) return;
  connect(session, &EngineSession::callFinished, this, [this](const CallResult& r) {
    if (r.what.startsWith(QStringLiteral("set ")) || r.what.startsWith(QStringLiteral("clear "))) {
      emit message(r.text(), !r.ok);
    }
  });
}

void ControlPage::setReadOnly(const QString& reason) {
  read_only_ = reason;
  read_only_label_->setVisible(!reason.isEmpty());
  read_only_label_->setText(QStringLiteral("<b>%1</b>").arg(reason.toHtmlEscaped()));
  for (QWidget* w :
       std::initializer_list<QWidget*>{set_override_, clear_override_, set_rule_mode_, forced_open_,
                                       disabled_, metrics_only_, automatic_}) {
    keepTip(w, reason);
  }
  updateButtons();
}

void ControlPage::rebuildRules() {
  const QString selected = selectedRule();
  rules_->setRowCount(0);
  const v1::ListRulesResponse& listing = fleet_->rules()->listing();
  rules_->setRowCount(listing.set().rules_size());
  for (int i = 0; i < listing.set().rules_size(); ++i) {
    const v1::Rule& r = listing.set().rules(i);
    auto* id = new QTableWidgetItem(QString::fromStdString(r.id()));
    id->setToolTip(describeRule(r));
    auto* mode = new QTableWidgetItem(label(r.on_limit()));
    mode->setData(
        Qt::UserRole,
        static_cast<int>(r.on_limit() == v1::ON_LIMIT_UNSPECIFIED ? v1::REJECT : r.on_limit()));
    rules_->setItem(i, 0, id);
    rules_->setItem(i, 1, mode);
    rules_->setItem(i, 2, new QTableWidgetItem(rateLabel(r)));
    if (id->text() == selected) rules_->selectRow(i);
  }
  rules_->resizeColumnToContents(1);
  rules_->resizeColumnToContents(2);
  updateButtons();
}

QString ControlPage::selectedBreaker() const {
  const QModelIndex index = breakers_->currentIndex();
  return index.isValid() ? index.data(kKeyRole).toString() : QString();
}

QString ControlPage::selectedRule() const {
  const int row = rules_->currentRow();
  return row >= 0 && rules_->item(row, 0) != nullptr ? rules_->item(row, 0)->text() : QString();
}

bool ControlPage::selectBreaker(const QString& name) {
  const BreakersModel* model = fleet_->breakers();
  for (int row = 0; row < model->rowCount(); ++row) {
    if (model->index(row, 0).data(kKeyRole).toString() == name) {
      breakers_->selectRow(row);
      breakers_->setCurrentIndex(breakers_->model()->index(row, 0));
      return true;
    }
  }
  return false;
}

void ControlPage::focusAuditFilter() {
  audit_filter_->setFocus();
  audit_filter_->selectAll();
}

QPushButton* ControlPage::breakerButton(v1::BreakerMode mode) const {
  switch (mode) {
    case v1::MODE_FORCED_OPEN:
      return forced_open_;
    case v1::MODE_DISABLED:
      return disabled_;
    case v1::MODE_METRICS_ONLY:
      return metrics_only_;
    default:
      return automatic_;
  }
}

void ControlPage::updateButtons() {
  const bool writable = read_only_.isEmpty();
  const bool breaker = !selectedBreaker().isEmpty();
  for (QPushButton* b : {forced_open_, disabled_, metrics_only_, automatic_}) {
    b->setEnabled(writable && breaker);
  }
  set_override_->setEnabled(writable && prefix_->text().startsWith(QLatin1Char('/')));
  clear_override_->setEnabled(writable && prefix_->text().startsWith(QLatin1Char('/')));
  set_rule_mode_->setEnabled(writable && !selectedRule().isEmpty());
  max_wait_->setEnabled(writable);
  rule_mode_->setEnabled(writable);
  override_mode_->setEnabled(writable);
}

void ControlPage::setOverride() {
  const QString prefix = prefix_->text().trimmed();
  if (!read_only_.isEmpty() || !prefix.startsWith(QLatin1Char('/'))) return;
  const auto mode = static_cast<v1::OverrideMode>(override_mode_->currentData().toInt());
  if (!confirm_(this,
                Confirmation{tr("Set %1 to %2?").arg(prefix, label(mode)),
                             overrideConsequence(prefix, mode), tr("Set %1").arg(label(mode))})) {
    return;
  }
  if (session_ != nullptr) session_->setOverride(prefix, mode);
}

void ControlPage::clearOverride() {
  const QString prefix = prefix_->text().trimmed();
  if (!read_only_.isEmpty() || !prefix.startsWith(QLatin1Char('/'))) return;
  if (!confirm_(this, Confirmation{tr("Clear the override of %1?").arg(prefix),
                                   clearOverrideConsequence(prefix), tr("Clear")})) {
    return;
  }
  if (session_ != nullptr) session_->clearOverride(prefix);
}

void ControlPage::setRuleMode() {
  const QString rule = selectedRule();
  if (!read_only_.isEmpty() || rule.isEmpty()) return;
  const auto mode = static_cast<v1::OnLimit>(rule_mode_->currentData().toInt());
  if (!confirm_(this, Confirmation{tr("Switch rule to %1?").arg(label(mode)),
                                   ruleModeConsequence(rule, mode),
                                   tr("Switch to %1").arg(label(mode))})) {
    return;
  }
  if (session_ != nullptr) session_->setRuleMode(rule, mode, max_wait_->value());
}

void ControlPage::setBreakerMode(v1::BreakerMode mode) {
  const QString breaker = selectedBreaker();
  if (!read_only_.isEmpty() || breaker.isEmpty()) return;
  const QString action = mode == v1::MODE_FORCED_OPEN    ? tr("Force open")
                         : mode == v1::MODE_DISABLED     ? tr("Disable")
                         : mode == v1::MODE_METRICS_ONLY ? tr("Metrics only")
                                                         : tr("Back to automatic");
  if (!confirm_(this, Confirmation{tr("%1: breaker %2?").arg(action, breaker),
                                   breakerModeConsequence(breaker, mode), action})) {
    return;
  }
  if (session_ != nullptr) session_->setBreakerMode(breaker, mode);
}

}  // namespace seckill::console
