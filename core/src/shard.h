// shard.h: one shard of a cache: a single-threaded cache of its own.
//
// A Cache splits its keys by hash across shards; each shard owns its slots, index, policy,
// timer wheel, memberships and store, and is only ever called with its lock held (the
// facade in cache.cc takes it). ShardBase is the virtual face the facade calls once per
// operation; Shard<Policy> is the template the hot path runs in, with no virtual calls
// between the shard and its policy.
//
// Invariants kept after every public call:
//   - entries() <= entry bound and bytes() <= byte bound;
//   - every live slot is in the index, in exactly one policy queue, in a timer bucket iff its
//     stale_until is finite, and in one membership per tag and per namespace;
//   - bytes() is the sum of Charge() over live slots, and the policy's weights agree with it;
//   - a failed call changes nothing.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hash_index.h"
#include "membership_index.h"
#include "policy.h"
#include "slot_table.h"
#include "tickcache/cache.h"
#include "timer_wheel.h"

namespace tickcache {

// What the facade has resolved and validated for one write.
struct EntryWrite {
  std::string_view key;
  std::string_view value;
  uint64_t hash = 0;
  int64_t fresh_until_ms = 0;  // absolute; kNeverMs for no expiry
  int64_t stale_until_ms = 0;
  const std::vector<std::string>* tags = nullptr;  // deduplicated, validated
  // Add: a live entry of the key (fresh, or stale within its grace) stays as it is.
  bool only_if_absent = false;
};

// One live entry, as snapshots see it.
struct EntryView {
  std::string_view key;
  const std::string* value;
  int64_t fresh_until_ms;
  int64_t stale_until_ms;
  const std::vector<std::string>* tags;
};

struct ShardLimits {
  uint64_t max_entries = 0;  // 0: none
  uint64_t max_bytes = 0;    // 0: none
  char namespace_separator = ':';
  uint64_t hash_seed = 0;           // the cache's (HashKey with it must agree with the facade's)
  uint64_t sketch_floor_bytes = 0;  // this shard's part of the cache's minimum sketch size
  uint32_t shard_index = 0;         // the high bits of this shard's EntryRefs
  const RemovalListener* on_removal = nullptr;  // the cache's, or null; outlives the shard
};

inline constexpr uint32_t kRefSlotBits = 22;
inline constexpr EntryRef kRefSlotMask = (EntryRef{1} << kRefSlotBits) - 1;

class ShardBase {
 public:
  virtual ~ShardBase() = default;
  virtual Lookup Get(std::string_view key, uint64_t hash, int64_t now, std::string* value) = 0;
  virtual Lookup Peek(std::string_view key, uint64_t hash, int64_t now,
                      std::string* value) const = 0;
  // On success, *slot (if given) is where the entry went (it may already have been evicted
  // again by admission; the removal listener then said so), or kNoSlot when
  // write.only_if_absent found a live entry and wrote nothing (Add passes a slot to learn it).
  virtual Status Set(const EntryWrite& write, int64_t now, SlotId* slot) = 0;
  virtual void Touch(SlotId slot, bool stale) = 0;
  // Misses a host answered itself, by key hash, in the order they happened: each is what a
  // Get that missed does to the policy and the stats, without the lookup.
  virtual void RecordMissedHashes(const uint64_t* hashes, size_t count) = 0;
  virtual bool Delete(std::string_view key, uint64_t hash) = 0;
  virtual uint64_t InvalidateTag(std::string_view tag) = 0;
  virtual uint64_t InvalidatePrefix(std::string_view prefix) = 0;
  // Removes keys matching `glob`; `literal_prefix` is a prefix every match starts with.
  virtual uint64_t InvalidateGlob(std::string_view glob, std::string_view literal_prefix) = 0;
  virtual uint64_t Clear() = 0;
  virtual uint64_t Expire(int64_t now) = 0;
  virtual void AddStats(Stats* stats) const = 0;
  virtual void ForEachEntry(const std::function<void(const EntryView&)>& visit) const = 0;
  virtual uint64_t entries() const = 0;
  virtual uint64_t bytes() const = 0;
  virtual Status Flush() = 0;
};

// Builds the shard for `policy` over `store`, adopting whatever the store recovered.
std::unique_ptr<ShardBase> MakeShard(PolicyKind policy, const ShardLimits& limits,
                                     std::unique_ptr<Store> store, int64_t now);

}  // namespace tickcache
