// timer_wheel.h: a hierarchical timing wheel that removes entries when their grace ends.
//
// Scheduling, rescheduling and cancelling are O(1); advancing visits only the buckets whose
// time has passed, and an entry cascades down at most once per level, so expiry costs
// amortized O(1) per entry. Layout and constants follow Caffeine's TimerWheel (after Varghese
// & Lauck, "Hashed and Hierarchical Timing Wheels", 1987), in milliseconds: level spans of
// 2^10 ms (~1 s), 2^16 (~1 min), 2^22 (~1.2 h), 2^27 (~1.6 d) and 2^29 (~6.2 d) with 64, 64,
// 32, 4 and 1 buckets; a deadline beyond the last span waits in the last bucket and is
// rescheduled when that bucket turns.
//
// Buckets are circular lists through the slots' timer links (see slot_table.h); the wheel
// owns those links and nothing else. Invariant: a slot is in at most one bucket, and it is
// in one exactly when its deadline (stale_until) is finite.
#pragma once

#include <array>
#include <cstdint>

#include "slot_table.h"

namespace tickcache {

class TimerWheel {
 public:
  void Init(SlotTable& slots, int64_t now_ms) {
    for (int level = 0; level < kLevels; ++level) {
      for (int b = 0; b < kBuckets[level]; ++b) heads_[level][b] = slots.NewSentinel();
    }
    now_ms_ = now_ms;
  }
  int64_t now_ms() const { return now_ms_; }

  void Schedule(SlotTable& slots, SlotId id, int64_t deadline_ms) {
    slots.TimerUnlink(id);
    if (deadline_ms >= kNeverMs) return;
    slots.TimerPushBack(BucketFor(deadline_ms), id);
  }
  static void Cancel(SlotTable& slots, SlotId id) { slots.TimerUnlink(id); }

  // Moves time to `now_ms`; calls expire(slot) for each entry whose deadline has passed and
  // reschedules the others of every bucket that turned. deadline(slot) reads a slot's time.
  // With `exact`, also sweeps the current finest bucket, so nothing due is left behind.
  template <typename Deadline, typename Expire>
  void Advance(SlotTable& slots, int64_t now_ms, bool exact, Deadline&& deadline, Expire&& expire) {
    if (now_ms < now_ms_) return;  // a clock stepping back never revives anything
    int64_t previous = now_ms_;
    now_ms_ = now_ms;
    for (int level = 0; level < kLevels; ++level) {
      int64_t previous_ticks = previous >> kShift[level];
      int64_t delta = (now_ms >> kShift[level]) - previous_ticks;
      if (delta <= 0) break;
      int64_t steps = std::min<int64_t>(1 + delta, kBuckets[level]);
      int64_t start = previous_ticks & (kBuckets[level] - 1);
      for (int64_t i = start; i < start + steps; ++i) {
        Drain(slots, heads_[level][static_cast<size_t>(i & (kBuckets[level] - 1))], deadline,
              expire);
      }
    }
    if (exact) {
      Drain(slots, heads_[0][static_cast<size_t>((now_ms >> kShift[0]) & (kBuckets[0] - 1))],
            deadline, expire);
    }
  }

 private:
  static constexpr int kLevels = 5;
  static constexpr int kBuckets[kLevels] = {64, 64, 32, 4, 1};
  static constexpr int kShift[kLevels] = {10, 16, 22, 27, 29};
  static constexpr int64_t kSpan(int level) { return int64_t{1} << kShift[level]; }

  SlotId BucketFor(int64_t deadline_ms) const {
    int64_t duration = deadline_ms - now_ms_;
    for (int level = 0; level < kLevels - 1; ++level) {
      // Level L holds deadlines closer than the span of the level above it.
      int64_t reach = level + 1 < kLevels - 1 ? kSpan(level + 1) : kSpan(level) * kBuckets[level];
      if (duration < reach) {
        int64_t ticks = deadline_ms >> kShift[level];
        return heads_[level][static_cast<size_t>(ticks & (kBuckets[level] - 1))];
      }
    }
    return heads_[kLevels - 1][0];
  }

  template <typename Deadline, typename Expire>
  void Drain(SlotTable& slots, SlotId head, Deadline& deadline, Expire& expire) {
    SlotId node = slots.TimerDetachAll(head);
    if (node == kNoSlot) return;
    while (node != head) {
      SlotId next = slots.TimerTakeDetached(node);
      int64_t due = deadline(node);
      if (due <= now_ms_) {
        expire(node);
      } else {
        slots.TimerPushBack(BucketFor(due), node);
      }
      node = next;
    }
  }

  std::array<std::array<SlotId, 64>, kLevels> heads_{};
  int64_t now_ms_ = 0;
};

}  // namespace tickcache
