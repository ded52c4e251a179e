#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace seckill::console {

// The CPU time the calling thread has used, in µs (0 where the clock is missing): its own work,
// apart from the time it waited for a core.
qint64 threadCpuMicros();

// Measures how late the event loop of the thread it lives on runs a timer due every
// `interval_ms`: a blocked loop shows as a late tick. worstMs() is the largest lateness since
// the last reset(). The probe costs one timer; it never sleeps.
class LoopProbe : public QObject {
  Q_OBJECT

 public:
  explicit LoopProbe(int interval_ms = 10, QObject* parent = nullptr);

  void start();
  void stop();
  void reset();
  qint64 worstMs() const { return worst_ms_; }
  qint64 ticks() const { return ticks_; }

 private:
  void tick();

  const int interval_ms_;
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ms_ = -1;
  qint64 worst_ms_ = 0;
  qint64 ticks_ = 0;
};

}  // namespace seckill::console
