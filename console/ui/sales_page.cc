#include "console/ui/sales_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include "console/core/engine_session.h"
#include "console/core/fleet.h"
#include "console/core/labels.h"
#include "console/core/table_models.h"
#include "console/ui/theme.h"

namespace seckill::console {
namespace {

namespace v1 = ::seckill::admin::v1;

void keepTip(QWidget* w, const QString& reason) {
  if (!w->property("tip").isValid()) w->setProperty("tip", w->toolTip());
  w->setToolTip(reason.isEmpty() ? w->property("tip").toString() : reason);
}

google::protobuf::Timestamp timestampOf(const QDateTime& t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(t.toSecsSinceEpoch());
  return ts;
}

}  // namespace

SalesPage::SalesPage(Fleet* fleet, Confirmer confirm, QWidget* parent)
    : QWidget(parent), fleet_(fleet), confirm_(std::move(confirm)) {
  read_only_label_ = new QLabel(this);
  read_only_label_->setWordWrap(true);
  read_only_label_->hide();

  table_ = new QTableView(this);
  auto* colors = new theme::StateColors(theme::StateColors::Kind::kSale, SalesModel::kState, this);
  colors->setSourceModel(fleet_->sales());
  table_->setModel(colors);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setAlternatingRowColors(true);

  // Create.
  id_ = new QLineEdit(this);
  id_->setPlaceholderText(QStringLiteral("spring-drop"));
  id_->setToolTip(tr("1-64 characters of A-Z a-z 0-9 _ -; appears in the shop's URLs"));
  name_ = new QLineEdit(this);
  name_->setPlaceholderText(tr("the id when empty"));
  stock_ = new QSpinBox(this);
  stock_->setRange(0, 1'000'000'000);
  stock_->setGroupSeparatorShown(true);
  stock_->setValue(1000);
  strategy_ = new QComboBox(this);
  for (v1::StockStrategy s : {v1::ATOMIC, v1::FIFO, v1::OPTIMISTIC, v1::COUNTER_GATE}) {
    strategy_->addItem(label(s), static_cast<int>(s));
  }
  opens_later_ = new QCheckBox(tr("opens at"), this);
  opens_at_ = new QDateTimeEdit(QDateTime::currentDateTime().addSecs(600), this);
  opens_at_->setCalendarPopup(true);
  opens_at_->setEnabled(false);
  closes_ = new QCheckBox(tr("closes at"), this);
  closes_at_ = new QDateTimeEdit(QDateTime::currentDateTime().addSecs(3600), this);
  closes_at_->setCalendarPopup(true);
  closes_at_->setEnabled(false);
  token_ = new QCheckBox(tr("orders need a submission token"), this);
  pay_timeout_ = new QSpinBox(this);
  pay_timeout_->setRange(1, 24 * 60);
  pay_timeout_->setValue(15);
  pay_timeout_->setSuffix(tr(" min"));
  create_problem_ = new QLabel(this);
  create_problem_->setWordWrap(true);
  theme::markAsError(create_problem_);
  create_ = new QPushButton(tr("Create sale…"), this);
  auto* create_box = new QGroupBox(tr("New sale"), this);
  auto* cf = new QFormLayout(create_box);
  cf->addRow(tr("Id"), id_);
  cf->addRow(tr("Name"), name_);
  cf->addRow(tr("Stock"), stock_);
  cf->addRow(tr("Strategy"), strategy_);
  auto* opens_row = new QHBoxLayout();
  opens_row->addWidget(opens_later_);
  opens_row->addWidget(opens_at_, 1);
  cf->addRow(tr("Window"), opens_row);
  auto* closes_row = new QHBoxLayout();
  closes_row->addWidget(closes_);
  closes_row->addWidget(closes_at_, 1);
  cf->addRow(QString(), closes_row);
  cf->addRow(tr("Pay within"), pay_timeout_);
  cf->addRow(QString(), token_);
  cf->addRow(QString(), create_problem_);
  cf->addRow(QString(), create_);

  // The selected sale.
  selected_label_ = new QLabel(tr("Select a sale in the table."), this);
  selected_label_->setWordWrap(true);
  total_ = new QSpinBox(this);
  total_->setRange(0, 1'000'000'000);
  total_->setGroupSeparatorShown(true);
  set_total_ = new QPushButton(tr("Set total…"), this);
  set_total_->setToolTip(tr("Set the total stock (never below what is already sold)"));
  delta_ = new QSpinBox(this);
  delta_->setRange(-1'000'000'000, 1'000'000'000);
  delta_->setGroupSeparatorShown(true);
  delta_->setValue(100);
  move_ = new QPushButton(tr("Add / remove…"), this);
  move_->setToolTip(tr("Move the total by this many units (negative removes)"));
  open_ = new QPushButton(tr("Open now…"), this);
  close_ = new QPushButton(tr("Close now…"), this);
  auto* sel_box = new QGroupBox(tr("Selected sale"), this);
  auto* sf = new QFormLayout(sel_box);
  sf->addRow(selected_label_);
  auto* total_row = new QHBoxLayout();
  total_row->addWidget(total_, 1);
  total_row->addWidget(set_total_);
  sf->addRow(tr("Total stock"), total_row);
  auto* delta_row = new QHBoxLayout();
  delta_row->addWidget(delta_, 1);
  delta_row->addWidget(move_);
  sf->addRow(tr("Move by"), delta_row);
  auto* window_row = new QHBoxLayout();
  window_row->addWidget(open_);
  window_row->addWidget(close_);
  sf->addRow(tr("Window"), window_row);

  auto* right = new QVBoxLayout();
  right->addWidget(sel_box);
  right->addWidget(create_box);
  right->addStretch(1);
  auto* body = new QHBoxLayout();
  body->addWidget(table_, 3);
  body->addLayout(right, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(read_only_label_);
  layout->addLayout(body, 1);

  connect(opens_later_, &QCheckBox::toggled, opens_at_, &QWidget::setEnabled);
  connect(closes_, &QCheckBox::toggled, closes_at_, &QWidget::setEnabled);
  connect(id_, &QLineEdit::textChanged, this, &SalesPage::updateButtons);
  connect(create_, &QPushButton::clicked, this, &SalesPage::createSale);
  connect(set_total_, &QPushButton::clicked, this, &SalesPage::setTotal);
  connect(move_, &QPushButton::clicked, this, &SalesPage::moveStock);
  connect(open_, &QPushButton::clicked, this, &SalesPage::openSelected);
  connect(close_, &QPushButton::clicked, this, &SalesPage::closeSelected);
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& index) {
            if (index.isValid()) {
              total_->setValue(static_cast<int>(fleet_->sales()->sale(index.row()).stock_total()));
            }
            updateButtons();
          });
  connect(fleet_->sales(), &QAbstractItemModel::dataChanged, this, &SalesPage::updateButtons);
  connect(fleet_->sales(), &QAbstractItemModel::modelReset, this, &SalesPage::updateButtons);
  updateButtons();
}

void SalesPage::setSession(EngineSession* session) {
  if (session_ != nullptr) disconnect(session_, nullptr, this, nullptr);
  session_ = session;
  if (session == nullptr) return;
  connect(session, &EngineSession::callFinished, this, [this](const CallResult& r) {
    if (r.what.contains(QStringLiteral("sale")) || r.what.contains(QStringLiteral("stock of"))) {
      emit message(r.text(), !r.ok);
      if (r.what.startsWith(QStringLiteral("create sale"))) {
        create_problem_->setText(r.ok ? QString() : r.error);
        if (r.ok) id_->clear();
      }
    }
  });
}

void SalesPage::setReadOnly(const QString& reason) {
  read_only_ = reason;
  read_only_label_->setVisible(!reason.isEmpty());
  read_only_label_->setText(QStringLiteral("<b>%1</b>").arg(reason.toHtmlEscaped()));
  for (QWidget* w : std::initializer_list<QWidget*>{create_, set_total_, move_, open_, close_}) {
    keepTip(w, reason);
  }
  updateButtons();
}

QString SalesPage::selected() const {
  const QModelIndex index = table_->currentIndex();
  return index.isValid() ? index.data(kKeyRole).toString() : QString();
}

bool SalesPage::selectSale(const QString& id) {
  const int row = fleet_->sales()->rowOf(id);
  if (row < 0) return false;
  table_->selectRow(row);
  table_->setCurrentIndex(table_->model()->index(row, 0));
  return true;
}

void SalesPage::updateButtons() {
  const bool writable = read_only_.isEmpty();
  static const QRegularExpression kId(QStringLiteral("^[A-Za-z0-9_-]{1,64}$"));
  const QString id = id_->text().trimmed();
  QString problem;
  if (!id.isEmpty() && !kId.match(id).hasMatch()) {
    problem = tr("id: 1-64 characters of A-Z a-z 0-9 _ -");
  } else if (!id.isEmpty() && fleet_->sales()->rowOf(id) >= 0) {
    problem = tr("id: sale %1 exists already").arg(id);
  }
  create_problem_->setText(problem);
  create_->setEnabled(writable && !id.isEmpty() && problem.isEmpty());
  const QString sale = selected();
  const bool any = !sale.isEmpty();
  for (QPushButton* b : {set_total_, move_, open_, close_}) b->setEnabled(writable && any);
  if (any) {
    const v1::Sale& s = fleet_->sales()->sale(fleet_->sales()->rowOf(sale));
    selected_label_->setText(
        tr("<b>%1</b> (%2): %3 left of %4, %5 sold, %6")
            .arg(sale.toHtmlEscaped(), QString::fromStdString(s.name()).toHtmlEscaped())
            .arg(s.stock_left())
            .arg(s.stock_total())
            .arg(s.sold())
            .arg(label(s.state())));
  }
}

void SalesPage::createSale() {
  if (!read_only_.isEmpty() || !create_->isEnabled()) return;
  v1::Sale sale;
  sale.set_id(id_->text().trimmed().toStdString());
  sale.set_name(name_->text().trimmed().toStdString());
  sale.set_stock_total(stock_->value());
  sale.set_strategy(static_cast<v1::StockStrategy>(strategy_->currentData().toInt()));
  if (opens_later_->isChecked()) *sale.mutable_opens_at() = timestampOf(opens_at_->dateTime());
  if (closes_->isChecked()) *sale.mutable_closes_at() = timestampOf(closes_at_->dateTime());
  sale.set_require_token(token_->isChecked());
  sale.mutable_pay_timeout()->set_seconds(pay_timeout_->value() * 60);
  const QString id = QString::fromStdString(sale.id());
  const QString when =
      opens_later_->isChecked() ? tr("at %1").arg(opens_at_->dateTime().toString()) : tr("at once");
  if (!confirm_(this,
                Confirmation{tr("Create sale %1?").arg(id),
                             tr("Sale %1 with %2 units opens %3; shoppers can order from it then.")
                                 .arg(id)
                                 .arg(stock_->value())
                                 .arg(when),
                             tr("Create")})) {
    return;
  }
  if (session_ != nullptr) session_->createSale(sale);
}

void SalesPage::setTotal() {
  const QString sale = selected();
  if (!read_only_.isEmpty() || sale.isEmpty()) return;
  if (!confirm_(this, Confirmation{
                          tr("Set the stock of %1?").arg(sale),
                          tr("Sale %1's total stock becomes %2 units (never below what is sold).")
                              .arg(sale)
                              .arg(total_->value()),
                          tr("Set total")})) {
    return;
  }
  if (session_ != nullptr) session_->adjustStock(sale, true, total_->value());
}

void SalesPage::moveStock() {
  const QString sale = selected();
  if (!read_only_.isEmpty() || sale.isEmpty() || delta_->value() == 0) return;
  const int d = delta_->value();
  if (!confirm_(
          this,
          Confirmation{
              tr("Change the stock of %1?").arg(sale),
              d > 0
                  ? tr("%1 units are added to sale %2 and can be ordered at once.").arg(d).arg(sale)
                  : tr("%1 units are taken from sale %2 (never below what is sold).")
                        .arg(-d)
                        .arg(sale),
              d > 0 ? tr("Add %1").arg(d) : tr("Remove %1").arg(-d)})) {
    return;
  }
  if (session_ != nullptr) session_->adjustStock(sale, false, d);
}

void SalesPage::openSelected() {
  const QString sale = selected();
  if (!read_only_.isEmpty() || sale.isEmpty()) return;
  if (!confirm_(this, Confirmation{tr("Open %1 now?").arg(sale), openSaleConsequence(sale),
                                   tr("Open now")}))
    return;
  if (session_ != nullptr) session_->openSale(sale);
}

void SalesPage::closeSelected() {
  const QString sale = selected();
  if (!read_only_.isEmpty() || sale.isEmpty()) return;
  if (!confirm_(this, Confirmation{tr("Close %1 now?").arg(sale), closeSaleConsequence(sale),
                                   tr("Close now")}))
    return;
  if (session_ != nullptr) session_->closeSale(sale);
}

}  // namespace seckill::console
