#include "engine/config/toml_reader.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace seckill::config {
namespace {

constexpr size_t kMaxReportedErrors = 50;

}  // namespace

std::string oneLine(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(u, absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::Status Diagnostics::status() const {
  std::vector<Entry> sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Entry& a, const Entry& b) { return a.line < b.line; });
  std::vector<std::string> lines;
  for (const Entry& e : sorted) {
    if (lines.size() == kMaxReportedErrors) {
      lines.push_back(absl::StrCat(source_, ": ... and ", sorted.size() - kMaxReportedErrors,
                                   " more errors"));
      break;
    }
    lines.push_back(absl::StrCat(source_, ":", e.line, ": ", oneLine(e.message)));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

int64_t lineOf(const toml::node& n) { return n.source().begin.line; }

std::string_view typeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "something else";
}

}  // namespace seckill::config
