// file_store.cc: the file-backed Store, one append-only log per shard.
//
// File `<dir>/shard-<i>-of-<n>.log`:
//
//   header   magic "TKCLOG\x01\0", u32 shard index, u32 shard count, u32 checksum of those 16
//   records  [u32 checksum][u8 type][u32 total length][fields], integers little-endian; the
//            checksum is XXH3-64 (seed 0) of everything after it, truncated to 32 bits
//     put      i64 fresh_until_ms, i64 stale_until_ms, u16 key length, u16 tag count,
//              u32 value length, key, tags (u16 length + bytes each), value (last, so its
//              offset is the record's end minus its length)
//     release  u64 offset of the put record it cancels
//     touch    u64 offset of the put record, i64 fresh_until_ms, i64 stale_until_ms
//
// Release and touch name a put by its offset, not by key: the cache may Put a key's new
// value before it releases the old one, and a release must cancel exactly that old record.
// Touch appends a small record instead of copying the value again; compaction folds the
// latest times into the put record it copies, so touch records never outlive one.
//
// Invariants:
//   - memory holds, per live handle, the put record's offset and size, the key, the value
//     size and the current times; `live_bytes_` is the header plus the live put records, so
//     a compaction produces a file of exactly `live_bytes_` and the rest of the file is dead;
//   - every append goes at `file_bytes_`, the end of the last whole record; a failed append
//     is cut off again (or overwritten by the next one, and dropped as a torn tail at the
//     next open), so the log is always whole records followed by at most one torn one;
//   - compaction writes the live records to `<log>.compact`, fsyncs it and renames it over
//     the log: a crash leaves either the old log or the new one, never a mix;
//   - the log stays within its share of max_file_bytes (max_file_bytes / shard count): an
//     append that would cross it compacts first, and a Put whose record cannot fit beside
//     the live data even then is refused with kStoreFull. One exception: when that
//     compaction fails (an I/O error), a release or touch record is still appended, up to 33
//     bytes past the share, because dropping a release would resurrect the entry at the
//     next open;
//   - when a release or touch record cannot be written, the store is `dirty_`: the next
//     Flush, Release or Touch rewrites the log from memory (a compaction), so a restart
//     never resurrects a released entry once a later write has succeeded.
//
// Records are written with pwrite and no fsync per record: a process crash loses nothing,
// a power loss may lose the records written since the last Flush or compaction (the torn
// tail is cut off at the next open).
#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "little_endian.h"
#include "platform_file.h"
#include "tickcache/store.h"

