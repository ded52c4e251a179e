#include "engine/store/mysql/mysql_url.h"

#include <string>

#include "gtest/gtest.h"

namespace seckill {
namespace {

TEST(MysqlUrlTest, ParsesEveryPart) {
  absl::StatusOr<MysqlUrl> u = parseMysqlUrl("mysql://app:secret@db.local:3307/seckill");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->user, "app");
  EXPECT_EQ(u->password, "secret");
  EXPECT_EQ(u->host, "db.local");
  EXPECT_EQ(u->port, 3307);
  EXPECT_EQ(u->database, "seckill");
  EXPECT_EQ(u->socket, "");
}

TEST(MysqlUrlTest, DefaultsPortAndAllowsNoPassword) {
  absl::StatusOr<MysqlUrl> u = parseMysqlUrl("mysql://app@127.0.0.1/seckill");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->port, 3306);
  EXPECT_EQ(u->password, "");
}

TEST(MysqlUrlTest, PercentDecodesUserAndPassword) {
  absl::StatusOr<MysqlUrl> u = parseMysqlUrl("mysql://a%2Fb:p%40ss%3Aw%2Frd%25@h:1/d");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->user, "a/b");
  EXPECT_EQ(u->password, "p@ss:w/rd%");
  EXPECT_EQ(u->host, "h");
  EXPECT_EQ(u->port, 1);
}

TEST(MysqlUrlTest, AcceptsASocketPath) {
  absl::StatusOr<MysqlUrl> u =
      parseMysqlUrl("mysql://app:pw@localhost/seckill?socket=/run/mysqld/mysqld.sock");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(u->database, "seckill");
}

TEST(MysqlUrlTest, RedactsThePassword) {
  absl::StatusOr<MysqlUrl> u = parseMysqlUrl("mysql://app:secret@h/d");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(redactedMysqlUrl(*u), "mysql://app:***@h:3306/d");
}

// Each malformed URL is InvalidArgument and the message names the wrong part.
TEST(MysqlUrlTest, RejectsMalformedUrlsNamingThePart) {
  struct Case {
    const char* url;
    const char* names;
  };
  for (const Case& c : {
           Case{"tcp://app@h/d", "mysql://"},
           Case{"mysql://h:3306/d", "user"},
           Case{"mysql://:pw@h/d", "user"},
           Case{"mysql://app@/d", "host"},
           Case{"mysql://app@:3306/d", "host"},
           Case{"mysql://app@h:0/d", "port"},
           Case{"mysql://app@h:70000/d", "port"},
           Case{"mysql://app@h:x1/d", "port"},
           Case{"mysql://app@h:/d", "port"},
           Case{"mysql://app@h", "database"},
           Case{"mysql://app@h/", "database"},
           Case{"mysql://app@h/d/e", "database"},
           Case{"mysql://a%zz@h/d", "user"},
           Case{"mysql://app:p%4@h/d", "password"},
           Case{"mysql://app@h/d?sslmode=on", "sslmode"},
       }) {
    absl::StatusOr<MysqlUrl> u = parseMysqlUrl(c.url);
    ASSERT_FALSE(u.ok()) << c.url;
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument) << c.url;
    EXPECT_NE(u.status().message().find(c.names), std::string::npos) << c.url << ": " << u.status();
  }
}

}  // namespace
}  // namespace seckill
