// clock.cc: the platform's wall clock. Wall time (not steady time) because expiry times
// are persisted by the file store and snapshots and must still mean the same after a
// restart; the shards clamp so a clock stepping backwards never un-expires an entry.
//
// On x86-64 with an invariant TSC (constant rate, ticking through sleep states: what every
// server CPU and cloud VM of the last decade reports) the clock is read through TickClock,
// a few nanoseconds instead of a vDSO call; elsewhere (wasm, other CPUs) it is
// std::chrono::system_clock on every call.
#include <chrono>

#include "tick_clock.h"
#include "tickcache/clock.h"

#if defined(__x86_64__) && !defined(__EMSCRIPTEN__)
#include <cpuid.h>
#include <x86intrin.h>
#define TICKCACHE_HAS_TSC 1
#else
#define TICKCACHE_HAS_TSC 0
#endif

namespace tickcache {
namespace {

int64_t SystemWallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

#if TICKCACHE_HAS_TSC
struct TscSources {
  static uint64_t Ticks() { return __rdtsc(); }
  static int64_t WallNs() { return SystemWallNs(); }
  static int64_t SteadyNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// CPUID 0x80000007, EDX bit 8: the TSC runs at a constant rate in every power state.
bool HasInvariantTsc() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;
}
#endif

class WallClock final : public Clock {
 public:
  int64_t NowMs() const override {
#if TICKCACHE_HAS_TSC
    if (use_ticks_) return ticks_.NowMs();
#endif
    return SystemWallNs() / 1'000'000;
  }

 private:
#if TICKCACHE_HAS_TSC
  const bool use_ticks_ = HasInvariantTsc();
  mutable TickClock<TscSources> ticks_;
#endif
};

}  // namespace

std::shared_ptr<Clock> SystemClock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<WallClock>();
  return clock;
}

}  // namespace tickcache
