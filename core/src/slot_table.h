// slot_table.h: the per-entry records of one shard, and the intrusive lists through them.
//
// Every entry is one 32-byte Slot in a vector, named by its index (SlotId). Indexes instead
// of pointers keep records dense, make links 4 bytes, and survive the vector growing.
// Two independent link pairs run through each slot: one for the eviction policy's queues,
// one for the expiry timer wheel's buckets. Lists are circular with a sentinel slot as
// head, so unlinking needs no knowledge of which list a slot is in.
//
// Invariants:
//   - SlotId 0 is "none" and never holds an entry; sentinels occupy the ids right after it;
//   - a free slot is on the free list (through `next`), has no timer links and no queue;
//   - fresh_until <= stale_until, both 48-bit milliseconds, kNever meaning no expiry.
#pragma once

#include <cstdint>
#include <vector>

#include "tickcache/store.h"

namespace tickcache {

using SlotId = uint32_t;
inline constexpr SlotId kNoSlot = 0;
// The index packs a SlotId into 22 bits: at most ~4.2M entries per shard.
inline constexpr uint32_t kMaxSlotsPerShard = (1u << 22) - 1;

inline constexpr int64_t kNeverMs = (int64_t{1} << 48) - 1;

// Which policy queue a slot is in. kNone: the policy has not placed it (or it is free).
enum class Queue : uint8_t { kNone = 0, kWindow = 1, kProbation = 2, kProtected = 3 };

struct Slot {
  StoreHandle data;
  // Grace in ms below 2^31; above, seconds with the top bit set (sub-second precision is
  // meaningless for graces of weeks, and it keeps the record at 32 bytes).
  uint32_t grace_code;
  // fresh_until (48 bits, ms since epoch) | flags (16 bits).
  uint64_t fresh_and_flags;
  SlotId prev, next;    // policy queue
  SlotId tprev, tnext;  // timer wheel bucket
};
static_assert(sizeof(Slot) == 32, "a slot is 32 bytes; the overhead budget depends on it");

class SlotTable {
 public:
  static constexpr uint64_t kFlagLive = 1u << 0;
  static constexpr uint64_t kFlagMembers = 1u << 1;  // has tags or a namespace
  static constexpr uint64_t kFlagVisited = 1u << 2;  // SIEVE's visited bit
  static constexpr int kQueueShift = 3;              // two bits of Queue

  SlotTable() { slots_.push_back(Slot{}); }  // id 0: none

  void Reserve(size_t n) { slots_.reserve(n + 1); }

  // Sentinels must be made before any entry.
  SlotId NewSentinel() {
    SlotId id = static_cast<SlotId>(slots_.size());
    slots_.push_back(Slot{});
    slots_[id].prev = slots_[id].next = id;
    slots_[id].tprev = slots_[id].tnext = id;
    ++sentinels_;
    return id;
  }
  SlotId FirstEntryId() const { return 1 + sentinels_; }
  SlotId EndId() const { return static_cast<SlotId>(slots_.size()); }

  // A fresh live slot, or kNoSlot when the shard already holds kMaxSlotsPerShard.
  SlotId Allocate() {
    SlotId id;
    if (free_head_ != kNoSlot) {
      id = free_head_;
      free_head_ = slots_[id].next;
    } else {
      if (slots_.size() > kMaxSlotsPerShard) return kNoSlot;
      id = static_cast<SlotId>(slots_.size());
      slots_.push_back(Slot{});
    }
    slots_[id] = Slot{};
    slots_[id].fresh_and_flags = kFlagLive;
    return id;
  }
  void Free(SlotId id) {
    slots_[id] = Slot{};
    slots_[id].next = free_head_;
    free_head_ = id;
  }
  // Forgets every entry; sentinels stay, as heads of empty lists.
  void Reset() {
    slots_.resize(FirstEntryId());
    for (SlotId id = 1; id < FirstEntryId(); ++id) {
      slots_[id].prev = slots_[id].next = id;
      slots_[id].tprev = slots_[id].tnext = id;
    }
    free_head_ = kNoSlot;
  }

  Slot& operator[](SlotId id) { return slots_[id]; }
  const Slot& operator[](SlotId id) const { return slots_[id]; }
  bool IsLive(SlotId id) const { return (slots_[id].fresh_and_flags & kFlagLive) != 0; }

