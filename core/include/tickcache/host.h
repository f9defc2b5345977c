// tickcache/host.h: what the JavaScript hosts (the Node addon, the wasm module) share.
//
// Numbers cross from JavaScript as doubles. These helpers give both hosts one conversion, so
// the same call means the same thing on either backend:
//   - a duration of NaN is "absent" (the config rules and defaults decide), +Infinity never
//     expires, fractions round up (a positive duration stays positive), and anything out of
//     range becomes a value Cache::Set refuses with kInvalidTtl and a message naming it;
//   - a remaining time of kNoExpiry reads back as +Infinity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tickcache/cache.h"
#include "tickcache/options_json.h"

namespace tickcache {

std::optional<int64_t> DurationFromHost(double ms);

// Writes [state (0 miss, 1 fresh, 2 stale), fresh remaining ms, stale remaining ms].
void LookupToHost(const Lookup& lookup, double out[3]);

// The (ref, cause) removal notices of a cache a host front mirrors (Options::on_removal), oldest
// first, for the front to drain in batches: one class, so both hosts drain identically.
// Push runs inside the core's listener, under a shard lock: it only appends. Not thread-safe:
// a host that tracks removals calls it from one thread (the front's).
class RemovalQueue {
 public:
  void Push(EntryRef ref, RemovalCause cause);
  size_t Pending() const { return (items_.size() - head_) / 2; }
  // Moves up to `max_pairs` of the oldest notices into out as [ref, cause, ...]; returns how
  // many pairs it moved.
  size_t Drain(uint32_t* out, size_t max_pairs);

 private:
  std::vector<uint32_t> items_;  // ref, cause, ref, cause, ...
  size_t head_ = 0;              // items_[head_] is the oldest undrained ref
};

}  // namespace tickcache
