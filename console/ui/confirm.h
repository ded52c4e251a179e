#pragma once

#include <QString>
#include <functional>

class QWidget;

namespace seckill::console {

// A question put to the operator before a change that shoppers feel.
struct Confirmation {
  QString title;   // "Force breaker stock_store open?"
  QString text;    // what will happen to shoppers, said plainly
  QString action;  // the button that goes ahead: "Force open"
};

// Asks; true to go ahead. Pages take one, so tests can answer for the operator.
using Confirmer = std::function<bool(QWidget* parent, const Confirmation& question)>;

// A modal message box whose default button is Cancel and whose other button names the action.
Confirmer dialogConfirmer();

}  // namespace seckill::console
