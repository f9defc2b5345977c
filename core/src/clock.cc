// clock.cc: the platform's wall clock. Wall time (not steady time) because expiry times
// are persisted by the file store and snapshots and must still mean the same after a
// restart; the shards clamp so a clock stepping backwards never un-expires an entry.
#include <chrono>

#include "tickcache/clock.h"

namespace tickcache {
namespace {

class WallClock final : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

std::shared_ptr<Clock> SystemClock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<WallClock>();
  return clock;
}

}  // namespace tickcache
