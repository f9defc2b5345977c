// hash_index.h: key -> SlotId for one shard: open addressing with Robin Hood probing.
//
// Each cell is 4 bytes: slot id (22 bits) | distance from the home cell (5 bits) | a 5-bit
// tag from the hash. The tag filters out most non-matching cells before the key is
// compared; the distance makes lookups stop early (Robin Hood ordering) and lets deletion
// shift the following cells back without rehashing any key. The home cell is
// fastrange(hash) over any table size, so a bounded cache sizes its table to exactly
// max_entries / kMaxLoad cells: about 5.3 bytes per entry.
//
// Invariants: a cell is 0 (empty) or holds a live slot; cells between an entry's home and
// its position are non-empty and have distances >= what they would have at that position;
// no distance exceeds kMaxDistance (the table grows instead).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "slot_table.h"

namespace tickcache {

class HashIndex {
 public:
  static constexpr double kMaxLoad = 0.75;

  explicit HashIndex(size_t expected_entries = 0) { Resize(CellsFor(expected_entries)); }

  // Calls key_equals(slot) for candidates; returns the matching slot or kNoSlot.
  template <typename KeyEquals>
  SlotId Find(uint64_t hash, KeyEquals&& key_equals) const {
    uint32_t tag = TagOf(hash);
    size_t pos = Home(hash);
    for (uint32_t dist = 0;; ++dist) {
      uint32_t cell = cells_[pos];
      if (cell == 0 || DistOf(cell) < dist) return kNoSlot;
      if ((cell & kTagMask) == tag && key_equals(SlotOf(cell))) return SlotOf(cell);
      pos = Next(pos);
    }
  }

  // Adds a slot known to be absent. `hash_of(slot)` recomputes hashes if the table grows.
  template <typename HashOf>
  void Insert(SlotId slot, uint64_t hash, HashOf&& hash_of) {
    if (size_ + 1 > static_cast<size_t>(static_cast<double>(cells_.size()) * kMaxLoad)) {
      Grow(cells_.size() * 2, hash_of);
    }
    // A failed insert leaves `slot` in the table or in overflow_: Grow re-places it.
    if (!TryInsert(slot, hash)) Grow(cells_.size() * 2, hash_of);
    ++size_;
  }

  // Removes `slot`, whose key hashes to `hash`.
  void Erase(SlotId slot, uint64_t hash) {
    size_t pos = Home(hash);
    for (uint32_t dist = 0; dist <= kMaxDistance; ++dist) {
      uint32_t cell = cells_[pos];
      if (cell == 0) return;
      if (SlotOf(cell) == slot) {
        ShiftBack(pos);
        --size_;
        return;
      }
      pos = Next(pos);
    }
  }

  void Clear() {
    std::fill(cells_.begin(), cells_.end(), 0u);
    size_ = 0;
  }
  size_t size() const { return size_; }
  size_t MemoryBytes() const { return cells_.capacity() * sizeof(uint32_t); }

 private:
  static constexpr uint32_t kTagBits = 5;
  static constexpr uint32_t kTagMask = (1u << kTagBits) - 1;
  static constexpr uint32_t kDistShift = kTagBits;
  static constexpr uint32_t kMaxDistance = 31;
  static constexpr uint32_t kSlotShift = 10;

  static size_t CellsFor(size_t entries) {
    size_t cells = static_cast<size_t>(static_cast<double>(entries) / kMaxLoad) + 8;
    return cells < 16 ? 16 : cells;
  }
  static uint32_t TagOf(uint64_t hash) { return static_cast<uint32_t>(hash >> 59); }
  static uint32_t DistOf(uint32_t cell) { return (cell >> kDistShift) & kMaxDistance; }
  static SlotId SlotOf(uint32_t cell) { return cell >> kSlotShift; }
  static uint32_t Make(SlotId slot, uint32_t dist, uint32_t tag) {
    return (slot << kSlotShift) | (dist << kDistShift) | tag;
  }
  size_t Home(uint64_t hash) const {
    // Lemire's fastrange on the low 32 bits: any table size, no modulo.
    return static_cast<size_t>((static_cast<uint64_t>(static_cast<uint32_t>(hash)) *
                                static_cast<uint64_t>(cells_.size())) >>
                               32);
  }
  size_t Next(size_t pos) const { return pos + 1 == cells_.size() ? 0 : pos + 1; }

  bool TryInsert(SlotId slot, uint64_t hash) {
    uint32_t carried = Make(slot, 0, TagOf(hash));
    size_t pos = Home(hash);
    uint32_t dist = 0;
    for (;;) {
      uint32_t cell = cells_[pos];
      if (cell == 0) {
        cells_[pos] = carried | (dist << kDistShift);
        return true;
      }
      if (DistOf(cell) < dist) {  // take from the rich: swap and carry the displaced cell on
        cells_[pos] = carried | (dist << kDistShift);
        carried = cell & ~(kMaxDistance << kDistShift);
        dist = DistOf(cell);
      }
      pos = Next(pos);
      if (++dist > kMaxDistance) {
        overflow_ = carried;  // the caller grows the table, which re-places it
        return false;
      }
    }
  }

  void ShiftBack(size_t pos) {
    size_t next = Next(pos);
    while (cells_[next] != 0 && DistOf(cells_[next]) > 0) {
      uint32_t cell = cells_[next];
      cells_[pos] = cell - (1u << kDistShift);
      pos = next;
      next = Next(pos);
    }
    cells_[pos] = 0;
  }

  // Rebuilds the table with `new_cells` cells (doubling again in the unlikely case that a
  // probe still runs past kMaxDistance). Every live slot is re-inserted, including one
  // left displaced by a failed TryInsert.
  template <typename HashOf>
  void Grow(size_t new_cells, HashOf&& hash_of) {
    std::vector<SlotId> slots;
    slots.reserve(size_ + 1);
    for (uint32_t cell : cells_) {
      if (cell != 0) slots.push_back(SlotOf(cell));
    }
    if (overflow_ != 0) slots.push_back(SlotOf(overflow_));
    for (size_t cells = new_cells;; cells *= 2) {
      Resize(cells);
      overflow_ = 0;
      bool placed_all = true;
      for (SlotId slot : slots) {
        if (!TryInsert(slot, hash_of(slot))) {
          placed_all = false;
          break;
        }
      }
      if (placed_all) return;
    }
  }

  void Resize(size_t cells) { cells_.assign(cells, 0u); }

  std::vector<uint32_t> cells_;
  size_t size_ = 0;
  uint32_t overflow_ = 0;
};

}  // namespace tickcache
