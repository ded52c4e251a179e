#include "tests/client/fake_engine.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace seckill::fake {
namespace {

absl::Time fromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

grpc::Status stale(grpc::ServerContext* context, uint64_t expected, uint64_t current) {
  context->AddTrailingMetadata("seckill-current-version", absl::StrCat(current));
  return grpc::Status(
      grpc::StatusCode::ABORTED,
      absl::StrCat("rule set version ", expected, " is stale: the current version is ", current));
}

}  // namespace

bool waitUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > end) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

v1::StatsSnapshot second(uint64_t seq) {
  v1::StatsSnapshot s;
  s.set_node_id("fake-node");
  s.mutable_at()->set_seconds(kEpochSeconds + static_cast<int64_t>(seq));
  s.set_seq(seq);
  s.mutable_started_at()->set_seconds(kEpochSeconds);
  s.set_requests(seq * 100);
  s.set_admitted(seq * 90);
  s.set_rejected(seq * 5);
  s.set_queued(seq * 3);
  s.set_shadow_limited(seq * 2);
  s.set_orders_created(seq);
  s.set_latency_p99_ms(1.5);
  s.set_rules_version(1);
  return s;
}

// Every service of the API, answering from the FakeEngine's state.
class FakeEngine::Services {
 public:
  explicit Services(FakeEngine& e)
      : node(e), stats(e), rules(e), control(e), sales(e), orders(e), audit(e) {}

  // What every unary method does first: count, keep the request, check the token, then fail or
  // hang as scripted. A non-OK answer ends the call.
  static grpc::Status begin(FakeEngine& e, grpc::ServerContext* context, const std::string& method,
                            const google::protobuf::Message& request, bool change) {
    bool hang = false;
    {
      absl::MutexLock lock(&e.mu_);
      ++e.calls_[method];
      std::unique_ptr<google::protobuf::Message> copy(request.New());
      copy->CopyFrom(request);
      e.last_[method] = std::move(copy);
      grpc::Status auth = admit(e, context, change);
      if (!auth.ok()) return auth;
      Failure& f = e.fail_[method];
      if (f.remaining > 0) {
        --f.remaining;
        return grpc::Status(f.code, absl::StrCat(method, " failed as scripted"));
      }
      hang = e.hang_unary_[method];
    }
    if (hang) {
      waitUntil([&] { return context->IsCancelled() || e.shuttingDown(); }, absl::Minutes(1));
      return grpc::Status(grpc::StatusCode::CANCELLED, "hung as scripted");
    }
    return grpc::Status::OK;
  }

  static grpc::Status admit(FakeEngine& e, grpc::ServerContext* context, bool change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(e.mu_) {
    if (e.operator_token_.empty() && e.viewer_token_.empty()) return grpc::Status::OK;
    const auto& md = context->client_metadata();
    auto it = md.find("authorization");
    const std::string value =
        it == md.end() ? "" : std::string(it->second.data(), it->second.size());
    if (!e.operator_token_.empty() && value == "Bearer " + e.operator_token_) {
      return grpc::Status::OK;
    }
    if (!e.viewer_token_.empty() && value == "Bearer " + e.viewer_token_) {
      if (!change) return grpc::Status::OK;
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "this token may only read (role viewer)");
    }
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing or unknown admin token (send \"authorization: Bearer <token>\")");
  }

  // A change of the rule set: expected_version must match; the version moves on by one.
  static grpc::Status change(FakeEngine& e, grpc::ServerContext* context, bool has_expected,
                             uint64_t expected, bool required, v1::ApplyRulesResponse* response) {
    absl::MutexLock lock(&e.mu_);
    if (!has_expected && required) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "expected_version is required");
    }
    if (has_expected && expected != e.rules_version_) {
      return stale(context, expected, e.rules_version_);
    }
    ++e.rules_version_;
    response->set_version(e.rules_version_);
    response->set_changed(true);
    response->mutable_change()->set_version(e.rules_version_);
    response->mutable_change()->set_author("tester");
    return grpc::Status::OK;
  }

