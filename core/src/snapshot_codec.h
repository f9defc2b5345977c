// snapshot_codec.h: the byte format of whole-cache snapshots, written and validated.
//
// Layout (all integers little-endian, fixed width):
//
//   magic        8 bytes  "TKCSNAP\x01"
//   version      u32      kSnapshotFormatVersion
//   entry count  u64
//   entries      count times:
//                  key length u16 (>= 1), value length u32, fresh_until_ms i64,
//                  stale_until_ms i64, tag count u16, key bytes, value bytes,
//                  then per tag: tag length u16, tag bytes
//   checksum     u64      XXH3-64 (seed 0) of every byte before it
//
// Invariants: DecodeSnapshot returns entries only when the whole document is valid (magic,
// version, checksum, every length within the bytes, exactly `count` entries, no trailing
// bytes, non-empty keys, fresh_until_ms <= stale_until_ms); otherwise kCorruptSnapshot with
// the byte offset and entry number of the first problem. It never reads outside `bytes` and
// never allocates from a length it has not checked against the bytes that remain.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tickcache/status.h"

namespace tickcache {

inline constexpr char kSnapshotMagic[8] = {'T', 'K', 'C', 'S', 'N', 'A', 'P', '\x01'};
inline constexpr uint32_t kSnapshotFormatVersion = 1;
// Bytes of magic + version + entry count, and of the trailing checksum.
inline constexpr size_t kSnapshotHeaderBytes = 8 + 4 + 8;
inline constexpr size_t kSnapshotChecksumBytes = 8;
// Bytes of an entry's fixed fields (lengths and times), before its key, value and tags.
inline constexpr size_t kSnapshotEntryFixedBytes = 2 + 4 + 8 + 8 + 2;

struct SnapshotEntry {
  std::string key;
  std::string value;
  int64_t fresh_until_ms = 0;
  int64_t stale_until_ms = 0;
  std::vector<std::string> tags;
};

// Builds a snapshot one entry at a time, so a cache can stream its entries under its shard
// locks without first copying them all. Add refuses (and writes nothing for) an entry the
// format cannot hold; the snapshot stays valid without it.
class SnapshotWriter {
 public:
  SnapshotWriter();

  Status Add(std::string_view key, std::string_view value, int64_t fresh_until_ms,
             int64_t stale_until_ms, const std::vector<std::string>& tags);
  Status Add(std::string_view key, std::string_view value, int64_t fresh_until_ms,
             int64_t stale_until_ms, const std::vector<std::string_view>& tags);
  Status Add(const SnapshotEntry& entry);

  uint64_t entry_count() const { return entry_count_; }
  // Bytes written so far (the finished snapshot adds the checksum).
  size_t size() const { return bytes_.size(); }

  // Completes the document (entry count, checksum) and hands it over; the writer is then
  // empty and must not be used again.
  std::string Finish();

 private:
  template <typename Tags>
  Status AddEntry(std::string_view key, std::string_view value, int64_t fresh_until_ms,
                  int64_t stale_until_ms, const Tags& tags);

  std::string bytes_;
  uint64_t entry_count_ = 0;
};

// Validates all of `bytes`, then returns its entries in document order.
Result<std::vector<SnapshotEntry>> DecodeSnapshot(std::string_view bytes);

}  // namespace tickcache
