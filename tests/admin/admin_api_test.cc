// The admin API against a real engine (EngineApp, in process) over real gRPC on loopback: auth
// on every method, roles, each service, conflicts, the stats stream against /metrics, breakers
// and overrides taking effect on the HTTP side, hostile input, and persistence in the state dir.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "console/client/admin_client.h"
#include "engine/app/engine_app.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/app/test_http.h"
#include "tests/support/test_process.h"

namespace seckill::admin {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::seckill::admin::v1;
using app::testing::httpExchange;
using app::testing::httpGet;
using client::AdminClient;

constexpr char kOperatorToken[] = "op-token-0123456789abcdef";
constexpr char kViewerToken[] = "view-token-0123456789abcdef";

app::EngineConfig baseConfig(const std::string& dir) {
  app::EngineConfig c = app::demoConfig();
  c.http.port = 0;
  c.http.threads = 1;
  c.sales[0].id = "drop";
  c.sales[0].stock = 100;
  c.admin.listen = "127.0.0.1:0";
  c.admin.tokens = dir + "/tokens";
  c.admin.state_dir = dir + "/state";
  c.admin.node_id = "node-a";
  c.limits.watch = false;
  return c;
}

// "HTTP/1.1 201 ..." -> 201.
int statusOf(const std::string& reply) {
  int code = 0;
  if (reply.size() < 12 || !absl::SimpleAtoi(reply.substr(9, 3), &code)) return 0;
  return code;
}

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>("seckill-admin");
    const std::string tokens = absl::StrCat(kOperatorToken, " operator alice\n", kViewerToken,
                                            " viewer bob\n");
    const std::string path = dir_->write("tokens", tokens);
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    start(baseConfig(dir_->path().string()));
  }
  void TearDown() override {
    if (app_) app_->stop();
  }

  void start(app::EngineConfig config) {
    absl::StatusOr<std::unique_ptr<app::EngineApp>> a = app::EngineApp::create(std::move(config));
    ASSERT_TRUE(a.ok()) << a.status();
    app_ = *std::move(a);
    app_->start();
    ASSERT_NE(app_->adminPort(), 0);
    op_ = clientWith(kOperatorToken);
    viewer_ = clientWith(kViewerToken);
  }
  void restart() {
    app_->stop();
    app_.reset();
    start(baseConfig(dir_->path().string()));
  }

  std::unique_ptr<AdminClient> clientWith(std::string token) {
    client::ConnectOptions o;
    o.target = absl::StrCat("127.0.0.1:", app_->adminPort());
    o.token = std::move(token);
    o.deadline = absl::Seconds(10);
    return *AdminClient::create(o);
  }

  int order(const std::string& user, const std::string& sale = "drop") {
    return statusOf(httpExchange(app_->port(), "POST /api/v1/sales/" + sale +
                                                   "/orders HTTP/1.1\r\nHost: t\r\nX-User-Id: " +
                                                   user + "\r\nContent-Length: 0\r\n"
                                                   "Connection: close\r\n\r\n"));
  }

  uint64_t version() { return op_->listRules()->version(); }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<app::EngineApp> app_;
  std::unique_ptr<AdminClient> op_;
  std::unique_ptr<AdminClient> viewer_;
};

// Every method of every service, called with an empty request.
std::vector<std::string> allMethods() {
  std::vector<std::string> out;
  for (const char* service : {"Node", "Stats", "Rules", "Control", "Sales", "Orders", "Audit"}) {
    const google::protobuf::ServiceDescriptor* d =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            absl::StrCat("seckill.admin.v1.", service));
    for (int i = 0; i < d->method_count(); ++i) {
      out.push_back(absl::StrCat("/seckill.admin.v1.", service, "/", d->method(i)->name()));
    }
  }
  out.push_back("/grpc.health.v1.Health/Check");
  out.push_back("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
  return out;
}

// Calls `method` raw (an empty message) with `token` (empty: none); the status.
grpc::Status callRaw(int port, const std::string& method, const std::string& token) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&ctx, method, &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  cq.Next(&tag, &ok);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(5)) {
  }
  ctx.TryCancel();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