namespace tickcache {
namespace {

constexpr char kLogMagic[8] = {'T', 'K', 'C', 'L', 'O', 'G', '\x01', '\0'};
constexpr size_t kLogHeaderBytes = 8 + 4 + 4 + 4;
constexpr size_t kRecordHeaderBytes = 4 + 1 + 4;
constexpr size_t kPutFixedBytes = kRecordHeaderBytes + 8 + 8 + 2 + 2 + 4;
constexpr size_t kFreshOffset = kRecordHeaderBytes;
constexpr size_t kStaleOffset = kRecordHeaderBytes + 8;
constexpr size_t kReleaseBytes = kRecordHeaderBytes + 8;
constexpr size_t kTouchBytes = kRecordHeaderBytes + 8 + 8 + 8;
// Dead bytes below this are not worth a compaction (two fsyncs and a rename) on their own.
constexpr uint64_t kMinDeadBytesToCompact = 64 << 10;
// With max_file_bytes 0, a log may grow to twice its live bytes plus this.
constexpr uint64_t kAutoSlackBytes = 1 << 20;
constexpr size_t kIoChunkBytes = 1 << 20;

enum RecordType : uint8_t { kPut = 1, kRelease = 2, kTouch = 3 };

uint32_t Checksum(const char* data, size_t size) {
  return static_cast<uint32_t>(XXH3_64bits(data, size));
}

// A record's checksum covers everything after its own four bytes.
uint32_t RecordChecksum(std::string_view record) {
  return Checksum(record.data() + 4, record.size() - 4);
}

void SealRecord(std::string* record) {
  StoreLe<uint32_t>(record->data() + 5, static_cast<uint32_t>(record->size()));
  StoreLe<uint32_t>(record->data(), RecordChecksum(*record));
}

void BeginRecord(std::string* record, RecordType type) {
  record->clear();
  AppendLe<uint32_t>(record, 0);  // checksum, set by SealRecord
  AppendLe<uint8_t>(record, type);
  AppendLe<uint32_t>(record, 0);  // total length, set by SealRecord
}

std::string LogHeader(uint32_t shard_index, uint32_t shard_count) {
  std::string header(kLogMagic, sizeof(kLogMagic));
  AppendLe<uint32_t>(&header, shard_index);
  AppendLe<uint32_t>(&header, shard_count);
  AppendLe<uint32_t>(&header, Checksum(header.data(), header.size()));
  return header;
}

std::string LogName(uint32_t shard_index, uint32_t shard_count) {
  return "shard-" + std::to_string(shard_index) + "-of-" + std::to_string(shard_count) + ".log";
}

// Parses "shard-<i>-of-<n>.log"; false for any other name.
bool ParseLogName(std::string_view name, uint64_t* index, uint64_t* count) {
  auto number = [&](uint64_t* out) {
    size_t digits = 0;
    *out = 0;
    while (digits < name.size() && digits < 10 && name[digits] >= '0' && name[digits] <= '9') {
      *out = *out * 10 + static_cast<uint64_t>(name[digits] - '0');
      ++digits;
    }
    name.remove_prefix(digits);
    return digits > 0;
  };
  auto literal = [&](std::string_view text) {
    if (name.substr(0, text.size()) != text) return false;
    name.remove_prefix(text.size());
    return true;
  };
  return literal("shard-") && number(index) && literal("-of-") && number(count) &&
         literal(".log") && name.empty();
}

// Wall-clock "now" for dropping expired entries at open. The Store interface gives a store
// no clock, and the times it persists are absolute epoch milliseconds that must mean the
// same after a restart, so the platform's wall clock is the only meaningful reference here.
// The cache still checks every recovered entry against its own clock.
int64_t WallClockNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads a log front to back through a window, so replay costs one read per megabyte rather
// than one per record. Callers never ask past `file_bytes`, so no window outgrows the file.
class LogReader {
 public:
  LogReader(const platform::File& file, uint64_t file_bytes)
      : file_(file), file_bytes_(file_bytes) {}

  Status View(uint64_t offset, size_t length, std::string_view* out) {
    if (offset < window_offset_ || offset + length > window_offset_ + window_.size()) {
      const uint64_t want = std::max<uint64_t>(length, kIoChunkBytes);
      const size_t size = static_cast<size_t>(std::min<uint64_t>(want, file_bytes_ - offset));
      window_.resize(size);
      Status status = file_.ReadAt(offset, size, window_.data());
      if (!status.ok()) {
        window_.clear();
        return status;
      }
      window_offset_ = offset;
    }
    *out = std::string_view(window_).substr(static_cast<size_t>(offset - window_offset_), length);
    return Status::Ok();
  }

 private:
  const platform::File& file_;
  uint64_t file_bytes_;
  uint64_t window_offset_ = 0;
  std::string window_;
};

// A put found during replay, still subject to later release, touch and expiry.
struct PendingPut {
  std::string key;
  uint32_t record_bytes = 0;
  uint32_t value_bytes = 0;
  int64_t fresh_until_ms = 0;
  int64_t stale_until_ms = 0;
  std::vector<std::string> tags;
};

// Decodes a put record whose checksum and total length were already checked.
bool ParsePut(std::string_view record, PendingPut* put) {
  if (record.size() < kPutFixedBytes) return false;
  const char* data = record.data();
  put->fresh_until_ms = LoadLe<int64_t>(data + kFreshOffset);
  put->stale_until_ms = LoadLe<int64_t>(data + kStaleOffset);
  const uint16_t key_bytes = LoadLe<uint16_t>(data + kRecordHeaderBytes + 16);
  const uint16_t tag_count = LoadLe<uint16_t>(data + kRecordHeaderBytes + 18);
  const uint32_t value_bytes = LoadLe<uint32_t>(data + kRecordHeaderBytes + 20);
  size_t position = kPutFixedBytes;
  if (key_bytes == 0 || record.size() - position < key_bytes) return false;
  put->key.assign(record.substr(position, key_bytes));
  position += key_bytes;
  put->tags.clear();
  for (uint32_t tag = 0; tag < tag_count; ++tag) {
    if (record.size() - position < 2) return false;
    const uint16_t tag_bytes = LoadLe<uint16_t>(data + position);
    position += 2;
    if (record.size() - position < tag_bytes) return false;
    put->tags.emplace_back(record.substr(position, tag_bytes));
    position += tag_bytes;
  }
  if (record.size() - position != value_bytes) return false;
  put->record_bytes = static_cast<uint32_t>(record.size());
  put->value_bytes = value_bytes;
  return true;
}

class FileStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& directory, uint32_t shard_index,
                                             uint32_t shard_count, uint64_t max_file_bytes);

