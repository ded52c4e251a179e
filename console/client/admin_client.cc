#include "console/client/admin_client.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace seckill::client {
namespace {

// The same key as the engine's control::kCurrentVersionPayload (not included: the client
// depends on the proto library only).
constexpr char kCurrentVersionPayload[] = "seckill.current_version";
// The trailing metadata of an ABORTED answer that names the current rule-set version.
constexpr char kCurrentVersionMetadata[] = "seckill-current-version";

absl::StatusOr<std::string> readFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string message = absl::StrCat("cannot read ", what, " ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::FailedPreconditionError(message);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", what, " ", path));
  return text.str();
}

// A token goes into an HTTP/2 header: visible ASCII only.
bool validToken(const std::string& token) {
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

google::protobuf::Timestamp toProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);  // floors
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return ts;
}

absl::Time fromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace

absl::StatusOr<std::string> readTokenFile(const std::string& path) {
  absl::StatusOr<std::string> text = readFile(path, "token file");
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    std::string token(words.front());
    if (!validToken(token)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "token file ", path, ": the token holds a character that is not visible ASCII"));
    }
    return token;
  }
  return absl::InvalidArgumentError(absl::StrCat("token file ", path, " holds no token"));
}

std::optional<uint64_t> currentVersion(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kCurrentVersionPayload);
  uint64_t v = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &v)) return std::nullopt;
  return v;
}

absl::Status fromGrpc(const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.ok()) return absl::OkStatus();
  absl::Status s(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (status.error_code() == grpc::StatusCode::ABORTED) {
    const auto& trailers = context.GetServerTrailingMetadata();
    auto it = trailers.find(kCurrentVersionMetadata);
    uint64_t v = 0;
    if (it != trailers.end() &&
        absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &v)) {
      s.SetPayload(kCurrentVersionPayload, absl::Cord(absl::StrCat(v)));
    }
  }
  return s;
}

// ---------------------------------------------------------------- AdminClient

absl::StatusOr<std::unique_ptr<AdminClient>> AdminClient::create(ConnectOptions options) {
  if (options.target.empty()) return absl::InvalidArgumentError("no engine address (HOST:PORT)");
  if (!validToken(options.token)) {
    return absl::InvalidArgumentError("the token holds a character that is not visible ASCII");
  }
  if (options.deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the deadline must be positive");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  grpc::ChannelArguments args;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate needs its key and a key its certificate (--tls-cert with "
          "--tls-key)");
    }
    if (!options.tls_ca_file.empty()) {
      absl::StatusOr<std::string> ca = readFile(options.tls_ca_file, "TLS CA file");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!options.tls_cert_file.empty()) {
      absl::StatusOr<std::string> cert = readFile(options.tls_cert_file, "TLS certificate file");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = readFile(options.tls_key_file, "TLS key file");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      args.SetString(GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, options.tls_server_name);
    }
  } else {
    if (!options.tls_ca_file.empty() || !options.tls_cert_file.empty() ||
        !options.tls_key_file.empty() || !options.tls_server_name.empty()) {
      return absl::InvalidArgumentError("TLS files or a server name given without TLS");
    }
    credentials = grpc::InsecureChannelCredentials();
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options.target, credentials, args);
  if (channel == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot make a channel to ", options.target));
  }
  return std::unique_ptr<AdminClient>(new AdminClient(std::move(options), std::move(channel)));
}

