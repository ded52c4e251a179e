#include "engine/app/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace seckill::app {
namespace {

TEST(SdNotifyTest, SendsTheStateToTheSocketSystemdNames) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(notifySystemd("READY=1")) << "not started by systemd: nothing to do";

  testing::TempDir dir("seckill-notify");
  const std::string path = (dir.path() / "notify").string();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  EXPECT_TRUE(notifySystemd("READY=1"));
  char buf[64] = {};
  const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "READY=1");
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_FALSE(notifySystemd("READY=1"));
  unsetenv("NOTIFY_SOCKET");
  ::close(fd);
}

}  // namespace
}  // namespace seckill::app