  Result<StoreHandle> Put(std::string_view key, std::string_view value,
                          const StoredMeta& meta) override;
  std::string_view Key(StoreHandle handle) const override;
  uint32_t ValueSize(StoreHandle handle) const override;
  Status ReadValue(StoreHandle handle, std::string* out) const override;
  void Touch(StoreHandle handle, const StoredMeta& meta) override;
  void Release(StoreHandle handle) override;
  void ReleaseAll() override;
  uint64_t OverheadBytes() const override;
  void Recover(const std::function<void(const RecoveredEntry&)>& visit) override;
  Status Flush() override;

  std::string Diagnostics() const;

 private:
  struct Slot {
    std::string key;
    uint64_t offset = 0;
    int64_t fresh_until_ms = 0;
    int64_t stale_until_ms = 0;
    uint32_t record_bytes = 0;  // 0: the handle is free
    uint32_t value_bytes = 0;
  };

  FileStore(std::string log_path, uint32_t shard_index, uint32_t shard_count,
            uint64_t max_file_bytes)
      : log_path_(std::move(log_path)),
        shard_index_(shard_index),
        shard_count_(shard_count),
        max_file_bytes_(max_file_bytes) {}

  Status OpenLog();
  Status Replay();
  bool IsLive(StoreHandle handle) const {
    return handle < slots_.size() && slots_[handle].record_bytes != 0;
  }
  uint64_t BudgetFor(uint64_t live_bytes) const {
    return max_file_bytes_ > 0 ? max_file_bytes_ : 2 * live_bytes + kAutoSlackBytes;
  }
  uint64_t DeadBytes() const { return file_bytes_ - live_bytes_; }
  bool WorthCompacting() const {
    return DeadBytes() > live_bytes_ && DeadBytes() >= kMinDeadBytesToCompact;
  }
  // Appends a release or touch record, or compacts instead when the log is dirty, over
  // its bound or mostly dead (a compaction makes the record unnecessary).
  void AppendSmallRecord(const std::string& record);
  Status AppendRecord(const std::string& record);
  Status Compact();
  StoreHandle AllocateHandle();
  void FreeHandle(StoreHandle handle);
  static uint64_t KeyHeapBytes(const std::string& key);

  const std::string log_path_;
  const uint32_t shard_index_;
  const uint32_t shard_count_;
  const uint64_t max_file_bytes_;  // this shard's share; 0: BudgetFor grows with live data
  platform::File log_;
  uint64_t file_bytes_ = 0;
  uint64_t live_bytes_ = 0;
  bool dirty_ = false;
  std::vector<Slot> slots_;
  std::vector<StoreHandle> free_handles_;
  uint64_t key_heap_bytes_ = 0;
  mutable std::string scratch_;

  // Tags of the entries found at open, handed to Recover once and then freed; an entry
  // released before Recover runs is not reported.
  struct RecoveredInfo {
    bool pending = false;
    std::vector<std::string> tags;
  };
  std::vector<RecoveredInfo> recovered_;

  // Counters for diagnostics.
  uint64_t torn_tail_bytes_ = 0;
  uint64_t expired_dropped_ = 0;
  uint64_t superseded_dropped_ = 0;
  uint64_t compactions_ = 0;
  uint64_t failed_writes_ = 0;
};

