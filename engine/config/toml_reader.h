#pragma once

// Reading TOML tables with every problem tied to its line: what the engine's config
// (engine/app/config.cc) and the rule file (rule_file.cc) are both parsed with. Internal to the
// build: this header (and rule_tables.h, through it) includes toml++, so neither is installed.

#include <toml++/toml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/config/values.h"
#include "engine/core/strings.h"

namespace seckill::config {

// `s` with its control characters escaped ("\n", "\x01"), so that a problem quoting the
// file (a key, a string, the character a syntax error met) stays on its one message line.
std::string oneLine(std::string_view s);

// The problems found in one config source, each tied to a line. Collected
// rather than returned at the first one, so a single --check shows them all.
class Diagnostics {
 public:
  explicit Diagnostics(std::string_view source) : source_(source) {}

  void error(int64_t line, std::string message) { errors_.push_back({line, std::move(message)}); }
  bool ok() const { return errors_.empty(); }
  size_t count() const { return errors_.size(); }
  std::string_view source() const { return source_; }

  // One "source:line: message" line per problem, sorted by line.
  absl::Status status() const;

 private:
  struct Entry {
    int64_t line;
    std::string message;
  };
  std::string source_;
  std::vector<Entry> errors_;
};

int64_t lineOf(const toml::node& n);

std::string_view typeName(toml::node_type t);

// Reads the keys of one TOML table and records every key it was asked about,
// so finish() can report the others as unknown. Getters return nullopt when
// the key is absent or its value is wrong (the problem is then recorded).
//
// Names in messages: a dotted table reads "http.threads must be >= 1" and
// "unknown key http.foo"; a labelled one (an array element such as a sale)
// reads `sale "x": stock must be >= 0` and `sale "x": unknown key "foo"`.
class TableReader {
 public:
  static TableReader dotted(Diagnostics& diag, const toml::table& table, std::string path) {
    return TableReader(diag, table, path.empty() ? "" : path + ".", true);
  }
  static TableReader labelled(Diagnostics& diag, const toml::table& table, std::string label) {
    return TableReader(diag, table, absl::StrCat(label, ": "), false);
  }

  // Renames a labelled reader (a sale's label is known once its id is read).
  void relabel(std::string_view label) { prefix_ = absl::StrCat(av(label), ": "); }

  // The line of the table itself (its [header], or its first key).
  int64_t tableLine() const { return lineOf(table_); }
  // The line of `key`'s value, or tableLine() when absent.
  int64_t line(std::string_view key) const {
    const toml::node* n = table_.get(key);
    return n ? lineOf(*n) : tableLine();
  }
  const toml::table& table() const { return table_; }

  // The raw value of `key` (nullptr when absent), marking it known.
  const toml::node* take(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }

  // Records "missing required key" and returns false when `key` is absent.
  bool require(std::string_view key) {
    if (table_.contains(key)) return true;
    diag_.error(tableLine(), dotted_
                                 ? absl::StrCat("missing required key ", prefix_, av(key))
                                 : absl::StrCat(prefix_, "missing required key \"", av(key), "\""));
    return false;
  }

  // Records a problem with `key`'s value at its line: "<name> <predicate>".
  void invalid(std::string_view key, std::string_view predicate) {
    diag_.error(line(key), absl::StrCat(name(key), " ", av(predicate)));
  }
  // Records a problem with `key`'s value at its line: "<name>: <message>".
  std::nullopt_t invalid(std::string_view key, const absl::Status& s) {
    diag_.error(line(key), absl::StrCat(name(key), ": ", s.message()));
    return std::nullopt;
  }

  std::optional<std::string> string(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) return typeError(*n, key, "a string");
    return std::string(n->as_string()->get());
  }

