#include "console/client/admin_client.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/client/fake_engine.h"

namespace seckill::client {
namespace {

// A file in the test's temporary directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = absl::StrCat(::testing::TempDir(), "seckill_", info->test_suite_name(), "_",
                         info->name(), "_", counter_++);
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// ---------------------------------------------------------------- readTokenFile

TEST(ReadTokenFile, TokenAlone) {
  TempFile f("s3cr3t-token-0123\n");
  EXPECT_EQ(*readTokenFile(f.path()), "s3cr3t-token-0123");
}

TEST(ReadTokenFile, FirstWordOfAnEngineTokensLine) {
  TempFile f("s3cr3t-token-0123 operator alice\n");
  EXPECT_EQ(*readTokenFile(f.path()), "s3cr3t-token-0123");
}

TEST(ReadTokenFile, SkipsBlankAndCommentLinesAndTrimsWhitespace) {
  TempFile f("\n# the operator's token\n   \n\t  abc-def-ghi\tviewer bob \r\nsecond-token\n");
  EXPECT_EQ(*readTokenFile(f.path()), "abc-def-ghi");
}

TEST(ReadTokenFile, WindowsLineEndings) {
  TempFile f("# comment\r\ntok-crlf\r\n");
  EXPECT_EQ(*readTokenFile(f.path()), "tok-crlf");
}

TEST(ReadTokenFile, NoTrailingNewline) {
  TempFile f("tok-no-newline");
  EXPECT_EQ(*readTokenFile(f.path()), "tok-no-newline");
}

TEST(ReadTokenFile, EmptyFileIsInvalid) {
  TempFile f("");
  absl::StatusOr<std::string> t = readTokenFile(f.path());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("holds no token"), absl::string_view::npos);
}