TEST_F(AdminApiTest, EveryMethodRefusesACallWithoutAValidToken) {
  for (const std::string& method : allMethods()) {
    for (const std::string token : {"", "not-a-token-0123456789", "Bearer"}) {
      grpc::Status s = callRaw(app_->adminPort(), method, token);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with \"" << token << "\": " << s.error_message();
    }
  }
  // With a token, health answers.
  EXPECT_TRUE(callRaw(app_->adminPort(), "/grpc.health.v1.Health/Check", kViewerToken).ok());
}

TEST_F(AdminApiTest, AViewerReadsEverythingAndChangesNothing) {
  absl::StatusOr<v1::NodeStatus> status = viewer_->status();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->caller_role(), "viewer");
  EXPECT_EQ(status->caller_name(), "bob");
  EXPECT_EQ(status->node_id(), "node-a");
  ASSERT_EQ(status->sales_size(), 1);
  EXPECT_EQ(status->sales(0).stock_left(), 100);
  EXPECT_EQ(status->breakers_size(), 2);
  EXPECT_TRUE(viewer_->listRules().ok());
  EXPECT_TRUE(viewer_->listSales().ok());

  const uint64_t v = version();
  v1::ApplyRulesRequest apply;
  apply.set_expected_version(v);
  v1::SetBreakerModeRequest breaker;
  breaker.set_name("stock_store");
  breaker.set_mode(v1::MODE_FORCED_OPEN);
  v1::CreateSaleRequest create;
  create.mutable_sale()->set_id("x");
  v1::SetOverrideRequest override_req;
  override_req.set_prefix("/");
  override_req.set_mode(v1::SHED);
  std::vector<absl::Status> refused = {
      viewer_->call(&v1::Rules::Stub::Apply, apply).status(),
      viewer_->call(&v1::Control::Stub::SetBreakerMode, breaker).status(),
      viewer_->call(&v1::Sales::Stub::Create, create).status(),
      viewer_->call(&v1::Control::Stub::SetOverride, override_req).status(),
  };
  for (const absl::Status& s : refused) {
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
    EXPECT_THAT(s.message(), HasSubstr("\"bob\" is a viewer"));
  }
  EXPECT_EQ(version(), v);
  EXPECT_EQ(app_->stockBreaker().mode(), ratelimit::CircuitBreaker::Mode::kNormal);
}

v1::Rule orderRule(int64_t rate, v1::OnLimit on_limit = v1::REJECT) {
  v1::Rule r;
  r.set_path("/api/v1/sales/*/orders");
  r.set_method("POST");
  r.mutable_scope()->set_kind(v1::GLOBAL);
  r.set_algorithm(v1::TOKEN_BUCKET);
  r.set_rate(rate);
  r.set_per(v1::HOUR);
  r.set_burst(rate);
  r.set_on_limit(on_limit);
  return r;
}

TEST_F(AdminApiTest, ARuleAppliedOverGrpcChangesWhatTheHttpSideAdmits) {
  ASSERT_EQ(order("u0"), 201);
  v1::PutRuleRequest put;
  *put.mutable_rule() = orderRule(2);
  put.set_expected_version(version());
  absl::StatusOr<v1::ApplyRulesResponse> applied = op_->call(&v1::Rules::Stub::PutRule, put);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->changed());
  EXPECT_EQ(applied->change().author(), "alice");
  EXPECT_EQ(order("u1"), 201);
  EXPECT_EQ(order("u2"), 201);
  EXPECT_EQ(order("u3"), 429) << "the rule runs at once on the HTTP side";

  // The trie shows it on its node with its counters.
  absl::StatusOr<v1::ListRulesResponse> list = op_->listRules();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->rules_size(), 1);
  EXPECT_EQ(list->rules(0).rule().id(), "POST /api/v1/sales/*/orders global /h");
  EXPECT_EQ(list->rules(0).counters().passed(), 2u);
  EXPECT_EQ(list->rules(0).counters().limited(), 1u);
  const v1::TrieNode* node = &list->root();
  for (const char* seg : {"api", "v1", "sales", "*", "orders"}) {
    ASSERT_EQ(node->children_size(), 1) << seg;
    node = &node->children(0);
    EXPECT_EQ(node->segment(), seg);
  }
  ASSERT_EQ(node->rules_size(), 1);
  EXPECT_EQ(node->path(), "/api/v1/sales/*/orders");

  // log mode lets everything through, counted as shadow-limited.
  v1::SetRuleModeRequest mode;
  mode.set_id(list->rules(0).rule().id());
  mode.set_on_limit(v1::LOG);
  ASSERT_TRUE(op_->call(&v1::Control::Stub::SetRuleMode, mode).ok());
  EXPECT_EQ(order("u4"), 201);
  EXPECT_GE(op_->listRules()->rules(0).counters().shadow_limited(), 1u);
}