Result<std::unique_ptr<Store>> FileStore::Open(const std::string& directory, uint32_t shard_index,
                                               uint32_t shard_count, uint64_t max_file_bytes) {
  if (directory.empty()) {
    return Status(ErrorCode::kInvalidArgument, "file store directory is empty");
  }
  if (shard_count == 0 || shard_index >= shard_count) {
    return Status(ErrorCode::kInvalidArgument, "file store shard " + std::to_string(shard_index) +
                                                   " of " + std::to_string(shard_count) +
                                                   " does not exist");
  }
  Status status = platform::CreateDirectories(directory);
  if (!status.ok()) return status;
  Result<std::vector<std::string>> names = platform::ListDirectory(directory);
  if (!names.ok()) return names.status();
  for (const std::string& name : names.value()) {
    uint64_t index = 0, count = 0;
    if (ParseLogName(name, &index, &count) && count != shard_count) {
      return Status(ErrorCode::kInvalidArgument,
                    "file store directory " + directory + " holds " + name +
                        ", a log of a cache with " + std::to_string(count) +
                        " shards, but this cache has " + std::to_string(shard_count) +
                        " shards: keys would land in other shards, so build the cache with " +
                        std::to_string(count) + " shards, or use another directory");
    }
  }
  const std::string separator = directory.back() == '/' ? "" : "/";
  // A bound too small to share out still bounds: a one-byte share refuses every Put.
  const uint64_t share =
      max_file_bytes == 0 ? 0 : std::max<uint64_t>(1, max_file_bytes / shard_count);
  std::unique_ptr<FileStore> store(new FileStore(
      directory + separator + LogName(shard_index, shard_count), shard_index, shard_count, share));
  status = store->OpenLog();
  if (!status.ok()) return status;
  return std::unique_ptr<Store>(std::move(store));
}

Status FileStore::OpenLog() {
  Result<platform::File> file = platform::File::Open(log_path_, platform::File::Mode::kReadWrite);
  if (!file.ok()) return file.status();
  log_ = std::move(file.value());
  Status status = log_.TryLockExclusive();
  if (!status.ok()) return status;
  // Only the lock holder may clean up: another store may be compacting into this file.
  status = platform::RemoveFile(log_path_ + ".compact");
  if (!status.ok()) return status;

  Result<uint64_t> size = log_.Size();
  if (!size.ok()) return size.status();
  const std::string header = LogHeader(shard_index_, shard_count_);
  std::string existing(static_cast<size_t>(std::min<uint64_t>(size.value(), kLogHeaderBytes)),
                       '\0');
  status = log_.ReadAt(0, existing.size(), existing.data());
  if (!status.ok()) return status;
  if (existing.size() < kLogHeaderBytes && header.compare(0, existing.size(), existing) == 0) {
    // New, or its header write was torn by a crash: nothing was ever recorded after it.
    status = log_.Truncate(0);
    if (status.ok()) status = log_.WriteAt(0, header);
    if (status.ok()) status = log_.Sync();
    if (status.ok()) status = platform::SyncDirectory(platform::DirectoryOf(log_path_));
    if (!status.ok()) return status;
    file_bytes_ = live_bytes_ = kLogHeaderBytes;
    return Status::Ok();
  }
  if (existing != header) {
    std::string reason = "its header is damaged";
    if (existing.compare(0, sizeof(kLogMagic), kLogMagic, sizeof(kLogMagic)) != 0) {
      reason = "it does not start with the tickcache log magic";
    } else if (existing.size() == kLogHeaderBytes &&
               Checksum(existing.data(), 16) == LoadLe<uint32_t>(existing.data() + 16)) {
      reason = "its header says shard " + std::to_string(LoadLe<uint32_t>(existing.data() + 8)) +
               " of " + std::to_string(LoadLe<uint32_t>(existing.data() + 12));
    }
    return Status(ErrorCode::kIoError, "cannot open file store log " + log_path_ +
                                           ": it is not this shard's log (" + reason + ")");
  }
  file_bytes_ = size.value();
  return Replay();
}