#define SECKILL_FAKE_BEGIN(name, change) \
  if (grpc::Status s = Services::begin(e_, context, name, *request, change); !s.ok()) return s

  class Node final : public v1::Node::Service {
   public:
    explicit Node(FakeEngine& e) : e_(e) {}
    grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                           v1::NodeStatus* response) override {
      SECKILL_FAKE_BEGIN("Node.GetStatus", false);
      absl::MutexLock lock(&e_.mu_);
      *response = e_.node_status_;
      response->set_rules_version(e_.rules_version_);
      return grpc::Status::OK;
    }

   private:
    FakeEngine& e_;
  };

  class Stats final : public v1::Stats::Service {
   public:
    explicit Stats(FakeEngine& e) : e_(e) {}

    grpc::Status Watch(grpc::ServerContext* context, const v1::WatchStatsRequest* request,
                       grpc::ServerWriter<v1::StatsSnapshot>* writer) override {
      SECKILL_FAKE_BEGIN("Stats.Watch", false);
      const absl::Time since =
          request->has_since() ? fromProto(request->since()) : absl::InfinitePast();
      std::vector<v1::StatsSnapshot> history;
      uint64_t generation = 0;
      size_t cursor = 0;
      bool hang = false;
      {
        absl::MutexLock lock(&e_.mu_);
        e_.watch_requests_.push_back(*request);
        if (e_.refuse_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "refused as scripted");
        ++e_.open_streams_;
        generation = e_.generation_;
        hang = e_.hang_;
        if (!request->no_history()) {
          for (const v1::StatsSnapshot& s : e_.seconds_) {
            if (e_.ignore_since_ || fromProto(s.at()) > since) {
              history.push_back(s);
              history.back().set_history(true);
            }
          }
        }
        cursor = e_.seconds_.size();
      }
      grpc::Status result =
          serve(context, writer, hang ? std::vector<v1::StatsSnapshot>() : history, generation,
                cursor, hang);
      absl::MutexLock lock(&e_.mu_);
      --e_.open_streams_;
      return result;
    }

    grpc::Status Get(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                     v1::StatsSnapshot* response) override {
      SECKILL_FAKE_BEGIN("Stats.Get", false);
      absl::MutexLock lock(&e_.mu_);
      if (e_.seconds_.empty()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no second yet");
      *response = e_.seconds_.back();
      return grpc::Status::OK;
    }

   private:
    grpc::Status serve(grpc::ServerContext* context, grpc::ServerWriter<v1::StatsSnapshot>* writer,
                       const std::vector<v1::StatsSnapshot>& history, uint64_t generation,
                       size_t cursor, bool hang) {
      for (const v1::StatsSnapshot& s : history) {
        if (!writer->Write(s)) return grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      }
      for (;;) {
        v1::StatsSnapshot next;
        {
          absl::MutexLock lock(&e_.mu_);
          auto ready = [&] {
            return e_.generation_ != generation || e_.shutting_down_ ||
                   (!hang && cursor < e_.seconds_.size());
          };
          // Short waits: the sync API has no wake-up for a cancelled call.
          e_.mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(2));
          if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
          if (e_.generation_ != generation) {
            return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream dropped as scripted");
          }
          if (e_.shutting_down_)
            return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
          if (hang || cursor >= e_.seconds_.size()) continue;
          next = e_.seconds_[cursor++];
        }
        if (!writer->Write(next)) return grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      }
    }

    FakeEngine& e_;
  };

  class Rules final : public v1::Rules::Service {
   public:
    explicit Rules(FakeEngine& e) : e_(e) {}
    grpc::Status List(grpc::ServerContext* context, const v1::ListRulesRequest* request,
                      v1::ListRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.List", false);
      absl::MutexLock lock(&e_.mu_);
      *response = e_.rule_list_;
      response->set_version(e_.rules_version_);
      return grpc::Status::OK;
    }
    grpc::Status Get(grpc::ServerContext* context, const v1::GetRuleRequest* request,
                     v1::GetRuleResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.Get", false);
      absl::MutexLock lock(&e_.mu_);
      response->set_version(e_.rules_version_);
      for (const v1::RuleView& view : e_.rule_list_.rules()) {
        const v1::Rule& r = view.rule();
        const bool hit = !request->id().empty()
                             ? r.id() == request->id()
                             : r.path() == request->path() &&
                                   (request->method().empty() || r.method() == request->method());
        if (hit) *response->add_rules() = view;
      }
      if (response->rules().empty()) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "no rule matches");
      }
      return grpc::Status::OK;
    }
    grpc::Status Validate(grpc::ServerContext* context, const v1::ValidateRulesRequest* request,
                          v1::ValidateRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.Validate", false);
      if (request->toml().find("rate = 0") != std::string::npos) {
        response->set_valid(false);
        v1::ValidationError* err = response->add_errors();
        err->set_rule_index(0);
        err->set_field("rate");
        err->set_line(3);
        err->set_message("rule 0 (/api): rate must be at least 1");
        return grpc::Status::OK;
      }
      response->set_valid(true);
      response->mutable_set()->add_rules()->set_path("/api");
      return grpc::Status::OK;
    }
    grpc::Status Apply(grpc::ServerContext* context, const v1::ApplyRulesRequest* request,
                       v1::ApplyRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.Apply", true);
      return change(e_, context, request->has_expected_version(), request->expected_version(), true,
                    response);
    }
    grpc::Status PutRule(grpc::ServerContext* context, const v1::PutRuleRequest* request,
                         v1::ApplyRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.PutRule", true);
      return change(e_, context, request->has_expected_version(), request->expected_version(), true,
                    response);
    }
    grpc::Status DeleteRule(grpc::ServerContext* context, const v1::DeleteRuleRequest* request,
                            v1::ApplyRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.DeleteRule", true);
      return change(e_, context, request->has_expected_version(), request->expected_version(), true,
                    response);
    }
    grpc::Status ListVersions(grpc::ServerContext* context, const v1::ListVersionsRequest* request,
                              v1::ListVersionsResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.ListVersions", false);
      absl::MutexLock lock(&e_.mu_);
      response->set_current(e_.rules_version_);
      for (const v1::Change& c : e_.versions_) *response->add_versions() = c;
      return grpc::Status::OK;
    }
    grpc::Status Diff(grpc::ServerContext* context, const v1::DiffRulesRequest* request,
                      v1::DiffRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.Diff", false);
      response->set_from_version(request->from_version());
      response->set_to_version(request->to_version());
      response->set_text("~ rule r1: rate 5 -> 10\n+ rule r2\n");
      return grpc::Status::OK;
    }
    grpc::Status Rollback(grpc::ServerContext* context, const v1::RollbackRulesRequest* request,
                          v1::ApplyRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.Rollback", true);
      return change(e_, context, request->has_expected_version(), request->expected_version(), true,
                    response);
    }
    grpc::Status Export(grpc::ServerContext* context, const v1::ExportRulesRequest* request,
                        v1::ExportRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Rules.Export", false);
      absl::MutexLock lock(&e_.mu_);
      response->set_version(request->version() == 0 ? e_.rules_version_ : request->version());
      response->set_toml("[[rule]]\npath = \"/api\"\nrate = 5\n");
      return grpc::Status::OK;
    }

   private:
    FakeEngine& e_;
  };

  class Control final : public v1::Control::Service {
   public:
    explicit Control(FakeEngine& e) : e_(e) {}
    grpc::Status ListOverrides(grpc::ServerContext* context,
                               const v1::ListOverridesRequest* request,
                               v1::ListOverridesResponse* response) override {
      SECKILL_FAKE_BEGIN("Control.ListOverrides", false);
      absl::MutexLock lock(&e_.mu_);
      response->set_version(e_.rules_version_);
      for (const v1::Override& o : e_.overrides_) *response->add_overrides() = o;
      return grpc::Status::OK;
    }
    grpc::Status SetOverride(grpc::ServerContext* context, const v1::SetOverrideRequest* request,
                             v1::ApplyRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Control.SetOverride", true);
      return change(e_, context, request->has_expected_version(), request->expected_version(),
                    false, response);
    }
    grpc::Status ClearOverride(grpc::ServerContext* context,
                               const v1::ClearOverrideRequest* request,
                               v1::ApplyRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Control.ClearOverride", true);
      return change(e_, context, request->has_expected_version(), request->expected_version(),
                    false, response);
    }
    grpc::Status SetRuleMode(grpc::ServerContext* context, const v1::SetRuleModeRequest* request,
                             v1::ApplyRulesResponse* response) override {
      SECKILL_FAKE_BEGIN("Control.SetRuleMode", true);
      return change(e_, context, request->has_expected_version(), request->expected_version(),
                    false, response);
    }
    grpc::Status ListBreakers(grpc::ServerContext* context, const v1::ListBreakersRequest* request,
                              v1::ListBreakersResponse* response) override {
      SECKILL_FAKE_BEGIN("Control.ListBreakers", false);
      absl::MutexLock lock(&e_.mu_);
      for (const v1::Breaker& b : e_.breakers_) *response->add_breakers() = b;
      return grpc::Status::OK;
    }
    grpc::Status SetBreakerMode(grpc::ServerContext* context,
                                const v1::SetBreakerModeRequest* request,
                                v1::Breaker* response) override {
      SECKILL_FAKE_BEGIN("Control.SetBreakerMode", true);
      response->set_name(request->name());
      response->set_mode(request->mode());
      response->set_state(request->mode() == v1::MODE_FORCED_OPEN ? v1::FORCED_OPEN : v1::CLOSED);
      response->set_machine_state(v1::CLOSED);
      return grpc::Status::OK;
    }

   private:
    FakeEngine& e_;
  };

  class Sales final : public v1::Sales::Service {
   public:
    explicit Sales(FakeEngine& e) : e_(e) {}
    grpc::Status List(grpc::ServerContext* context, const v1::ListSalesRequest* request,
                      v1::ListSalesResponse* response) override {
      SECKILL_FAKE_BEGIN("Sales.List", false);
      absl::MutexLock lock(&e_.mu_);
      for (const v1::Sale& s : e_.sales_) *response->add_sales() = s;
      return grpc::Status::OK;
    }
    grpc::Status Get(grpc::ServerContext* context, const v1::GetSaleRequest* request,
                     v1::Sale* response) override {
      SECKILL_FAKE_BEGIN("Sales.Get", false);
      return find(request->id(), response);
    }
    grpc::Status Create(grpc::ServerContext* context, const v1::CreateSaleRequest* request,
                        v1::Sale* response) override {
      SECKILL_FAKE_BEGIN("Sales.Create", true);
      *response = request->sale();
      response->set_stock_left(request->sale().stock_total());
      response->set_state(v1::OPEN_NOW);
      return grpc::Status::OK;
    }
    grpc::Status AdjustStock(grpc::ServerContext* context, const v1::AdjustStockRequest* request,
                             v1::Sale* response) override {
      SECKILL_FAKE_BEGIN("Sales.AdjustStock", true);
      return find(request->id(), response);
    }
    grpc::Status Open(grpc::ServerContext* context, const v1::OpenSaleRequest* request,
                      v1::Sale* response) override {
      SECKILL_FAKE_BEGIN("Sales.Open", true);
      return find(request->id(), response);
    }
    grpc::Status Close(grpc::ServerContext* context, const v1::CloseSaleRequest* request,
                       v1::Sale* response) override {
      SECKILL_FAKE_BEGIN("Sales.Close", true);
      return find(request->id(), response);
    }

   private:
    grpc::Status find(const std::string& id, v1::Sale* response) {
      absl::MutexLock lock(&e_.mu_);
      for (const v1::Sale& s : e_.sales_) {
        if (s.id() == id) {
          *response = s;
          return grpc::Status::OK;
        }
      }
      return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no sale \"", id, "\""));
    }
    FakeEngine& e_;
  };

  class Orders final : public v1::Orders::Service {
   public:
    explicit Orders(FakeEngine& e) : e_(e) {}
    grpc::Status Get(grpc::ServerContext* context, const v1::GetOrderRequest* request,
                     v1::Order* response) override {
      SECKILL_FAKE_BEGIN("Orders.Get", false);
      absl::MutexLock lock(&e_.mu_);
      for (const v1::Order& o : e_.orders_) {
        if (o.id() == request->id()) {
          *response = o;
          return grpc::Status::OK;
        }
      }
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such order");
    }
    grpc::Status List(grpc::ServerContext* context, const v1::ListOrdersRequest* request,
                      v1::ListOrdersResponse* response) override {
      SECKILL_FAKE_BEGIN("Orders.List", false);
      absl::MutexLock lock(&e_.mu_);
      size_t from = 0;
      if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &from)) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_token");
      }
      const size_t size =
          request->page_size() > 0 ? static_cast<size_t>(request->page_size()) : 100;
      size_t i = from;
      for (; i < e_.orders_.size() && response->orders_size() < static_cast<int>(size); ++i) {
        if (e_.orders_[i].sale_id() != request->sale_id()) continue;
        if (!request->user_id().empty() && e_.orders_[i].user_id() != request->user_id()) continue;
        *response->add_orders() = e_.orders_[i];
      }
      if (i < e_.orders_.size()) response->set_next_page_token(absl::StrCat(i));
      return grpc::Status::OK;
    }

   private:
    FakeEngine& e_;
  };

  class Audit final : public v1::Audit::Service {
   public:
    explicit Audit(FakeEngine& e) : e_(e) {}
    grpc::Status List(grpc::ServerContext* context, const v1::ListAuditRequest* request,
                      v1::ListAuditResponse* response) override {
      SECKILL_FAKE_BEGIN("Audit.List", false);
      absl::MutexLock lock(&e_.mu_);
      size_t from = 0;
      if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &from)) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_token");
      }
      const size_t size =
          request->page_size() > 0 ? static_cast<size_t>(request->page_size()) : 100;
      size_t i = from;
      for (; i < e_.audit_.size() && response->entries_size() < static_cast<int>(size); ++i) {
        *response->add_entries() = e_.audit_[i];
      }
      if (i < e_.audit_.size()) response->set_next_page_token(absl::StrCat(i));
      return grpc::Status::OK;
    }

   private:
    FakeEngine& e_;
  };

