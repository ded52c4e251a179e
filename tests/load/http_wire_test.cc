#include "bench/load/http_wire.h"

#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::load {
namespace {

namespace http = boost::beast::http;

// Feeds `pieces` to `parser` one after the other, as reads would bring them; returns the last
// error (need_more when the answer is not complete).
boost::beast::error_code feed(ReplyParser& parser, std::initializer_list<std::string_view> pieces) {
  parser.eager(true);
  std::string pending;
  boost::beast::error_code ec;
  for (std::string_view piece : pieces) {
    pending.append(piece);
    for (;;) {
      ec = {};
      const size_t used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec || parser.is_done() || pending.empty()) break;
    }
    if (ec && ec != http::error::need_more) return ec;
  }
  return ec;
}

TEST(LoadHttpWireTest, WritesTheRequestBeastWrote) {
  std::string out = "left over";
  writePostRequest(out, "/api/v1/sales/demo/orders",
                   {.host = "127.0.0.1:8080",
                    .credential_name = "X-User-Id",
                    .credential_value = "u-1",
                    .idempotency_key = "tok-9"});
  EXPECT_EQ(out,
            "POST /api/v1/sales/demo/orders HTTP/1.1\r\n"
            "Host: 127.0.0.1:8080\r\n"
            "User-Agent: seckill-load\r\n"
            "X-User-Id: u-1\r\n"
            "Idempotency-Key: tok-9\r\n"
            "Content-Length: 0\r\n\r\n");
  writePostRequest(
      out, "/t", {.host = "h", .credential_name = "Authorization", .credential_value = "Bearer x"});
  EXPECT_EQ(out,
            "POST /t HTTP/1.1\r\nHost: h\r\nUser-Agent: seckill-load\r\n"
            "Authorization: Bearer x\r\nContent-Length: 0\r\n\r\n");
}

TEST(LoadHttpWireTest, ReadsAnAnswerSplitAcrossReads) {
  std::string body = "old body";
  ReplyParser p(body);
  EXPECT_TRUE(body.empty());
  EXPECT_FALSE(p.got_some());
  EXPECT_EQ(feed(p, {"HTTP/1.1 201 Cre", "ated\r\nContent-Type: application/json\r\nContent-Le",
                     "ngth: 17\r\n\r\n{\"order_id\":", "\"o1\"}"}),
            boost::beast::error_code());
  ASSERT_TRUE(p.is_done());
  EXPECT_EQ(p.status(), 201);
  EXPECT_TRUE(p.keep_alive());
  EXPECT_FALSE(p.replayed());
  EXPECT_EQ(body, R"({"order_id":"o1"})");
}

TEST(LoadHttpWireTest, IncompleteAnswerNeedsMore) {
  std::string body;
  ReplyParser p(body);
  const boost::beast::error_code ec = feed(p, {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"});
  EXPECT_TRUE(!ec || ec == http::error::need_more) << ec.message();
  EXPECT_TRUE(p.got_some());
  EXPECT_FALSE(p.is_done());
}

TEST(LoadHttpWireTest, SeesTheReplayHeaderInAnyCase) {
  std::string body;
  ReplyParser p(body);
  feed(p, {"HTTP/1.1 201 Created\r\nidempotent-replayed: true\r\nContent-Length: 0\r\n\r\n"});
  ASSERT_TRUE(p.is_done());
  EXPECT_TRUE(p.replayed());
}

TEST(LoadHttpWireTest, ConnectionCloseAndHttp10AreNotKeptAlive) {
  std::string body;
  ReplyParser closing(body);
  feed(closing, {"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                 "Content-Length: 2\r\n\r\n{}"});
  ASSERT_TRUE(closing.is_done());
  EXPECT_EQ(closing.status(), 503);
  EXPECT_FALSE(closing.keep_alive());

  ReplyParser old(body);
  feed(old, {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"});
  ASSERT_TRUE(old.is_done());
  EXPECT_FALSE(old.keep_alive());
  EXPECT_EQ(body, "hi");
}

TEST(LoadHttpWireTest, ReadsChunkedBodiesAndBodiesEndedByTheClose) {
  std::string body;
  ReplyParser chunked(body);
  feed(chunked, {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
                 "2\r\nde\r\n0\r\n\r\n"});
  ASSERT_TRUE(chunked.is_done());
  EXPECT_EQ(body, "abcde");

  ReplyParser until_close(body);
  feed(until_close, {"HTTP/1.1 200 OK\r\n\r\nall of it"});
  EXPECT_FALSE(until_close.is_done());
  boost::beast::error_code ec;
  until_close.put_eof(ec);
  EXPECT_FALSE(ec) << ec.message();
  ASSERT_TRUE(until_close.is_done());
  EXPECT_EQ(body, "all of it");
  EXPECT_FALSE(until_close.keep_alive());
}

TEST(LoadHttpWireTest, GarbageIsAnError) {
  std::string body;
  ReplyParser p(body);
  const boost::beast::error_code ec = feed(p, {"SSH-2.0-OpenSSH\r\n\r\n"});
  EXPECT_TRUE(ec && ec != http::error::need_more) << ec.message();
}

}  // namespace
}  // namespace seckill::load