AdminClient::AdminClient(ConnectOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      node_(v1::Node::NewStub(channel_)),
      stats_(v1::Stats::NewStub(channel_)),
      rules_(v1::Rules::NewStub(channel_)),
      control_(v1::Control::NewStub(channel_)),
      sales_(v1::Sales::NewStub(channel_)),
      orders_(v1::Orders::NewStub(channel_)),
      audit_(v1::Audit::NewStub(channel_)) {}

void AdminClient::prepare(grpc::ClientContext& context, absl::Duration deadline) const {
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
  if (deadline != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }
}

absl::StatusOr<v1::NodeStatus> AdminClient::status() {
  return read(&v1::Node::Stub::GetStatus, v1::GetStatusRequest());
}

absl::StatusOr<v1::ListRulesResponse> AdminClient::listRules() {
  return read(&v1::Rules::Stub::List, v1::ListRulesRequest());
}

absl::StatusOr<v1::ListSalesResponse> AdminClient::listSales() {
  return read(&v1::Sales::Stub::List, v1::ListSalesRequest());
}

absl::StatusOr<v1::ListBreakersResponse> AdminClient::listBreakers() {
  return read(&v1::Control::Stub::ListBreakers, v1::ListBreakersRequest());
}

// ---------------------------------------------------------------- StatsWatch

// Filled by the stream's reactor on gRPC's threads, drained by the watch's thread. Shared, so
// that neither side's lifetime depends on the other's.
struct StatsWatch::Stream {
  absl::Mutex mu;
  std::deque<v1::StatsSnapshot> received ABSL_GUARDED_BY(mu);
  bool done ABSL_GUARDED_BY(mu) = false;
  grpc::Status status ABSL_GUARDED_BY(mu);

  bool ready() const ABSL_SHARED_LOCKS_REQUIRED(mu) { return done || !received.empty(); }
};

namespace {

// One Stats.Watch call with the callback API (a template only because Stream is private to
// StatsWatch). Deletes itself when the call is done; the ClientContext, owned by the watch's
// thread, must live until Stream::done.
template <class Stream>
class WatchCall final : public grpc::ClientReadReactor<v1::StatsSnapshot> {
 public:
  WatchCall(v1::Stats::Stub& stub, grpc::ClientContext* context, v1::WatchStatsRequest request,
            std::shared_ptr<Stream> stream)
      : request_(std::move(request)), stream_(std::move(stream)) {
    stub.async()->Watch(context, &request_, this);
    StartRead(&incoming_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the call is over: OnDone follows
    {
      absl::MutexLock lock(&stream_->mu);
      stream_->received.push_back(std::move(incoming_));
    }
    incoming_.Clear();
    StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    {
      absl::MutexLock lock(&stream_->mu);
      stream_->done = true;
      stream_->status = status;
    }
    delete this;
  }

 private:
  const v1::WatchStatsRequest request_;
  v1::StatsSnapshot incoming_;
  const std::shared_ptr<Stream> stream_;
};

}  // namespace

StatsWatch::StatsWatch(AdminClient& client, Callbacks callbacks, Options options)
    : client_(client), callbacks_(std::move(callbacks)), options_(options) {
  thread_ = std::thread([this] { run(); });
}

StatsWatch::~StatsWatch() { stop(); }

void StatsWatch::stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (live_ != nullptr) live_->TryCancel();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

absl::Time StatsWatch::lastDelivered() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

absl::Time StatsWatch::resumeAfter() const { return std::max(last_, options_.since); }

void StatsWatch::setState(State s, const absl::Status& why) {
  if (callbacks_.on_state) callbacks_.on_state(s, why);
}

void StatsWatch::run() {
  absl::Duration backoff = options_.backoff_min;
  for (;;) {
    grpc::ClientContext context;
    client_.prepare(context, absl::InfiniteDuration());
    v1::WatchStatsRequest request;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      const absl::Time after = resumeAfter();
      if (after != absl::InfinitePast()) {
        *request.mutable_since() = toProto(after);
      } else if (!options_.history) {
        request.set_no_history(true);
      }
      live_ = &context;
    }
    setState(State::kConnecting, absl::OkStatus());
    auto stream = std::make_shared<Stream>();
    new WatchCall<Stream>(client_.stub<v1::Stats::Stub>(), &context, std::move(request), stream);
    bool received = false;
    const absl::Status why = follow(context, *stream, &received);
    {
      absl::MutexLock lock(&mu_);
      live_ = nullptr;
      if (stopping_) break;
    }
    if (why.code() == absl::StatusCode::kUnauthenticated ||
        why.code() == absl::StatusCode::kPermissionDenied) {
      setState(State::kStopped, why);
      return;
    }
    if (received) backoff = options_.backoff_min;
    setState(State::kRetrying, why);
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
      if (stopping_) break;
    }
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
  setState(State::kStopped, absl::OkStatus());
}

absl::Status StatsWatch::follow(grpc::ClientContext& context, Stream& stream, bool* received) {
  absl::Time stall_at = absl::Now() + options_.stall_timeout;
  bool streaming = false;
  for (;;) {
    std::deque<v1::StatsSnapshot> batch;
    bool done = false;
    grpc::Status status;
    stream.mu.LockWhenWithDeadline(absl::Condition(&stream, &Stream::ready), stall_at);
    batch.swap(stream.received);
    done = stream.done;
    status = stream.status;
    stream.mu.Unlock();

    if (batch.empty() && !done) {
      // Nothing for stall_timeout: the engine may be stopped with the connection still open.
      context.TryCancel();
      stream.mu.LockWhen(absl::Condition(&stream.done));
      stream.mu.Unlock();
      return absl::UnavailableError(
          absl::StrCat("no stats snapshot for ", absl::FormatDuration(options_.stall_timeout)));
    }
    if (!batch.empty()) {
      *received = true;
      stall_at = absl::Now() + options_.stall_timeout;
      if (!streaming) {
        streaming = true;
        setState(State::kStreaming, absl::OkStatus());
      }
      for (const v1::StatsSnapshot& snapshot : batch) {
        const absl::Time at = fromProto(snapshot.at());
        {
          absl::MutexLock lock(&mu_);
          if (stopping_) break;
          if (at <= resumeAfter()) continue;  // already delivered (or before `since`)
          last_ = at;
        }
        if (callbacks_.on_snapshot) callbacks_.on_snapshot(snapshot);
      }
    }
    if (done) {
      if (status.ok()) return absl::UnavailableError("the engine ended the stats stream");
      return fromGrpc(status, context);
    }
  }
}

}  // namespace seckill::client