TEST_F(AdminApiTest, AStaleVersionIsAbortedWithTheCurrentOneAndOfTwoEqualAppliesOneWins) {
  const uint64_t v = version();
  std::atomic<int> won{0};
  std::atomic<int> aborted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<AdminClient> c = clientWith(kOperatorToken);
      v1::ApplyRulesRequest req;
      *req.mutable_set()->add_rules() = orderRule(10 + t);
      req.set_expected_version(v);
      absl::StatusOr<v1::ApplyRulesResponse> r = c->call(&v1::Rules::Stub::Apply, req);
      if (r.ok()) won.fetch_add(1);
      if (absl::IsAborted(r.status())) {
        aborted.fetch_add(1);
        EXPECT_EQ(client::currentVersion(r.status()), v + 1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(aborted.load(), 1);
  EXPECT_EQ(version(), v + 1);

  v1::ApplyRulesRequest no_version;
  *no_version.mutable_set()->add_rules() = orderRule(3);
  absl::Status s = op_->call(&v1::Rules::Stub::Apply, no_version).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("expected_version"));
}

TEST_F(AdminApiTest, ValidateNamesTheRuleAndFieldAndAppliesNothing) {
  const uint64_t v = version();
  v1::ValidateRulesRequest req;
  *req.mutable_set()->add_rules() = orderRule(5);
  v1::Rule bad = orderRule(0);
  bad.set_path("/other");
  *req.mutable_set()->add_rules() = bad;
  absl::StatusOr<v1::ValidateRulesResponse> r = op_->call(&v1::Rules::Stub::Validate, req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->valid());
  ASSERT_EQ(r->errors_size(), 1);
  EXPECT_EQ(r->errors(0).rule_index(), 1);
  EXPECT_EQ(r->errors(0).field(), "rate");
  EXPECT_EQ(r->errors(0).rule_id(), "POST /other global /h");
  EXPECT_THAT(r->errors(0).message(), HasSubstr("rate must be > 0"));

  v1::ValidateRulesRequest toml;
  toml.set_toml("[[rule]]\npath = \"/a\"\nrate = 5\n\n[[rule]]\npath = \"/b\"\nrate = -1\n");
  r = op_->call(&v1::Rules::Stub::Validate, toml);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->valid());
  ASSERT_GE(r->errors_size(), 1);
  EXPECT_EQ(r->errors(0).line(), 5);
  EXPECT_THAT(r->errors(0).message(), HasSubstr("line 5"));
  EXPECT_EQ(version(), v);

  v1::ApplyRulesRequest apply;
  apply.set_toml("[[rule]]\npath = \"/b\"\nrate = -1\n");
  apply.set_expected_version(v);
  absl::Status s = op_->call(&v1::Rules::Stub::Apply, apply).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("rate must be > 0"));
}

