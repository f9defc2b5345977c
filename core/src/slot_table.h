// slot_table.h: the per-entry records of one shard, and the intrusive lists through them.
//
// Every entry is a SlotId, an index into two parallel arrays, 32 bytes in all:
//   records_  the store handle, grace, fresh-until and flags (16 bytes): all a hit reads;
//   links_    the policy queue pair and the timer wheel pair (16 bytes): policy and expiry.
// A hit walks index cell -> record -> store block: one 16-byte record gives it both the
// handle to compare the key through and the times to judge freshness by, four to a cache
// line, while the lists it does not need stay out of its way (one 32-byte record per entry
// made every hit drag its links through the cache). Indexes instead of pointers keep
// records dense, make links 4 bytes, and survive the arrays growing. Lists are circular
// with a sentinel slot as head, so unlinking needs no knowledge of which list a slot is in.
//
// Invariants:
//   - SlotId 0 is "none" and never holds an entry; sentinels occupy the ids right after it;
//   - the two arrays always have the same length;
//   - a free slot is on the free list (through `next`), has no timer links and no queue;
//   - kFlagTimed is set exactly when a slot is in a timer bucket (or a detached one);
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

struct SlotRecord {
  StoreHandle data;
  // Grace in ms below 2^31; above, seconds with the top bit set (sub-second precision is
  // meaningless for graces of weeks, and it keeps the record at 16 bytes).
  uint32_t grace_code;
  // fresh_until (48 bits, ms since epoch) | flags (16 bits).
  uint64_t fresh_and_flags;
};
struct SlotLinks {
  SlotId prev, next;    // policy queue
  SlotId tprev, tnext;  // timer wheel bucket
};
static_assert(sizeof(SlotRecord) + sizeof(SlotLinks) == 32,
              "a slot is 32 bytes; the overhead budget depends on it");

class SlotTable {
 public:
  static constexpr uint64_t kFlagLive = 1u << 0;
  static constexpr uint64_t kFlagMembers = 1u << 1;  // has tags or a namespace
  static constexpr uint64_t kFlagVisited = 1u << 2;  // SIEVE's visited bit
  static constexpr int kQueueShift = 3;              // two bits of Queue
  // In a timer bucket: kept in the record so that rescheduling an entry that never expires
  // (most writes) does not have to load its links to find out.
  static constexpr uint64_t kFlagTimed = 1u << 5;

  SlotTable() { Append(); }  // id 0: none

  void Reserve(size_t n) {
    records_.reserve(n + 1);
    links_.reserve(n + 1);
  }

  // Sentinels must be made before any entry.
  SlotId NewSentinel() {
    SlotId id = Append();
    links_[id] = SlotLinks{id, id, id, id};
    ++sentinels_;
    return id;
  }
  SlotId FirstEntryId() const { return 1 + sentinels_; }
  SlotId EndId() const { return static_cast<SlotId>(records_.size()); }

  // A fresh live slot, or kNoSlot when the shard already holds kMaxSlotsPerShard.
  SlotId Allocate() {
    SlotId id;
    if (free_head_ != kNoSlot) {
      id = free_head_;
      free_head_ = links_[id].next;
    } else {
      if (records_.size() > kMaxSlotsPerShard) return kNoSlot;
      id = Append();
    }
    Clear(id);
    SetFreshAndFlags(id, kFlagLive);
    return id;
  }
  void Free(SlotId id) {
    Clear(id);
    links_[id].next = free_head_;
    free_head_ = id;
  }
  // Forgets every entry; sentinels stay, as heads of empty lists.
  void Reset() {
    records_.resize(FirstEntryId());
    links_.resize(FirstEntryId());
    for (SlotId id = 1; id < FirstEntryId(); ++id) links_[id] = SlotLinks{id, id, id, id};
    free_head_ = kNoSlot;
  }

