#include "engine/identity/trusted_proxies.h"

#include <gtest/gtest.h>

namespace seckill::identity {
namespace {

TrustedProxies proxies(std::vector<std::string> entries) {
  auto p = TrustedProxies::parse(entries);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : TrustedProxies();
}

std::string client(const TrustedProxies& p, std::string_view peer, std::string_view xff,
                   std::string_view fwd = "") {
  std::string scratch;
  return std::string(p.clientAddress(peer, xff, fwd, scratch));
}

TEST(TrustedProxiesTest, RangesMatchV4V6AndMappedAddresses) {
  auto p = proxies({"10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"});
  EXPECT_TRUE(p.contains("10.255.0.1"));
  EXPECT_FALSE(p.contains("11.0.0.1"));
  EXPECT_TRUE(p.contains("192.168.1.7"));
  EXPECT_FALSE(p.contains("192.168.1.8"));
  EXPECT_TRUE(p.contains("fd12:3456::1"));
  EXPECT_FALSE(p.contains("fe80::1"));
  EXPECT_TRUE(p.contains("::1"));
  EXPECT_TRUE(p.contains("::ffff:10.1.1.1")) << "a v4 peer of a dual-stack socket";
  EXPECT_FALSE(p.contains("not-an-ip"));
  EXPECT_FALSE(p.contains(""));
  auto odd = proxies({"10.128.0.0/9"});
  EXPECT_TRUE(odd.contains("10.200.0.1"));
  EXPECT_FALSE(odd.contains("10.100.0.1"));
  auto all = proxies({"0.0.0.0/0"});
  EXPECT_TRUE(all.contains("8.8.8.8"));
  EXPECT_FALSE(all.contains("2001:db8::1")) << "an IPv4 range holds no IPv6 address";
}

TEST(TrustedProxiesTest, BadEntriesAreRefusedByName) {
  for (std::string bad : {"10.0.0.0/33", "10.0.0.1/8", "fd00::/129", "example.com", "10.0.0.0/",
                          "10.0.0.0/x", ""}) {
    auto p = TrustedProxies::parse({bad});
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.status().message().find("\"" + bad + "\""), std::string::npos)
        << p.status().message();
  }
}

TEST(TrustedProxiesTest, ForwardedForIsBelievedOnlyFromATrustedPeer) {
  auto p = proxies({"10.0.0.0/8"});
  EXPECT_EQ(client(p, "203.0.113.5", "198.51.100.1"), "203.0.113.5");
  EXPECT_EQ(client(p, "10.0.0.1", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(client(p, "10.0.0.1", ""), "10.0.0.1");
  // The client wrote a header of its own first; the proxies appended what they saw.
  EXPECT_EQ(client(p, "10.0.0.1", "1.1.1.1, 198.51.100.1, 10.0.0.2"), "198.51.100.1");
  // Only trusted hops: the leftmost.
  EXPECT_EQ(client(p, "10.0.0.1", "10.0.0.3,10.0.0.2"), "10.0.0.3");
  // Garbage stops the walk at the last address believed.
  EXPECT_EQ(client(p, "10.0.0.1", "198.51.100.1, unknown, 10.0.0.2"), "10.0.0.2");
  EXPECT_EQ(client(p, "10.0.0.1", "garbage"), "10.0.0.1");
  // Ports and brackets.
  EXPECT_EQ(client(p, "10.0.0.1", "198.51.100.1:4711"), "198.51.100.1");
  EXPECT_EQ(client(p, "10.0.0.1", "[2001:db8::1]:4711"), "2001:db8::1");
  EXPECT_EQ(client(p, "::ffff:10.0.0.1", "2001:db8::1"), "2001:db8::1");
}

TEST(TrustedProxiesTest, ForwardedHeaderWinsOverXForwardedFor) {
  auto p = proxies({"10.0.0.0/8"});
  EXPECT_EQ(client(p, "10.0.0.1", "1.1.1.1", "for=192.0.2.60;proto=http;by=203.0.113.43"),
            "192.0.2.60");
  EXPECT_EQ(client(p, "10.0.0.1", "", R"(for="[2001:db8:cafe::17]:4711")"), "2001:db8:cafe::17");
  EXPECT_EQ(client(p, "10.0.0.1", "", "for=192.0.2.43, for=198.51.100.17, for=10.0.0.9"),
            "198.51.100.17");
  EXPECT_EQ(client(p, "10.0.0.1", "", "For=\"_gazonk\""), "10.0.0.1");
  EXPECT_EQ(client(p, "10.0.0.1", "", "proto=https"), "10.0.0.1");
  EXPECT_EQ(client(p, "203.0.113.1", "", "for=192.0.2.60"), "203.0.113.1");
}

TEST(IpAddressTest, ParsesAndPrintsCanonically) {
  EXPECT_EQ(IpAddress::parse("192.0.2.1")->toString(), "192.0.2.1");
  EXPECT_EQ(IpAddress::parse("::ffff:192.0.2.1")->toString(), "192.0.2.1");
  EXPECT_EQ(IpAddress::parse("2001:DB8:0:0::1")->toString(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("192.0.2.256"));
  EXPECT_FALSE(IpAddress::parse("1.2.3"));
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
}

}  // namespace
}  // namespace seckill::identity