TEST_F(AdminApiTest, VersionsDiffExportAndRollback) {
  const uint64_t v1_version = version();
  v1::ApplyRulesRequest a;
  *a.mutable_set()->add_rules() = orderRule(5);
  a.set_expected_version(v1_version);
  a.set_comment("first limit");
  ASSERT_TRUE(op_->call(&v1::Rules::Stub::Apply, a).ok());
  v1::ApplyRulesRequest b;
  *b.mutable_set()->add_rules() = orderRule(8);
  b.set_expected_version(v1_version + 1);
  ASSERT_TRUE(op_->call(&v1::Rules::Stub::Apply, b).ok());

  v1::ListVersionsRequest lv;
  absl::StatusOr<v1::ListVersionsResponse> versions = op_->call(&v1::Rules::Stub::ListVersions, lv);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->current(), v1_version + 2);
  ASSERT_GE(versions->versions_size(), 3);
  EXPECT_EQ(versions->versions(0).version(), v1_version + 2) << "newest first";
  EXPECT_EQ(versions->versions(1).comment(), "first limit");
  EXPECT_EQ(versions->versions(1).author(), "alice");

  v1::DiffRulesRequest d;
  d.set_from_version(v1_version + 1);
  d.set_to_version(v1_version + 2);
  absl::StatusOr<v1::DiffRulesResponse> diff = op_->call(&v1::Rules::Stub::Diff, d);
  ASSERT_TRUE(diff.ok());
  ASSERT_EQ(diff->rules_size(), 1);
  EXPECT_EQ(diff->rules(0).kind(), v1::RuleChange::CHANGED);
  EXPECT_THAT(diff->text(), HasSubstr("rate 5 -> 8"));

  v1::ExportRulesRequest e;
  absl::StatusOr<v1::ExportRulesResponse> exported = op_->call(&v1::Rules::Stub::Export, e);
  ASSERT_TRUE(exported.ok());
  EXPECT_THAT(exported->toml(), HasSubstr("rate = 8"));
  // The export applies back as the same set: no new version.
  v1::ApplyRulesRequest again;
  again.set_toml(exported->toml());
  again.set_expected_version(v1_version + 2);
  absl::StatusOr<v1::ApplyRulesResponse> same = op_->call(&v1::Rules::Stub::Apply, again);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_FALSE(same->changed());

  v1::RollbackRulesRequest rb;
  rb.set_to_version(v1_version + 1);
  rb.set_expected_version(v1_version + 2);
  absl::StatusOr<v1::ApplyRulesResponse> rolled = op_->call(&v1::Rules::Stub::Rollback, rb);
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_EQ(rolled->version(), v1_version + 3);
  EXPECT_EQ(op_->listRules()->rules(0).rule().rate(), 5);
}

TEST_F(AdminApiTest, ABreakerForcedOpenAnswersOrders503AtOnceAndAutomaticRestoresThem) {
  EXPECT_EQ(order("a"), 201);
  v1::SetBreakerModeRequest req;
  req.set_name("stock_store");
  req.set_mode(v1::MODE_FORCED_OPEN);
  req.set_comment("redis failover");
  absl::StatusOr<v1::Breaker> b = op_->call(&v1::Control::Stub::SetBreakerMode, req);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->state(), v1::FORCED_OPEN);
  const std::string reply = httpExchange(app_->port(),
                                         "POST /api/v1/sales/drop/orders HTTP/1.1\r\nHost: t\r\n"
                                         "X-User-Id: b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(statusOf(reply), 503);
  EXPECT_THAT(reply, HasSubstr("circuit_open"));
  req.set_mode(v1::AUTOMATIC);
  ASSERT_TRUE(op_->call(&v1::Control::Stub::SetBreakerMode, req).ok());
  EXPECT_EQ(order("b"), 201);
  req.set_name("no_such_breaker");
  EXPECT_TRUE(absl::IsNotFound(op_->call(&v1::Control::Stub::SetBreakerMode, req).status()));
  req.set_name("stock_store");
  req.set_mode(v1::BREAKER_MODE_UNSPECIFIED);
  absl::Status s = op_->call(&v1::Control::Stub::SetBreakerMode, req).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("mode"));
}

TEST_F(AdminApiTest, AnOverrideShedsAndClearingItRestores) {
  v1::SetOverrideRequest set;
  set.set_prefix("/api/v1/sales");
  set.set_mode(v1::SHED);
  ASSERT_TRUE(op_->call(&v1::Control::Stub::SetOverride, set).ok());
  EXPECT_EQ(order("a"), 503);
  v1::ListOverridesRequest list_req;
  absl::StatusOr<v1::ListOverridesResponse> list =
      viewer_->call(&v1::Control::Stub::ListOverrides, list_req);
  ASSERT_EQ(list->overrides_size(), 1);
  v1::ClearOverrideRequest clear;
  clear.set_prefix("/api/v1/sales/");
  ASSERT_TRUE(op_->call(&v1::Control::Stub::ClearOverride, clear).ok());
  EXPECT_EQ(order("a"), 201);
  EXPECT_TRUE(absl::IsNotFound(op_->call(&v1::Control::Stub::ClearOverride, clear).status()));
}

