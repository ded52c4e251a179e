#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "seckill/admin/v1/admin.grpc.pb.h"

// An in-process stand-in for the engine's admin API: a real grpc::Server on 127.0.0.1 (an
// ephemeral port) serving every seckill.admin.v1 service from scripted state, so the client
// library and seckillctl are tested over real gRPC without an engine. Thread-safe.
namespace seckill::fake {

namespace v1 = ::seckill::admin::v1;

// Waits until `done()` holds, re-checking every millisecond, for at most `timeout`. For tests
// that wait on another thread; returns the last value of done().
bool waitUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10));

// The snapshot of second `seq` of node "fake-node": at = kEpoch + seq seconds, counts derived
// from seq so each is recognisable.
inline constexpr int64_t kEpochSeconds = 1'700'000'000;
v1::StatsSnapshot second(uint64_t seq);

class FakeEngine {
 public:
  FakeEngine();  // serving at once
  ~FakeEngine();
  FakeEngine(const FakeEngine&) = delete;
  FakeEngine& operator=(const FakeEngine&) = delete;

  std::string target() const;  // "127.0.0.1:<port>"
  // Shuts the server down (open streams end UNAVAILABLE) and serves again on the same port,
  // with the same state (the history survives).
  void restart();

  // ---- auth: unless empty, every call must carry "authorization: Bearer <token>" of one of
  // these (UNAUTHENTICATED otherwise); a viewer token gets PERMISSION_DENIED for changes.
  void setTokens(std::string operator_token, std::string viewer_token = "");

  // ---- Stats.Watch
  // Appends second `seq` (see second()) to the history; open streams send it live.
  void publish(uint64_t seq);
  void publish(const v1::StatsSnapshot& snapshot);
  // Ends every open stream with UNAVAILABLE.
  void dropStreams();
  // New streams send nothing and wait to be cancelled (until setHang(false)).
  void setHang(bool hang);
  // New streams fail UNAVAILABLE at once.
  void setRefuse(bool refuse);
  // Replay the whole history on every connect, whatever `since` asks (a careless engine).
  void setIgnoreSince(bool ignore);
  int watchCalls() const;  // every Stats.Watch call, refused ones included
  int openStreams() const;
  std::vector<v1::WatchStatsRequest> watchRequests() const;  // of the calls the token admitted

  // ---- unary services
  // Every unary method answers from this state; the last request of each method is kept under
  // its name ("Rules.Apply").
  uint64_t rulesVersion() const;
  void setRulesVersion(uint64_t v);
  void setNodeStatus(v1::NodeStatus status);
  void setRuleList(v1::ListRulesResponse list);  // version is rulesVersion()
  void setSales(std::vector<v1::Sale> sales);
  void setOrders(std::vector<v1::Order> orders);  // Orders.List pages through them by index
  void setAudit(std::vector<v1::AuditEntry> entries);
  void setBreakers(std::vector<v1::Breaker> breakers);
  void setVersions(std::vector<v1::Change> versions);
  void setOverrides(std::vector<v1::Override> overrides);
  // The next `n` calls of `method` fail with `code` (e.g. UNAVAILABLE) before doing anything.
  void failNext(const std::string& method, int n, grpc::StatusCode code);
  // Calls of `method` wait until cancelled (deadline tests).
  void setHangUnary(const std::string& method, bool hang);
  int calls(const std::string& method) const;
  // The last request of `method`; false if none came.
  template <class Req>
  bool lastRequest(const std::string& method, Req* out) const {
    absl::MutexLock lock(&mu_);
    auto it = last_.find(method);
    if (it == last_.end()) return false;
    out->CopyFrom(*it->second);
    return true;
  }

  class Services;  // the gRPC services; public for the implementation file only

 private:
  void start(const std::string& address);
  bool shuttingDown() const;

  mutable absl::Mutex mu_;
  // Stats
  std::vector<v1::StatsSnapshot> seconds_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool hang_ ABSL_GUARDED_BY(mu_) = false;
  bool refuse_ ABSL_GUARDED_BY(mu_) = false;
  bool ignore_since_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  int open_streams_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::WatchStatsRequest> watch_requests_ ABSL_GUARDED_BY(mu_);
  // auth
  std::string operator_token_ ABSL_GUARDED_BY(mu_);
  std::string viewer_token_ ABSL_GUARDED_BY(mu_);
  // unary
  uint64_t rules_version_ ABSL_GUARDED_BY(mu_) = 1;
  v1::NodeStatus node_status_ ABSL_GUARDED_BY(mu_);
  v1::ListRulesResponse rule_list_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Sale> sales_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Order> orders_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::AuditEntry> audit_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Breaker> breakers_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Change> versions_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Override> overrides_ ABSL_GUARDED_BY(mu_);
  struct Failure {
    int remaining = 0;
    grpc::StatusCode code = grpc::StatusCode::OK;
  };
  std::map<std::string, Failure> fail_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool> hang_unary_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<google::protobuf::Message>> last_ ABSL_GUARDED_BY(mu_);

  int port_ = 0;
  std::unique_ptr<Services> services_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace seckill::fake
