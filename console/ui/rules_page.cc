#include "console/ui/rules_page.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QTableView>
#include <QTreeView>
#include <QVBoxLayout>

#include "console/core/engine_session.h"
#include "console/core/fleet.h"
#include "console/core/labels.h"
#include "console/core/rule_editor.h"
#include "console/core/rule_trie_model.h"
#include "console/core/table_models.h"
#include "console/ui/diff_view.h"
#include "console/ui/rule_form.h"
#include "console/ui/theme.h"

namespace seckill::console {

namespace v1 = ::seckill::admin::v1;

RulesPage::RulesPage(Fleet* fleet, RuleEditor* editor, Confirmer confirm, QWidget* parent)
    : QWidget(parent), fleet_(fleet), editor_(editor), confirm_(std::move(confirm)) {
  // Left: the trie and the versions.
  tree_ = new QTreeView(this);
  tree_->setModel(fleet_->rules());
  tree_->setUniformRowHeights(true);
  tree_->setAlternatingRowColors(true);
  tree_->setSelectionMode(QAbstractItemView::SingleSelection);
  tree_->header()->setStretchLastSection(false);
  tree_->header()->setSectionResizeMode(RuleTrieModel::kName, QHeaderView::Stretch);
  for (int c = 1; c < RuleTrieModel::kColumnCount; ++c) {
    tree_->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  }
  versions_ = new QTableView(this);
  versions_->setModel(fleet_->versions());
  versions_->setSelectionBehavior(QAbstractItemView::SelectRows);
  versions_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  versions_->verticalHeader()->hide();
  // The comment gets the room; a long "who" (a config file's path) is cut, in full on hover.
  QHeaderView* versions_header = versions_->horizontalHeader();
  versions_header->setSectionResizeMode(QHeaderView::ResizeToContents);
  versions_header->setSectionResizeMode(VersionsModel::kWho, QHeaderView::Interactive);
  versions_header->resizeSection(VersionsModel::kWho, 160);
  versions_header->setSectionResizeMode(VersionsModel::kComment, QHeaderView::Stretch);
  versions_header->setStretchLastSection(false);
  versions_->setTextElideMode(Qt::ElideMiddle);
  versions_->setWordWrap(false);
  versions_->setAlternatingRowColors(true);
  compare_ = new QPushButton(tr("Compare…"), this);
  compare_->setToolTip(
      tr("The selected version against the running one, or two selected versions side by side"));
  rollback_ = new QPushButton(tr("Roll back…"), this);
  rollback_->setToolTip(
      tr("Make the selected version's rules the running ones again (a new version)"));

  auto* trie_box = new QGroupBox(tr("Rule trie (live counts)"), this);
  auto* trie_layout = new QVBoxLayout(trie_box);
  trie_layout->addWidget(tree_);
  auto* versions_box = new QGroupBox(tr("Versions"), this);
  auto* versions_layout = new QVBoxLayout(versions_box);
  versions_layout->addWidget(versions_);
  auto* versions_buttons = new QHBoxLayout();
  versions_buttons->addWidget(compare_);
  versions_buttons->addWidget(rollback_);
  versions_buttons->addStretch(1);
  versions_layout->addLayout(versions_buttons);
  auto* left = new QSplitter(Qt::Vertical, this);
  left->addWidget(trie_box);
  left->addWidget(versions_box);
  left->setStretchFactor(0, 3);
  left->setStretchFactor(1, 1);

  // Right: the form and the pending changes.
  form_ = new RuleForm(this);
  new_ = new QPushButton(tr("New rule"), this);
  new_->setToolTip(tr("Start a new rule at the selected path (Ctrl+N)"));
  stage_ = new QPushButton(tr("Add to changes"), this);
  delete_ = new QPushButton(tr("Delete rule"), this);
  auto* form_box = new QGroupBox(tr("Rule"), this);
  auto* form_layout = new QVBoxLayout(form_box);
  form_layout->addWidget(form_);
  auto* form_buttons = new QHBoxLayout();
  form_buttons->addWidget(new_);
  form_buttons->addStretch(1);
  form_buttons->addWidget(delete_);
  form_buttons->addWidget(stage_);
  form_layout->addLayout(form_buttons);

  pending_title_ = new QLabel(this);
  pending_ = new QListWidget(this);
  pending_->setMinimumHeight(70);
  apply_result_ = new QLabel(this);
  apply_result_->setWordWrap(true);
  apply_result_->setTextFormat(Qt::RichText);
  undo_ = new QPushButton(tr("Undo last"), this);
  discard_ = new QPushButton(tr("Discard all"), this);
  apply_ = new QPushButton(tr("Apply…"), this);
  apply_->setToolTip(
      tr("Validate the whole set with the engine, then apply it on the version "
         "your changes were made on (Ctrl+Return)"));
  apply_->setDefault(true);
  auto* pending_box = new QGroupBox(tr("Pending changes"), this);
  auto* pending_layout = new QVBoxLayout(pending_box);
  pending_layout->addWidget(pending_title_);
  pending_layout->addWidget(pending_, 1);
  pending_layout->addWidget(apply_result_);
  auto* pending_buttons = new QHBoxLayout();
  pending_buttons->addWidget(undo_);
  pending_buttons->addWidget(discard_);
  pending_buttons->addStretch(1);
  pending_buttons->addWidget(apply_);
  pending_layout->addLayout(pending_buttons);

  read_only_label_ = new QLabel(this);
  read_only_label_->setWordWrap(true);
  read_only_label_->hide();

  auto* right = new QWidget(this);
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  right_layout->addWidget(read_only_label_);
  right_layout->addWidget(form_box);
  right_layout->addWidget(pending_box, 1);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split);

