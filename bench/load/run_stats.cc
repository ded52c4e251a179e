#include "bench/load/run_stats.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/load/text_parse.h"

namespace seckill::load {
namespace {

constexpr StatusClass kAllClasses[] = {StatusClass::k201,  StatusClass::k409, StatusClass::k410,
                                       StatusClass::k429,  StatusClass::k503, StatusClass::kOther,
                                       StatusClass::kError};

std::string millis(uint64_t micros) { return absl::StrFormat("%.3f", micros / 1000.0); }

}  // namespace

StatusClass classifyStatus(int http_status) {
  switch (http_status) {
    case 201:
      return StatusClass::k201;
    case 409:
      return StatusClass::k409;
    case 410:
      return StatusClass::k410;
    case 429:
      return StatusClass::k429;
    case 503:
      return StatusClass::k503;
    default:
      return StatusClass::kOther;
  }
}

std::string_view statusClassName(StatusClass c) {
  switch (c) {
    case StatusClass::k201:
      return "201";
    case StatusClass::k409:
      return "409";
    case StatusClass::k410:
      return "410";
    case StatusClass::k429:
      return "429";
    case StatusClass::k503:
      return "503";
    case StatusClass::kOther:
      return "other";
    case StatusClass::kError:
      return "errors";
  }
  return "?";
}

int64_t SecondRow::answered() const {
  int64_t n = 0;
  for (StatusClass c : kAllClasses) {
    if (c != StatusClass::kError) n += outcome(c);
  }
  return n;
}

void SecondRow::merge(const SecondRow& other) {
  offered += other.offered;
  sent += other.sent;
  for (size_t i = 0; i < kStatusClassCount; ++i) outcomes[i] += other.outcomes[i];
  latency.merge(other.latency);
}

void SideCounters::merge(const SideCounters& o) {
  token_failures += o.token_failures;
  pays_ok += o.pays_ok;
  pays_failed += o.pays_failed;
  replayed += o.replayed;
  retried += o.retried;
  connects += o.connects;
  connect_failures += o.connect_failures;
}

SecondRow& RunStats::row(int64_t second) {
  const auto s = static_cast<size_t>(std::max<int64_t>(0, second));
  if (s >= seconds_.size()) seconds_.resize(s + 1);
  return seconds_[s];
}

void RunStats::addOffered(int64_t second) { ++row(second).offered; }

void RunStats::addSent(int64_t second) { ++row(second).sent; }

void RunStats::addOutcome(int64_t second, StatusClass c, uint64_t latency_us) {
  SecondRow& r = row(second);
  ++r.outcomes[static_cast<size_t>(c)];
  if (c != StatusClass::kError) r.latency.record(latency_us);
}

void RunStats::merge(const RunStats& other) {
  if (other.seconds_.size() > seconds_.size()) seconds_.resize(other.seconds_.size());
  for (size_t i = 0; i < other.seconds_.size(); ++i) seconds_[i].merge(other.seconds_[i]);
  side_.merge(other.side_);
}

SecondRow RunStats::totals() const {
  SecondRow t;
  for (const SecondRow& r : seconds_) t.merge(r);
  return t;
}

std::string csvHeader() {
  return "second,offered,sent,201,409,410,429,503,other,p50_ms,p99_ms,errors";
}

std::string formatCsv(const RunStats& stats, int64_t run_seconds) {
  std::string out = csvHeader();
  out.push_back('\n');
  const auto& rows = stats.seconds();
  const int64_t n = std::max<int64_t>(run_seconds, static_cast<int64_t>(rows.size()));
  const SecondRow empty;
  for (int64_t s = 0; s < n; ++s) {
    const SecondRow& r = s < static_cast<int64_t>(rows.size()) ? rows[s] : empty;
    absl::StrAppend(&out, s, ",", r.offered, ",", r.sent);
    for (StatusClass c : kAllClasses) {
      if (c != StatusClass::kError) absl::StrAppend(&out, ",", r.outcome(c));
    }
    if (r.latency.count() > 0) {
      absl::StrAppend(&out, ",", millis(r.latency.percentile(0.5)), ",",
                      millis(r.latency.percentile(0.99)));
    } else {
      out.append(",,");
    }
    absl::StrAppend(&out, ",", r.outcome(StatusClass::kError), "\n");
  }
  return out;
}

std::string formatSummary(const SummaryHeader& h, const RunStats& stats) {
  const SecondRow t = stats.totals();
  const SideCounters& side = stats.side();
  const double per_s = h.duration_s > 0 ? 1.0 / h.duration_s : 0;
  std::string out;
  absl::StrAppend(&out, "seckill-load  ", h.target, "\n");
  absl::StrAppendFormat(&out, "  shape   %s, %gs (elapsed %.1fs with the drain)\n", h.shape,
                        h.duration_s, h.elapsed_s);
  absl::StrAppend(&out, "  setup   ", h.setup, "\n\n");

  auto line = [&](std::string_view name, int64_t n, bool rate, bool share) {
    absl::StrAppendFormat(&out, "  %-16s %10d", name, n);
    if (rate) absl::StrAppendFormat(&out, " %11.1f", static_cast<double>(n) * per_s);
    if (share && t.sent > 0) {
      if (!rate) out.append(std::string(12, ' '));
      absl::StrAppendFormat(&out, " %7.1f%%",
                            100.0 * static_cast<double>(n) / static_cast<double>(t.sent));
    }
    out.push_back('\n');
  };
  absl::StrAppendFormat(&out, "  %-16s %10s %11s %8s\n", "attempts", "count", "per s", "of sent");
  line("offered", t.offered, true, false);
  line("sent", t.sent, true, false);
  line("not sent", t.offered - t.sent, false, false);
  for (StatusClass c : kAllClasses) line(statusClassName(c), t.outcome(c), true, true);
  out.push_back('\n');
  line("paid", side.pays_ok, true, false);
  line("pay failed", side.pays_failed, false, false);
  line("token failures", side.token_failures, false, false);
  line("replayed", side.replayed, false, false);
  line("retried", side.retried, false, false);
  line("connects", side.connects, false, false);
  line("connect failures", side.connect_failures, false, false);

  const LatencyHistogram& l = t.latency;
  out.append("\n  latency ms, from the intended send time, of answered attempts:\n");
  if (l.count() == 0) {
    out.append("    (none answered)\n");
  } else {
    absl::StrAppend(&out, "    min ", millis(l.min()), "  p50 ", millis(l.percentile(0.5)),
                    "  p90 ", millis(l.percentile(0.9)), "  p99 ", millis(l.percentile(0.99)),
                    "  p99.9 ", millis(l.percentile(0.999)), "  max ", millis(l.max()), "  mean ",
                    millis(static_cast<uint64_t>(l.mean())), "\n");
  }
  return out;
}

std::string formatProgress(const ProgressSnapshot& p) {
  std::string out = absl::StrFormat("%6.1fs offered %d sent %d queued %d |", p.elapsed_s, p.offered,
                                    p.sent, p.queued);
  for (StatusClass c : kAllClasses) {
    absl::StrAppend(&out, " ", av(statusClassName(c)), " ", p.outcomes[static_cast<size_t>(c)]);
  }
  return out;
}

}  // namespace seckill::load
