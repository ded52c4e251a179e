#include <thread>
#include <vector>

#include "console/client/admin_client.h"
#include "gtest/gtest.h"
#include "tests/client/fake_engine.h"

namespace seckill::client {
namespace {

using State = StatsWatch::State;
using fake::waitUntil;

absl::Time atOf(uint64_t seq) { return absl::FromUnixSeconds(fake::kEpochSeconds + seq); }

// What a watch delivered, read from the test's thread.
class Recorder {
 public:
  StatsWatch::Callbacks callbacks() {
    StatsWatch::Callbacks c;
    c.on_snapshot = [this](const v1::StatsSnapshot& s) {
      absl::MutexLock lock(&mu_);
      snapshots_.push_back(s);
      threads_.push_back(std::this_thread::get_id());
    };
    c.on_state = [this](State st, const absl::Status& why) {
      absl::MutexLock lock(&mu_);
      states_.push_back({st, why});
    };
    return c;
  }

  std::vector<uint64_t> seqs() const {
    absl::MutexLock lock(&mu_);
    std::vector<uint64_t> out;
    for (const auto& s : snapshots_) out.push_back(s.seq());
    return out;
  }
  std::vector<bool> historyFlags() const {
    absl::MutexLock lock(&mu_);
    std::vector<bool> out;
    for (const auto& s : snapshots_) out.push_back(s.history());
    return out;
  }
  size_t count() const {
    absl::MutexLock lock(&mu_);
    return snapshots_.size();
  }
  std::vector<State> states() const {
    absl::MutexLock lock(&mu_);
    std::vector<State> out;
    for (const auto& [s, why] : states_) out.push_back(s);
    return out;
  }
  // The reason of the first state `s`; nullopt if none yet.
  std::optional<absl::Status> reason(State s) const {
    absl::MutexLock lock(&mu_);
    for (const auto& [st, why] : states_) {
      if (st == s) return why;
    }
    return std::nullopt;
  }
  bool waitForCount(size_t n) const {
    return waitUntil([&] { return count() >= n; });
  }
  bool waitForState(State s) const {
    return waitUntil([&] { return reason(s).has_value(); });
  }
  std::vector<std::thread::id> threads() const {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::StatsSnapshot> snapshots_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<State, absl::Status>> states_ ABSL_GUARDED_BY(mu_);
};

class StatsWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_.setTokens("op-token-0123456789");
    client_ = connect("op-token-0123456789");
  }

  std::unique_ptr<AdminClient> connect(const std::string& token) {
    ConnectOptions options;
    options.target = engine_.target();
    options.token = token;
    return *AdminClient::create(options);
  }

  // Fast retries; no stall detection unless a test asks for it.
  static StatsWatch::Options fast() {
    StatsWatch::Options o;
    o.backoff_min = absl::Milliseconds(1);
    o.backoff_max = absl::Milliseconds(10);
    o.stall_timeout = absl::Minutes(5);
    return o;
  }

  static std::vector<uint64_t> range(uint64_t from, uint64_t to) {
    std::vector<uint64_t> out;
    for (uint64_t i = from; i <= to; ++i) out.push_back(i);
    return out;
  }

  fake::FakeEngine engine_;
  std::unique_ptr<AdminClient> client_;
  Recorder rec_;
};

TEST_F(StatsWatchTest, HistoryThenLiveInOrder) {
  for (uint64_t i = 1; i <= 3; ++i) engine_.publish(i);
  StatsWatch watch(*client_, rec_.callbacks(), fast());
  ASSERT_TRUE(rec_.waitForCount(3));
  engine_.publish(4);
  engine_.publish(5);
  ASSERT_TRUE(rec_.waitForCount(5));

  EXPECT_EQ(rec_.seqs(), range(1, 5));
  EXPECT_EQ(rec_.historyFlags(), (std::vector<bool>{true, true, true, false, false}));
  EXPECT_EQ(watch.lastDelivered(), atOf(5));
  const std::vector<State> states = rec_.states();
  ASSERT_GE(states.size(), 2u);
  EXPECT_EQ(states[0], State::kConnecting);
  EXPECT_EQ(states[1], State::kStreaming);
  for (std::thread::id t : rec_.threads()) EXPECT_NE(t, std::this_thread::get_id());

  const std::vector<v1::WatchStatsRequest> requests = engine_.watchRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].has_since());
  EXPECT_FALSE(requests[0].no_history());

  watch.stop();
  EXPECT_EQ(rec_.states().back(), State::kStopped);
  EXPECT_TRUE(rec_.reason(State::kStopped)->ok());
}

