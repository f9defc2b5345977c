// tick_clock.h: wall-clock milliseconds from a cheap tick counter (the x86 TSC), re-anchored
// to the platform clocks every 10 ms.
//
// Why: every Get reads the clock, and on the machines we serve from (virtual machines above
// all) the platform clock is a vDSO call on a page of its own that ends in a serializing
// read of the TSC: on the core throughput benchmark it cost 15-20 % of a cache hit, more
// than the hash and the lock together. Reading the counter directly and scaling it costs a
// few nanoseconds and touches one cache line that only changes every 10 ms.
//
// How: a reading is base_wall + (ticks - base_ticks) * rate, where the base is re-read from
// the wall clock whenever it is more than 10 ms of ticks old, and the rate (ns per tick) is
// measured against the steady clock over everything since the first anchor. So the result
// tracks the wall clock (and any step it takes) within 10 ms of ticks, drifts by the rate's
// error over 10 ms at most (nanoseconds), and until 10 ms have been measured it is simply
// the wall clock.
//
// Invariants: a reader sees a base and rate written together (a sequence lock over atomics,
// so it is also clean under ThreadSanitizer); a reading whose ticks are before the base or
// past its window (another core's counter, a suspend) falls back to the wall clock; only one
// thread re-anchors at a time, the others read the wall clock meanwhile.
#pragma once

#include <atomic>
#include <cstdint>

namespace tickcache {

// Sources is a type with static Ticks() (uint64_t, monotonic per core), WallNs() and
// SteadyNs() (int64_t nanoseconds): the platform's, or a test's.
// 128-bit intermediates: ticks x (ns per tick in 32.32 fixed point) overflows 64 bits.
__extension__ using TickProduct = unsigned __int128;

template <typename Sources>
class TickClock {
 public:
  static constexpr int64_t kResyncNs = 10'000'000;       // re-anchor to the wall clock this often
  static constexpr int64_t kCalibrationNs = 10'000'000;  // measure the rate over at least this

  int64_t NowMs() {
    const uint64_t ticks = Sources::Ticks();
    uint64_t seq = seq_.load(std::memory_order_acquire);
    if ((seq & 1) == 0) {
      const uint64_t base_ticks = base_ticks_.load(std::memory_order_relaxed);
      const int64_t base_wall_ns = base_wall_ns_.load(std::memory_order_relaxed);
      const uint64_t rate = ns_per_tick_q32_.load(std::memory_order_relaxed);
      const uint64_t window = window_ticks_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      const uint64_t elapsed = ticks - base_ticks;  // wraps to huge if ticks < base_ticks
      if (seq_.load(std::memory_order_relaxed) == seq && rate != 0 && elapsed < window) {
        const auto scaled = static_cast<uint64_t>((static_cast<TickProduct>(elapsed) * rate) >> 32);
        return FloorMs(base_wall_ns + static_cast<int64_t>(scaled));
      }
    }
    return Reanchor(seq);
  }

  // For tests: whether readings are extrapolated yet (the rate has been measured).
  bool calibrated() const { return ns_per_tick_q32_.load(std::memory_order_relaxed) != 0; }

 private:
  static int64_t FloorMs(int64_t ns) {
    return ns >= 0 ? ns / 1'000'000 : -((-ns + 999'999) / 1'000'000);
  }

  int64_t Reanchor(uint64_t seen) {
    const int64_t wall_ns = Sources::WallNs();
    // One writer: whoever moves the sequence from the value it saw to odd. Everyone else
    // (and anyone who saw a write in progress) answers from the wall clock just read.
    if ((seen & 1) != 0 ||
        !seq_.compare_exchange_strong(seen, seen + 1, std::memory_order_acquire)) {
      return FloorMs(wall_ns);
    }
    std::atomic_thread_fence(std::memory_order_release);
    const uint64_t ticks = Sources::Ticks();
    const int64_t steady_ns = Sources::SteadyNs();
    uint64_t rate = ns_per_tick_q32_.load(std::memory_order_relaxed);
    if (!anchored_ || ticks <= anchor_ticks_ || steady_ns <= anchor_steady_ns_) {
      // First anchor, or a counter that went backwards (not invariant after all): start over.
      anchored_ = true;
      anchor_ticks_ = ticks;
      anchor_steady_ns_ = steady_ns;
      rate = 0;
    } else if (steady_ns - anchor_steady_ns_ >= kCalibrationNs) {
      rate = static_cast<uint64_t>((static_cast<TickProduct>(steady_ns - anchor_steady_ns_) << 32) /
                                   (ticks - anchor_ticks_));
    }
    base_ticks_.store(ticks, std::memory_order_relaxed);
    base_wall_ns_.store(wall_ns, std::memory_order_relaxed);
    ns_per_tick_q32_.store(rate, std::memory_order_relaxed);
    window_ticks_.store(
        rate == 0 ? 0 : static_cast<uint64_t>((static_cast<TickProduct>(kResyncNs) << 32) / rate),
        std::memory_order_relaxed);
    seq_.store(seen + 2, std::memory_order_release);
    return FloorMs(wall_ns);
  }

  // Read on every call: one line, written once per kResyncNs.
  alignas(64) std::atomic<uint64_t> seq_{0};
  std::atomic<uint64_t> base_ticks_{0};
  std::atomic<int64_t> base_wall_ns_{0};
  std::atomic<uint64_t> ns_per_tick_q32_{0};  // 0: not calibrated yet
  std::atomic<uint64_t> window_ticks_{0};
  // The writer's alone (it holds the odd sequence), on a line of their own.
  alignas(64) bool anchored_ = false;
  uint64_t anchor_ticks_ = 0;
  int64_t anchor_steady_ns_ = 0;
};

}  // namespace tickcache
