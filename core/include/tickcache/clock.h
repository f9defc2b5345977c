// tickcache/clock.h: the time source a cache reads, injected so tests never sleep.
//
// Times are milliseconds since the Unix epoch (the file store and snapshots persist them,
// so they must mean the same after a restart). A clock must never go backwards; the cache
// clamps if one does.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace tickcache {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

// Wall-clock time from the platform (std::chrono::system_clock).
std::shared_ptr<Clock> SystemClock();

// A clock that moves only when told to: for tests and for hosts that own time.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_ms_(start_ms) {}
  int64_t NowMs() const override { return now_ms_.load(std::memory_order_relaxed); }
  void Set(int64_t ms) { now_ms_.store(ms, std::memory_order_relaxed); }
  void Advance(int64_t ms) { now_ms_.fetch_add(ms, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace tickcache
