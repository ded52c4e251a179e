#include <deque>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/admin/admin_services.h"
#include "engine/admin/proto_convert.h"

namespace seckill::admin {
namespace {

// One Stats.Watch stream: the history, then every new second. The sampler's listener queues
// samples; one write is in flight at a time. A client that reads slower than the engine
// samples (its queue past kMaxQueued) is cut off with RESOURCE_EXHAUSTED; it resumes with
// `since` and loses nothing the ring still holds.
class WatchReactor final : public grpc::ServerWriteReactor<v1::StatsSnapshot> {
 public:
  static constexpr size_t kMaxQueued = 2 * StatsHistory::kDefaultCapacity;

  WatchReactor(AdminDeps& deps, const v1::WatchStatsRequest& req)
      : deps_(deps), shared_(std::make_shared<Shared>()) {
    const absl::Time since = req.no_history() ? absl::InfiniteFuture()
                             : req.has_since() ? fromProto(req.since())
                                               : absl::InfinitePast();
    {
      // Held across subscribe: a second pushed meanwhile waits in its listener until the
      // history is queued, and then is dropped if the history had it (by seq).
      absl::MutexLock lock(&shared_->mu);
      shared_->reactor = this;
      auto [id, history] = deps_.history.subscribe(
          since, [shared = shared_](const StatsSample& s) { shared->offer(s); });
      listener_ = id;
      for (StatsSample& s : history) shared_->enqueue(std::move(s), /*history=*/true);
    }
    shared_->kick();
  }

  // A failed write (the call was cancelled or broke) still ends the write in flight: the
  // Finish that follows needs `writing` clear, or the call never completes and the server's
  // Shutdown waits for it forever.
  void OnWriteDone(bool ok) override { shared_->written(ok); }
  void OnCancel() override { shared_->fail(grpc::Status::CANCELLED); }
  void OnDone() override {
    {
      absl::MutexLock lock(&shared_->mu);
      shared_->reactor = nullptr;
    }
    deps_.history.unsubscribe(listener_);
    delete this;
  }

 private:
  // What the sampler's listener and the reactor share; outlives the reactor if the listener
  // runs after OnDone.
  struct Shared {
    absl::Mutex mu;
    WatchReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
    std::deque<std::pair<StatsSample, bool>> queue ABSL_GUARDED_BY(mu);
    uint64_t last_seq ABSL_GUARDED_BY(mu) = 0;
    bool writing ABSL_GUARDED_BY(mu) = false;
    bool finishing ABSL_GUARDED_BY(mu) = false;
    grpc::Status final_status ABSL_GUARDED_BY(mu);
    v1::StatsSnapshot out;  // the message of the write in flight (only the writer touches it)

    // A new second from the sampler.
    void offer(const StatsSample& s) {
      {
        absl::MutexLock lock(&mu);
        if (reactor == nullptr) return;
        enqueue(s, /*history=*/false);
      }
      kick();
    }
    void enqueue(StatsSample s, bool history) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      if (finishing) return;
      // A sample may come both in the history and through the listener: once only.
      if (s.seq != 0 && s.seq <= last_seq) return;
      last_seq = s.seq;
      if (queue.size() >= kMaxQueued) {
        finishing = true;
        final_status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                    "the stream fell too far behind; reconnect with since");
        queue.clear();
        return;
      }
      queue.emplace_back(std::move(s), history);
    }
    // Starts the next write, or the Finish, when nothing is in flight.
    void kick() {
      WatchReactor* r = nullptr;
      bool finish = false;
      grpc::Status status;
      {
        absl::MutexLock lock(&mu);
        if (reactor == nullptr || writing) return;
        if (!queue.empty() && !finishing) {
          auto [sample, history] = std::move(queue.front());
          queue.pop_front();
          out.Clear();
          statsToProto(sample, reactor->deps_.node.node_id, reactor->deps_.node.started_at,
                       history, &out);
          writing = true;
          r = reactor;
        } else if (finishing) {
          writing = true;  // nothing may start after Finish
          finish = true;
          status = final_status;
          r = reactor;
        } else {
          return;
        }
      }
      // Outside the lock: a reaction may run inline. While `writing` is set the reactor cannot
      // be finished, so it stays alive.
      if (finish) {
        r->Finish(status);
      } else {
        r->StartWrite(&out);
      }
    }
    void written(bool ok) {
      {
        absl::MutexLock lock(&mu);
        writing = false;
        if (!ok && !finishing) {
          finishing = true;
          final_status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
        }
      }
      kick();
    }
    void fail(grpc::Status status) {
      {
        absl::MutexLock lock(&mu);
        if (!finishing) {
          finishing = true;
          final_status = std::move(status);
        }
        if (reactor == nullptr) return;
      }
      kick();
    }
  };

  AdminDeps& deps_;
  std::shared_ptr<Shared> shared_;
  uint64_t listener_ = 0;
};

}  // namespace

grpc::ServerWriteReactor<v1::StatsSnapshot>* StatsService::Watch(
    grpc::CallbackServerContext*, const v1::WatchStatsRequest* request) {
  return new WatchReactor(deps_, *request);
}

grpc::ServerUnaryReactor* StatsService::Get(grpc::CallbackServerContext* context,
                                            const v1::GetStatsRequest*, v1::StatsSnapshot* out) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<StatsSample> latest = deps_.history.latest();
  if (!latest) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "no second has been sampled yet; ask again in a second"));
    return reactor;
  }
  statsToProto(*latest, deps_.node.node_id, deps_.node.started_at, false, out);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace seckill::admin
