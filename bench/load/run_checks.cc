#include "bench/load/run_checks.h"

#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/load/text_parse.h"

namespace seckill::load {
namespace {

constexpr size_t kMaxListed = 5;  // violations named in a detail

// Distinct order ids per user (a token replay answers the same order twice).
std::map<std::string, std::vector<const CreatedOrder*>> ordersByUser(
    const std::vector<CreatedOrder>& created) {
  std::map<std::string, std::vector<const CreatedOrder*>> by_user;
  std::set<std::string> seen;
  for (const CreatedOrder& o : created) {
    if (o.order_id.empty() || !seen.insert(o.order_id).second) continue;
    by_user[o.user_id].push_back(&o);
  }
  return by_user;
}

int64_t distinctOrders(const std::vector<CreatedOrder>& created) {
  std::set<std::string_view> ids;
  for (const CreatedOrder& o : created) {
    if (!o.order_id.empty()) ids.insert(o.order_id);
  }
  return static_cast<int64_t>(ids.size());
}

CheckResult stockBounds(const RunFacts& f) {
  CheckResult r{.name = "stock bounds"};
  std::vector<std::string> problems;
  for (const SaleSnapshot* s : {&f.sale_before, &f.sale_after}) {
    const char* when = s == &f.sale_before ? "before" : "after";
    if (s->stock_total < 0)
      problems.push_back(absl::StrCat("stock_total ", s->stock_total, " ", when));
    if (s->stock_left < 0)
      problems.push_back(absl::StrCat("stock_left ", s->stock_left, " < 0 ", when));
    if (s->stock_left > s->stock_total) {
      problems.push_back(
          absl::StrCat("stock_left ", s->stock_left, " > stock_total ", s->stock_total, " ", when));
    }
  }
  if (f.sale_before.stock_total != f.sale_after.stock_total) {
    problems.push_back(absl::StrCat("stock_total changed from ", f.sale_before.stock_total, " to ",
                                    f.sale_after.stock_total));
  }
  r.ok = problems.empty();
  r.detail = r.ok ? absl::StrCat("0 <= left ", f.sale_after.stock_left, " <= stock ",
                                 f.sale_after.stock_total, " (sold ", f.sale_after.sold(), ")")
                  : absl::StrJoin(problems, "; ");
  return r;
}

CheckResult noOversell(const RunFacts& f) {
  CheckResult r{.name = "no oversell"};
  const int64_t created = distinctOrders(f.created);
  int64_t paid = 0;
  for (const CreatedOrder& o : f.created) paid += o.paid ? 1 : 0;
  const int64_t sold = f.sale_after.sold();
  int64_t cancelled = 0;
  std::string cancelled_note;
  if (f.metrics_before && f.metrics_after) {
    cancelled = std::max<int64_t>(0, f.metrics_after->cancelled - f.metrics_before->cancelled);
    cancelled_note = absl::StrCat(" + cancelled during the run ", cancelled);
  } else {
    cancelled_note = " (no /metrics: cancellations during the run not counted)";
  }
  const bool created_ok = created <= sold + cancelled;
  const bool paid_ok = paid <= sold;
  r.ok = created_ok && paid_ok;
  r.detail = absl::StrCat("201 orders ", created, created_ok ? " <= " : " > ", "sold ", sold,
                          cancelled_note);
  if (!paid_ok) absl::StrAppend(&r.detail, "; paid ", paid, " > sold ", sold);
  return r;
}

CheckResult onePerUser(const RunFacts& f) {
  CheckResult r{.name = "one order per user"};
  int64_t users_with_repeats = 0;
  int64_t unverified_users = 0;
  std::vector<std::string> violations;
  int64_t violating_users = 0;
  for (const auto& [user, orders] : ordersByUser(f.created)) {
    if (orders.size() < 2) continue;
    ++users_with_repeats;
    int64_t paid = 0;
    int64_t live = 0;
    bool all_known = true;
    std::vector<std::string> listed;
    for (const CreatedOrder* o : orders) {
      paid += o->paid ? 1 : 0;
      auto it = f.order_states.find(o->order_id);
      std::string_view state;
      if (o->paid) {
        state = "paid";
      } else if (it != f.order_states.end()) {
        state = it->second;
      } else {
        all_known = false;
        continue;
      }
      if (state != "cancelled") ++live;
      listed.push_back(absl::StrCat(o->order_id, " ", av(state)));
    }
    if (paid >= 2 || live >= 2) {
      if (++violating_users <= static_cast<int64_t>(kMaxListed)) {
        violations.push_back(absl::StrCat("user ", user, ": ", live, " live orders (",
                                          absl::StrJoin(listed, ", "), ")"));
      }
    } else if (!all_known) {
      ++unverified_users;
    }
  }
  r.ok = violating_users == 0;
  if (!r.ok) {
    r.detail = absl::StrCat(violating_users,
                            " users hold two live orders: ", absl::StrJoin(violations, "; "));
    if (violating_users > static_cast<int64_t>(kMaxListed)) r.detail.append("; ...");
    return r;
  }
  r.detail = absl::StrCat(ordersByUser(f.created).size(), " users with 201s");
  if (users_with_repeats > 0) {
    absl::StrAppend(&r.detail, ", ", users_with_repeats,
                    " with more than one order, the earlier ones cancelled");
  }
  if (unverified_users > 0 || f.lookups_skipped > 0) {
    absl::StrAppend(&r.detail, "; ", unverified_users,
                    " users not verified (over --max-order-lookups)");
  }
  return r;
}

CheckResult countsAddUp(const RunFacts& f) {
  CheckResult r{.name = "counts add up"};
  std::vector<std::string> problems;
  auto checkRow = [&](const SecondRow& row, const std::string& where) {
    bool negative = row.offered < 0 || row.sent < 0;
    for (int64_t n : row.outcomes) negative = negative || n < 0;
    if (negative) problems.push_back(absl::StrCat(where, ": a negative count"));
    const int64_t errors = row.outcome(StatusClass::kError);
    if (row.sent != row.answered() + errors) {
      problems.push_back(absl::StrCat(where, ": sent ", row.sent, " != answered ", row.answered(),
                                      " + errors ", errors));
    }
    if (row.sent > row.offered) {
      problems.push_back(absl::StrCat(where, ": sent ", row.sent, " > offered ", row.offered));
    }
  };
  const std::vector<SecondRow>& rows = f.stats->seconds();
  for (size_t s = 0; s < rows.size() && problems.size() < kMaxListed; ++s) {
    checkRow(rows[s], absl::StrCat("second ", s));
  }
  const SecondRow totals = f.stats->totals();
  checkRow(totals, "total");
  const SideCounters& side = f.stats->side();
  const int64_t created = totals.outcome(StatusClass::k201);
  if (side.pays_ok < 0 || side.pays_failed < 0 || side.pays_ok + side.pays_failed > created) {
    problems.push_back(
        absl::StrCat("pays ", side.pays_ok, " + failed ", side.pays_failed, " > 201s ", created));
  }
  if (static_cast<int64_t>(f.created.size()) != created) {
    problems.push_back(
        absl::StrCat("orders recorded ", f.created.size(), " != 201 answers ", created));
  }
  int64_t without_id = 0;
  for (const CreatedOrder& o : f.created) without_id += o.order_id.empty() ? 1 : 0;
  if (without_id > 0) problems.push_back(absl::StrCat(without_id, " 201 answers without order_id"));

  r.ok = problems.empty();
  r.detail =
      r.ok ? absl::StrCat("offered ", totals.offered, " >= sent ", totals.sent, " = answered ",
                          totals.answered(), " + errors ", totals.outcome(StatusClass::kError))
           : absl::StrJoin(problems, "; ");
  return r;
}

CheckResult engineCounts(const RunFacts& f) {
  CheckResult r{.name = "engine order counts"};
  if (!f.metrics_before || !f.metrics_after) {
    r.skipped = true;
    r.detail = "no seckill_orders in /metrics";
    return r;
  }
  const OrderCounts& b = *f.metrics_before;
  const OrderCounts& a = *f.metrics_after;
  std::vector<std::string> problems;
  for (const OrderCounts* c : {&b, &a}) {
    if (c->pending_payment < 0 || c->paid < 0 || c->cancelled < 0) {
      problems.push_back("a negative order count");
      break;
    }
  }
  const int64_t created = distinctOrders(f.created);
  const int64_t grew = a.all() - b.all();
  if (grew < created) {
    problems.push_back(absl::StrCat("orders grew by ", grew, " < 201 orders seen ", created));
  }
  const int64_t paid_grew = a.paid - b.paid;
  if (paid_grew < f.stats->side().pays_ok) {
    problems.push_back(
        absl::StrCat("paid grew by ", paid_grew, " < pays seen ", f.stats->side().pays_ok));
  }
  r.ok = problems.empty();
  r.detail = r.ok ? absl::StrCat("orders +", grew, " >= 201s ", created, ", paid +", paid_grew,
                                 " >= pays ", f.stats->side().pays_ok)
                  : absl::StrJoin(problems, "; ");
  return r;
}

}  // namespace

bool engineCountsCoverTheRun(const RunFacts& facts) {
  CheckResult r = engineCounts(facts);
  return r.ok || r.skipped;
}

std::vector<CreatedOrder> ordersToLookUp(const std::vector<CreatedOrder>& created, size_t limit,
                                         size_t* skipped) {
  std::vector<CreatedOrder> out;
  size_t left_out = 0;
  for (const auto& [user, orders] : ordersByUser(created)) {
    if (orders.size() < 2) continue;
    size_t paid = 0;
    for (const CreatedOrder* o : orders) paid += o->paid ? 1 : 0;
    if (paid >= 2) continue;                     // a violation already, no lookup can change that
    const size_t unpaid = orders.size() - paid;  // a paid order's state is known
    if (out.size() + unpaid > limit) {
      left_out += unpaid;
      continue;
    }
    for (const CreatedOrder* o : orders) {
      if (!o->paid) out.push_back(*o);
    }
  }
  if (skipped != nullptr) *skipped = left_out;
  return out;
}

std::vector<CheckResult> checkRun(const RunFacts& f) {
  return {stockBounds(f), noOversell(f), onePerUser(f), countsAddUp(f), engineCounts(f)};
}

bool allPassed(const std::vector<CheckResult>& results) {
  for (const CheckResult& r : results) {
    if (!r.ok) return false;
  }
  return true;
}

std::string formatChecks(const std::vector<CheckResult>& results) {
  std::string out = "  checks:\n";
  for (const CheckResult& r : results) {
    absl::StrAppendFormat(&out, "    %-4s  %-20s %s\n",
                          !r.ok       ? "FAIL"
                          : r.skipped ? "skip"
                                      : "ok",
                          r.name, r.detail);
  }
  return out;
}

}  // namespace seckill::load