#undef SECKILL_FAKE_BEGIN

  Node node;
  Stats stats;
  Rules rules;
  Control control;
  Sales sales;
  Orders orders;
  Audit audit;
};

FakeEngine::FakeEngine() { start("127.0.0.1:0"); }

FakeEngine::~FakeEngine() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  server_->Wait();
}

void FakeEngine::start(const std::string& address) {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = false;
  }
  services_ = std::make_unique<Services>(*this);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&services_->node);
  builder.RegisterService(&services_->stats);
  builder.RegisterService(&services_->rules);
  builder.RegisterService(&services_->control);
  builder.RegisterService(&services_->sales);
  builder.RegisterService(&services_->orders);
  builder.RegisterService(&services_->audit);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    std::fprintf(stderr, "fake engine: cannot listen on %s\n", address.c_str());
    std::abort();
  }
  port_ = port;
}

void FakeEngine::restart() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  server_->Wait();
  server_.reset();
  services_.reset();
  start(target());
}

std::string FakeEngine::target() const { return absl::StrCat("127.0.0.1:", port_); }

bool FakeEngine::shuttingDown() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

void FakeEngine::setTokens(std::string operator_token, std::string viewer_token) {
  absl::MutexLock lock(&mu_);
  operator_token_ = std::move(operator_token);
  viewer_token_ = std::move(viewer_token);
}