  connect(fleet_->rules(), &QAbstractItemModel::modelReset, tree_, &QTreeView::expandAll);
  connect(tree_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &RulesPage::onSelection);
  connect(form_, &RuleForm::changed, this, &RulesPage::updateButtons);
  connect(form_, &RuleForm::validateRequested, this, [this](const v1::Rule& rule) {
    if (session_ == nullptr) {
      form_->setPendingRequest(1);
      form_->setEngineUnavailable(1, tr("not connected"));
      return;
    }
    form_->setPendingRequest(session_->validateRule(rule));
  });
  connect(new_, &QPushButton::clicked, this, &RulesPage::newRule);
  connect(stage_, &QPushButton::clicked, this, &RulesPage::stageRule);
  connect(delete_, &QPushButton::clicked, this, &RulesPage::deleteSelected);
  connect(undo_, &QPushButton::clicked, editor_, &RuleEditor::undo);
  connect(discard_, &QPushButton::clicked, editor_, &RuleEditor::discard);
  connect(apply_, &QPushButton::clicked, this, &RulesPage::applyChanges);
  connect(compare_, &QPushButton::clicked, this, [this] {
    const QModelIndexList rows = versions_->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    const quint64 a = fleet_->versions()->versionAt(rows.first().row());
    const quint64 b = rows.size() > 1 ? fleet_->versions()->versionAt(rows.last().row()) : 0;
    compareVersions(b == 0 ? a : std::min(a, b), b == 0 ? 0 : std::max(a, b));
  });
  connect(rollback_, &QPushButton::clicked, this, [this] {
    const QModelIndexList rows = versions_->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    compareVersions(fleet_->versions()->versionAt(rows.first().row()), 0);
  });
  connect(versions_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    compareVersions(fleet_->versions()->versionAt(index.row()), 0);
  });
  connect(versions_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &RulesPage::updateButtons);

  connect(editor_, &RuleEditor::draftChanged, this, &RulesPage::updatePending);
  connect(editor_, &RuleEditor::busyChanged, this, &RulesPage::updateButtons);
  connect(editor_, &RuleEditor::applied, this, [this](quint64 version) {
    apply_result_->setText(tr("Applied: version %1 is running.").arg(version));
    emit message(tr("rules applied: version %1").arg(version), false);
  });
  connect(editor_, &RuleEditor::invalid, this, [this](const v1::ValidateRulesResponse& result) {
    QStringList lines;
    for (const v1::ValidationError& e : result.errors()) {
      lines << QString::fromStdString(e.message()).toHtmlEscaped();
    }
    apply_result_->setText(QStringLiteral("<span style=\"color:%1\">%2</span><br>%3")
                               .arg(theme::errorColor(palette()).name(),
                                    tr("The engine refused the set; nothing was applied:"),
                                    lines.join(QStringLiteral("<br>"))));
    emit message(tr("rules not applied: the engine found %1 problem(s)").arg(result.errors_size()),
                 true);
  });
  connect(editor_, &RuleEditor::failed, this, [this](const QString& text) {
    apply_result_->setText(QStringLiteral("<span style=\"color:%1\">%2</span>")
                               .arg(theme::errorColor(palette()).name(), text.toHtmlEscaped()));
    emit message(text, true);
  });
  connect(editor_, &RuleEditor::conflict, this, &RulesPage::onConflict);

  auto* shortcut_new = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_N), this);
  shortcut_new->setContext(Qt::WidgetWithChildrenShortcut);
  connect(shortcut_new, &QShortcut::activated, this, &RulesPage::newRule);
  auto* shortcut_apply = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
  shortcut_apply->setContext(Qt::WidgetWithChildrenShortcut);
  connect(shortcut_apply, &QShortcut::activated, this, &RulesPage::applyChanges);

  updatePending();
}

