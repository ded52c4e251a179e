#include "console/core/loop_probe.h"

#include <time.h>

#include <algorithm>

namespace seckill::console {

qint64 threadCpuMicros() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<qint64>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

LoopProbe::LoopProbe(int interval_ms, QObject* parent)
    : QObject(parent), interval_ms_(interval_ms), timer_(this) {
  timer_.setTimerType(Qt::PreciseTimer);
  timer_.setInterval(interval_ms_);
  connect(&timer_, &QTimer::timeout, this, &LoopProbe::tick);
}

void LoopProbe::start() {
  clock_.start();
  last_ms_ = -1;
  timer_.start();
}

void LoopProbe::stop() { timer_.stop(); }

void LoopProbe::reset() {
  worst_ms_ = 0;
  ticks_ = 0;
  last_ms_ = clock_.isValid() ? clock_.elapsed() : -1;
}

void LoopProbe::tick() {
  const qint64 now = clock_.elapsed();
  if (last_ms_ >= 0) worst_ms_ = std::max(worst_ms_, now - last_ms_ - interval_ms_);
  last_ms_ = now;
  ++ticks_;
}

}  // namespace seckill::console
