// snapshot_codec.cc: writes and validates the snapshot format described in snapshot_codec.h.
//
// Decoding is two passes over the same bytes: the first checks every length against the
// bytes that remain and touches no allocator, so a forged count or length cannot make it
// reserve memory; only a document that passed it (checksum included) is copied out.
#include "snapshot_codec.h"

#include "little_endian.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>

namespace tickcache {
namespace {

constexpr size_t kCountOffset = 8 + 4;
constexpr uint64_t kMaxKeyBytes = std::numeric_limits<uint16_t>::max();
constexpr uint64_t kMaxTagBytes = std::numeric_limits<uint16_t>::max();
constexpr uint64_t kMaxTags = std::numeric_limits<uint16_t>::max();
constexpr uint64_t kMaxValueBytes = std::numeric_limits<uint32_t>::max();

std::string Hex(uint64_t value) {
  static const char kDigits[] = "0123456789abcdef";
  std::string text = "0x";
  for (int shift = 60; shift >= 0; shift -= 4) text += kDigits[(value >> shift) & 0xf];
  return text;
}

Status Corrupt(std::string message) {
  return Status(ErrorCode::kCorruptSnapshot, std::move(message));
}

// A bounds-checked cursor over the entries region of a snapshot.
class Cursor {
 public:
  Cursor(std::string_view bytes, size_t position) : bytes_(bytes), position_(position) {}

  size_t position() const { return position_; }
  size_t remaining() const { return bytes_.size() - position_; }

  template <typename T>
  bool Read(T* value) {
    if (remaining() < sizeof(T)) return false;
    *value = LoadLe<T>(bytes_.data() + position_);
    position_ += sizeof(T);
    return true;
  }

  // The bytes from `start` up to the cursor.
  std::string_view Since(size_t start) const { return bytes_.substr(start, position_ - start); }

  bool Take(size_t length, std::string_view* out) {
    if (remaining() < length) return false;
    *out = bytes_.substr(position_, length);
    position_ += length;
    return true;
  }

