// The shopper edge's request reader: its fast path for whole, plain requests
// (parseCommonRequest) reads what Beast's parser reads, and leaves everything else to it.
#include "engine/http/http_codec.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/codec_compare.h"

namespace seckill::http {
namespace {

using seckill::testing::codecDifference;

constexpr CodecLimits kLimits{.max_header_bytes = 1024, .max_body_bytes = 256};

std::string post(const std::string& extra = {}, const std::string& body = "{}") {
  return absl::StrCat("POST /api/v1/sales/s1/orders HTTP/1.1\r\nHost: shop\r\nX-User-Id: u1\r\n",
                      extra, "Content-Length: ", body.size(), "\r\n\r\n", body);
}

// Agreement, and how many of the requests the fast path read.
size_t fastCount(const std::string& bytes) {
  size_t fast = 0;
  const std::string difference = codecDifference(bytes, kLimits, &fast);
  EXPECT_EQ(difference, "") << bytes;
  return fast;
}

TEST(HttpCodecTest, PlainRequestsAreReadByTheFastPathAsBeastReadsThem) {
  const std::vector<std::string> plain = {
      "GET /healthz HTTP/1.1\r\n\r\n",
      "GET /api/v1/sales/s1?x=%20y HTTP/1.1\r\nHost: shop\r\nAccept: */*\r\n\r\n",
      post(),
      post("Idempotency-Key: k-1\r\nAuthorization: Bearer abc\r\n"),
      // Two user headers and two forwarded lines: counted and joined alike.
      post("x-user-id: u2\r\nX-Forwarded-For: 1.2.3.4\r\nx-forwarded-for:5.6.7.8 \r\n"
           "Forwarded: for=9.9.9.9\r\n"),
      // Spaces and tabs around values, an empty value, obs-text, a value with inner spaces.
      post("X-Client: \t a b \t\r\nX-Empty:\r\nX-Latin: caf\xc3\xa9\r\n"),
      // HTTP/1.0: closes unless keep-alive is asked; HTTP/1.1 keeps unless close is.
      "GET /healthz HTTP/1.0\r\n\r\n",
      "GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
      "HEAD /healthz HTTP/1.1\r\n\r\n",
      "DELETE /api/v1/orders/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
      "get /healthz HTTP/1.1\r\n\r\n",  // a method Beast does not know: Method::kOther alike
      post({}, std::string(256, 'b')),   // the body limit exactly
  };
  for (const std::string& bytes : plain) EXPECT_EQ(fastCount(bytes), 1u) << bytes;

  // Pipelined: each read whole from the same buffer, the next one left in place.
  const std::string three = post() + "GET /healthz HTTP/1.1\r\n\r\n" + post("X-A: 1\r\n");
  EXPECT_EQ(fastCount(three), 3u);
  // More fields than the rules keep (32): the rest are read and dropped alike.
  std::string many;
  for (int i = 0; i < 40; ++i) absl::StrAppend(&many, "X-F", i, ": v", i, "\r\n");
  EXPECT_EQ(fastCount(post(many)), 1u);
}

TEST(HttpCodecTest, EverythingElseIsLeftToBeastWithTheSameOutcome) {
  using namespace std::string_literals;
  std::string over_head = "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(1100, 'a') + "\r\n\r\n";
  std::string seventy;
  for (int i = 0; i < 70; ++i) absl::StrAppend(&seventy, "X", i, ": v\r\n");
  const std::vector<std::string> other = {
      // Framing the fast path does not read: chunked, Expect, lists and repeats of
      // Content-Length, Upgrade, Proxy-Connection, a list in Connection.
      "POST /api/v1/sales/s1/orders HTTP/1.1\r\nX-User-Id: u1\r\nTransfer-Encoding: chunked\r\n"
      "\r\n2\r\n{}\r\n0\r\n\r\n",
      post("Expect: 100-continue\r\n"),
      "POST /x HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n{}",
      "POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
      "POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
      "POST /x HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
      "POST /x HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}",
      "GET /x HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "GET /x HTTP/1.1\r\nProxy-Connection: close\r\n\r\n",
      "GET /x HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n",
      // Malformed: obs-fold, bare LF, a leading empty line, a space before the colon, a
      // control byte in a value, HTTP/2.0, a missing target, NUL in the target.
      "GET /x HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n",
      "GET /x HTTP/1.1\nHost: a\n\n",
      "\r\nGET /x HTTP/1.1\r\n\r\n",
      "GET /x HTTP/1.1\r\nX-A : a\r\n\r\n",
      std::string("GET /x HTTP/1.1\r\nX-A: a\x01") + "b\r\n\r\n",
      "GET /x HTTP/2.0\r\n\r\n",
      "GET  HTTP/1.1\r\n\r\n",
      "GET /a\0b HTTP/1.1\r\n\r\n"s,  // the NUL included
      // Limits: a head over 1,024 bytes (431), a body over 256 (413), more fields than the fast
      // path holds (64).
      over_head,
      post({}, std::string(257, 'b')),
      post(seventy),
  };
  for (const std::string& bytes : other) EXPECT_EQ(fastCount(bytes), 0u) << bytes;

  // Not all there yet: Beast reads on (and both wait for the rest).
  const std::string whole = post({}, "{\"token\":\"t\"}");
  EXPECT_EQ(fastCount(whole.substr(0, whole.size() - 3)), 0u);
  EXPECT_EQ(fastCount(whole.substr(0, 20)), 0u);
}

TEST(HttpCodecTest, AfterBeastReadOneTheNextPlainRequestIsFastAgain) {
  const std::string chunked =
      "POST /api/v1/sales/s1/orders HTTP/1.1\r\nX-User-Id: u1\r\nTransfer-Encoding: chunked\r\n"
      "\r\n2\r\n{}\r\n0\r\n\r\n";
  EXPECT_EQ(fastCount(chunked + post() + post()), 2u);
}

TEST(HttpCodecTest, TheFastPathFillsTheRequestTheApiReads) {
  Request req;
  bool keep_alive = false;
  const std::string bytes =
      post("Idempotency-Key: k-1\r\nX-Client: web\r\nConnection: close\r\n", "{\"a\":1}") +
      "GET /next HTTP/1.1\r\n\r\n";
  const size_t used = parseCommonRequest(bytes, kLimits, req, keep_alive);
  EXPECT_EQ(used, bytes.find("GET /next"));
  EXPECT_EQ(req.method, Method::kPost);
  EXPECT_EQ(req.method_name, "POST");
  EXPECT_EQ(req.target, "/api/v1/sales/s1/orders");
  EXPECT_EQ(req.version, 11);
  EXPECT_EQ(req.user_id, "u1");
  EXPECT_EQ(req.user_id_count, 1);
  EXPECT_TRUE(req.has_idempotency_key);
  EXPECT_EQ(req.idempotency_key, "k-1");
  EXPECT_EQ(req.body, "{\"a\":1}");
  EXPECT_FALSE(keep_alive);
  // Kept for header-scoped rules: neither Host, Content-Length nor Connection.
  ASSERT_EQ(req.header_count, 1u);
  EXPECT_EQ(req.headers[0].name, "X-Client");
  EXPECT_EQ(req.headers[0].value, "web");

  // Anything it leaves to Beast leaves the request untouched.
  Request untouched;
  EXPECT_EQ(parseCommonRequest(post("Expect: 100-continue\r\n"), kLimits, untouched, keep_alive),
            0u);
  EXPECT_EQ(untouched.user_id_count, 0);
  EXPECT_TRUE(untouched.target.empty());
}

}  // namespace
}  // namespace seckill::http