TEST_F(AdminApiTest, SalesAreCreatedStockedOpenedAndClosedUnderLiveTraffic) {
  v1::CreateSaleRequest create;
  v1::Sale* s = create.mutable_sale();
  s->set_id("flash");
  s->set_stock_total(2);
  absl::StatusOr<v1::Sale> created = op_->call(&v1::Sales::Stub::Create, create);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->stock_left(), 2);
  EXPECT_EQ(created->state(), v1::OPEN_NOW);
  EXPECT_EQ(order("a", "flash"), 201);
  EXPECT_EQ(order("b", "flash"), 201);
  EXPECT_EQ(order("c", "flash"), 410);

  v1::AdjustStockRequest adj;
  adj.set_id("flash");
  adj.set_delta(3);
  absl::StatusOr<v1::Sale> more = op_->call(&v1::Sales::Stub::AdjustStock, adj);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->stock_total(), 5);
  EXPECT_EQ(more->stock_left(), 3);
  EXPECT_EQ(more->sold(), 2);
  EXPECT_EQ(order("c", "flash"), 201) << "the sold-out sale reopened";
  adj.set_set_total(1);
  absl::Status below = op_->call(&v1::Sales::Stub::AdjustStock, adj).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(below));
  EXPECT_THAT(below.message(), HasSubstr("already sold"));

  v1::CloseSaleRequest close;
  close.set_id("flash");
  ASSERT_EQ(op_->call(&v1::Sales::Stub::Close, close)->state(), v1::CLOSED_NOW);
  EXPECT_EQ(order("d", "flash"), 409);
  v1::OpenSaleRequest open;
  open.set_id("flash");
  ASSERT_EQ(op_->call(&v1::Sales::Stub::Open, open)->state(), v1::OPEN_NOW);
  EXPECT_EQ(order("d", "flash"), 201);

  create.mutable_sale()->set_id("flash");
  EXPECT_TRUE(absl::IsAlreadyExists(op_->call(&v1::Sales::Stub::Create, create).status()));
  create.mutable_sale()->set_id("bad id!");
  absl::Status invalid = op_->call(&v1::Sales::Stub::Create, create).status();
  EXPECT_TRUE(absl::IsInvalidArgument(invalid));
  EXPECT_THAT(invalid.message(), HasSubstr("sale.id"));
  EXPECT_EQ(op_->listSales()->sales_size(), 2);
}

TEST_F(AdminApiTest, OrdersAreReadByIdAndListedByPages) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(order("u" + std::to_string(i)), 201);
  v1::ListOrdersRequest list;
  list.set_sale_id("drop");
  list.set_page_size(2);
  std::vector<std::string> ids;
  for (int page = 0; page < 5; ++page) {
    absl::StatusOr<v1::ListOrdersResponse> r = viewer_->call(&v1::Orders::Stub::List, list);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const v1::Order& o : r->orders()) ids.push_back(o.id());
    if (r->next_page_token().empty()) break;
    list.set_page_token(r->next_page_token());
  }
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  v1::GetOrderRequest get;
  get.set_id(ids[0]);
  absl::StatusOr<v1::Order> o = viewer_->call(&v1::Orders::Stub::Get, get);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->state(), v1::PENDING_PAYMENT);
  v1::ListOrdersRequest by_user;
  by_user.set_sale_id("drop");
  by_user.set_user_id("u3");
  EXPECT_EQ(viewer_->call(&v1::Orders::Stub::List, by_user)->orders_size(), 1);
  get.set_id("nope-1-drop");
  EXPECT_TRUE(absl::IsNotFound(viewer_->call(&v1::Orders::Stub::Get, get).status()));
  list.set_sale_id("");
  EXPECT_TRUE(absl::IsInvalidArgument(viewer_->call(&v1::Orders::Stub::List, list).status()));
}

TEST_F(AdminApiTest, EveryChangeIsAuditedWithWhoWhereAndWhat) {
  v1::SetOverrideRequest set;
  set.set_prefix("/x");
  set.set_mode(v1::DRY_RUN);
  ASSERT_TRUE(op_->call(&v1::Control::Stub::SetOverride, set).ok());
  v1::SetBreakerModeRequest b;
  b.set_name("order_store");
  b.set_mode(v1::MODE_DISABLED);
  ASSERT_TRUE(op_->call(&v1::Control::Stub::SetBreakerMode, b).ok());
  v1::ListAuditRequest q;
  absl::StatusOr<v1::ListAuditResponse> audit = viewer_->call(&v1::Audit::Stub::List, q);
  ASSERT_TRUE(audit.ok());
  ASSERT_GE(audit->entries_size(), 3);  // the seed, the override, the breaker
  EXPECT_EQ(audit->entries(0).action(), "breaker.mode");
  EXPECT_EQ(audit->entries(0).author(), "alice");
  EXPECT_THAT(audit->entries(0).peer(), HasSubstr("127.0.0.1"));
  EXPECT_EQ(audit->entries(0).detail(), "normal -> disabled");
  EXPECT_EQ(audit->entries(1).action(), "override.set");
  EXPECT_THAT(audit->entries(1).detail(), HasSubstr("+ override /x dry_run"));
  EXPECT_GT(audit->entries(1).version(), 0u);
  q.set_author("alice");
  EXPECT_EQ(viewer_->call(&v1::Audit::Stub::List, q)->entries_size(), 2);
  q.set_author("nobody");
  EXPECT_EQ(viewer_->call(&v1::Audit::Stub::List, q)->entries_size(), 0);
}