 private:
  std::string_view bytes_;
  size_t position_;
};

// One entry as views into the snapshot bytes; tags are read by a second walk.
struct EntryView {
  std::string_view key;
  std::string_view value;
  int64_t fresh_until_ms = 0;
  int64_t stale_until_ms = 0;
  uint16_t tag_count = 0;
  std::string_view tag_bytes;  // the encoded tags: (u16 length, bytes) * tag_count
};

std::string Where(size_t position, uint64_t index, uint64_t count) {
  return "at byte " + std::to_string(position) + " (entry " + std::to_string(index + 1) + " of " +
         std::to_string(count) + ")";
}

// Reads entry `index` of `count` at the cursor, checking every length and field.
Status ReadEntry(Cursor* cursor, uint64_t index, uint64_t count, EntryView* entry) {
  const size_t start = cursor->position();
  auto truncated = [&](const char* part, uint64_t needed) {
    return Corrupt("snapshot truncated " + Where(cursor->position(), index, count) + ": " + part +
                   " needs " + std::to_string(needed) + " bytes, " +
                   std::to_string(cursor->remaining()) + " remain");
  };
  if (cursor->remaining() < kSnapshotEntryFixedBytes) {
    return truncated("the entry header", kSnapshotEntryFixedBytes);
  }
  uint16_t key_length = 0;
  uint32_t value_length = 0;
  (void)cursor->Read(&key_length);
  (void)cursor->Read(&value_length);
  (void)cursor->Read(&entry->fresh_until_ms);
  (void)cursor->Read(&entry->stale_until_ms);
  (void)cursor->Read(&entry->tag_count);
  if (key_length == 0)
    return Corrupt("snapshot entry " + Where(start, index, count) + " has an empty key");
  if (entry->fresh_until_ms > entry->stale_until_ms) {
    return Corrupt("snapshot entry " + Where(start, index, count) + " has fresh_until_ms " +
                   std::to_string(entry->fresh_until_ms) + " after stale_until_ms " +
                   std::to_string(entry->stale_until_ms));
  }
  if (!cursor->Take(key_length, &entry->key)) return truncated("its key", key_length);
  if (!cursor->Take(value_length, &entry->value)) return truncated("its value", value_length);
  const size_t tags_start = cursor->position();
  for (uint32_t tag = 0; tag < entry->tag_count; ++tag) {
    uint16_t tag_length = 0;
    std::string_view tag_bytes;
    if (!cursor->Read(&tag_length)) {
      return truncated(("the length of tag " + std::to_string(tag + 1)).c_str(), 2);
    }
    if (!cursor->Take(tag_length, &tag_bytes)) {
      return truncated(("tag " + std::to_string(tag + 1)).c_str(), tag_length);
    }
  }
  entry->tag_bytes = cursor->Since(tags_start);
  return Status::Ok();
}

// Checks everything but the checksum, walking `body` (the bytes before the checksum). Each
// entry consumes at least kSnapshotEntryFixedBytes + 1 bytes or fails, so a forged count ends the walk early.
Status ValidateStructure(std::string_view body, uint64_t count) {
  Cursor cursor(body, kSnapshotHeaderBytes);
  EntryView entry;
  for (uint64_t index = 0; index < count; ++index) {
    Status status = ReadEntry(&cursor, index, count, &entry);
    if (!status.ok()) return status;
  }
  if (cursor.remaining() != 0) {
    return Corrupt("snapshot has " + std::to_string(cursor.remaining()) +
                   " unexpected bytes at byte " + std::to_string(cursor.position()) +
                   " after its " + std::to_string(count) + " entries");
  }
  return Status::Ok();
}

}  // namespace

SnapshotWriter::SnapshotWriter() {
  bytes_.append(kSnapshotMagic, sizeof(kSnapshotMagic));
  AppendLe<uint32_t>(&bytes_, kSnapshotFormatVersion);
  AppendLe<uint64_t>(&bytes_, 0);  // the entry count, set by Finish
}

template <typename Tags>
Status SnapshotWriter::AddEntry(std::string_view key, std::string_view value,
                                int64_t fresh_until_ms, int64_t stale_until_ms, const Tags& tags) {
  if (key.empty()) return Status(ErrorCode::kEmptyKey, "snapshot entries need a non-empty key");
  if (key.size() > kMaxKeyBytes) {
    return Status(ErrorCode::kKeyTooLarge, "snapshot key is " + std::to_string(key.size()) +
                                               " bytes, the format holds at most 65535");
  }
  if (value.size() > kMaxValueBytes) {
    return Status(ErrorCode::kValueTooLarge, "snapshot value is " + std::to_string(value.size()) +
                                                 " bytes, the format holds at most 4294967295");
  }
  if (fresh_until_ms > stale_until_ms) {
    return Status(ErrorCode::kInvalidTtl,
                  "snapshot entry has fresh_until_ms " + std::to_string(fresh_until_ms) +
                      " after stale_until_ms " + std::to_string(stale_until_ms));
  }
  if (tags.size() > kMaxTags) {
    return Status(ErrorCode::kInvalidArgument, "snapshot entry has " + std::to_string(tags.size()) +
                                                   " tags, the format holds at most 65535");
  }
  for (const auto& tag : tags) {
    if (tag.size() > kMaxTagBytes) {
      return Status(ErrorCode::kInvalidArgument, "snapshot tag is " + std::to_string(tag.size()) +
                                                     " bytes, the format holds at most 65535");
    }
  }
  AppendLe<uint16_t>(&bytes_, static_cast<uint16_t>(key.size()));
  AppendLe<uint32_t>(&bytes_, static_cast<uint32_t>(value.size()));
  AppendLe<int64_t>(&bytes_, fresh_until_ms);
  AppendLe<int64_t>(&bytes_, stale_until_ms);
  AppendLe<uint16_t>(&bytes_, static_cast<uint16_t>(tags.size()));
  bytes_.append(key);
  bytes_.append(value);
  for (const auto& tag : tags) {
    AppendLe<uint16_t>(&bytes_, static_cast<uint16_t>(tag.size()));
    bytes_.append(tag);
  }
  ++entry_count_;
  return Status::Ok();
}

Status SnapshotWriter::Add(std::string_view key, std::string_view value, int64_t fresh_until_ms,
                           int64_t stale_until_ms, const std::vector<std::string>& tags) {
  return AddEntry(key, value, fresh_until_ms, stale_until_ms, tags);
}

Status SnapshotWriter::Add(std::string_view key, std::string_view value, int64_t fresh_until_ms,
                           int64_t stale_until_ms, const std::vector<std::string_view>& tags) {
  return AddEntry(key, value, fresh_until_ms, stale_until_ms, tags);
}

Status SnapshotWriter::Add(const SnapshotEntry& entry) {
  return AddEntry(entry.key, entry.value, entry.fresh_until_ms, entry.stale_until_ms, entry.tags);
}

std::string SnapshotWriter::Finish() {
  std::string count;
  AppendLe<uint64_t>(&count, entry_count_);
  bytes_.replace(kCountOffset, count.size(), count);
  AppendLe<uint64_t>(&bytes_, XXH3_64bits(bytes_.data(), bytes_.size()));
  std::string done = std::move(bytes_);
  *this = SnapshotWriter();
  return done;
}

Result<std::vector<SnapshotEntry>> DecodeSnapshot(std::string_view bytes) {
  const size_t magic_checked = std::min(bytes.size(), sizeof(kSnapshotMagic) - 1);
  if (bytes.substr(0, magic_checked) != std::string_view(kSnapshotMagic, magic_checked)) {
    return Corrupt("not a tickcache snapshot: it does not start with \"TKCSNAP\"");
  }
  if (bytes.size() >= sizeof(kSnapshotMagic) &&
      bytes[sizeof(kSnapshotMagic) - 1] != kSnapshotMagic[sizeof(kSnapshotMagic) - 1]) {
    return Corrupt("snapshot magic revision " +
                   std::to_string(static_cast<unsigned char>(bytes[sizeof(kSnapshotMagic) - 1])) +
                   " is not the one this build reads (1)");
  }
  if (bytes.size() < kSnapshotHeaderBytes + kSnapshotChecksumBytes) {
    return Corrupt("snapshot truncated at byte " + std::to_string(bytes.size()) +
                   ": a snapshot has at least " +
                   std::to_string(kSnapshotHeaderBytes + kSnapshotChecksumBytes) +
                   " bytes (header and checksum)");
  }
  const uint32_t version = LoadLe<uint32_t>(bytes.data() + sizeof(kSnapshotMagic));
  if (version != kSnapshotFormatVersion) {
    return Corrupt("snapshot format version " + std::to_string(version) +
                   " is not supported (this build reads version " +
                   std::to_string(kSnapshotFormatVersion) + ")");
  }
  const uint64_t count = LoadLe<uint64_t>(bytes.data() + kCountOffset);
  const std::string_view body = bytes.substr(0, bytes.size() - kSnapshotChecksumBytes);
  const uint64_t stored = LoadLe<uint64_t>(bytes.data() + body.size());
  const uint64_t computed = XXH3_64bits(body.data(), body.size());
  Status structure = ValidateStructure(body, count);
  if (stored != computed) {
    // A structural problem says where the damage is; the checksum only that there is some.
    if (!structure.ok()) return Corrupt(structure.message() + " (and the checksum does not match)");
    return Corrupt("checksum mismatch: the snapshot says " + Hex(stored) + ", its bytes hash to " +
                   Hex(computed));
  }
  if (!structure.ok()) return structure;

  std::vector<SnapshotEntry> entries;
  // ValidateStructure walked `count` entries of at least 25 bytes each: count <= size / 25.
  entries.reserve(static_cast<size_t>(count));
  Cursor cursor(body, kSnapshotHeaderBytes);
  EntryView view;
  for (uint64_t index = 0; index < count; ++index) {
    (void)ReadEntry(&cursor, index, count, &view);
    SnapshotEntry& entry = entries.emplace_back();
    entry.key.assign(view.key);
    entry.value.assign(view.value);
    entry.fresh_until_ms = view.fresh_until_ms;
    entry.stale_until_ms = view.stale_until_ms;
    entry.tags.reserve(view.tag_count);
    Cursor tags(view.tag_bytes, 0);
    for (uint32_t tag = 0; tag < view.tag_count; ++tag) {
      uint16_t length = 0;
      std::string_view text;
      (void)tags.Read(&length);
      (void)tags.Take(length, &text);
      entry.tags.emplace_back(text);
    }
  }
  return entries;
}

}  // namespace tickcache