Status FileStore::Replay() {
  LogReader reader(log_, file_bytes_);
  std::unordered_map<uint64_t, PendingPut> puts;  // by offset
  uint64_t position = kLogHeaderBytes;
  while (position < file_bytes_) {
    const uint64_t remaining = file_bytes_ - position;
    std::string_view header;
    if (remaining < kRecordHeaderBytes) break;
    Status status = reader.View(position, kRecordHeaderBytes, &header);
    if (!status.ok()) return status;
    const uint8_t type = LoadLe<uint8_t>(header.data() + 4);
    const uint32_t total = LoadLe<uint32_t>(header.data() + 5);
    const bool length_ok = (type == kPut && total >= kPutFixedBytes) ||
                           (type == kRelease && total == kReleaseBytes) ||
                           (type == kTouch && total == kTouchBytes);
    if (!length_ok || total > remaining) break;
    std::string_view record;
    status = reader.View(position, total, &record);
    if (!status.ok()) return status;
    if (LoadLe<uint32_t>(record.data()) != RecordChecksum(record)) break;
    if (type == kPut) {
      PendingPut put;
      if (!ParsePut(record, &put)) break;
      puts.emplace(position, std::move(put));
    } else {
      // A release or touch names a put earlier in this file; one that names nothing means
      // the file is not what this store wrote, so it ends the trusted prefix.
      auto target = puts.find(LoadLe<uint64_t>(record.data() + kRecordHeaderBytes));
      if (target == puts.end()) break;
      if (type == kRelease) {
        puts.erase(target);
      } else {
        target->second.fresh_until_ms = LoadLe<int64_t>(record.data() + kRecordHeaderBytes + 8);
        target->second.stale_until_ms = LoadLe<int64_t>(record.data() + kRecordHeaderBytes + 16);
      }
    }
    position += total;
  }
  if (position < file_bytes_) {
    // Never half-load: everything from the first torn or damaged record on is cut off.
    torn_tail_bytes_ = file_bytes_ - position;
    Status status = log_.Truncate(position);
    if (status.ok()) status = log_.Sync();
    if (!status.ok()) return status;
    file_bytes_ = position;
  }

  // In file order, the last put of a key wins (an overwrite whose old record was not yet
  // released when the process stopped).
  std::vector<uint64_t> offsets;
  offsets.reserve(puts.size());
  for (const auto& [offset, put] : puts) offsets.push_back(offset);
  std::sort(offsets.begin(), offsets.end());
  std::unordered_map<std::string_view, uint64_t> latest;
  for (uint64_t offset : offsets) latest[puts[offset].key] = offset;
  const int64_t now_ms = WallClockNowMs();
  std::vector<uint64_t> survivors;
  for (uint64_t offset : offsets) {
    const PendingPut& put = puts[offset];
    if (latest[put.key] != offset) {
      ++superseded_dropped_;
    } else if (put.stale_until_ms <= now_ms) {
      ++expired_dropped_;
    } else {
      survivors.push_back(offset);
    }
  }
  live_bytes_ = kLogHeaderBytes;
  slots_.reserve(survivors.size());
  recovered_.resize(survivors.size());
  for (uint64_t offset : survivors) {
    PendingPut& put = puts[offset];
    const StoreHandle handle = AllocateHandle();
    Slot& slot = slots_[handle];
    slot.key = std::move(put.key);
    slot.offset = offset;
    slot.fresh_until_ms = put.fresh_until_ms;
    slot.stale_until_ms = put.stale_until_ms;
    slot.record_bytes = put.record_bytes;
    slot.value_bytes = put.value_bytes;
    key_heap_bytes_ += KeyHeapBytes(slot.key);
    live_bytes_ += put.record_bytes;
    recovered_[handle].pending = true;
    recovered_[handle].tags = std::move(put.tags);
  }
  if (WorthCompacting() || file_bytes_ > BudgetFor(live_bytes_)) {
    // Best effort: an open that cannot compact still serves the entries it recovered.
    if (!Compact().ok()) ++failed_writes_;
  }
  return Status::Ok();
}

StoreHandle FileStore::AllocateHandle() {
  if (!free_handles_.empty()) {
    const StoreHandle handle = free_handles_.back();
    free_handles_.pop_back();
    return handle;
  }
  slots_.emplace_back();
  return static_cast<StoreHandle>(slots_.size() - 1);
}

void FileStore::FreeHandle(StoreHandle handle) {
  Slot& slot = slots_[handle];
  key_heap_bytes_ -= KeyHeapBytes(slot.key);
  live_bytes_ -= slot.record_bytes;
  slot = Slot();
  free_handles_.push_back(handle);
  if (handle < recovered_.size()) recovered_[handle] = RecoveredInfo();
}

uint64_t FileStore::KeyHeapBytes(const std::string& key) {
  static const size_t kInlineCapacity = std::string().capacity();
  // A key past the inline buffer costs an allocation: its unused capacity, the terminator
  // and a typical allocator header beside the key bytes themselves.
  return key.capacity() > kInlineCapacity ? key.capacity() - key.size() + 1 + 16 : 0;
}

