// The rate-limit service over real gRPC in-process: a generated client stub against RlsServer,
// the answers, the refusals as INVALID_ARGUMENT, health, and a stop with calls in flight.
#include "engine/rls/rls_server.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/core/clock.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "envoy/service/ratelimit/v3/rls.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/ratelimit/fake_remote_backend.h"
#include "tests/rls/rls_test_util.h"

namespace seckill::rls {
namespace {

using testing::Desc;
using testing::Response;

class RlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ratelimit::RuleSpec r;
    r.path = "/edge/remote_address/*";
    r.scope = ratelimit::ScopeKind::kHeader;
    r.header = "remote_address";
    r.rate = 2;
    r.burst = 2;
    r.per = absl::Minutes(1);
    ratelimit::RuleSpec slow = r;
    slow.path = "/edge/generic_key/slow";
    slow.scope = ratelimit::ScopeKind::kGlobal;
    slow.header.clear();
    slow.distributed = true;
    ASSERT_TRUE(registry_.replace({r, slow}).ok());
    RlsServerOptions o;
    o.listen = "127.0.0.1:0";
    o.mapping.domain = "edge";
    absl::StatusOr<std::unique_ptr<RlsServer>> s =
        RlsServer::start(o, RlsDeps{.clock = clock_, .limiter = limiter_, .on_shadow = {}});
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = envoy_rls::RateLimitService::NewStub(channel_);
  }

  grpc::Status call(const testing::Request& req, Response* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->ShouldRateLimit(&ctx, req, resp);
  }

  ManualClock clock_;
  ratelimit::RuleRegistry registry_;
  ratelimit::testing::FakeRemoteBackend backend_;
  ratelimit::RateLimiter limiter_{registry_, &backend_};
  std::unique_ptr<RlsServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<envoy_rls::RateLimitService::Stub> stub_;
};

TEST_F(RlsServerTest, AnswersShouldRateLimitOverGrpc) {
  const testing::Request req = testing::request("edge", {Desc{{{"remote_address", "10.1.1.1"}}}});
  Response resp;
  for (int i = 0; i < 2; ++i) {
    grpc::Status s = call(req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.overall_code(), Response::OK);
    EXPECT_EQ(resp.statuses(0).limit_remaining(), static_cast<uint32_t>(1 - i));
  }
  ASSERT_TRUE(call(req, &resp).ok());
  EXPECT_EQ(resp.overall_code(), Response::OVER_LIMIT);
  EXPECT_EQ(resp.statuses(0).current_limit().requests_per_unit(), 2u);
  EXPECT_EQ(resp.statuses(0).current_limit().unit(), Response::RateLimit::MINUTE);
  EXPECT_EQ(resp.statuses(0).duration_until_reset().seconds(), 60);
  const RlsStats stats = server_->decider().stats();
  EXPECT_EQ(stats.requests_ok, 2u);
  EXPECT_EQ(stats.requests_over_limit, 1u);
}

TEST_F(RlsServerTest, RefusesABadRequestWithInvalidArgumentNamingTheField) {
  Response resp;
  grpc::Status s = call(testing::request("edge", {Desc{{{"remote_address", "10.1.1.1"}}}, Desc{}}),
                        &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "descriptors[1].entries: empty");
  s = call(testing::request("envoy", {Desc{{{"k", "v"}}}}), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("[rls] domain"));
}

TEST_F(RlsServerTest, ServesGrpcHealth) {
  grpc::GenericStub generic(channel_);
  grpc::Slice empty(std::string{});
  grpc::ByteBuffer request(&empty, 1);  // an empty HealthCheckRequest: the whole server
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = std::move(s);
                      done = true;
                      cv.notify_all();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2)) << "status: SERVING";
}

// A call waiting for a distributed rule's backend is answered when the backend answers, and
// stop() waits for it (here the backend answers from another thread while stop() waits).
TEST_F(RlsServerTest, ACallWaitingOnTheBackendIsAnsweredLater) {
  backend_.setHolding(true);
  Response resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  const testing::Request req = testing::request("edge", {Desc{{{"generic_key", "slow"}}}});
  stub_->async()->ShouldRateLimit(&ctx, &req, &resp, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = std::move(s);
    done = true;
    cv.notify_all();
  });
  for (int i = 0; i < 500 && backend_.heldCount() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(backend_.heldCount(), 1u);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_FALSE(done);
  }
  std::thread releaser([this] { backend_.releaseHeld(); });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  releaser.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.overall_code(), Response::OK);
  lock.unlock();
  server_->stop();
}

}  // namespace
}  // namespace seckill::rls