  // --- fields ---
  int64_t FreshUntil(SlotId id) const {
    return static_cast<int64_t>(slots_[id].fresh_and_flags >> 16);
  }
  void SetFreshUntil(SlotId id, int64_t ms) {
    uint64_t& f = slots_[id].fresh_and_flags;
    f = (static_cast<uint64_t>(ms) << 16) | (f & 0xffffu);
  }
  static uint32_t EncodeGrace(int64_t grace_ms) {
    if (grace_ms < (int64_t{1} << 31)) return static_cast<uint32_t>(grace_ms);
    int64_t seconds = (grace_ms + 999) / 1000;
    if (seconds >= (int64_t{1} << 31)) seconds = (int64_t{1} << 31) - 1;
    return 0x80000000u | static_cast<uint32_t>(seconds);
  }
  static int64_t DecodeGrace(uint32_t code) {
    if ((code & 0x80000000u) == 0) return code;
    return static_cast<int64_t>(code & 0x7fffffffu) * 1000;
  }
  int64_t StaleUntil(SlotId id) const {
    int64_t fresh = FreshUntil(id);
    if (fresh >= kNeverMs) return kNeverMs;
    int64_t stale = fresh + DecodeGrace(slots_[id].grace_code);
    return stale >= kNeverMs ? kNeverMs : stale;
  }
  bool Flag(SlotId id, uint64_t flag) const { return (slots_[id].fresh_and_flags & flag) != 0; }
  void SetFlag(SlotId id, uint64_t flag, bool on) {
    if (on) {
      slots_[id].fresh_and_flags |= flag;
    } else {
      slots_[id].fresh_and_flags &= ~flag;
    }
  }
  Queue QueueOf(SlotId id) const {
    return static_cast<Queue>((slots_[id].fresh_and_flags >> kQueueShift) & 3u);
  }
  void SetQueue(SlotId id, Queue q) {
    uint64_t& f = slots_[id].fresh_and_flags;
    f = (f & ~(uint64_t{3} << kQueueShift)) | (static_cast<uint64_t>(q) << kQueueShift);
  }

  // --- policy queue lists (prev/next) ---
  void PushBack(SlotId head, SlotId id) { LinkBefore<&Slot::prev, &Slot::next>(head, id); }
  void Unlink(SlotId id) { UnlinkFrom<&Slot::prev, &Slot::next>(id); }
  void MoveToBack(SlotId head, SlotId id) {
    Unlink(id);
    PushBack(head, id);
  }
  SlotId Front(SlotId head) const {
    SlotId n = slots_[head].next;
    return n == head ? kNoSlot : n;
  }
  SlotId After(SlotId head, SlotId id) const {
    SlotId n = slots_[id].next;
    return n == head ? kNoSlot : n;
  }

  // --- timer lists (tprev/tnext) ---
  void TimerPushBack(SlotId head, SlotId id) { LinkBefore<&Slot::tprev, &Slot::tnext>(head, id); }
  void TimerUnlink(SlotId id) {
    if (slots_[id].tprev == kNoSlot) return;  // not scheduled
    UnlinkFrom<&Slot::tprev, &Slot::tnext>(id);
  }
  // Empties a bucket and returns its first slot (the chain stays linked through tnext and
  // ends at `head`), so the caller can walk it while rescheduling.
  SlotId TimerDetachAll(SlotId head) {
    SlotId first = slots_[head].tnext;
    SlotId last = slots_[head].tprev;
    slots_[head].tnext = slots_[head].tprev = head;
    if (first == head) return kNoSlot;
    slots_[last].tnext = head;
    return first;
  }

  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  // One circular doubly linked list through the link pair (Prev, Next); `head` is a sentinel.
  template <SlotId Slot::*Prev, SlotId Slot::*Next>
  void LinkBefore(SlotId head, SlotId id) {
    SlotId last = slots_[head].*Prev;
    slots_[last].*Next = id;
    slots_[id].*Prev = last;
    slots_[id].*Next = head;
    slots_[head].*Prev = id;
  }
  template <SlotId Slot::*Prev, SlotId Slot::*Next>
  void UnlinkFrom(SlotId id) {
    Slot& s = slots_[id];
    slots_[s.*Prev].*Next = s.*Next;
    slots_[s.*Next].*Prev = s.*Prev;
    s.*Prev = s.*Next = kNoSlot;
  }

  std::vector<Slot> slots_;
  SlotId free_head_ = kNoSlot;
  uint32_t sentinels_ = 0;
};

}  // namespace tickcache