// Sums `series` in Prometheus text.
int64_t metric(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  int64_t v = 0;
  const size_t start = at + series.size() + 2;
  (void)absl::SimpleAtoi(text.substr(start, text.find('\n', start) - start), &v);
  return v;
}

TEST_F(AdminApiTest, TheStatsStreamAgreesWithMetricsDuringAnOrderStorm) {
  std::atomic<bool> stop{false};
  std::vector<v1::StatsSnapshot> got;
  absl::Mutex mu;
  client::StatsWatch watch(*viewer_, {.on_snapshot = [&](const v1::StatsSnapshot& s) {
                                         absl::MutexLock lock(&mu);
                                         got.push_back(s);
                                       },
                                       .on_state = {}});
  std::thread storm([&] {
    for (int i = 0; !stop; ++i) order("s" + std::to_string(i));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  stop = true;
  storm.join();
  // Two more seconds: the storm's last orders are counted in a completed second.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  watch.stop();
  const std::string metrics = httpGet(app_->port(), "/metrics");
  const int64_t created = metric(metrics, "seckill_order_events_total{event=\"created\"}");
  ASSERT_GT(created, 10);
  absl::MutexLock lock(&mu);
  ASSERT_GE(got.size(), 4u);
  uint64_t summed = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    summed += got[i].orders_created();
    EXPECT_EQ(got[i].node_id(), "node-a");
    if (i > 0) {
      EXPECT_EQ(got[i].seq(), got[i - 1].seq() + 1) << "one snapshot a second, no gap";
    }
  }
  EXPECT_EQ(summed, static_cast<uint64_t>(created))
      << "the per-second counts add up to /metrics' total";
  EXPECT_EQ(got.back().orders_created_total(), static_cast<uint64_t>(created));
  bool saw_p99 = false;
  for (const v1::StatsSnapshot& s : got) saw_p99 = saw_p99 || s.latency_p99_ms() > 0;
  EXPECT_TRUE(saw_p99);
  ASSERT_EQ(got.back().sales_size(), 1);
  EXPECT_EQ(got.back().sales(0).stock_left(), 100 - created);
}

// A watcher that stops reading and then goes away while the engine's write to it is held up by
// flow control: that write fails, and the stream must still finish, or the admin server's
// shutdown (which waits for every stream) never returns and the engine cannot stop.
TEST_F(AdminApiTest, AWatcherThatLeavesMidWriteDoesNotHoldUpTheEnginesStop) {
  // Four MB of history in 64 KB seconds: far more than HTTP/2 lets the engine send unread.
  for (uint64_t i = 0; i < 64; ++i) {
    StatsSample s;
    s.at = absl::Now() - absl::Seconds(100 - static_cast<int64_t>(i));
    s.seq = 1'000'000 + i;
    for (size_t r = 0; r < StatsSample::kTopRules; ++r) {
      s.rules.push_back({.id = std::string(4096, static_cast<char>('a' + r))});
    }
    app_->statsHistory().push(s);
  }
  // No BDP probing: the client's window stays at HTTP/2's 64 KB instead of growing to take it all.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  std::unique_ptr<v1::Stats::Stub> stub = v1::Stats::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", app_->adminPort()), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  viewer_->prepare(context, absl::InfiniteDuration());
  std::unique_ptr<grpc::ClientReader<v1::StatsSnapshot>> reader =
      stub->Watch(&context, v1::WatchStatsRequest());
  v1::StatsSnapshot first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.seq(), 1'000'000u);
  // Unread, the rest fills the flow-control window and the engine's next write waits on it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  context.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The engine stops (a watchdog turns a hang into a failure rather than a CI timeout).
  std::atomic<bool> stopped{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 600 && !stopped; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!stopped) {
      std::fprintf(stderr, "EngineApp::stop() still blocked after 60 s: a stream never finished\n");
      std::abort();
    }
  });
  app_->stop();
  stopped = true;
  watchdog.join();
}

