#include "engine/app/stats_sampler.h"

#include <utility>

namespace seckill::app {

StatsSampler::StatsSampler(const Clock& clock, Collect collect, admin::StatsHistory& history)
    : clock_(clock), collect_(std::move(collect)), history_(history) {}

StatsSampler::~StatsSampler() { stop(); }

void StatsSampler::start() {
  prev_ = awaitCall<EngineStats>([this](auto done) { collect_(std::move(done)); });
  thread_ = std::thread([this] { run(); });
}

void StatsSampler::stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void StatsSampler::sampleOnce() {
  EngineStats cur = awaitCall<EngineStats>([this](auto done) { collect_(std::move(done)); });
  // The whole second it ends; never the same second twice (a wait that woke a little early).
  absl::Time at = absl::FromUnixSeconds(absl::ToUnixSeconds(cur.at));
  if (seq_ > 0 && at <= sample_.at) at = sample_.at + absl::Seconds(1);
  cur.at = at;
  diffStats(prev_, cur, ++seq_, sample_);
  history_.push(sample_);
  prev_ = std::move(cur);
}

void StatsSampler::run() {
  while (true) {
    // Sleep until the next whole second of the clock (real time drives the wait; the clock
    // says when that is).
    const absl::Time now = clock_.now();
    const absl::Time next = absl::FromUnixSeconds(absl::ToUnixSeconds(now) + 1);
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), next - now)) return;
    }
    sampleOnce();
  }
}

}  // namespace seckill::app
