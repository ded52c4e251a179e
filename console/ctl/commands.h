#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "console/client/admin_client.h"
#include "console/ctl/args.h"

// seckillctl's commands: each makes its calls through the AdminClient and prints the result
// (a human table, or JSON with Context::json). A failure is returned, not printed: the caller
// prints errorLine() and exits with exitCode(). Reads are retried once on UNAVAILABLE; changes
// never are.
namespace seckill::ctl {

namespace v1 = ::seckill::admin::v1;

// What every command works with.
struct Context {
  client::AdminClient& client;
  std::ostream& out;  // the result
  std::ostream& err;  // notes beside it (a stream reconnecting, more pages)
  bool json = false;
  absl::TimeZone tz = absl::UTCTimeZone();  // of the times printed
  // Ends `stats --follow` when notified (nullptr: it runs until the stream fails for good).
  const absl::Notification* interrupt = nullptr;
};

// ---- node and stats
absl::Status showStatus(Context& ctx);

struct StatsArgs {
  bool follow = false;
  absl::Time since = absl::InfinitePast();  // InfinitePast: all the history the engine holds
};
// Without follow: the history the engine holds (after `since`), then exit. With follow: the
// history, then each new second until interrupted, reconnecting as StatsWatch does.
absl::Status showStats(Context& ctx, const StatsArgs& args);

// ---- rules
// A rule-set change's options: without expect_version, the running version is read first.
struct ChangeArgs {
  std::optional<uint64_t> expect_version;
  std::string comment;
};
struct RuleSelector {
  std::string id;      // either the id ...
  std::string path;    // ... or the path pattern
  std::string method;  // with path
};

absl::Status listRules(Context& ctx);
absl::Status getRules(Context& ctx, const RuleSelector& selector);
// `file`: [[rule]] / [[override]] TOML, "-" for stdin; sent as is, the engine parses it.
// An invalid set prints its errors and fails (INVALID_ARGUMENT).
absl::Status validateRules(Context& ctx, const std::string& file, std::istream& stdin_stream);
absl::Status applyRules(Context& ctx, const std::string& file, std::istream& stdin_stream,
                        const ChangeArgs& change);
absl::Status diffRules(Context& ctx, uint64_t from, uint64_t to);
absl::Status listVersions(Context& ctx, int limit);
absl::Status rollbackRules(Context& ctx, uint64_t to, const ChangeArgs& change);
absl::Status exportRules(Context& ctx, uint64_t version);

// ---- overrides, rule modes, breakers (overrides and modes apply to the running version unless
// expect_version is given)
absl::Status listOverrides(Context& ctx);
absl::Status setOverride(Context& ctx, const std::string& prefix, v1::OverrideMode mode,
                         const ChangeArgs& change);
absl::Status clearOverride(Context& ctx, const std::string& prefix, const ChangeArgs& change);
struct RuleModeArgs {
  RuleSelector rule;
  v1::OnLimit mode = v1::ON_LIMIT_UNSPECIFIED;
  std::optional<absl::Duration> max_wait;  // QUEUE only
  ChangeArgs change;
};
absl::Status setRuleMode(Context& ctx, const RuleModeArgs& args);
absl::Status listBreakers(Context& ctx);
absl::Status setBreakerMode(Context& ctx, const std::string& name, v1::BreakerMode mode,
                            const std::string& comment);

// ---- sales
absl::Status listSales(Context& ctx);
absl::Status getSale(Context& ctx, const std::string& id);
struct CreateSaleArgs {
  std::string id;
  int64_t stock = 0;
  std::string name;  // empty: the engine uses the id
  std::optional<absl::Time> opens_at;
  std::optional<absl::Time> closes_at;
  std::optional<v1::StockStrategy> strategy;
  bool require_token = false;
  std::optional<absl::Duration> pay_timeout;
  std::string comment;
};
absl::Status createSale(Context& ctx, const CreateSaleArgs& args);
absl::Status adjustStock(Context& ctx, const std::string& id, StockChange change,
                         const std::string& comment);
absl::Status openSale(Context& ctx, const std::string& id, const std::string& comment);
absl::Status closeSale(Context& ctx, const std::string& id, const std::string& comment);

// ---- orders and audit
absl::Status getOrder(Context& ctx, const std::string& id);
struct OrderListArgs {
  std::string sale;
  std::string user;
  int limit = 100;   // the page size (the engine allows at most 1000)
  bool all = false;  // follow next_page_token to the end
};
absl::Status listOrders(Context& ctx, const OrderListArgs& args);
struct AuditArgs {
  std::optional<absl::Time> since;
  std::optional<absl::Time> until;
  std::string author;
  int limit = 100;  // entries at most, newest first (fetched a page at a time)
};
absl::Status listAudit(Context& ctx, const AuditArgs& args);

}  // namespace seckill::ctl