TEST_F(StatsWatchTest, LastDeliveredIsInfinitePastBeforeTheFirstSecond) {
  StatsWatch watch(*client_, rec_.callbacks(), fast());
  EXPECT_EQ(watch.lastDelivered(), absl::InfinitePast());
}

TEST_F(StatsWatchTest, WithoutHistoryAsksForLiveSecondsOnly) {
  StatsWatch::Options o = fast();
  o.history = false;
  StatsWatch watch(*client_, rec_.callbacks(), o);
  ASSERT_TRUE(waitUntil([&] { return engine_.openStreams() == 1; }));
  engine_.publish(7);
  ASSERT_TRUE(rec_.waitForCount(1));
  EXPECT_EQ(rec_.seqs(), std::vector<uint64_t>{7});
  EXPECT_TRUE(engine_.watchRequests().at(0).no_history());
}

TEST_F(StatsWatchTest, SinceOptionAsksForTheSecondsAfterIt) {
  for (uint64_t i = 1; i <= 4; ++i) engine_.publish(i);
  StatsWatch::Options o = fast();
  o.since = atOf(2);
  StatsWatch watch(*client_, rec_.callbacks(), o);
  ASSERT_TRUE(rec_.waitForCount(2));
  EXPECT_EQ(rec_.seqs(), range(3, 4));
  const v1::WatchStatsRequest first = engine_.watchRequests().at(0);
  EXPECT_EQ(first.since().seconds(), fake::kEpochSeconds + 2);
}

TEST_F(StatsWatchTest, ReconnectResumesAfterTheLastSecondWithoutGaps) {
  for (uint64_t i = 1; i <= 3; ++i) engine_.publish(i);
  StatsWatch watch(*client_, rec_.callbacks(), fast());
  ASSERT_TRUE(rec_.waitForCount(3));

  // The stream breaks and reconnects are refused while seconds 4 and 5 pass.
  engine_.setRefuse(true);
  engine_.dropStreams();
  ASSERT_TRUE(waitUntil([&] { return engine_.watchCalls() >= 3; }));
  engine_.publish(4);
  engine_.publish(5);
  engine_.setRefuse(false);
  ASSERT_TRUE(rec_.waitForCount(5));
  ASSERT_TRUE(waitUntil([&] { return engine_.openStreams() == 1; }));
  engine_.publish(6);
  ASSERT_TRUE(rec_.waitForCount(6));

  EXPECT_EQ(rec_.seqs(), range(1, 6));
  EXPECT_EQ(rec_.historyFlags(), (std::vector<bool>{true, true, true, true, true, false}));
  const std::vector<v1::WatchStatsRequest> requests = engine_.watchRequests();
  ASSERT_GE(requests.size(), 3u);
  for (size_t i = 1; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].since().seconds(), fake::kEpochSeconds + 3) << "request " << i;
    EXPECT_EQ(requests[i].since().nanos(), 0);
  }
  const std::optional<absl::Status> why = rec_.reason(State::kRetrying);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
}

TEST_F(StatsWatchTest, SecondsTheEngineRepeatsAreDropped) {
  engine_.setIgnoreSince(true);  // replays its whole history on every connect
  for (uint64_t i = 1; i <= 3; ++i) engine_.publish(i);
  StatsWatch watch(*client_, rec_.callbacks(), fast());
  ASSERT_TRUE(rec_.waitForCount(3));
  engine_.publish(4);
  ASSERT_TRUE(rec_.waitForCount(4));

  engine_.dropStreams();
  ASSERT_TRUE(waitUntil([&] { return engine_.watchCalls() == 2 && engine_.openStreams() == 1; }));
  engine_.publish(5);  // sent after the replay of 1..4 on the same stream
  ASSERT_TRUE(rec_.waitForCount(5));

  EXPECT_EQ(rec_.seqs(), range(1, 5));
}

TEST_F(StatsWatchTest, EngineRestartIsFollowed) {
  engine_.publish(1);
  engine_.publish(2);
  StatsWatch watch(*client_, rec_.callbacks(), fast());
  ASSERT_TRUE(rec_.waitForCount(2));
  engine_.restart();
  engine_.publish(3);
  // gRPC's own reconnect back-off (about a second) may apply after the restart.
  ASSERT_TRUE(rec_.waitForCount(3));
  ASSERT_TRUE(waitUntil([&] { return engine_.openStreams() == 1; }));
  engine_.publish(4);
  ASSERT_TRUE(rec_.waitForCount(4));
  EXPECT_EQ(rec_.seqs(), range(1, 4));
}

