#include "console/ui/confirm.h"

#include <QMessageBox>
#include <QPushButton>

namespace seckill::console {

Confirmer dialogConfirmer() {
  return [](QWidget* parent, const Confirmation& q) {
    QMessageBox box(QMessageBox::Warning, q.title, q.text, QMessageBox::NoButton, parent);
    QPushButton* go = box.addButton(q.action, QMessageBox::AcceptRole);
    QPushButton* cancel = box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(cancel);
    box.setEscapeButton(cancel);
    box.exec();
    return box.clickedButton() == go;
  };
}

}  // namespace seckill::console
