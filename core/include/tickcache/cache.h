// tickcache/cache.h: the cache engine's public interface.
//
// A Cache maps byte-string keys to byte-string values, bounded in entries and in charged
// bytes, with per-entry freshness:
//
//   set ---- fresh ----> fresh_until ---- stale (grace) ----> stale_until: gone
//
// Get answers FRESH, STALE (past fresh_until, within grace: serve it while revalidating or
// when the source fails) or MISS, with the value and the remaining times. Entries carry tags
// and, through their key's namespace (the key up to its last separator), join a prefix
// index, so invalidating a tag or a prefix touches only the entries it removes.
//
// Bounds are hard: after every operation, entries <= max_entries and charged bytes <=
// max_bytes, where an entry is charged key + value + kEntryChargeBytes + kTagChargeBytes per
// tag or namespace it belongs to. Invalid input returns a Status and changes nothing.
//
// Thread safety: a native Cache may be shared by any number of threads (it is sharded by key
// hash, one lock per shard). Built with TICKCACHE_SINGLE_THREADED (wasm), it has no locks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickcache/clock.h"
#include "tickcache/config.h"
#include "tickcache/status.h"
#include "tickcache/store.h"

namespace tickcache {

// TTL meaning "never goes stale by time".
inline constexpr int64_t kNoExpiry = INT64_MAX;
// Largest finite TTL or grace: 2^31 - 1 seconds, about 68 years. Entries keep graces past
// 2^31 ms in whole seconds, and this is the most that encoding holds exactly.
inline constexpr int64_t kMaxTtlMs = int64_t{2147483647} * 1000;
// Bytes charged per entry beyond key and value, and per tag or namespace membership.
inline constexpr uint64_t kEntryChargeBytes = 48;
inline constexpr uint64_t kTagChargeBytes = 24;

enum class PolicyKind : uint8_t {
  kWTinyLfu,  // adaptive W-TinyLFU: the default, the best hit ratio
  kLru,       // least recently used: the baseline and test oracle
  kSieve,     // SIEVE: FIFO with a visited bit, cheap hits, scan resistant
};
const char* PolicyKindName(PolicyKind kind);

// Names one live entry for a host that answers hits itself (the JavaScript object-mode
// front): shard (8 bits) | slot (22 bits). A ref is valid from the Set that returned it until
// the removal notice that names it; Touch ignores refs to free slots.
using EntryRef = uint32_t;
// Or'ed into a ref given to Touch: the host answered a stale (graced) hit.
inline constexpr EntryRef kStaleAnswer = EntryRef{1} << 30;

enum class RemovalCause : uint8_t {
  kDeleted,      // delete()
  kEvicted,      // to keep within the bounds
  kRejected,     // refused by the admission policy
  kExpired,      // its grace ran out
  kInvalidated,  // by tag, prefix, pattern, clear, or a snapshot entry the cache could not take
};
const char* RemovalCauseName(RemovalCause cause);

// Called for every entry that leaves the cache, under its shard's lock: it must not call back
// into the cache. Hosts use it to free what they keep beside an entry (object-mode slots).
using RemovalListener = std::function<void(EntryRef ref, std::string_view key, RemovalCause cause)>;

struct Options {
  uint64_t max_entries = 0;  // 0: bounded by bytes only
  uint64_t max_bytes = 0;    // 0: bounded by entries only (one of the two must be set)
  PolicyKind policy = PolicyKind::kWTinyLfu;
  int64_t default_ttl_ms = kNoExpiry;
  int64_t default_grace_ms = 0;
  uint32_t max_key_bytes = 1024;               // at most 65535
  uint32_t max_value_bytes = 64u << 20;        // at most 256 MiB
  std::shared_ptr<Clock> clock;                // null: SystemClock()
  StoreFactory store;                          // null: MemoryStoreFactory()
  uint32_t shards = 0;                         // 0: chosen from the bounds; a power of two
  char namespace_separator = ':';              // '\0' disables the namespace (prefix) index
  std::shared_ptr<const PolicyConfig> config;  // TTL rules applied when set() names no TTL
  // 0: the per-process random seed (HashSeed()), which is what production wants. A fixed
  // seed makes hit ratios reproducible run to run (benchmarks, trace tests) at the cost of
  // letting whoever knows it choose colliding keys.
  uint64_t hash_seed = 0;
  RemovalListener on_removal;  // null: nobody is told
};

enum class Freshness : uint8_t { kMiss = 0, kFresh = 1, kStale = 2 };

struct Lookup {
  Freshness state = Freshness::kMiss;
  int64_t fresh_remaining_ms = 0;  // 0 when stale or missing; kNoExpiry when it never expires
  int64_t stale_remaining_ms = 0;  // time until the entry is gone; kNoExpiry likewise
};

// What a write resolved to, for hosts that keep their own view of an entry.
struct WriteResult {
  EntryRef ref = 0;
  int64_t fresh_until_ms = 0;  // absolute; kNoExpiry for never
  int64_t stale_until_ms = 0;
};

struct SetOptions {
  std::optional<int64_t> ttl_ms;    // absent: the config rule, then Options::default_ttl_ms
  std::optional<int64_t> grace_ms;  // absent: the config rule, then Options::default_grace_ms
  std::vector<std::string> tags;    // added to the rule's tags
};

struct Stats {
  uint64_t hits = 0;        // fresh answers from get
  uint64_t stale_hits = 0;  // stale (graced) answers from get
  uint64_t misses = 0;
  uint64_t sets = 0;
  uint64_t deletes = 0;        // entries removed by delete()
  uint64_t evictions = 0;      // entries removed to keep within the bounds
  uint64_t rejections = 0;     // new entries the admission policy turned away
  uint64_t expirations = 0;    // entries removed because their grace ran out
  uint64_t invalidations = 0;  // entries removed by tag, prefix, pattern or clear
  uint64_t entries = 0;
  uint64_t bytes = 0;  // charged bytes
  uint64_t max_entries = 0;
  uint64_t max_bytes = 0;
  uint64_t store_overhead_bytes = 0;
  double window_fraction = 0;  // W-TinyLFU's current window share (mean over shards)
  double HitRate() const;      // (hits + stale_hits) / lookups, 0 with no lookups
};

class Cache {
 public:
  static Result<std::unique_ptr<Cache>> Create(Options options);
  virtual ~Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // Reads `key`; on FRESH or STALE assigns the value to *value. Feeds the policy.
  virtual Lookup Get(std::string_view key, std::string* value) = 0;
  // Like Get, with no effect on the policy, the stats or expiry.
  virtual Lookup Peek(std::string_view key, std::string* value) const = 0;
  virtual Freshness Has(std::string_view key) const = 0;
  // Stores or replaces `key`. Ok means the write was valid and applied; the admission policy
  // may still evict the new entry at once when it is rarer than what it would displace
  // (Stats::rejections counts those).
  virtual Status Set(std::string_view key, std::string_view value, const SetOptions& options) = 0;
  Status Set(std::string_view key, std::string_view value) { return Set(key, value, {}); }
  // Set, telling where the entry went and the absolute times it got. Null `result`: as Set.
  virtual Status SetWithResult(std::string_view key, std::string_view value,
                               const SetOptions& options, WriteResult* result) = 0;
  // Stores `key` only if it holds no live entry (fresh, or stale within its grace): true when
  // it wrote, false when a live entry kept the key (then nothing changed, the stats included).
  // An entry past its grace counts as absent and is replaced. The check and the write happen
  // under one shard lock, so of any number of concurrent Adds of an absent key exactly one
  // returns true: a lock entry for callers sharing the cache. Validation, errors and TTL
  // resolution are Set's, checked before the key is looked at; a write counts in Stats::sets.
  virtual Result<bool> Add(std::string_view key, std::string_view value,
                           const SetOptions& options) = 0;
  // Add, telling where a written entry went and its times (untouched when Add returns false).
  virtual Result<bool> AddWithResult(std::string_view key, std::string_view value,
                                     const SetOptions& options, WriteResult* result) = 0;
  virtual bool Delete(std::string_view key) = 0;
  // Reports hits a host answered without asking (refs from WriteResult, kStaleAnswer or'ed in
  // for stale ones): the policy and the stats see them as if Get had been called.
  virtual void Touch(const EntryRef* refs, size_t count) = 0;
  // Reports misses the host answered without asking (a key its front does not hold).
  virtual void RecordMisses(uint64_t count) = 0;
  // Reports misses the host answered without asking, with their keys: for each, what a Get
  // that missed does, without the lookup: the policy hears of the key (W-TinyLFU counts it in
  // its frequency sketch, so a key missed often is admitted over a rarely used victim, and
  // feeds it to its ghosts and its hit-rate sample) and the stats count a miss. Keys the
  // cache could never hold (empty, longer than max_key_bytes) count as misses only: the host
  // did answer them, but the policy has nothing to learn about a key that cannot be stored.
  // Takes each shard's lock once per call; within a shard the keys reach the policy in order.
  virtual void RecordMissedKeys(const std::string_view* keys, size_t count) = 0;
  // Reports hits a host answered but did not pass to Touch: a front that keeps only its most
  // recent reads for the policy (a lossy read buffer, as Caffeine's) still counts every hit.
  virtual void RecordHits(uint64_t hits, uint64_t stale_hits) = 0;