Status FileStore::AppendRecord(const std::string& record) {
  Status status = log_.WriteAt(file_bytes_, record);
  if (!status.ok()) {
    ++failed_writes_;
    // Cut off what part of the record landed; if that fails too, the next append overwrites
    // it and an open drops any leftover as a torn tail.
    (void)log_.Truncate(file_bytes_);
    return status;
  }
  file_bytes_ += record.size();
  return Status::Ok();
}

Result<StoreHandle> FileStore::Put(std::string_view key, std::string_view value,
                                   const StoredMeta& meta) {
  if (key.empty()) return Status(ErrorCode::kEmptyKey, "file store keys need at least one byte");
  if (key.size() > std::numeric_limits<uint16_t>::max()) {
    return Status(ErrorCode::kKeyTooLarge, "file store key is " + std::to_string(key.size()) +
                                               " bytes, the log format holds at most 65535");
  }
  const size_t tag_count = meta.tags == nullptr ? 0 : meta.tags->size();
  if (tag_count > std::numeric_limits<uint16_t>::max()) {
    return Status(ErrorCode::kInvalidArgument, "file store entry has " + std::to_string(tag_count) +
                                                   " tags, the log format holds at most 65535");
  }
  uint64_t record_bytes = kPutFixedBytes + key.size() + value.size();
  for (size_t i = 0; i < tag_count; ++i) {
    const std::string& tag = (*meta.tags)[i];
    if (tag.size() > std::numeric_limits<uint16_t>::max()) {
      return Status(ErrorCode::kInvalidArgument, "file store tag is " + std::to_string(tag.size()) +
                                                     " bytes, the log format holds at most 65535");
    }
    record_bytes += 2 + tag.size();
  }
  if (record_bytes > std::numeric_limits<uint32_t>::max()) {
    return Status(ErrorCode::kValueTooLarge, "file store record would be " +
                                                 std::to_string(record_bytes) +
                                                 " bytes, the log format holds at most 4294967295");
  }
  if (free_handles_.empty() && slots_.size() > std::numeric_limits<StoreHandle>::max()) {
    return Status(ErrorCode::kStoreFull, "file store shard holds 2^32 entries already");
  }
  const uint64_t budget = BudgetFor(live_bytes_ + record_bytes);
  if (live_bytes_ + record_bytes > budget) {
    return Status(ErrorCode::kStoreFull, "file store entry needs " + std::to_string(record_bytes) +
                                             " bytes in " + log_path_ + ", which holds " +
                                             std::to_string(live_bytes_) + " live bytes of its " +
                                             std::to_string(budget) +
                                             "-byte share of max_file_bytes");
  }
  if (file_bytes_ + record_bytes > budget) {
    Status status = Compact();
    if (!status.ok()) return status;
  }

  BeginRecord(&scratch_, kPut);
  AppendLe<int64_t>(&scratch_, meta.fresh_until_ms);
  AppendLe<int64_t>(&scratch_, meta.stale_until_ms);
  AppendLe<uint16_t>(&scratch_, static_cast<uint16_t>(key.size()));
  AppendLe<uint16_t>(&scratch_, static_cast<uint16_t>(tag_count));
  AppendLe<uint32_t>(&scratch_, static_cast<uint32_t>(value.size()));
  scratch_.append(key);
  for (size_t i = 0; i < tag_count; ++i) {
    const std::string& tag = (*meta.tags)[i];
    AppendLe<uint16_t>(&scratch_, static_cast<uint16_t>(tag.size()));
    scratch_.append(tag);
  }
  scratch_.append(value);
  SealRecord(&scratch_);

  const uint64_t offset = file_bytes_;
  Status status = AppendRecord(scratch_);
  if (!status.ok()) return status;
  const StoreHandle handle = AllocateHandle();
  Slot& slot = slots_[handle];
  slot.key.assign(key);
  slot.offset = offset;
  slot.fresh_until_ms = meta.fresh_until_ms;
  slot.stale_until_ms = meta.stale_until_ms;
  slot.record_bytes = static_cast<uint32_t>(record_bytes);
  slot.value_bytes = static_cast<uint32_t>(value.size());
  key_heap_bytes_ += KeyHeapBytes(slot.key);
  live_bytes_ += record_bytes;
  return handle;
}

std::string_view FileStore::Key(StoreHandle handle) const {
  return IsLive(handle) ? std::string_view(slots_[handle].key) : std::string_view();
}