  std::optional<bool> boolean(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) return typeError(*n, key, "a boolean (true or false)");
    return n->as_boolean()->get();
  }

  std::optional<int64_t> integer(std::string_view key, int64_t min,
                                 int64_t max = std::numeric_limits<int64_t>::max()) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) return typeError(*n, key, "an integer");
    int64_t v = n->as_integer()->get();
    if (v < min) {
      invalid(key, absl::StrCat("must be >= ", min));
      return std::nullopt;
    }
    if (v > max) {
      invalid(key, absl::StrCat("must be <= ", max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> number(std::string_view key, double min, double max) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    double v;
    if (n->is_integer()) {
      v = static_cast<double>(n->as_integer()->get());
    } else if (n->is_floating_point()) {
      v = n->as_floating_point()->get();
    } else {
      return typeError(*n, key, "a number");
    }
    if (!(v >= min && v <= max)) {
      invalid(key, absl::StrCat("must be between ", min, " and ", max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<absl::Duration> duration(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) return typeError(*n, key, "a duration string such as \"15m\"");
    absl::StatusOr<absl::Duration> d = parsePositiveDuration(n->as_string()->get());
    if (!d.ok()) return invalid(key, d.status());
    return *d;
  }

  // An RFC 3339 string or a TOML offset date-time.
  std::optional<absl::Time> time(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (n->is_string()) {
      absl::StatusOr<absl::Time> t = parseRfc3339(n->as_string()->get());
      if (!t.ok()) return invalid(key, t.status());
      return *t;
    }
    if (n->is_date_time()) {
      const toml::date_time& dt = n->as_date_time()->get();
      if (!dt.offset) {
        invalid(key, "needs a UTC offset (e.g. 2026-11-28T10:00:00Z)");
        return std::nullopt;
      }
      absl::CivilSecond civil(dt.date.year, dt.date.month, dt.date.day, dt.time.hour,
                              dt.time.minute, dt.time.second);
      return absl::FromCivil(civil, absl::FixedTimeZone(dt.offset->minutes * 60)) +
             absl::Nanoseconds(dt.time.nanosecond);
    }
    return typeError(*n, key, "an RFC 3339 date-time with offset such as \"2026-11-28T10:00:00Z\"");
  }

  // A sub-table (nullptr when absent or not a table).
  const toml::table* subTable(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return nullptr;
    if (!n->is_table()) {
      typeError(*n, key, absl::StrCat("a table ([", prefix_, av(key), "])"));
      return nullptr;
    }
    return n->as_table();
  }

  // The elements of an array of tables ([[key]]); empty when absent or wrong.
  std::vector<const toml::table*> arrayOfTables(std::string_view key) {
    std::vector<const toml::table*> out;
    const toml::node* n = take(key);
    if (!n) return out;
    if (!n->is_array_of_tables()) {
      typeError(*n, key, absl::StrCat("an array of tables ([[", prefix_, av(key), "]])"));
      return out;
    }
    for (const toml::node& e : *n->as_array()) out.push_back(e.as_table());
    return out;
  }

  // Reports every key nobody asked about.
  void finish() {
    for (auto&& [k, v] : table_) {
      if (known_.contains(av(k.str()))) continue;
      std::string what;
      if (!dotted_) {
        what = absl::StrCat(prefix_, "unknown key \"", av(k.str()), "\"");
      } else if (v.is_table()) {
        what = absl::StrCat("unknown table [", prefix_, av(k.str()), "]");
      } else if (v.is_array_of_tables()) {
        what = absl::StrCat("unknown table [[", prefix_, av(k.str()), "]]");
      } else {
        what = absl::StrCat("unknown key ", prefix_, av(k.str()));
      }
      diag_.error(lineOf(v), std::move(what));
    }
  }

 private:
  TableReader(Diagnostics& diag, const toml::table& table, std::string prefix, bool dotted)
      : diag_(diag), table_(table), prefix_(std::move(prefix)), dotted_(dotted) {}

  std::string name(std::string_view key) const { return absl::StrCat(prefix_, av(key)); }

  std::nullopt_t typeError(const toml::node& n, std::string_view key, std::string_view expected) {
    diag_.error(lineOf(n), absl::StrCat(name(key), " must be ", av(expected), ", not ",
                                        av(typeName(n.type()))));
    return std::nullopt;
  }

  Diagnostics& diag_;
  const toml::table& table_;
  std::string prefix_;
  bool dotted_;
  absl::flat_hash_set<std::string> known_;
};

}  // namespace seckill::config