  virtual std::vector<Lookup> GetMany(const std::vector<std::string_view>& keys,
                                      std::vector<std::string>* values) = 0;
  // One Status per item, in order; items that fail leave the cache as it was.
  virtual std::vector<Status> SetMany(
      const std::vector<std::pair<std::string_view, std::string_view>>& items,
      const SetOptions& options) = 0;

  // Each returns how many entries it removed.
  virtual uint64_t InvalidateTag(std::string_view tag) = 0;
  virtual uint64_t InvalidatePrefix(std::string_view prefix) = 0;
  virtual Result<uint64_t> InvalidatePattern(std::string_view glob) = 0;
  virtual uint64_t Clear() = 0;

  // Removes entries whose grace has run out (amortized O(1) each); returns how many.
  virtual uint64_t RunMaintenance() = 0;

  virtual uint64_t Entries() const = 0;
  virtual uint64_t Bytes() const = 0;
  virtual Stats GetStats() const = 0;
  virtual std::string StatsJson() const = 0;
  virtual const Options& options() const = 0;

  // Whole-cache snapshots. Times are absolute, so expired entries are dropped on load.
  // Loading validates the whole document (checksum included) before it changes anything.
  virtual std::string SaveSnapshotBytes() const = 0;
  virtual Result<uint64_t> LoadSnapshotBytes(std::string_view bytes) = 0;
  // Crash-safe: written to a temporary file, fsynced, renamed over `path`.
  virtual Status SaveSnapshot(const std::string& path) const = 0;
  virtual Result<uint64_t> LoadSnapshot(const std::string& path) = 0;
  virtual Status Flush() = 0;

 protected:
  Cache() = default;
};

// The hash used for sharding, the index and the frequency sketch: XXH3-64, seeded once per
// process from the OS's random source so that chosen keys cannot flood one bucket.
uint64_t HashKey(std::string_view key);
uint64_t HashKey(std::string_view key, uint64_t seed);
uint64_t HashSeed();
const char* HashName();

// Glob match with `*`, `?` and `\` escapes; linear time, no backtracking blow-up.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace tickcache
