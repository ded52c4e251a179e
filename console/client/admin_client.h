#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "seckill/admin/v1/admin.grpc.pb.h"

// The admin client library: the one client of the engine's admin API, shared by seckillctl and
// the console's core. No Qt. Errors are absl::Status with the gRPC code and the engine's
// message (a stale rule-set version also carries the current one: currentVersion()).
namespace seckill::client {

namespace v1 = ::seckill::admin::v1;

struct ConnectOptions {
  std::string target = "127.0.0.1:9090";  // HOST:PORT of the engine's [admin] listen
  std::string token;                      // sent as "authorization: Bearer <token>"
  bool tls = false;
  std::string tls_ca_file;      // PEM roots to trust (empty: the system's)
  std::string tls_cert_file;    // client certificate, for mutual TLS
  std::string tls_key_file;
  std::string tls_server_name;  // the name the server's certificate must carry (default: host)
  absl::Duration deadline = absl::Seconds(10);  // each unary call
};

// The token of a token file: the first word of its first line that is not empty or a comment
// ("<token> [role name]" as the engine's tokens file has it, or the token alone).
absl::StatusOr<std::string> readTokenFile(const std::string& path);

// The engine's current rule-set version carried by an ABORTED (stale version) error.
std::optional<uint64_t> currentVersion(const absl::Status& status);

// A gRPC status as an absl::Status (same code, the engine's message), with the trailing
// metadata's current version as payload for ABORTED.
absl::Status fromGrpc(const grpc::Status& status, const grpc::ClientContext& context);

// One engine. Thread-safe: calls may run from several threads at once; each blocks its caller
// until the engine answers or the deadline passes (never call it from a UI thread).
class AdminClient {
 public:
  static absl::StatusOr<std::unique_ptr<AdminClient>> create(ConnectOptions options);
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  const ConnectOptions& options() const { return options_; }

  // Any unary method of the API, with the token, the deadline and typed errors:
  //   client.call(&v1::Rules::Stub::List, v1::ListRulesRequest())
  template <class Stub, class Req, class Resp>
  absl::StatusOr<Resp> call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request) {
    grpc::ClientContext context;
    prepare(context, options_.deadline);
    Resp response;
    grpc::Status s = (stub<Stub>().*method)(&context, request, &response);
    if (!s.ok()) return fromGrpc(s, context);
    return response;
  }

  // A unary call that only reads: as call(), but retried once, at once, when the engine is
  // UNAVAILABLE (a dropped connection is re-established by the second attempt). Never use it
  // for a change: a change may have been applied before the answer was lost.
  template <class Stub, class Req, class Resp>
  absl::StatusOr<Resp> read(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request) {
    absl::StatusOr<Resp> r = call(method, request);
    if (r.status().code() == absl::StatusCode::kUnavailable) r = call(method, request);
    return r;
  }

  // The calls used most, by name (reads: retried once on UNAVAILABLE).
  absl::StatusOr<v1::NodeStatus> status();
  absl::StatusOr<v1::ListRulesResponse> listRules();
  absl::StatusOr<v1::ListSalesResponse> listSales();
  absl::StatusOr<v1::ListBreakersResponse> listBreakers();

  // Sets the token and deadline on a context (for streams made by hand).
  void prepare(grpc::ClientContext& context, absl::Duration deadline) const;
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  template <class Stub>
  Stub& stub();

 private:
  AdminClient(ConnectOptions options, std::shared_ptr<grpc::Channel> channel);

  const ConnectOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Node::Stub> node_;
  std::unique_ptr<v1::Stats::Stub> stats_;
  std::unique_ptr<v1::Rules::Stub> rules_;
  std::unique_ptr<v1::Control::Stub> control_;
  std::unique_ptr<v1::Sales::Stub> sales_;
  std::unique_ptr<v1::Orders::Stub> orders_;
  std::unique_ptr<v1::Audit::Stub> audit_;
};

template <> inline v1::Node::Stub& AdminClient::stub<v1::Node::Stub>() { return *node_; }
template <> inline v1::Stats::Stub& AdminClient::stub<v1::Stats::Stub>() { return *stats_; }
template <> inline v1::Rules::Stub& AdminClient::stub<v1::Rules::Stub>() { return *rules_; }
template <> inline v1::Control::Stub& AdminClient::stub<v1::Control::Stub>() { return *control_; }
template <> inline v1::Sales::Stub& AdminClient::stub<v1::Sales::Stub>() { return *sales_; }
template <> inline v1::Orders::Stub& AdminClient::stub<v1::Orders::Stub>() { return *orders_; }
template <> inline v1::Audit::Stub& AdminClient::stub<v1::Audit::Stub>() { return *audit_; }

// Follows an engine's Stats.Watch stream on a thread of its own: the history first, then one
// snapshot a second. A broken stream is reopened with exponential back-off (backoff_min doubling
// to backoff_max), asking only for the seconds after the last one delivered, so the receiver
// sees every second once, in order, without gaps the engine still holds. UNAUTHENTICATED and
// PERMISSION_DENIED are not retried.
class StatsWatch {
 public:
  enum class State {
    kConnecting,
    kStreaming,
    kRetrying,  // the stream broke; the next attempt is scheduled
    kStopped,   // stop(), or an error that retrying cannot mend (a rejected token)
  };
  struct Options {
    bool history = true;  // ask for the engine's history on the first connect
    absl::Duration backoff_min = absl::Milliseconds(200);
    absl::Duration backoff_max = absl::Seconds(5);
    // A stream with no snapshot for this long is deemed dead (a stopped engine keeps the TCP
    // connection open) and reopened.
    absl::Duration stall_timeout = absl::Seconds(5);
    // With history: only the seconds that end after this instant (InfinitePast: all it holds).
    absl::Time since = absl::InfinitePast();
  };
  struct Callbacks {
    // Each second, in order. Called on the watch's thread.
    std::function<void(const v1::StatsSnapshot&)> on_snapshot;
    // Every change of State, with the reason for kRetrying and kStopped.
    std::function<void(State, const absl::Status&)> on_state;
  };

  // Starts at once. `client` must outlive the watch.
  StatsWatch(AdminClient& client, Callbacks callbacks, Options options);
  StatsWatch(AdminClient& client, Callbacks callbacks) : StatsWatch(client, std::move(callbacks), Options()) {}
  ~StatsWatch();  // stop()
  StatsWatch(const StatsWatch&) = delete;
  StatsWatch& operator=(const StatsWatch&) = delete;

  // Ends the stream and joins the thread. Idempotent; not from a callback.
  void stop();

  // The end of the last second delivered (InfinitePast before the first).
  absl::Time lastDelivered() const;

 private:
  struct Stream;  // what one open stream reports to the watch's thread

  void run();
  // Delivers the stream's snapshots until it ends, stalls (then cancels it) or stop() is called;
  // returns why it ended. `*received`: a snapshot came.
  absl::Status follow(grpc::ClientContext& context, Stream& stream, bool* received);
  // The resume point: the end of the last second delivered, or options_.since before that.
  absl::Time resumeAfter() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void setState(State s, const absl::Status& why);

  AdminClient& client_;
  const Callbacks callbacks_;
  const Options options_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* live_ ABSL_GUARDED_BY(mu_) = nullptr;  // the open stream, to cancel
  absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace seckill::client
