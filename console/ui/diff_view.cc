#include "console/ui/diff_view.h"

#include <QDialogButtonBox>
#include <QEvent>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <map>

#include "console/core/labels.h"
#include "console/ui/theme.h"

namespace seckill::console {
namespace {

namespace v1 = ::seckill::admin::v1;

// `accent` at 30 % over the palette's base: a background that reads on light and dark themes.
QString tint(const QColor& accent, const QPalette& palette) {
  const QColor base = palette.color(QPalette::Base);
  const double a = 0.3;
  QColor out;
  out.setRgbF(static_cast<float>(base.redF() * (1 - a) + accent.redF() * a),
              static_cast<float>(base.greenF() * (1 - a) + accent.greenF() * a),
              static_cast<float>(base.blueF() * (1 - a) + accent.blueF() * a));
  return out.name();
}

QString cell(const QString& text, const QString& background) {
  return QStringLiteral("<td width=\"50%\" style=\"padding:4px;%1\">%2</td>")
      .arg(
          background.isEmpty() ? QString() : QStringLiteral("background-color:%1;").arg(background),
          text.isEmpty() ? QStringLiteral("&nbsp;") : text);
}

QString ruleHtml(const v1::Rule& r) {
  return QStringLiteral("<tt>%1</tt><br><small>id: %2</small>")
      .arg(describeRule(r).toHtmlEscaped(), QString::fromStdString(r.id()).toHtmlEscaped());
}

}  // namespace

DiffView::DiffView(QWidget* parent) : QWidget(parent), view_(new QTextBrowser(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(view_);
  view_->setOpenLinks(false);
}

QString DiffView::html() const { return view_->toHtml(); }

void DiffView::setDiff(const v1::DiffRulesResponse& diff, const QString& left_title,
                       const QString& right_title) {
  diff_ = diff;
  left_title_ = left_title;
  right_title_ = right_title;
  render();
}

void DiffView::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange && diff_.from_version() + diff_.to_version() > 0) {
    render();
  }
}

void DiffView::render() {
  const v1::DiffRulesResponse& diff = diff_;
  const QString& left_title = left_title_;
  const QString& right_title = right_title_;
  const QPalette pal = palette();
  const QString removed = tint(theme::errorColor(pal), pal);
  const QString added = tint(theme::okColor(pal), pal);
  const QString changed = tint(theme::warningColor(pal), pal);

  std::map<std::string, const v1::RuleChange*> by_id;
  for (const v1::RuleChange& c : diff.rules()) by_id[c.id()] = &c;

  QString html = QStringLiteral("<table width=\"100%\" cellspacing=\"2\">");
  html += QStringLiteral("<tr><th align=\"left\">%1</th><th align=\"left\">%2</th></tr>")
              .arg(left_title.toHtmlEscaped(), right_title.toHtmlEscaped());
  changed_rows_ = 0;
  // The left set in its order, with what became of each rule; then the rules added.
  for (const v1::Rule& r : diff.from_set().rules()) {
    auto it = by_id.find(r.id());
    if (it == by_id.end()) {
      html += QStringLiteral("<tr>") + cell(ruleHtml(r), {}) + cell(ruleHtml(r), {}) +
              QStringLiteral("</tr>");
      continue;
    }
    const v1::RuleChange& c = *it->second;
    ++changed_rows_;
    if (c.kind() == v1::RuleChange::REMOVED) {
      html += QStringLiteral("<tr>") + cell(QStringLiteral("− ") + ruleHtml(r), removed) +
              cell(tr("<i>removed</i>"), {}) + QStringLiteral("</tr>");
    } else {
      QStringList fields;
      for (const std::string& f : c.fields()) fields << QString::fromStdString(f);
      html +=
          QStringLiteral("<tr>") + cell(ruleHtml(c.before()), changed) +
          cell(
              QStringLiteral("~ ") + ruleHtml(c.after()) +
                  QStringLiteral("<br><b>%1</b>")
                      .arg(
                          tr("changed: %1").arg(fields.join(QStringLiteral(", "))).toHtmlEscaped()),
              changed) +
          QStringLiteral("</tr>");
    }
  }
  for (const v1::RuleChange& c : diff.rules()) {
    if (c.kind() != v1::RuleChange::ADDED) continue;
    ++changed_rows_;
    html += QStringLiteral("<tr>") + cell(tr("<i>absent</i>"), {}) +
            cell(QStringLiteral("+ ") + ruleHtml(c.after()), added) + QStringLiteral("</tr>");
  }
  if (diff.overrides_size() > 0) {
    html +=
        QStringLiteral("<tr><th align=\"left\" colspan=\"2\">%1</th></tr>").arg(tr("Overrides"));
    for (const v1::OverrideChange& o : diff.overrides()) {
      ++changed_rows_;
      const QString prefix = QString::fromStdString(o.prefix()).toHtmlEscaped();
      const bool before = o.before() != v1::OVERRIDE_MODE_UNSPECIFIED;
      const bool after = o.after() != v1::OVERRIDE_MODE_UNSPECIFIED;
      html += QStringLiteral("<tr>") +
              cell(before ? QStringLiteral("<tt>%1 %2</tt>").arg(prefix, label(o.before()))
                          : tr("<i>absent</i>"),
                   before ? (after ? changed : removed) : QString()) +
              cell(after ? QStringLiteral("<tt>%1 %2</tt>").arg(prefix, label(o.after()))
                         : tr("<i>removed</i>"),
                   after ? (before ? changed : added) : QString()) +
              QStringLiteral("</tr>");
    }
  }
  html += QStringLiteral("</table>");
  if (changed_rows_ == 0) html += tr("<p>The two versions hold the same rules and overrides.</p>");
  view_->setHtml(html);
}

