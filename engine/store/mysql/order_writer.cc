#include "engine/store/mysql/order_writer.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/store/redis/redis_keys.h"
#include "spdlog/spdlog.h"

namespace seckill {

// One stream entry: the order it announces, or only its stream id when the
// entry is malformed or was deleted (it is then acked and dropped).
struct OrderWriter::Entry {
  std::string stream_id;
  bool valid = false;
  bool deleted = false;  // XDELed while pending: only the ack is left to do
  std::string order_id;
  std::string user_id;
  int64_t created = 0;
  int64_t pay_before = 0;
};

struct OrderWriter::SaleCursor {
  bool group_ready = false;
  bool own_drained = false;         // own pending entries re-read after start
  std::string claim_start = "0-0";  // XAUTOCLAIM cursor
  absl::Time next_claim = absl::InfinitePast();
};

namespace {

std::string text(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return std::to_string(r.integer);
  return r.str;
}

// [id, [field, value, ...]] -> Entry.
OrderWriter::Entry parseEntry(const RedisReply& r) {
  OrderWriter::Entry e;
  if (r.type != RedisReply::Type::kArray || r.elements.empty()) return e;
  e.stream_id = text(r.elements[0]);
  if (r.elements.size() >= 2 && r.elements[1].isNil()) {
    e.deleted = true;
    return e;
  }
  if (r.elements.size() < 2 || r.elements[1].type != RedisReply::Type::kArray) return e;
  const std::vector<RedisReply>& f = r.elements[1].elements;
  bool has_id = false, has_user = false, has_created = false, has_pay = false;
  for (size_t i = 0; i + 1 < f.size(); i += 2) {
    const std::string& name = f[i].str;
    std::string value = text(f[i + 1]);
    if (name == "id") {
      e.order_id = std::move(value);
      has_id = !e.order_id.empty();
    } else if (name == "user") {
      e.user_id = std::move(value);
      has_user = !e.user_id.empty();
    } else if (name == "created") {
      has_created = absl::SimpleAtoi(value, &e.created);
    } else if (name == "pay_before") {
      has_pay = absl::SimpleAtoi(value, &e.pay_before);
    }
  }
  e.valid = has_id && has_user && has_created && has_pay;
  return e;
}

// The entries of an XREADGROUP answer (nil, or [[key, [entry...]]]).
absl::StatusOr<std::vector<OrderWriter::Entry>> parseRead(const RedisReply& r) {
  std::vector<OrderWriter::Entry> out;
  if (r.isNil()) return out;
  if (r.type != RedisReply::Type::kArray)
    return absl::InternalError("XREADGROUP: malformed answer");
  for (const RedisReply& stream : r.elements) {
    if (stream.type != RedisReply::Type::kArray || stream.elements.size() != 2 ||
        stream.elements[1].type != RedisReply::Type::kArray) {
      return absl::InternalError("XREADGROUP: malformed stream");
    }
    for (const RedisReply& entry : stream.elements[1].elements) out.push_back(parseEntry(entry));
  }
  return out;
}

}  // namespace

OrderWriter::OrderWriter(RedisClient& redis, MysqlPool& pool, OrderWriterOptions options)
    : redis_(redis), pool_(pool), options_(std::move(options)) {}

OrderWriter::~OrderWriter() { stop(); }

void OrderWriter::start() {
  if (!threads_.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  for (int w = 0; w < std::max(1, options_.workers); ++w) {
    threads_.emplace_back([this, w] { run(w); });
  }
}

void OrderWriter::stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

bool OrderWriter::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

bool OrderWriter::pause(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

void OrderWriter::run(int worker) {
  const std::string consumer = absl::StrCat(options_.consumer, "-", worker);
  std::map<std::string, SaleCursor> cursors;
  absl::Duration backoff = options_.backoff_min;
  size_t round = 0;
  while (!stopping()) {
    bool worked = false;
    bool failed = false;
    // Asked every round: a sale created at run time is followed from its first order.
    const std::vector<std::string> sales = options_.sale_ids();
    const size_t n = sales.size();
    for (size_t k = 0; k < n && !stopping(); ++k) {
      // Workers start at different sales so that they spread over the streams.
      const std::string& sale = sales[(k + static_cast<size_t>(worker) + round) % n];
      absl::StatusOr<size_t> handled = pollSale(sale, cursors[sale], consumer);
      if (!handled.ok()) {
        if (!absl::IsCancelled(handled.status())) {
          errors_.fetch_add(1, std::memory_order_relaxed);
          spdlog::warn("order writer {}: sale {}: {}", consumer, sale,
                       handled.status().ToString());
          failed = true;
        }
        continue;
      }
      if (*handled > 0) worked = true;
    }
    ++round;
    maybeRefreshLag();
    if (failed) {
      pause(backoff);
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    backoff = options_.backoff_min;
    if (!worked) pause(options_.idle_sleep);
  }
}

absl::StatusOr<size_t> OrderWriter::pollSale(const std::string& sale, SaleCursor& cursor,
                                             const std::string& consumer) {
  const std::string stream = redis_keys::orderStream(sale);
  const std::string count = std::to_string(std::max(1, options_.batch));
  if (!cursor.group_ready) {
    absl::StatusOr<RedisReply> r =
        redis_.commandSync(sale, {"XGROUP", "CREATE", stream, options_.group, "0", "MKSTREAM"});
    if (!r.ok() && !absl::StrContains(r.status().message(), "BUSYGROUP")) return r.status();
    cursor.group_ready = true;
  }
  auto read = [&](const std::string& from) -> absl::StatusOr<std::vector<Entry>> {
    absl::StatusOr<RedisReply> r = redis_.commandSync(
        sale,
        {"XREADGROUP", "GROUP", options_.group, consumer, "COUNT", count, "STREAMS", stream, from});
    if (!r.ok()) {
      // The group vanished (Redis restarted without its data): recreate it.
      if (absl::StrContains(r.status().message(), "NOGROUP")) cursor.group_ready = false;
      return r.status();
    }
    return parseRead(*r);
  };

  // 1. After a (re)start: entries this consumer read earlier but never acked.
  if (!cursor.own_drained) {
    absl::StatusOr<std::vector<Entry>> own = read("0");
    if (!own.ok()) return own.status();
    if (own->empty()) {
      cursor.own_drained = true;
    } else {
      size_t got = own->size();
      absl::Status s = handle(sale, *std::move(own));
      if (!s.ok()) return s;
      return got;
    }
  }

  // 2. Entries idle on a dead consumer.
  absl::Time now = absl::Now();
  if (now >= cursor.next_claim) {
    absl::StatusOr<RedisReply> r =
        redis_.commandSync(sale, {"XAUTOCLAIM", stream, options_.group, consumer,
                                  std::to_string(absl::ToInt64Milliseconds(options_.claim_idle)),
                                  cursor.claim_start, "COUNT", count});
    if (!r.ok()) {
      if (absl::StrContains(r.status().message(), "NOGROUP")) cursor.group_ready = false;
      return r.status();
    }
    if (r->type != RedisReply::Type::kArray || r->elements.size() < 2 ||
        r->elements[1].type != RedisReply::Type::kArray) {
      return absl::InternalError("XAUTOCLAIM: malformed answer");
    }
    cursor.claim_start = text(r->elements[0]);
    if (cursor.claim_start == "0-0") {
      // A full pass done: look again after a fraction of claim_idle.
      cursor.next_claim =
          now + std::clamp(options_.claim_idle / 4, absl::Milliseconds(10), absl::Seconds(5));
    }
    std::vector<Entry> claimed;
    for (const RedisReply& e : r->elements[1].elements) {
      if (e.isNil()) continue;
      claimed.push_back(parseEntry(e));
    }
    if (!claimed.empty()) {
      size_t got = claimed.size();
      claimed_.fetch_add(got, std::memory_order_relaxed);
      spdlog::info("order writer {}: sale {}: took over {} entries idle for over {}", consumer,
                   sale, got, absl::FormatDuration(options_.claim_idle));
      absl::Status s = handle(sale, std::move(claimed));
      if (!s.ok()) return s;
      return got;
    }
  }

  // 3. New entries.
  absl::StatusOr<std::vector<Entry>> fresh = read(">");
  if (!fresh.ok()) return fresh.status();
  size_t got = fresh->size();
  if (got == 0) return size_t{0};
  absl::Status s = handle(sale, *std::move(fresh));
  if (!s.ok()) return s;
  return got;
}

absl::Status OrderWriter::handle(const std::string& sale, std::vector<Entry> entries) {
  std::vector<Entry> rows;
  for (const Entry& e : entries) {
    if (e.valid) {
      rows.push_back(e);
    } else if (!e.deleted) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("order writer: sale {}: stream entry {} is not an order; acked and dropped",
                    sale, e.stream_id);
    }
  }
  std::vector<bool> dropped(rows.size(), false);
  absl::Duration backoff = options_.backoff_min;
  while (!rows.empty()) {
    absl::Status s = writeBatch(sale, rows, dropped);
    if (s.ok()) break;
    errors_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("order writer: sale {}: batch of {} not written, retrying: {}", sale, rows.size(),
                 s.ToString());
    maybeRefreshLag();
    if (!pause(backoff)) {
      return absl::CancelledError("stopped; the batch stays pending in Redis");
    }
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
  // Committed (or nothing to commit): now, and only now, acknowledge.
  std::vector<bool> entry_dropped;
  std::vector<Entry> acked;
  acked.reserve(entries.size());
  size_t r = 0;
  for (Entry& e : entries) {
    entry_dropped.push_back(e.valid ? bool(dropped[r++]) : true);
    acked.push_back(std::move(e));
  }
  backoff = options_.backoff_min;
  while (true) {
    absl::Status s = ack(sale, acked, entry_dropped);
    if (s.ok()) return absl::OkStatus();
    errors_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("order writer: sale {}: ack of {} committed entries failed, retrying: {}", sale,
                 acked.size(), s.ToString());
    // Stopping here leaves committed entries pending: redelivered later, they are no-ops.
    if (!pause(backoff)) return absl::CancelledError("stopped before the ack");
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

absl::Status OrderWriter::writeBatch(const std::string& sale, const std::vector<Entry>& rows,
                                     std::vector<bool>& dropped) {
  absl::StatusOr<MysqlPool::Lease> lease = pool_.acquire();
  if (!lease.ok()) return lease.status();
  MysqlConnection& c = **lease;
  const std::string sale_q = c.quote(sale);
  std::string sql =
      "INSERT INTO orders (id, sale_id, user_id, state, reason, created, pay_before, updated) "
      "VALUES ";
  sql.reserve(sql.size() + rows.size() * 110);
  std::string ids;  // for the follow-up SELECT, built only when needed
  for (size_t i = 0; i < rows.size(); ++i) {
    const Entry& e = rows[i];
    absl::StrAppend(&sql, i == 0 ? "(" : ",(", c.quote(e.order_id), ",", sale_q, ",",
                    c.quote(e.user_id), ",0,0,", e.created, ",", e.pay_before, ",", e.created, ")");
  }
  // A row whose id exists already is left as it is (it may be paid or
  // cancelled by now); one refused by the unique key is dropped.
  sql += " ON DUPLICATE KEY UPDATE id = id";

  absl::StatusOr<uint64_t> begun = c.execute("START TRANSACTION");
  if (!begun.ok()) return begun.status();
  absl::StatusOr<uint64_t> inserted = c.execute(sql);
  if (!inserted.ok()) {
    (void)c.execute("ROLLBACK");  // best effort; a broken connection is closed anyway
    return inserted.status();
  }
  std::vector<std::string> dropped_ids;
  uint64_t present = 0;
  if (*inserted < rows.size()) {
    // Which of the rows not inserted exist by id (redelivered) and which were
    // refused because another live order holds (sale_id, user_id)?
    std::string in;
    for (const Entry& e : rows) absl::StrAppend(&in, in.empty() ? "" : ",", c.quote(e.order_id));
    absl::StatusOr<std::vector<MysqlConnection::Row>> found =
        c.query(absl::StrCat("SELECT id FROM orders WHERE id IN (", in, ")"));
    if (!found.ok()) {
      (void)c.execute("ROLLBACK");
      return found.status();
    }
    std::vector<std::string> have;
    for (const MysqlConnection::Row& row : *found) {
      if (row[0]) have.push_back(*row[0]);
    }
    std::sort(have.begin(), have.end());
    for (size_t i = 0; i < rows.size(); ++i) {
      dropped[i] = !std::binary_search(have.begin(), have.end(), rows[i].order_id);
      if (dropped[i]) dropped_ids.push_back(rows[i].order_id);
    }
    present = rows.size() - *inserted - dropped_ids.size();
  }
  if (options_.before_commit) options_.before_commit();
  absl::StatusOr<uint64_t> committed = c.execute("COMMIT");
  if (!committed.ok()) return committed.status();
  batches_.fetch_add(1, std::memory_order_relaxed);
  persisted_.fetch_add(*inserted, std::memory_order_relaxed);
  present_.fetch_add(present, std::memory_order_relaxed);
  if (!dropped_ids.empty()) {
    dropped_.fetch_add(dropped_ids.size(), std::memory_order_relaxed);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (dropped[i]) {
        spdlog::warn(
            "order writer: sale {}: order {} of user {} dropped: another live order of that "
            "user holds UNIQUE (sale_id, live_user)",
            sale, rows[i].order_id, rows[i].user_id);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status OrderWriter::ack(const std::string& sale, const std::vector<Entry>& entries,
                              const std::vector<bool>& dropped) {
  // One script (ack_orders.lua): XACK, XDEL and the records' HDEL together,
  // so that no crash leaves an entry acked but still in the stream.
  std::vector<std::string> argv = {"EVAL",
                                   std::string(orderAckScript()),
                                   "2",
                                   redis_keys::orderStream(sale),
                                   redis_keys::orderRecords(sale),
                                   options_.group,
                                   std::to_string(entries.size())};
  argv.reserve(argv.size() + 2 * entries.size());
  for (const Entry& e : entries) argv.push_back(e.stream_id);
  for (size_t i = 0; i < entries.size(); ++i) {
    // A dropped order keeps its record: it is not in the database, and the
    // record is what get() and the cancel path can still find.
    if (options_.delete_order_records && !dropped[i]) argv.push_back(entries[i].order_id);
  }
  absl::StatusOr<RedisReply> r = redis_.commandSync(sale, std::move(argv));
  return r.status();
}

void OrderWriter::maybeRefreshLag() {
  int64_t now = absl::ToUnixMicros(absl::Now());
  int64_t due = next_lag_refresh_us_.load(std::memory_order_relaxed);
  if (now < due) return;
  if (!next_lag_refresh_us_.compare_exchange_strong(
          due, now + absl::ToInt64Microseconds(options_.lag_refresh), std::memory_order_relaxed)) {
    return;  // another worker is measuring
  }
  int64_t total = 0;
  for (const std::string& sale : options_.sale_ids()) {
    absl::StatusOr<RedisReply> r =
        redis_.commandSync(sale, {"XLEN", redis_keys::orderStream(sale)});
    if (!r.ok() || r->type != RedisReply::Type::kInteger) return;  // keep the last figure
    total += r->integer;
  }
  lag_.store(total, std::memory_order_relaxed);
}

}  // namespace seckill