void RulesPage::setSession(EngineSession* session) {
  if (session_ != nullptr) disconnect(session_, nullptr, this, nullptr);
  session_ = session;
  if (session == nullptr) return;
  connect(
      session, &EngineSession::validated, this,
      [this](quint64 id, const v1::ValidateRulesResponse& r) { form_->setEngineResult(id, r); });
  connect(session, &EngineSession::callFinished, this, [this](const CallResult& r) {
    if (!r.ok) form_->setEngineUnavailable(r.id, r.error);
    if (r.id == diff_request_ && !r.ok) {
      diff_request_ = 0;
      emit message(r.text(), true);
    }
    if (r.ok && r.what.startsWith(QStringLiteral("roll back"))) {
      emit message(tr("%1: version %2 is running").arg(r.what).arg(r.version), false);
    } else if (!r.ok && r.what.startsWith(QStringLiteral("roll back"))) {
      emit message(r.text(), true);
    }
  });
  connect(
      session, &EngineSession::diffReceived, this,
      [this](quint64 id, const v1::DiffRulesResponse& diff) {
        if (id != diff_request_) return;
        diff_request_ = 0;
        const bool offer = diff.from_version() != diff.to_version();
        auto* dialog = new DiffDialog(diff, offer, read_only_, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &DiffDialog::rollbackRequested, this, [this](quint64 to) {
          const quint64 current = fleet_->rules()->version();
          if (!confirm_(this, Confirmation{tr("Roll back to version %1?").arg(to),
                                           rollbackConsequence(to, current), tr("Roll back")})) {
            return;
          }
          if (session_ != nullptr) session_->rollback(to, current);
        });
        diff_dialog_ = dialog;
        dialog->open();
      });
}

void RulesPage::setReadOnly(const QString& reason) {
  read_only_ = reason;
  read_only_label_->setVisible(!reason.isEmpty());
  read_only_label_->setText(QStringLiteral("<b>%1</b>").arg(reason.toHtmlEscaped()));
  form_->setReadOnly(!reason.isEmpty());
  for (QPushButton* b : {new_, stage_, delete_, undo_, discard_, apply_, rollback_}) {
    if (!b->property("tip").isValid()) b->setProperty("tip", b->toolTip());
    b->setToolTip(reason.isEmpty() ? b->property("tip").toString() : reason);
  }
  updateButtons();
}

QWidget* RulesPage::openDialog() const {
  if (conflict_dialog_ != nullptr) return conflict_dialog_;
  return diff_dialog_;
}

void RulesPage::onSelection() {
  const QModelIndex index = tree_->currentIndex();
  if (!index.isValid()) return;
  const QModelIndex first = index.siblingAtColumn(0);
  new_path_ = first.data(RuleTrieModel::kPathRole).toString();
  if (first.data(RuleTrieModel::kIsRuleRole).toBool()) {
    const QString id = first.data(RuleTrieModel::kRuleIdRole).toString();
    if (const v1::Rule* rule = fleet_->rules()->rule(id)) form_->edit(*rule, id);
  }
  updateButtons();
}

void RulesPage::newRule() {
  tree_->clearSelection();
  form_->newRule(new_path_.isEmpty() ? QStringLiteral("/") : new_path_);
  form_->setFocus();
}

