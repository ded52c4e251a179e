#include "bench/load/api_replies.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/load/text_parse.h"
#include "nlohmann/json.hpp"

namespace seckill::load {
namespace {

using Json = nlohmann::json;

absl::StatusOr<Json> parseObject(std::string_view body, std::string_view what) {
  Json doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(av(what), ": not a JSON object"));
  }
  return doc;
}

absl::StatusOr<std::string> stringField(std::string_view body, std::string_view what,
                                        const char* field) {
  absl::StatusOr<Json> doc = parseObject(body, what);
  if (!doc.ok()) return doc.status();
  auto it = doc->find(field);
  if (it == doc->end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(av(what), ": no \"", field, "\" string"));
  }
  return it->get<std::string>();
}

// A Prometheus sample line "name{labels} value": the integer value, if the
// line's name and labels are exactly `series`.
std::optional<int64_t> sampleValue(std::string_view line, std::string_view series) {
  if (!line.starts_with(series) || line.size() <= series.size() || line[series.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view v = line.substr(series.size() + 1);
  // Gauges are written as integers; accept a trailing ".0" style too.
  const size_t dot = v.find_first_of(". ");
  std::string_view whole = v.substr(0, dot);
  int64_t out = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), out);
  if (ec != std::errc() || end != whole.data() + whole.size()) return std::nullopt;
  return out;
}

}  // namespace

absl::StatusOr<SaleSnapshot> parseSaleJson(std::string_view body) {
  absl::StatusOr<Json> doc = parseObject(body, "sale");
  if (!doc.ok()) return doc.status();
  SaleSnapshot s;
  auto id = doc->find("id");
  auto total = doc->find("stock_total");
  auto left = doc->find("stock_left");
  if (id == doc->end() || !id->is_string() || total == doc->end() || !total->is_number_integer() ||
      left == doc->end() || !left->is_number_integer()) {
    return absl::InvalidArgumentError("sale: expected \"id\", \"stock_total\" and \"stock_left\"");
  }
  s.id = id->get<std::string>();
  s.stock_total = total->get<int64_t>();
  s.stock_left = left->get<int64_t>();
  if (auto state = doc->find("state"); state != doc->end() && state->is_string()) {
    s.state = state->get<std::string>();
  }
  return s;
}

absl::StatusOr<std::string> parseTokenJson(std::string_view body) {
  return stringField(body, "token answer", "token");
}

absl::StatusOr<std::string> parseOrderIdJson(std::string_view body) {
  return stringField(body, "order", "order_id");
}

absl::StatusOr<std::string> parseOrderStateJson(std::string_view body) {
  return stringField(body, "order", "state");
}

absl::StatusOr<OrderCounts> parseOrderCounts(std::string_view prometheus) {
  OrderCounts c;
  bool found = false;
  for (absl::string_view piece : absl::StrSplit(av(prometheus), '\n')) {
    const std::string_view line = sv(piece);
    if (!line.starts_with("seckill_orders{")) continue;
    if (auto v = sampleValue(line, "seckill_orders{state=\"pending_payment\"}")) {
      c.pending_payment = *v;
      found = true;
    } else if (auto v = sampleValue(line, "seckill_orders{state=\"paid\"}")) {
      c.paid = *v;
      found = true;
    } else if (auto v = sampleValue(line, "seckill_orders{state=\"cancelled\"}")) {
      c.cancelled = *v;
      found = true;
    }
  }
  if (!found) return absl::NotFoundError("/metrics has no seckill_orders samples");
  return c;
}

std::optional<int64_t> parseStockLeft(std::string_view prometheus, std::string_view sale) {
  const std::string series = absl::StrCat("seckill_stock_left{sale=\"", av(sale), "\"}");
  for (absl::string_view line : absl::StrSplit(av(prometheus), '\n')) {
    if (auto v = sampleValue(sv(line), series)) return v;
  }
  return std::nullopt;
}

}  // namespace seckill::load
