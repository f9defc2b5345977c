// ghost_filter.h: a compact set of the last N keys (by hash) that left one region of the cache.
//
// The adaptive W-TinyLFU policy keeps two of these, as ARC keeps its ghost lists B1 and B2
// (Megiddo, Modha: "ARC: A Self-Tuning, Low Overhead Replacement Cache", FAST 2003): a miss
// on a key that was recently pushed out of the window says the window was too small, one on
// a key recently evicted from the main region says the main region was. Only membership is
// needed, so a ghost stores no keys: a FIFO ring of 32-bit hash fragments remembers the order
// (so the oldest ghost can be forgotten), and buckets of four 16-bit tags answer lookups
// (a bucket per 8/3 ghosts, one 64-bit word each, like a cuckoo filter's bucket without the
// relocation). 7 bytes per ghost in all.
//
// Invariants: at most `capacity` insertions are remembered; a lookup that finds its key
// forgets it (each ghost is worth one signal); a false positive needs a 16-bit tag match in
// one bucket (at most 4 / 65536 per lookup); a full bucket overwrites one of its tags, so a
// ghost may be forgotten early but is never invented. Deterministic, O(1) per operation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tickcache {

class GhostFilter {
 public:
  // Remembers the last `capacity` insertions (at least 4); forgets everything.
  void Resize(uint64_t capacity) {
    ring_.assign(static_cast<size_t>(std::max<uint64_t>(capacity, 4)), 0);
    buckets_.assign(std::max<size_t>(ring_.size() * 3 / 8, 1), 0);
    head_ = 0;
    filled_ = 0;
  }
  void Clear() { Resize(ring_.size()); }
  size_t capacity() const { return ring_.size(); }
  size_t MemoryBytes() const {
    return ring_.capacity() * sizeof(uint32_t) + buckets_.capacity() * sizeof(uint64_t);
  }

  void Insert(uint64_t hash) {
    if (ring_.empty()) return;
    if (filled_ == ring_.size()) {
      Forget(ring_[head_]);
    } else {
      ++filled_;
    }
    uint32_t fragment = FragmentOf(hash);
    ring_[head_] = fragment;
    if (++head_ == ring_.size()) head_ = 0;
    uint64_t& bucket = buckets_[BucketOf(fragment)];
    uint16_t tag = TagOf(fragment);
    int free_lane = -1;
    for (int lane = 0; lane < 4; ++lane) {
      uint16_t held = static_cast<uint16_t>(bucket >> (16 * lane));
      if (held == tag) return;
      if (held == 0 && free_lane < 0) free_lane = lane;
    }
    if (free_lane < 0) free_lane = static_cast<int>(fragment >> 30);
    bucket &= ~(uint64_t{0xffff} << (16 * free_lane));
    bucket |= uint64_t{tag} << (16 * free_lane);
  }

  // True if `hash` is a remembered ghost, which is then forgotten.
  bool Take(uint64_t hash) { return !ring_.empty() && Forget(FragmentOf(hash)); }

 private:
  // Bits independent of the ones the sketch and the index use for the same hash.
  static uint32_t FragmentOf(uint64_t hash) {
    return static_cast<uint32_t>((hash * 0x9e3779b97f4a7c15ULL) >> 32);
  }
  static uint16_t TagOf(uint32_t fragment) {
    uint16_t tag = static_cast<uint16_t>(fragment);
    return tag == 0 ? 1 : tag;  // 0 marks a free lane
  }
  size_t BucketOf(uint32_t fragment) const {
    return static_cast<size_t>((static_cast<uint64_t>(fragment) * buckets_.size()) >> 32);
  }
  bool Forget(uint32_t fragment) {
    uint64_t& bucket = buckets_[BucketOf(fragment)];
    uint16_t tag = TagOf(fragment);
    for (int lane = 0; lane < 4; ++lane) {
      if (static_cast<uint16_t>(bucket >> (16 * lane)) == tag) {
        bucket &= ~(uint64_t{0xffff} << (16 * lane));
        return true;
      }
    }
    return false;
  }

  std::vector<uint32_t> ring_;
  std::vector<uint64_t> buckets_;
  size_t head_ = 0;
  size_t filled_ = 0;
};

}  // namespace tickcache