DiffDialog::DiffDialog(const v1::DiffRulesResponse& diff, bool offer_rollback,
                       const QString& rollback_blocked_reason, QWidget* parent)
    : QDialog(parent), view_(new DiffView(this)) {
  setWindowTitle(
      tr("Rules: version %1 against version %2").arg(diff.from_version()).arg(diff.to_version()));
  view_->setDiff(diff, tr("Version %1").arg(diff.from_version()),
                 tr("Version %1").arg(diff.to_version()));
  auto* title = new QLabel(
      tr("<b>Rules: version %1 against version %2</b> &nbsp; %3 changed · %4 added · %5 removed")
          .arg(diff.from_version())
          .arg(diff.to_version())
          .arg(theme::dot(theme::warningColor(palette())))
          .arg(theme::dot(theme::okColor(palette())))
          .arg(theme::dot(theme::errorColor(palette()))),
      this);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  if (offer_rollback) {
    QPushButton* rollback = buttons->addButton(
        tr("Roll back to version %1…").arg(diff.from_version()), QDialogButtonBox::ActionRole);
    rollback->setEnabled(rollback_blocked_reason.isEmpty());
    rollback->setToolTip(rollback_blocked_reason);
    connect(rollback, &QPushButton::clicked, this, [this, to = diff.from_version()] {
      accept();
      emit rollbackRequested(to);
    });
  }
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title);
  layout->addWidget(view_, 1);
  layout->addWidget(buttons);
  resize(1000, 600);
}

ConflictDialog::ConflictDialog(const v1::DiffRulesResponse& theirs, const QString& who,
                               const QStringList& mine, QWidget* parent)
    : QDialog(parent), view_(new DiffView(this)) {
  setWindowTitle(tr("The rules changed while you were editing"));
  auto* intro = new QLabel(
      tr("<b>Someone else applied version %1</b>%2 after version %3, which your changes were "
         "made on. Nothing of yours was applied. Their changes:")
          .arg(theirs.to_version())
          .arg(who.isEmpty() ? QString() : tr(" (%1)").arg(who.toHtmlEscaped()))
          .arg(theirs.from_version()),
      this);
  intro->setWordWrap(true);
  view_->setDiff(theirs, tr("Version %1 (your base)").arg(theirs.from_version()),
                 tr("Version %1 (running now)").arg(theirs.to_version()));
  auto* mine_list = new QListWidget(this);
  mine_list->addItems(mine);
  mine_list->setMaximumHeight(120);
  auto* buttons = new QDialogButtonBox(this);
  QPushButton* reapply =
      buttons->addButton(tr("Reload and reapply mine"), QDialogButtonBox::AcceptRole);
  QPushButton* discard = buttons->addButton(tr("Discard mine"), QDialogButtonBox::DestructiveRole);
  buttons->addButton(QDialogButtonBox::Cancel);
  reapply->setDefault(true);
  connect(reapply, &QPushButton::clicked, this, [this] {
    choice_ = Choice::kReapply;
    accept();
  });
  connect(discard, &QPushButton::clicked, this, [this] {
    choice_ = Choice::kDiscard;
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addWidget(view_, 1);
  layout->addWidget(new QLabel(
      tr("<b>Your changes</b> (replayed on version %1 if you reapply):").arg(theirs.to_version()),
      this));
  layout->addWidget(mine_list);
  layout->addWidget(buttons);
  resize(1000, 650);
}

}  // namespace seckill::console
