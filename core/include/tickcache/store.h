// tickcache/store.h: where the bytes of entries live.
//
// The cache keeps the index, the eviction policy and the expiry timers; a Store keeps each
// entry's key and value (and, for persistent stores, enough to rebuild the index after a
// restart). Each shard of a cache owns one Store and calls it under the shard's lock, so a
// Store needs no locking of its own.
//
// Invariants a Store keeps:
//   - Key(h) is answered from memory and stays valid until Release(h) or ReleaseAll();
//   - a handle returned by Put is never returned again until it has been released;
//   - a persistent store never reports from Recover an entry that was released before.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tickcache/status.h"

namespace tickcache {

using StoreHandle = uint32_t;

// What a persistent store records beside key and value.
struct StoredMeta {
  int64_t fresh_until_ms = 0;
  int64_t stale_until_ms = 0;
  const std::vector<std::string>* tags = nullptr;  // may be null: no tags
};

// An entry found by Store::Recover, already stored under `handle`.
struct RecoveredEntry {
  StoreHandle handle = 0;
  std::string_view key;
  uint32_t value_size = 0;
  int64_t fresh_until_ms = 0;
  int64_t stale_until_ms = 0;
  std::vector<std::string> tags;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<StoreHandle> Put(std::string_view key, std::string_view value,
                                  const StoredMeta& meta) = 0;
  // Stores a new value for the entry under `old` (same key). On success `old` is released
  // (or reused: the result may equal it); on failure `old` is untouched.
  virtual Result<StoreHandle> Replace(StoreHandle old, std::string_view key, std::string_view value,
                                      const StoredMeta& meta) {
    Result<StoreHandle> handle = Put(key, value, meta);
    if (handle.ok()) Release(old);
    return handle;
  }
  virtual std::string_view Key(StoreHandle handle) const = 0;
  virtual uint32_t ValueSize(StoreHandle handle) const = 0;
  // Replaces *out with the value. Fails only on I/O errors (persistent stores).
  virtual Status ReadValue(StoreHandle handle, std::string* out) const = 0;
  // Updates the persisted times of an entry (a TTL refresh without a new value).
  virtual void Touch(StoreHandle handle, const StoredMeta& meta) { (void)handle, (void)meta; }
  virtual void Release(StoreHandle handle) = 0;
  virtual void ReleaseAll() = 0;
  // Bytes the store itself uses beyond the keys and values it holds (for stats).
  virtual uint64_t OverheadBytes() const = 0;
  // Called once when the cache is built: every entry that survived a restart.
  virtual void Recover(const std::function<void(const RecoveredEntry&)>& visit) { (void)visit; }
  // Pushes buffered writes to durable storage (no-op for memory).
  virtual Status Flush() { return Status::Ok(); }
};

// Builds the Store of shard `shard_index` out of `shard_count`.
using StoreFactory =
    std::function<Result<std::unique_ptr<Store>>(uint32_t shard_index, uint32_t shard_count)>;

// Keys and values in process memory, packed into size-classed slabs (the default).
StoreFactory MemoryStoreFactory();

// Keys in memory, entries appended to one log file per shard under `directory`; the files
// are compacted so they stay under `max_file_bytes` in all (0: twice the live data), expired
// and released entries are dropped, and a cache built on the same directory after a restart
// starts with the entries that were live. Persisted times are wall-clock milliseconds and
// entries already past their grace by the wall clock are dropped at open, so a cache on a
// file store should run on wall time (tests: a ManualClock started at SystemClock()'s now).
// Native builds only (kUnsupported in wasm).
StoreFactory FileStoreFactory(std::string directory, uint64_t max_file_bytes = 0);

}  // namespace tickcache