uint32_t FileStore::ValueSize(StoreHandle handle) const {
  return IsLive(handle) ? slots_[handle].value_bytes : 0;
}

Status FileStore::ReadValue(StoreHandle handle, std::string* out) const {
  if (!IsLive(handle)) {
    return Status(ErrorCode::kInvalidArgument,
                  "file store handle " + std::to_string(handle) + " is not in use");
  }
  const Slot& slot = slots_[handle];
  // The whole record is read so its checksum can vouch for the value handed out.
  out->resize(slot.record_bytes);
  Status status = log_.ReadAt(slot.offset, slot.record_bytes, out->data());
  if (!status.ok()) return status;
  if (LoadLe<uint32_t>(out->data()) != RecordChecksum(*out)) {
    return Status(ErrorCode::kIoError, "file store record at offset " +
                                           std::to_string(slot.offset) + " of " + log_path_ +
                                           " fails its checksum: the file was damaged or changed");
  }
  out->erase(0, slot.record_bytes - slot.value_bytes);
  return Status::Ok();
}

void FileStore::AppendSmallRecord(const std::string& record) {
  if (dirty_ || WorthCompacting() || file_bytes_ + record.size() > BudgetFor(live_bytes_)) {
    if (Compact().ok()) return;
  }
  if (!AppendRecord(record).ok()) dirty_ = true;
}

void FileStore::Touch(StoreHandle handle, const StoredMeta& meta) {
  if (!IsLive(handle)) return;
  Slot& slot = slots_[handle];
  slot.fresh_until_ms = meta.fresh_until_ms;
  slot.stale_until_ms = meta.stale_until_ms;
  BeginRecord(&scratch_, kTouch);
  AppendLe<uint64_t>(&scratch_, slot.offset);
  AppendLe<int64_t>(&scratch_, meta.fresh_until_ms);
  AppendLe<int64_t>(&scratch_, meta.stale_until_ms);
  SealRecord(&scratch_);
  AppendSmallRecord(scratch_);
}

void FileStore::Release(StoreHandle handle) {
  if (!IsLive(handle)) return;
  const uint64_t offset = slots_[handle].offset;
  FreeHandle(handle);
  BeginRecord(&scratch_, kRelease);
  AppendLe<uint64_t>(&scratch_, offset);
  SealRecord(&scratch_);
  AppendSmallRecord(scratch_);
}

void FileStore::ReleaseAll() {
  for (StoreHandle handle = 0; handle < slots_.size(); ++handle) {
    if (IsLive(handle)) FreeHandle(handle);
  }
  slots_.clear();
  free_handles_.clear();
  recovered_.clear();
  // A log of just the header: without it a restart would bring everything back.
  if (!Compact().ok()) dirty_ = true;
}

uint64_t FileStore::OverheadBytes() const {
  uint64_t bytes = sizeof(FileStore) + slots_.capacity() * sizeof(Slot) +
                   free_handles_.capacity() * sizeof(StoreHandle) + key_heap_bytes_ +
                   scratch_.capacity() + recovered_.capacity() * sizeof(RecoveredInfo);
  for (const RecoveredInfo& info : recovered_) {
    for (const std::string& tag : info.tags) bytes += sizeof(std::string) + tag.capacity();
  }
  return bytes;
}

void FileStore::Recover(const std::function<void(const RecoveredEntry&)>& visit) {
  for (StoreHandle handle = 0; handle < recovered_.size(); ++handle) {
    RecoveredInfo& info = recovered_[handle];
    if (!info.pending || !IsLive(handle)) continue;
    const Slot& slot = slots_[handle];
    RecoveredEntry entry;
    entry.handle = handle;
    entry.key = slot.key;
    entry.value_size = slot.value_bytes;
    entry.fresh_until_ms = slot.fresh_until_ms;
    entry.stale_until_ms = slot.stale_until_ms;
    entry.tags = std::move(info.tags);
    visit(entry);
  }
  recovered_.clear();
  recovered_.shrink_to_fit();
}

Status FileStore::Flush() {
  if (dirty_) return Compact();
  return log_.Sync();
}