TEST_F(StatsWatchTest, StalledStreamIsCancelledAndReopened) {
  engine_.setHang(true);  // streams open but send nothing
  engine_.publish(1);
  StatsWatch::Options o = fast();
  o.stall_timeout = absl::Milliseconds(50);
  StatsWatch watch(*client_, rec_.callbacks(), o);
  ASSERT_TRUE(waitUntil([&] { return engine_.watchCalls() >= 2; }));
  ASSERT_TRUE(rec_.waitForState(State::kRetrying));
  const absl::Status why = *rec_.reason(State::kRetrying);
  EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(why.message().find("no stats snapshot for 50ms"), absl::string_view::npos) << why;
  EXPECT_EQ(rec_.count(), 0u);

  engine_.setHang(false);
  ASSERT_TRUE(rec_.waitForCount(1));
  EXPECT_EQ(rec_.seqs(), std::vector<uint64_t>{1});
}

TEST_F(StatsWatchTest, UnauthenticatedIsNotRetried) {
  std::unique_ptr<AdminClient> stranger = connect("not-a-known-token");
  StatsWatch watch(*stranger, rec_.callbacks(), fast());
  ASSERT_TRUE(rec_.waitForState(State::kStopped));
  EXPECT_EQ(rec_.reason(State::kStopped)->code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(rec_.states(), (std::vector<State>{State::kConnecting, State::kStopped}));
  watch.stop();  // the thread is over: returns at once
  EXPECT_EQ(engine_.watchCalls(), 1);
}

TEST_F(StatsWatchTest, PermissionDeniedIsNotRetried) {
  engine_.failNext("Stats.Watch", 1, grpc::StatusCode::PERMISSION_DENIED);
  StatsWatch watch(*client_, rec_.callbacks(), fast());
  ASSERT_TRUE(rec_.waitForState(State::kStopped));
  EXPECT_EQ(rec_.reason(State::kStopped)->code(), absl::StatusCode::kPermissionDenied);
  watch.stop();
  EXPECT_EQ(engine_.watchCalls(), 1);
}

TEST_F(StatsWatchTest, OtherErrorsAreRetried) {
  engine_.failNext("Stats.Watch", 2, grpc::StatusCode::INTERNAL);
  engine_.publish(1);
  StatsWatch watch(*client_, rec_.callbacks(), fast());
  ASSERT_TRUE(rec_.waitForCount(1));
  EXPECT_EQ(engine_.watchCalls(), 3);
  EXPECT_EQ(rec_.reason(State::kRetrying)->code(), absl::StatusCode::kInternal);
}

TEST_F(StatsWatchTest, StopReturnsPromptlyWhileTheServerHangs) {
  engine_.setHang(true);
  StatsWatch watch(*client_, rec_.callbacks(), fast());
  ASSERT_TRUE(waitUntil([&] { return engine_.openStreams() == 1; }));
  const absl::Time start = absl::Now();
  watch.stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(rec_.states().back(), State::kStopped);
  EXPECT_TRUE(rec_.reason(State::kStopped)->ok());
  watch.stop();                                                        // idempotent
  EXPECT_TRUE(waitUntil([&] { return engine_.openStreams() == 0; }));  // the call was cancelled
}

TEST_F(StatsWatchTest, StopReturnsPromptlyDuringBackOff) {
  engine_.setRefuse(true);
  StatsWatch::Options o = fast();
  o.backoff_min = absl::Minutes(10);
  o.backoff_max = absl::Minutes(10);
  StatsWatch watch(*client_, rec_.callbacks(), o);
  ASSERT_TRUE(rec_.waitForState(State::kRetrying));
  const absl::Time start = absl::Now();
  watch.stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(engine_.watchCalls(), 1);
}

TEST_F(StatsWatchTest, DestructorStops) {
  engine_.setHang(true);
  {
    StatsWatch watch(*client_, rec_.callbacks(), fast());
    ASSERT_TRUE(waitUntil([&] { return engine_.openStreams() == 1; }));
  }
  EXPECT_EQ(rec_.states().back(), State::kStopped);
}

}  // namespace
}  // namespace seckill::client
