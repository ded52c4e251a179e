#pragma once
// Compares the shopper edge's two request parsers on the same bytes: RequestReader with its
// fast path for whole, plain requests (parseCommonRequest) and RequestReader with Beast's
// parser alone. Used by tests/http/http_codec_test.cc and the http fuzz target.
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/http/http_codec.h"

namespace seckill::testing {

// The request as the API reads it, one line per field, for comparing and for messages.
inline std::string describe(const http::Request& r) {
  std::string out = absl::StrCat(
      "method ", static_cast<int>(r.method), " '", r.method_name, "' version ", r.version,
      " target '", r.target, "'\nuser '", r.user_id, "' x", r.user_id_count, "\nauthorization '",
      r.authorization, "' x", r.authorization_count, "\nforwarded-for '", r.forwarded_for,
      "'\nforwarded '", r.forwarded, "'\nidempotency ", r.has_idempotency_key, " '",
      r.idempotency_key, "'\nbody '", r.body, "'\n");
  for (size_t i = 0; i < r.header_count; ++i) {
    absl::StrAppend(&out, "field '", r.headers[i].name, "': '", r.headers[i].value, "'\n");
  }
  return out;
}

// Runs both readers over `bytes`, all of them buffered at once (fed as a connection would be,
// in reads of what prepareRead() offers). Returns empty when they agree on every event, every
// request, keep-alive and error status; else what differed. `fast_requests`, when given, is
// set to how many requests the fast path read.
inline std::string codecDifference(std::string_view bytes, const http::CodecLimits& limits,
                                   size_t* fast_requests = nullptr) {
  http::RequestReader fast(limits, /*common_fast_path=*/true);
  http::RequestReader beast(limits, /*common_fast_path=*/false);
  http::Request fast_req, beast_req;
  std::string_view fast_left = bytes, beast_left = bytes;
  auto feed = [](http::RequestReader& reader, std::string_view& left) {
    while (!left.empty()) {
      const boost::asio::mutable_buffer room = reader.prepareRead();
      if (room.size() == 0) return;
      const size_t n = std::min(room.size(), left.size());
      std::memcpy(room.data(), left.data(), n);
      reader.commitRead(n);
      left.remove_prefix(n);
    }
  };
  auto done = [&](std::string difference) {
    if (fast_requests != nullptr) *fast_requests = fast.commonRequests();
    return difference;
  };
  for (int request = 0;; ++request) {
    fast_req.clear();
    beast_req.clear();
    using Event = http::RequestReader::Event;
    Event e1, e2;
    // Parse, reading more while the reader asks for it and bytes are left.
    while (true) {
      feed(fast, fast_left);
      e1 = fast.parse(fast_req);
      if (e1 != Event::kNeedMore || fast_left.empty()) break;
    }
    while (true) {
      feed(beast, beast_left);
      e2 = beast.parse(beast_req);
      if (e2 != Event::kNeedMore || beast_left.empty()) break;
    }
    if (e1 != e2) {
      return done(absl::StrCat("request ", request, ": event ", static_cast<int>(e1), " (fast) vs ",
                          static_cast<int>(e2), " (Beast)"));
    }
    if (e1 == Event::kNeedMore) return done({});
    if (e1 == Event::kParseError) {
      if (fast.errorStatus() != beast.errorStatus()) {
        return done(absl::StrCat("request ", request, ": error ", fast.errorStatus(), " vs ",
                            beast.errorStatus()));
      }
      return done({});
    }
    const std::string a = describe(fast_req), b = describe(beast_req);
    if (a != b) return done(absl::StrCat("request ", request, ":\n--- fast\n", a, "--- Beast\n", b));
    if (fast.keepAlive() != beast.keepAlive()) {
      return done(absl::StrCat("request ", request, ": keep-alive ", fast.keepAlive(), " vs ",
                          beast.keepAlive()));
    }
    if (fast.buffered() + fast_left.size() != beast.buffered() + beast_left.size()) {
      return done(absl::StrCat("request ", request, ": used ", bytes.size() - fast.buffered() -
                                                              fast_left.size(),
                          " bytes vs ", bytes.size() - beast.buffered() - beast_left.size()));
    }
  }
}

}  // namespace seckill::testing