TEST(ReadTokenFile, OnlyCommentsIsInvalid) {
  TempFile f("# nothing here\n\n   # nor here\n");
  EXPECT_EQ(readTokenFile(f.path()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReadTokenFile, MissingFileIsNotFoundAndNamesThePath) {
  const std::string path = ::testing::TempDir() + "seckill_no_such_token_file";
  absl::StatusOr<std::string> t = readTokenFile(path);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find(path), absl::string_view::npos);
}

// ---------------------------------------------------------------- fromGrpc

TEST(FromGrpc, OkIsOk) {
  grpc::ClientContext context;
  EXPECT_TRUE(fromGrpc(grpc::Status::OK, context).ok());
}

TEST(FromGrpc, EveryCodeMapsToTheSameAbslCodeWithTheMessage) {
  for (int code = 1; code <= 16; ++code) {
    grpc::ClientContext context;
    absl::Status s =
        fromGrpc(grpc::Status(static_cast<grpc::StatusCode>(code), "the engine's words"), context);
    EXPECT_EQ(static_cast<int>(s.code()), code);
    EXPECT_EQ(s.message(), "the engine's words");
  }
  grpc::ClientContext context;
  EXPECT_EQ(fromGrpc(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "x"), context).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(fromGrpc(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "x"), context).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(FromGrpc, AbortedWithoutTrailerCarriesNoVersion) {
  grpc::ClientContext context;
  absl::Status s = fromGrpc(grpc::Status(grpc::StatusCode::ABORTED, "stale"), context);
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_FALSE(currentVersion(s).has_value());
}

TEST(CurrentVersion, ReadsThePayloadTheEngineSets) {
  absl::Status s = absl::AbortedError("stale");
  s.SetPayload("seckill.current_version", absl::Cord("42"));
  EXPECT_EQ(currentVersion(s), 42u);
  EXPECT_FALSE(currentVersion(absl::AbortedError("no payload")).has_value());
  absl::Status junk = absl::AbortedError("junk");
  junk.SetPayload("seckill.current_version", absl::Cord("x1"));
  EXPECT_FALSE(currentVersion(junk).has_value());
}

// ---------------------------------------------------------------- AdminClient over gRPC

class AdminClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<AdminClient> connect(std::string token = "op-token-0123456789",
                                       absl::Duration deadline = absl::Seconds(10)) {
    ConnectOptions options;
    options.target = engine_.target();
    options.token = std::move(token);
    options.deadline = deadline;
    absl::StatusOr<std::unique_ptr<AdminClient>> client = AdminClient::create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  void SetUp() override { engine_.setTokens("op-token-0123456789", "viewer-token-0123456"); }

  fake::FakeEngine engine_;
};

TEST_F(AdminClientTest, SendsTheTokenAsBearerMetadata) {
  v1::NodeStatus st;
  st.set_node_id("n1");
  engine_.setNodeStatus(st);
  absl::StatusOr<v1::NodeStatus> ok = connect()->status();
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->node_id(), "n1");

  absl::StatusOr<v1::NodeStatus> bad = connect("wrong-token")->status();
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(bad.status().message().find("admin token"), absl::string_view::npos);

  absl::StatusOr<v1::NodeStatus> none = connect("")->status();
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AdminClientTest, ViewerMayReadButNotChange) {
  std::unique_ptr<AdminClient> viewer = connect("viewer-token-0123456");
  EXPECT_TRUE(viewer->listRules().ok());
  v1::ApplyRulesRequest req;
  req.set_expected_version(1);
  absl::StatusOr<v1::ApplyRulesResponse> r = viewer->call(&v1::Rules::Stub::Apply, req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AdminClientTest, StaleVersionCarriesTheCurrentVersionFromTheTrailers) {
  engine_.setRulesVersion(4);
  v1::ApplyRulesRequest req;
  req.set_toml("[[rule]]\n");
  req.set_expected_version(3);
  absl::StatusOr<v1::ApplyRulesResponse> r = connect()->call(&v1::Rules::Stub::Apply, req);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(r.status().message(), "rule set version 3 is stale: the current version is 4");
  EXPECT_EQ(currentVersion(r.status()), 4u);

  req.set_expected_version(4);
  r = connect()->call(&v1::Rules::Stub::Apply, req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version(), 5u);
}

TEST_F(AdminClientTest, ReadsAreRetriedOnceWhenUnavailable) {
  std::unique_ptr<AdminClient> client = connect();
  engine_.failNext("Node.GetStatus", 1, grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(client->status().ok());
  EXPECT_EQ(engine_.calls("Node.GetStatus"), 2);

  engine_.failNext("Rules.List", 2, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(client->listRules().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(engine_.calls("Rules.List"), 2);  // once more, not more

  engine_.failNext("Sales.List", 1, grpc::StatusCode::INTERNAL);
  EXPECT_EQ(client->listSales().status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(engine_.calls("Sales.List"), 1);  // only UNAVAILABLE is retried
}

TEST_F(AdminClientTest, CallsAreNeverRetried) {
  engine_.failNext("Rules.Apply", 1, grpc::StatusCode::UNAVAILABLE);
  v1::ApplyRulesRequest req;
  req.set_expected_version(1);
  absl::StatusOr<v1::ApplyRulesResponse> r = connect()->call(&v1::Rules::Stub::Apply, req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(engine_.calls("Rules.Apply"), 1);
  EXPECT_EQ(engine_.rulesVersion(), 1u);
}

TEST_F(AdminClientTest, EachCallHasTheDeadline) {
  engine_.setHangUnary("Node.GetStatus", true);
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::NodeStatus> r =
      connect("op-token-0123456789", absl::Milliseconds(100))->status();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(AdminClientTest, UnreachableEngineIsUnavailable) {
  ConnectOptions options;
  options.target = "127.0.0.1:1";  // nothing listens on port 1
  options.deadline = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<AdminClient>> client = AdminClient::create(options);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->status().status().code(), absl::StatusCode::kUnavailable);
}

TEST(AdminClientCreate, RejectsBadOptions) {
  ConnectOptions empty_target;
  empty_target.target = "";
  EXPECT_EQ(AdminClient::create(empty_target).status().code(), absl::StatusCode::kInvalidArgument);

  ConnectOptions spaced_token;
  spaced_token.token = "two words";
  EXPECT_EQ(AdminClient::create(spaced_token).status().code(), absl::StatusCode::kInvalidArgument);

  ConnectOptions cert_without_key;
  cert_without_key.tls = true;
  cert_without_key.tls_cert_file = "/dev/null";
  EXPECT_EQ(AdminClient::create(cert_without_key).status().code(),
            absl::StatusCode::kInvalidArgument);

  ConnectOptions missing_ca;
  missing_ca.tls = true;
  missing_ca.tls_ca_file = ::testing::TempDir() + "seckill_no_such_ca.pem";
  absl::Status s = AdminClient::create(missing_ca).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("seckill_no_such_ca.pem"), absl::string_view::npos);

  ConnectOptions files_without_tls;
  files_without_tls.tls_ca_file = "/dev/null";
  EXPECT_EQ(AdminClient::create(files_without_tls).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdminClientCreate, TlsChannelWithServerNameOverride) {
  ConnectOptions options;
  options.tls = true;
  options.tls_server_name = "engine.internal";
  absl::StatusOr<std::unique_ptr<AdminClient>> client = AdminClient::create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->options().tls);
}

}  // namespace
}  // namespace seckill::client