TEST_F(AdminApiTest, HostileRequestsAreRefusedAndShoppersStillServed) {
  const uint64_t v = version();
  // 4 MB: refused by size before it is parsed.
  v1::ApplyRulesRequest big;
  big.set_toml(std::string(4 << 20, '#'));
  big.set_expected_version(v);
  EXPECT_TRUE(absl::IsResourceExhausted(op_->call(&v1::Rules::Stub::Apply, big).status()));
  // 100k rules: over the size limit too; 10,001 small ones: over the count limit.
  v1::ApplyRulesRequest many;
  many.set_expected_version(v);
  for (int i = 0; i < 10'001; ++i) {
    v1::Rule* r = many.mutable_set()->add_rules();
    r->set_path("/r" + std::to_string(i));
    r->set_rate(1);
  }
  absl::Status s = op_->call(&v1::Rules::Stub::Apply, many).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("set.rules: at most 10000"));
  // A deep path, a negative rate, an unknown enum value, a huge duration.
  v1::PutRuleRequest put;
  put.set_expected_version(v);
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "/x";
  *put.mutable_rule() = orderRule(5);
  put.mutable_rule()->set_path(deep);
  EXPECT_THAT(op_->call(&v1::Rules::Stub::PutRule, put).status().message(),
              HasSubstr("more than 64 segments"));
  *put.mutable_rule() = orderRule(-5);
  EXPECT_THAT(op_->call(&v1::Rules::Stub::PutRule, put).status().message(),
              HasSubstr("rate must be > 0"));
  *put.mutable_rule() = orderRule(5);
  put.mutable_rule()->set_algorithm(static_cast<v1::Algorithm>(99));
  EXPECT_THAT(op_->call(&v1::Rules::Stub::PutRule, put).status().message(),
              HasSubstr("rule.algorithm"));
  *put.mutable_rule() = orderRule(5);
  put.mutable_rule()->mutable_max_wait()->set_seconds(int64_t{1} << 60);
  EXPECT_THAT(op_->call(&v1::Rules::Stub::PutRule, put).status().message(),
              HasSubstr("rule.max_wait"));
  // Invalid UTF-8 in a string field: the message does not parse.
  v1::GetRuleRequest get;
  get.set_id(std::string("\xff\xfe", 2));
  EXPECT_FALSE(op_->call(&v1::Rules::Stub::Get, get).ok());
  EXPECT_EQ(version(), v) << "nothing half-applied";
  EXPECT_EQ(order("still-served"), 201);
}

TEST_F(AdminApiTest, RulesModesAndAuditSurviveARestart) {
  v1::PutRuleRequest put;
  *put.mutable_rule() = orderRule(50);
  put.set_expected_version(version());
  ASSERT_TRUE(op_->call(&v1::Rules::Stub::PutRule, put).ok());
  v1::SetOverrideRequest set;
  set.set_prefix("/api/v1/orders");
  set.set_mode(v1::DRY_RUN);
  ASSERT_TRUE(op_->call(&v1::Control::Stub::SetOverride, set).ok());
  v1::SetBreakerModeRequest b;
  b.set_name("order_store");
  b.set_mode(v1::MODE_METRICS_ONLY);
  ASSERT_TRUE(op_->call(&v1::Control::Stub::SetBreakerMode, b).ok());
  const uint64_t before = version();

  restart();
  absl::StatusOr<v1::ListRulesResponse> rules = op_->listRules();
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->version(), before);
  ASSERT_EQ(rules->rules_size(), 1);
  EXPECT_EQ(rules->rules(0).rule().rate(), 50);
  ASSERT_EQ(rules->set().overrides_size(), 1);
  EXPECT_EQ(app_->orderBreaker().mode(), ratelimit::CircuitBreaker::Mode::kMetricsOnly);
  v1::ListAuditRequest q;
  EXPECT_GE(op_->call(&v1::Audit::Stub::List, q)->entries_size(), 4);
}

}  // namespace
}  // namespace seckill::admin