Status FileStore::Compact() {
  const std::string temp_path = log_path_ + ".compact";
  Result<platform::File> opened =
      platform::File::Open(temp_path, platform::File::Mode::kReadWriteCreate);
  if (!opened.ok()) return opened.status();
  platform::File temp = std::move(opened.value());

  std::vector<StoreHandle> order;
  order.reserve(slots_.size() - free_handles_.size());
  for (StoreHandle handle = 0; handle < slots_.size(); ++handle) {
    if (IsLive(handle)) order.push_back(handle);
  }
  // In file order, so the old log is read front to back.
  std::sort(order.begin(), order.end(),
            [&](StoreHandle a, StoreHandle b) { return slots_[a].offset < slots_[b].offset; });
  std::vector<uint64_t> new_offsets(order.size());

  // The new log is locked before it is renamed into place, so no other store can open it.
  Status status = temp.TryLockExclusive();
  std::string buffer = LogHeader(shard_index_, shard_count_);
  uint64_t written = 0;
  std::string record;
  for (size_t i = 0; status.ok() && i < order.size(); ++i) {
    const Slot& slot = slots_[order[i]];
    record.resize(slot.record_bytes);
    status = log_.ReadAt(slot.offset, slot.record_bytes, record.data());
    if (!status.ok()) break;
    if (LoadLe<uint32_t>(record.data()) != RecordChecksum(record)) {
      status = Status(ErrorCode::kIoError, "file store record at offset " +
                                               std::to_string(slot.offset) + " of " + log_path_ +
                                               " fails its checksum: the file was damaged");
      break;
    }
    // Fold in the latest touch, so the touch records can be left behind.
    StoreLe<int64_t>(record.data() + kFreshOffset, slot.fresh_until_ms);
    StoreLe<int64_t>(record.data() + kStaleOffset, slot.stale_until_ms);
    StoreLe<uint32_t>(record.data(), RecordChecksum(record));
    new_offsets[i] = written + buffer.size();
    buffer += record;
    if (buffer.size() >= kIoChunkBytes) {
      status = temp.WriteAt(written, buffer);
      written += buffer.size();
      buffer.clear();
    }
  }
  if (status.ok() && !buffer.empty()) {
    status = temp.WriteAt(written, buffer);
    written += buffer.size();
  }
  if (status.ok()) status = temp.Sync();
  if (status.ok()) status = platform::RenameFile(temp_path, log_path_);
  if (!status.ok()) {
    ++failed_writes_;
    (void)temp.Close();
    (void)platform::RemoveFile(temp_path);
    return Status(status.code(), "compaction of " + log_path_ +
                                     " failed, the log is unchanged: " + status.message());
  }

  log_ = std::move(temp);
  for (size_t i = 0; i < order.size(); ++i) slots_[order[i]].offset = new_offsets[i];
  file_bytes_ = written;
  dirty_ = false;
  ++compactions_;
  // live_bytes_ already counts exactly what was copied: the header and the live records.
  status = platform::SyncDirectory(platform::DirectoryOf(log_path_));
  if (!status.ok()) {
    ++failed_writes_;
    return Status(status.code(), "compacted " + log_path_ +
                                     " but could not make the rename durable: " + status.message());
  }
  return Status::Ok();
}

std::string FileStore::Diagnostics() const {
  return "file_bytes=" + std::to_string(file_bytes_) +
         " live_bytes=" + std::to_string(live_bytes_) +
         " torn_tail_bytes=" + std::to_string(torn_tail_bytes_) +
         " expired_dropped=" + std::to_string(expired_dropped_) +
         " superseded_dropped=" + std::to_string(superseded_dropped_) +
         " compactions=" + std::to_string(compactions_) +
         " failed_writes=" + std::to_string(failed_writes_) + " dirty=" + (dirty_ ? "1" : "0");
}

}  // namespace

StoreFactory FileStoreFactory(std::string directory, uint64_t max_file_bytes) {
  return [directory = std::move(directory), max_file_bytes](
             uint32_t shard_index, uint32_t shard_count) -> Result<std::unique_ptr<Store>> {
    return FileStore::Open(directory, shard_index, shard_count, max_file_bytes);
  };
}

// Space-separated name=value counters of a file store ("" for any other store): recovery
// (torn_tail_bytes, expired_dropped, superseded_dropped), compactions and write failures.
// Not in a public header yet; the tests declare it (see file_store_test.cc).
std::string FileStoreDiagnostics(const Store& store) {
  const auto* file_store = dynamic_cast<const FileStore*>(&store);
  return file_store == nullptr ? std::string() : file_store->Diagnostics();
}

}  // namespace tickcache
