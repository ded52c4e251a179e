#include "console/ctl/commands.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "console/ctl/format.h"

namespace seckill::ctl {
namespace {

using client::AdminClient;
using client::StatsWatch;

google::protobuf::Timestamp toProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return ts;
}

google::protobuf::Duration toProto(absl::Duration d) {
  google::protobuf::Duration out;
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
  return out;
}

// The text of `path`, or of stdin for "-".
absl::StatusOr<std::string> readInput(const std::string& path, std::istream& stdin_stream) {
  std::ostringstream text;
  if (path == "-") {
    text << stdin_stream.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string message = absl::StrCat("cannot read ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::FailedPreconditionError(message);
  }
  text << in.rdbuf();
  return text.str();
}

// Prints `message` as JSON, or `human` (the table) without --json.
void print(Context& ctx, const google::protobuf::Message& message, const std::string& human) {
  if (ctx.json) {
    ctx.out << jsonDocument(message);
  } else {
    ctx.out << human;
  }
}

void printApplied(Context& ctx, const v1::ApplyRulesResponse& r) {
  if (ctx.json) {
    ctx.out << jsonDocument(appliedJson(r));
  } else {
    ctx.out << formatApplied(r);
  }
}

// The version a change is based on: the one given, else the running one.
absl::StatusOr<uint64_t> baseVersion(Context& ctx, const ChangeArgs& change) {
  if (change.expect_version) return *change.expect_version;
  absl::StatusOr<v1::ListRulesResponse> list = ctx.client.listRules();
  if (!list.ok()) return list.status();
  return list->version();
}

absl::Status followStats(Context& ctx, const StatsArgs& args) {
  struct Shared {
    absl::Mutex mu;
    bool stopped ABSL_GUARDED_BY(mu) = false;
    absl::Status why ABSL_GUARDED_BY(mu);
  } shared;
  bool retrying = false;  // the watch's thread only
  StatsWatch::Callbacks callbacks;
  callbacks.on_snapshot = [&](const v1::StatsSnapshot& s) {
    ctx.out << (ctx.json ? statsJsonLine(s) + "\n" : statsRow(s, ctx.tz)) << std::flush;
  };
  callbacks.on_state = [&](StatsWatch::State state, const absl::Status& why) {
    switch (state) {
      case StatsWatch::State::kRetrying:
        retrying = true;
        ctx.err << "seckillctl: stats stream lost (" << absl::StatusCodeToString(why.code()) << ": "
                << why.message() << "); reconnecting" << std::endl;
        break;
      case StatsWatch::State::kStreaming:
        if (retrying) ctx.err << "seckillctl: stats stream resumed" << std::endl;
        retrying = false;
        break;
      case StatsWatch::State::kStopped: {
        absl::MutexLock lock(&shared.mu);
        shared.stopped = true;
        shared.why = why;
        break;
      }
      case StatsWatch::State::kConnecting:
        break;
    }
  };
  StatsWatch::Options options;
  options.since = args.since;
  if (!ctx.json) ctx.out << statsHeader() << std::flush;
  StatsWatch watch(ctx.client, std::move(callbacks), options);
  absl::Status why;
  {
    absl::MutexLock lock(&shared.mu);
    while (!shared.stopped && !(ctx.interrupt != nullptr && ctx.interrupt->HasBeenNotified())) {
      if (ctx.interrupt == nullptr) {
        shared.mu.Await(absl::Condition(&shared.stopped));
      } else {
        shared.mu.AwaitWithTimeout(absl::Condition(&shared.stopped), absl::Milliseconds(20));
      }
    }
    why = shared.why;
  }
  watch.stop();
  return why;
}

}  // namespace

// ---------------------------------------------------------------- node and stats

absl::Status showStatus(Context& ctx) {
  absl::StatusOr<v1::NodeStatus> st = ctx.client.status();
  if (!st.ok()) return st.status();
  print(ctx, *st, formatStatus(*st, ctx.tz));
  return absl::OkStatus();
}

absl::Status showStats(Context& ctx, const StatsArgs& args) {
  if (args.follow) return followStats(ctx, args);
  // The history ends where the first live second comes: that one is not printed.
  grpc::ClientContext call;
  ctx.client.prepare(call, ctx.client.options().deadline);
  v1::WatchStatsRequest request;
  if (args.since != absl::InfinitePast()) *request.mutable_since() = toProto(args.since);
  std::unique_ptr<grpc::ClientReader<v1::StatsSnapshot>> reader =
      ctx.client.stub<v1::Stats::Stub>().Watch(&call, request);
  if (!ctx.json) ctx.out << statsHeader();
  v1::StatsSnapshot s;
  bool live = false;
  while (reader->Read(&s)) {
    if (!s.history()) {
      live = true;
      call.TryCancel();
      break;
    }
    ctx.out << (ctx.json ? statsJsonLine(s) + "\n" : statsRow(s, ctx.tz));
  }
  const grpc::Status status = reader->Finish();
  if (live || status.ok()) return absl::OkStatus();
  return client::fromGrpc(status, call);
}

// ---------------------------------------------------------------- rules

absl::Status listRules(Context& ctx) {
  absl::StatusOr<v1::ListRulesResponse> list = ctx.client.listRules();
  if (!list.ok()) return list.status();
  print(ctx, *list, formatRuleTree(*list, ctx.tz));
  return absl::OkStatus();
}

absl::Status getRules(Context& ctx, const RuleSelector& selector) {
  v1::GetRuleRequest request;
  request.set_id(selector.id);
  request.set_path(selector.path);
  request.set_method(selector.method);
  absl::StatusOr<v1::GetRuleResponse> r = ctx.client.read(&v1::Rules::Stub::Get, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatRuleViews(r->version(), r->rules()));
  return absl::OkStatus();
}

absl::Status validateRules(Context& ctx, const std::string& file, std::istream& stdin_stream) {
  absl::StatusOr<std::string> text = readInput(file, stdin_stream);
  if (!text.ok()) return text.status();
  v1::ValidateRulesRequest request;
  request.set_toml(*text);
  absl::StatusOr<v1::ValidateRulesResponse> r =
      ctx.client.read(&v1::Rules::Stub::Validate, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatValidation(*r, file));
  if (r->valid()) return absl::OkStatus();
  const int n = std::max(r->errors_size(), 1);
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": ", n, n == 1 ? " error" : " errors", " in the rule set"));
}