void RulesPage::stageRule() {
  if (!read_only_.isEmpty() || !form_->acceptable()) return;
  editor_->put(form_->target().toStdString(), form_->rule());
  emit message(tr("staged: %1 (not applied yet)").arg(describeRule(form_->rule())), false);
}

void RulesPage::deleteSelected() {
  if (!read_only_.isEmpty()) return;
  const QModelIndex index = tree_->currentIndex().siblingAtColumn(0);
  if (!index.data(RuleTrieModel::kIsRuleRole).toBool()) return;
  editor_->remove(index.data(RuleTrieModel::kRuleIdRole).toString().toStdString());
}

void RulesPage::applyChanges() {
  if (!read_only_.isEmpty() || editor_->draft().empty() || editor_->busy()) return;
  const QStringList lines = editor_->draft().describe();
  Confirmation q{
      tr("Apply %n change(s) to the running rules?", nullptr, static_cast<int>(lines.size())),
      tr("These changes are applied on version %1 and limit shoppers at once:\n\n%2")
          .arg(editor_->baseVersion())
          .arg(lines.join(QLatin1Char('\n'))),
      tr("Apply")};
  if (!confirm_(this, q)) return;
  apply_result_->setText(tr("validating with the engine…"));
  editor_->apply(tr("seckill-console: %n change(s)", nullptr, static_cast<int>(lines.size())));
}

void RulesPage::compareVersions(quint64 from, quint64 to) {
  if (session_ == nullptr || from == 0) return;
  diff_request_ = session_->diff(from, to);
}

void RulesPage::onConflict(const v1::DiffRulesResponse& theirs) {
  QString who;
  const VersionsModel* versions = fleet_->versions();
  for (int row = 0; row < versions->rowCount(); ++row) {
    if (versions->versionAt(row) != theirs.to_version()) continue;
    who = tr("by %1: %2")
              .arg(versions->index(row, VersionsModel::kWho).data().toString(),
                   versions->index(row, VersionsModel::kComment).data().toString());
  }
  auto* dialog = new ConflictDialog(theirs, who, editor_->draft().describe(), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::finished, this, [this, dialog] {
    switch (dialog->choice()) {
      case ConflictDialog::Choice::kReapply:
        apply_result_->setText(tr("reapplying your changes on the running version…"));
        editor_->reloadAndReapply();
        break;
      case ConflictDialog::Choice::kDiscard:
        editor_->discard();
        apply_result_->setText(tr("Your changes were discarded."));
        break;
      case ConflictDialog::Choice::kCancel:
        apply_result_->setText(
            tr("Not applied: the rules changed meanwhile. Your changes are kept."));
        break;
    }
  });
  conflict_dialog_ = dialog;
  emit message(tr("rules not applied: version %1 was made meanwhile").arg(theirs.to_version()),
               true);
  dialog->open();
}

void RulesPage::updatePending() {
  pending_->clear();
  pending_->addItems(editor_->draft().describe());
  pending_title_->setText(
      editor_->draft().empty()
          ? tr("No pending changes. Running version: %1.").arg(editor_->baseVersion())
          : tr("%n change(s) on version %1, not applied yet:", nullptr, editor_->draft().size())
                .arg(editor_->baseVersion()));
  updateButtons();
}

void RulesPage::updateButtons() {
  const bool writable = read_only_.isEmpty();
  const bool busy = editor_->busy();
  const QModelIndex index = tree_->currentIndex().siblingAtColumn(0);
  const bool rule_selected = index.isValid() && index.data(RuleTrieModel::kIsRuleRole).toBool();
  stage_->setText(form_->target().isEmpty() ? tr("Add to changes") : tr("Update in changes"));
  stage_->setEnabled(writable && form_->acceptable());
  new_->setEnabled(writable);
  delete_->setEnabled(writable && rule_selected);
  undo_->setEnabled(writable && !editor_->draft().empty() && !busy);
  discard_->setEnabled(writable && !editor_->draft().empty() && !busy);
  apply_->setEnabled(writable && !editor_->draft().empty() && !busy);
  apply_->setText(busy ? tr("Applying…") : tr("Apply…"));
  const bool version_selected = versions_->selectionModel()->hasSelection();
  compare_->setEnabled(version_selected);
  rollback_->setEnabled(writable && version_selected);
}

}  // namespace seckill::console
