// End-to-end: how the real binary treats its command line and bad configs.
#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/engine_process.h"

namespace seckill::e2e {
namespace {

TEST(CliE2eTest, HelpExitsZero) {
  RunResult r = runEngine({"--help"});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE((r.out + r.err).find("--config"), std::string::npos) << r.out << r.err;
}

TEST(CliE2eTest, BadValueNamesItsLine) {
  TempDir dir;
  const std::string path = dir.write("bad.toml", R"([http]
listen = "127.0.0.1:0"

[[sale]]
id = "phone-drop"
stock = -1
)");
  RunResult r = runEngine({"--config", path});
  ASSERT_TRUE(r.exited);
  EXPECT_NE(r.exit_code, 0);
  // Compiler-style "<file>:<line>: <problem>": `stock = -1` is on line 6.
  EXPECT_NE(r.err.find(path + ":6:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stock"), std::string::npos) << r.err;
}

TEST(CliE2eTest, UnknownKeyIsAnError) {
  TempDir dir;
  const std::string path = dir.write("unknown.toml", R"([http]
listen = "127.0.0.1:0"

[[sale]]
id = "phone-drop"
stock = 10
colour = "red"
)");
  RunResult r = runEngine({"--config", path});
  ASSERT_TRUE(r.exited);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("colour"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":7:"), std::string::npos) << r.err;
}

TEST(CliE2eTest, MissingConfigFileIsAnError) {
  RunResult r = runEngine({"--config", "/nonexistent/seckill.toml"});
  ASSERT_TRUE(r.exited);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent/seckill.toml"), std::string::npos) << r.err;
}

TEST(CliE2eTest, AddressInUseExitsNonZero) {
  // A plain listener (no SO_REUSEPORT) holds the port.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  TempDir dir;
  const std::string path =
      dir.write("busy.toml", "[http]\nlisten = \"127.0.0.1:" + std::to_string(port) +
                                 "\"\n\n[[sale]]\nid = \"s\"\nstock = 1\n");
  RunResult r = runEngine({"--config", path});
  ::close(fd);
  ASSERT_TRUE(r.exited);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(std::to_string(port)), std::string::npos) << r.err;
}

}  // namespace
}  // namespace seckill::e2e