absl::Status applyRules(Context& ctx, const std::string& file, std::istream& stdin_stream,
                        const ChangeArgs& change) {
  absl::StatusOr<std::string> text = readInput(file, stdin_stream);
  if (!text.ok()) return text.status();
  absl::StatusOr<uint64_t> base = baseVersion(ctx, change);
  if (!base.ok()) return base.status();
  v1::ApplyRulesRequest request;
  request.set_toml(*text);
  request.set_expected_version(*base);
  request.set_comment(change.comment);
  absl::StatusOr<v1::ApplyRulesResponse> r = ctx.client.call(&v1::Rules::Stub::Apply, request);
  if (!r.ok()) return r.status();
  printApplied(ctx, *r);
  return absl::OkStatus();
}

absl::Status diffRules(Context& ctx, uint64_t from, uint64_t to) {
  v1::DiffRulesRequest request;
  request.set_from_version(from);
  request.set_to_version(to);
  absl::StatusOr<v1::DiffRulesResponse> r = ctx.client.read(&v1::Rules::Stub::Diff, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatDiff(*r));
  return absl::OkStatus();
}

absl::Status listVersions(Context& ctx, int limit) {
  v1::ListVersionsRequest request;
  request.set_limit(limit);
  absl::StatusOr<v1::ListVersionsResponse> r =
      ctx.client.read(&v1::Rules::Stub::ListVersions, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatVersions(*r, ctx.tz));
  return absl::OkStatus();
}

absl::Status rollbackRules(Context& ctx, uint64_t to, const ChangeArgs& change) {
  absl::StatusOr<uint64_t> base = baseVersion(ctx, change);
  if (!base.ok()) return base.status();
  v1::RollbackRulesRequest request;
  request.set_to_version(to);
  request.set_expected_version(*base);
  request.set_comment(change.comment);
  absl::StatusOr<v1::ApplyRulesResponse> r = ctx.client.call(&v1::Rules::Stub::Rollback, request);
  if (!r.ok()) return r.status();
  printApplied(ctx, *r);
  return absl::OkStatus();
}