void FakeEngine::publish(uint64_t seq) { publish(second(seq)); }

void FakeEngine::publish(const v1::StatsSnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  seconds_.push_back(snapshot);
}

void FakeEngine::dropStreams() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

void FakeEngine::setHang(bool hang) {
  absl::MutexLock lock(&mu_);
  hang_ = hang;
}

void FakeEngine::setRefuse(bool refuse) {
  absl::MutexLock lock(&mu_);
  refuse_ = refuse;
}

void FakeEngine::setIgnoreSince(bool ignore) {
  absl::MutexLock lock(&mu_);
  ignore_since_ = ignore;
}

int FakeEngine::watchCalls() const { return calls("Stats.Watch"); }

int FakeEngine::openStreams() const {
  absl::MutexLock lock(&mu_);
  return open_streams_;
}

std::vector<v1::WatchStatsRequest> FakeEngine::watchRequests() const {
  absl::MutexLock lock(&mu_);
  return watch_requests_;
}

uint64_t FakeEngine::rulesVersion() const {
  absl::MutexLock lock(&mu_);
  return rules_version_;
}

void FakeEngine::setRulesVersion(uint64_t v) {
  absl::MutexLock lock(&mu_);
  rules_version_ = v;
}

void FakeEngine::setNodeStatus(v1::NodeStatus status) {
  absl::MutexLock lock(&mu_);
  node_status_ = std::move(status);
}