  // --- fields ---
  StoreHandle Data(SlotId id) const { return records_[id].data; }
  void SetData(SlotId id, StoreHandle handle) { records_[id].data = handle; }
  void PrefetchLinks(SlotId id) const { __builtin_prefetch(&links_[id]); }
  // A hit moves `id` in its queue: start loading its neighbours' links.
  void PrefetchNeighbours(SlotId id) const {
    __builtin_prefetch(&links_[links_[id].prev]);
    __builtin_prefetch(&links_[links_[id].next]);
  }
  bool IsLive(SlotId id) const { return (FreshAndFlags(id) & kFlagLive) != 0; }
  int64_t FreshUntil(SlotId id) const { return static_cast<int64_t>(FreshAndFlags(id) >> 16); }
  void SetFreshUntil(SlotId id, int64_t ms) {
    SetFreshAndFlags(id, (static_cast<uint64_t>(ms) << 16) | (FreshAndFlags(id) & 0xffffu));
  }
  void SetGraceCode(SlotId id, uint32_t code) { records_[id].grace_code = code; }
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
    int64_t stale = fresh + DecodeGrace(records_[id].grace_code);
    return stale >= kNeverMs ? kNeverMs : stale;
  }
  bool Flag(SlotId id, uint64_t flag) const { return (FreshAndFlags(id) & flag) != 0; }
  void SetFlag(SlotId id, uint64_t flag, bool on) {
    uint64_t f = FreshAndFlags(id);
    SetFreshAndFlags(id, on ? f | flag : f & ~flag);
  }
  Queue QueueOf(SlotId id) const {
    return static_cast<Queue>((FreshAndFlags(id) >> kQueueShift) & 3u);
  }
  void SetQueue(SlotId id, Queue q) {
    uint64_t f = FreshAndFlags(id);
    SetFreshAndFlags(
        id, (f & ~(uint64_t{3} << kQueueShift)) | (static_cast<uint64_t>(q) << kQueueShift));
  }

  // --- policy queue lists (prev/next) ---
  void PushBack(SlotId head, SlotId id) {
    LinkBefore<&SlotLinks::prev, &SlotLinks::next>(head, id);
  }
  void Unlink(SlotId id) { UnlinkFrom<&SlotLinks::prev, &SlotLinks::next>(id); }
  void MoveToBack(SlotId head, SlotId id) {
    Unlink(id);
    PushBack(head, id);
  }
  SlotId Front(SlotId head) const {
    SlotId n = links_[head].next;
    return n == head ? kNoSlot : n;
  }
  // The list's last slot, or `head` itself when the list is empty.
  SlotId BackOrHead(SlotId head) const { return links_[head].prev; }
  SlotId After(SlotId head, SlotId id) const {
    SlotId n = links_[id].next;
    return n == head ? kNoSlot : n;
  }

  // --- timer lists (tprev/tnext) ---
  void TimerPushBack(SlotId head, SlotId id) {
    LinkBefore<&SlotLinks::tprev, &SlotLinks::tnext>(head, id);
    SetFlag(id, kFlagTimed, true);
  }
  void TimerUnlink(SlotId id) {
    if (!Flag(id, kFlagTimed)) return;  // not scheduled
    UnlinkFrom<&SlotLinks::tprev, &SlotLinks::tnext>(id);
    SetFlag(id, kFlagTimed, false);
  }
  // Empties a bucket and returns its first slot (the chain stays linked through tnext and
  // ends at `head`), so the caller can walk it while rescheduling.
  SlotId TimerDetachAll(SlotId head) {
    SlotId first = links_[head].tnext;
    SlotId last = links_[head].tprev;
    links_[head].tnext = links_[head].tprev = head;
    if (first == head) return kNoSlot;
    links_[last].tnext = head;
    return first;
  }
  // Takes a slot off a detached chain: returns the next one, and leaves `id` unscheduled.
  SlotId TimerTakeDetached(SlotId id) {
    SlotId next = links_[id].tnext;
    links_[id].tprev = links_[id].tnext = kNoSlot;
    SetFlag(id, kFlagTimed, false);
    return next;
  }

  size_t MemoryBytes() const {
    return records_.capacity() * sizeof(SlotRecord) + links_.capacity() * sizeof(SlotLinks);
  }

 private:
  SlotId Append() {
    records_.push_back(SlotRecord{});
    links_.push_back(SlotLinks{});
    return static_cast<SlotId>(records_.size() - 1);
  }
  void Clear(SlotId id) {
    records_[id] = SlotRecord{};
    links_[id] = SlotLinks{};
  }
  uint64_t FreshAndFlags(SlotId id) const { return records_[id].fresh_and_flags; }
  void SetFreshAndFlags(SlotId id, uint64_t value) { records_[id].fresh_and_flags = value; }

  // One circular doubly linked list through the link pair (Prev, Next); `head` is a sentinel.
  template <SlotId SlotLinks::*Prev, SlotId SlotLinks::*Next>
  void LinkBefore(SlotId head, SlotId id) {
    SlotId last = links_[head].*Prev;
    links_[last].*Next = id;
    links_[id].*Prev = last;
    links_[id].*Next = head;
    links_[head].*Prev = id;
  }
  template <SlotId SlotLinks::*Prev, SlotId SlotLinks::*Next>
  void UnlinkFrom(SlotId id) {
    SlotLinks& s = links_[id];
    links_[s.*Prev].*Next = s.*Next;
    links_[s.*Next].*Prev = s.*Prev;
    s.*Prev = s.*Next = kNoSlot;
  }

  std::vector<SlotRecord> records_;
  std::vector<SlotLinks> links_;
  SlotId free_head_ = kNoSlot;
  uint32_t sentinels_ = 0;
};

}  // namespace tickcache