absl::Status exportRules(Context& ctx, uint64_t version) {
  v1::ExportRulesRequest request;
  request.set_version(version);
  absl::StatusOr<v1::ExportRulesResponse> r = ctx.client.read(&v1::Rules::Stub::Export, request);
  if (!r.ok()) return r.status();
  std::string toml = r->toml();
  if (!toml.empty() && toml.back() != '\n') toml += "\n";
  print(ctx, *r, toml);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- control

absl::Status listOverrides(Context& ctx) {
  absl::StatusOr<v1::ListOverridesResponse> r =
      ctx.client.read(&v1::Control::Stub::ListOverrides, v1::ListOverridesRequest());
  if (!r.ok()) return r.status();
  print(ctx, *r, formatOverrides(*r));
  return absl::OkStatus();
}

absl::Status setOverride(Context& ctx, const std::string& prefix, v1::OverrideMode mode,
                         const ChangeArgs& change) {
  v1::SetOverrideRequest request;
  request.set_prefix(prefix);
  request.set_mode(mode);
  if (change.expect_version) request.set_expected_version(*change.expect_version);
  request.set_comment(change.comment);
  absl::StatusOr<v1::ApplyRulesResponse> r =
      ctx.client.call(&v1::Control::Stub::SetOverride, request);
  if (!r.ok()) return r.status();
  printApplied(ctx, *r);
  return absl::OkStatus();
}

absl::Status clearOverride(Context& ctx, const std::string& prefix, const ChangeArgs& change) {
  v1::ClearOverrideRequest request;
  request.set_prefix(prefix);
  if (change.expect_version) request.set_expected_version(*change.expect_version);
  request.set_comment(change.comment);
  absl::StatusOr<v1::ApplyRulesResponse> r =
      ctx.client.call(&v1::Control::Stub::ClearOverride, request);
  if (!r.ok()) return r.status();
  printApplied(ctx, *r);
  return absl::OkStatus();
}

absl::Status setRuleMode(Context& ctx, const RuleModeArgs& args) {
  v1::SetRuleModeRequest request;
  request.set_id(args.rule.id);
  request.set_path(args.rule.path);
  request.set_method(args.rule.method);
  request.set_on_limit(args.mode);
  if (args.max_wait) *request.mutable_max_wait() = toProto(*args.max_wait);
  if (args.change.expect_version) request.set_expected_version(*args.change.expect_version);
  request.set_comment(args.change.comment);
  absl::StatusOr<v1::ApplyRulesResponse> r =
      ctx.client.call(&v1::Control::Stub::SetRuleMode, request);
  if (!r.ok()) return r.status();
  printApplied(ctx, *r);
  return absl::OkStatus();
}

absl::Status listBreakers(Context& ctx) {
  absl::StatusOr<v1::ListBreakersResponse> r = ctx.client.listBreakers();
  if (!r.ok()) return r.status();
  print(ctx, *r, formatBreakers(r->breakers()));
  return absl::OkStatus();
}

absl::Status setBreakerMode(Context& ctx, const std::string& name, v1::BreakerMode mode,
                            const std::string& comment) {
  v1::SetBreakerModeRequest request;
  request.set_name(name);
  request.set_mode(mode);
  request.set_comment(comment);
  absl::StatusOr<v1::Breaker> r = ctx.client.call(&v1::Control::Stub::SetBreakerMode, request);
  if (!r.ok()) return r.status();
  google::protobuf::RepeatedPtrField<v1::Breaker> one;
  *one.Add() = *r;
  print(ctx, *r, formatBreakers(one));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- sales

absl::Status listSales(Context& ctx) {
  absl::StatusOr<v1::ListSalesResponse> r = ctx.client.listSales();
  if (!r.ok()) return r.status();
  print(ctx, *r, formatSales(r->sales(), ctx.tz));
  return absl::OkStatus();
}

absl::Status getSale(Context& ctx, const std::string& id) {
  v1::GetSaleRequest request;
  request.set_id(id);
  absl::StatusOr<v1::Sale> r = ctx.client.read(&v1::Sales::Stub::Get, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatSale(*r, ctx.tz));
  return absl::OkStatus();
}

absl::Status createSale(Context& ctx, const CreateSaleArgs& args) {
  v1::CreateSaleRequest request;
  v1::Sale& sale = *request.mutable_sale();
  sale.set_id(args.id);
  sale.set_name(args.name);
  sale.set_stock_total(args.stock);
  if (args.opens_at) *sale.mutable_opens_at() = toProto(*args.opens_at);
  if (args.closes_at) *sale.mutable_closes_at() = toProto(*args.closes_at);
  if (args.strategy) sale.set_strategy(*args.strategy);
  sale.set_require_token(args.require_token);
  if (args.pay_timeout) *sale.mutable_pay_timeout() = toProto(*args.pay_timeout);
  request.set_comment(args.comment);
  absl::StatusOr<v1::Sale> r = ctx.client.call(&v1::Sales::Stub::Create, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatSale(*r, ctx.tz));
  return absl::OkStatus();
}

absl::Status adjustStock(Context& ctx, const std::string& id, StockChange change,
                         const std::string& comment) {
  v1::AdjustStockRequest request;
  request.set_id(id);
  if (change.delta) {
    request.set_delta(change.value);
  } else {
    request.set_set_total(change.value);
  }
  request.set_comment(comment);
  absl::StatusOr<v1::Sale> r = ctx.client.call(&v1::Sales::Stub::AdjustStock, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatSale(*r, ctx.tz));
  return absl::OkStatus();
}

absl::Status openSale(Context& ctx, const std::string& id, const std::string& comment) {
  v1::OpenSaleRequest request;
  request.set_id(id);
  request.set_comment(comment);
  absl::StatusOr<v1::Sale> r = ctx.client.call(&v1::Sales::Stub::Open, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatSale(*r, ctx.tz));
  return absl::OkStatus();
}

absl::Status closeSale(Context& ctx, const std::string& id, const std::string& comment) {
  v1::CloseSaleRequest request;
  request.set_id(id);
  request.set_comment(comment);
  absl::StatusOr<v1::Sale> r = ctx.client.call(&v1::Sales::Stub::Close, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatSale(*r, ctx.tz));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- orders and audit

absl::Status getOrder(Context& ctx, const std::string& id) {
  v1::GetOrderRequest request;
  request.set_id(id);
  absl::StatusOr<v1::Order> r = ctx.client.read(&v1::Orders::Stub::Get, request);
  if (!r.ok()) return r.status();
  print(ctx, *r, formatOrder(*r, ctx.tz));
  return absl::OkStatus();
}

absl::Status listOrders(Context& ctx, const OrderListArgs& args) {
  v1::ListOrdersRequest request;
  request.set_sale_id(args.sale);
  request.set_user_id(args.user);
  request.set_page_size(args.limit);
  v1::ListOrdersResponse all;
  for (;;) {
    absl::StatusOr<v1::ListOrdersResponse> page = ctx.client.read(&v1::Orders::Stub::List, request);
    if (!page.ok()) return page.status();
    all.mutable_orders()->MergeFrom(page->orders());
    all.set_next_page_token(page->next_page_token());
    if (!args.all || page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  print(ctx, all, formatOrders(all.orders(), ctx.tz));
  if (!ctx.json && !all.next_page_token().empty()) {
    ctx.err << "seckillctl: more orders follow (--all lists every page)\n";
  }
  return absl::OkStatus();
}

absl::Status listAudit(Context& ctx, const AuditArgs& args) {
  v1::ListAuditRequest request;
  if (args.since) *request.mutable_since() = toProto(*args.since);
  if (args.until) *request.mutable_until() = toProto(*args.until);
  request.set_author(args.author);
  request.set_page_size(std::min(args.limit, 1000));
  v1::ListAuditResponse all;
  for (;;) {
    absl::StatusOr<v1::ListAuditResponse> page = ctx.client.read(&v1::Audit::Stub::List, request);
    if (!page.ok()) return page.status();
    for (const v1::AuditEntry& e : page->entries()) {
      if (all.entries_size() >= args.limit) break;
      *all.add_entries() = e;
    }
    all.set_next_page_token(page->next_page_token());
    if (all.entries_size() >= args.limit || page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  print(ctx, all, formatAudit(all.entries(), ctx.tz));
  return absl::OkStatus();
}

}  // namespace seckill::ctl