void FakeEngine::setRuleList(v1::ListRulesResponse list) {
  absl::MutexLock lock(&mu_);
  rule_list_ = std::move(list);
}

void FakeEngine::setSales(std::vector<v1::Sale> sales) {
  absl::MutexLock lock(&mu_);
  sales_ = std::move(sales);
}

void FakeEngine::setOrders(std::vector<v1::Order> orders) {
  absl::MutexLock lock(&mu_);
  orders_ = std::move(orders);
}

void FakeEngine::setAudit(std::vector<v1::AuditEntry> entries) {
  absl::MutexLock lock(&mu_);
  audit_ = std::move(entries);
}

void FakeEngine::setBreakers(std::vector<v1::Breaker> breakers) {
  absl::MutexLock lock(&mu_);
  breakers_ = std::move(breakers);
}

void FakeEngine::setVersions(std::vector<v1::Change> versions) {
  absl::MutexLock lock(&mu_);
  versions_ = std::move(versions);
}

void FakeEngine::setOverrides(std::vector<v1::Override> overrides) {
  absl::MutexLock lock(&mu_);
  overrides_ = std::move(overrides);
}

void FakeEngine::failNext(const std::string& method, int n, grpc::StatusCode code) {
  absl::MutexLock lock(&mu_);
  fail_[method] = Failure{n, code};
}

void FakeEngine::setHangUnary(const std::string& method, bool hang) {
  absl::MutexLock lock(&mu_);
  hang_unary_[method] = hang;
}

int FakeEngine::calls(const std::string& method) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

}  // namespace seckill::fake
