// cache.cc: the Cache facade: validates input, resolves TTL rules, routes each key to its
// shard by hash and takes that shard's lock. It holds no cache logic of its own.
//
// Invariants: every argument is checked here, before any shard is touched, so a refused
// call changes nothing; per-shard bounds add up exactly to the cache's bounds; a shard is
// only ever entered with its lock held.
#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "glob.h"
#include "platform_file.h"
#include "platform_mutex.h"
#include "shard.h"
#include "snapshot_codec.h"
#include "stats_json.h"
#include "tickcache/cache.h"

namespace tickcache {

const char* PolicyKindName(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kWTinyLfu:
      return "w-tinylfu";
    case PolicyKind::kLru:
      return "lru";
    case PolicyKind::kSieve:
      return "sieve";
  }
  return "unknown";
}

const char* RemovalCauseName(RemovalCause cause) {
  switch (cause) {
    case RemovalCause::kDeleted:
      return "deleted";
    case RemovalCause::kEvicted:
      return "evicted";
    case RemovalCause::kRejected:
      return "rejected";
    case RemovalCause::kExpired:
      return "expired";
    case RemovalCause::kInvalidated:
      return "invalidated";
  }
  return "unknown";
}

double Stats::HitRate() const {
  uint64_t lookups = hits + stale_hits + misses;
  return lookups == 0 ? 0.0 : static_cast<double>(hits + stale_hits) / static_cast<double>(lookups);
}

namespace {

constexpr uint32_t kMaxKeyBytesLimit = 65535;
constexpr uint32_t kMaxValueBytesLimit = 256u << 20;
constexpr size_t kMaxTagsPerEntry = 64;
constexpr uint32_t kMaxShards = 256;
// The frequency sketch of a whole cache takes at least this much (frequency_sketch.h says why).
constexpr uint64_t kSketchFloorBytes = 64 * 1024;

Status Invalid(ErrorCode code, std::string message) { return {code, std::move(message)}; }

enum class TimeKind { kTtl, kGrace };

// A TTL is > 0 (or kNoExpiry), a grace >= 0; both at most kMaxTtlMs. Runs on every set.
Status CheckTime(TimeKind kind, int64_t ms) {
  const bool is_ttl = kind == TimeKind::kTtl;
  if ((is_ttl && ms == kNoExpiry) || (ms >= (is_ttl ? 1 : 0) && ms <= kMaxTtlMs)) return {};
  return Invalid(ErrorCode::kInvalidTtl,
                 std::string(is_ttl ? "ttl must be > 0" : "grace must be >= 0") + " and at most " +
                     std::to_string(kMaxTtlMs) + " ms, got " + std::to_string(ms));
}

uint32_t ChooseShards(const Options& o) {
  if (o.shards != 0) return o.shards;
  uint32_t shards = 1;
#ifndef TICKCACHE_SINGLE_THREADED
  // Small caches stay whole (one policy sees every access: the best hit ratio); large ones
  // split so threads rarely meet on a lock.
  bool large = o.max_entries >= 16384 || (o.max_entries == 0 && o.max_bytes >= (16u << 20));
  if (large) shards = 16;
#endif
  // Each shard indexes at most ~4M entries.
  while (o.max_entries / shards > kMaxSlotsPerShard - 1024 && shards < kMaxShards) shards *= 2;
  return shards;
}

uint64_t ShareOf(uint64_t total, uint32_t shards, uint32_t index) {
  return total / shards + (index < total % shards ? 1 : 0);
}

class ShardedCache final : public Cache {
 public:
  ShardedCache(Options options, std::vector<std::unique_ptr<ShardBase>> shards, int64_t created_ms,
               std::shared_ptr<const RemovalListener> listener)
      : options_(std::move(options)),
        listener_(std::move(listener)),
        latest_now_(created_ms),
        shard_count_(static_cast<uint32_t>(shards.size())),
        shards_(new Guarded[shards.size()]) {
    for (size_t i = 0; i < shards.size(); ++i) shards_[i].shard = std::move(shards[i]);
  }

  Lookup Get(std::string_view key, std::string* value) override {
    if (!ValidKey(key)) return {};
    uint64_t hash = Hash(key);
    Guarded& g = ShardFor(hash);
    int64_t now = Now();
    MutexLock lock(g.mutex);
    return g.shard->Get(key, hash, now, value);
  }

  Lookup Peek(std::string_view key, std::string* value) const override {
    if (!ValidKey(key)) return {};
    uint64_t hash = Hash(key);
    Guarded& g = ShardFor(hash);
    int64_t now = Now();
    MutexLock lock(g.mutex);
    return g.shard->Peek(key, hash, now, value);
  }

  Freshness Has(std::string_view key) const override { return Peek(key, nullptr).state; }

  Status Set(std::string_view key, std::string_view value, const SetOptions& options) override {
    return SetWithResult(key, value, options, nullptr);
  }

  Status SetWithResult(std::string_view key, std::string_view value, const SetOptions& options,
                       WriteResult* result) override {
    return Write(key, value, options, /*only_if_absent=*/false, result, nullptr);
  }

  Result<bool> Add(std::string_view key, std::string_view value,
                   const SetOptions& options) override {
    return AddWithResult(key, value, options, nullptr);
  }

  Result<bool> AddWithResult(std::string_view key, std::string_view value,
                             const SetOptions& options, WriteResult* result) override {
    bool written = false;
    Status status = Write(key, value, options, /*only_if_absent=*/true, result, &written);
    if (!status.ok()) return status;
    return written;
  }

  void Touch(const EntryRef* refs, size_t count) override {
    uint32_t locked = UINT32_MAX;
    for (size_t i = 0; i < count; ++i) {
      uint32_t index = (refs[i] & ~kStaleAnswer) >> kRefSlotBits;
      if (index >= shard_count_) continue;  // not a ref this cache gave out
      if (index != locked) {
        if (locked != UINT32_MAX) shards_[locked].mutex.unlock();
        shards_[index].mutex.lock();
        locked = index;
      }
      shards_[index].shard->Touch(refs[i] & kRefSlotMask, (refs[i] & kStaleAnswer) != 0);
    }
    if (locked != UINT32_MAX) shards_[locked].mutex.unlock();
  }

  void RecordMisses(uint64_t count) override {
    host_misses_.fetch_add(count, std::memory_order_relaxed);
  }

  void RecordMissedKeys(const std::string_view* keys, size_t count) override {
    std::vector<uint64_t> hashes;
    hashes.reserve(count);
    uint64_t unstorable = 0;
    for (size_t i = 0; i < count; ++i) {
      if (ValidKey(keys[i])) {
        hashes.push_back(Hash(keys[i]));
      } else {
        ++unstorable;
      }
    }
    if (unstorable != 0) host_misses_.fetch_add(unstorable, std::memory_order_relaxed);
    // Grouped by shard so each lock is taken once; stable, so each shard's policy hears its
    // keys in the order they were missed (shards are independent: their relative order is moot).
    // A counting sort: linear, and no std::stable_sort, whose temporary buffer libstdc++ 12
    // frees in a way AddressSanitizer reports as an alloc-dealloc mismatch.
    if (shard_count_ > 1) {
      std::vector<size_t> next(shard_count_ + 1, 0);
      for (uint64_t hash : hashes) ++next[ShardIndex(hash) + 1];
      for (uint32_t s = 0; s < shard_count_; ++s) next[s + 1] += next[s];
      std::vector<uint64_t> grouped(hashes.size());
      for (uint64_t hash : hashes) grouped[next[ShardIndex(hash)]++] = hash;
      hashes.swap(grouped);
    }
    for (size_t begin = 0; begin < hashes.size();) {
      const uint32_t index = ShardIndex(hashes[begin]);
      size_t end = begin + 1;
      while (end < hashes.size() && ShardIndex(hashes[end]) == index) ++end;
      MutexLock lock(shards_[index].mutex);
      shards_[index].shard->RecordMissedHashes(&hashes[begin], end - begin);
      begin = end;
    }
  }

  void RecordHits(uint64_t hits, uint64_t stale_hits) override {
    host_hits_.fetch_add(hits, std::memory_order_relaxed);
    host_stale_hits_.fetch_add(stale_hits, std::memory_order_relaxed);
  }

  bool Delete(std::string_view key) override {
    if (!ValidKey(key)) return false;
    uint64_t hash = Hash(key);
    Guarded& g = ShardFor(hash);
    MutexLock lock(g.mutex);
    return g.shard->Delete(key, hash);
  }

  std::vector<Lookup> GetMany(const std::vector<std::string_view>& keys,
                              std::vector<std::string>* values) override {
    std::vector<Lookup> lookups(keys.size());
    if (values != nullptr) values->resize(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      lookups[i] = Get(keys[i], values != nullptr ? &(*values)[i] : nullptr);
    }
    return lookups;
  }

  std::vector<Status> SetMany(
      const std::vector<std::pair<std::string_view, std::string_view>>& items,
      const SetOptions& options) override {
    std::vector<Status> statuses;
    statuses.reserve(items.size());
    for (const auto& [key, value] : items) statuses.push_back(Set(key, value, options));
    return statuses;
  }

  uint64_t InvalidateTag(std::string_view tag) override {
    return ForEachShard([&](ShardBase& s) { return s.InvalidateTag(tag); });
  }
  uint64_t InvalidatePrefix(std::string_view prefix) override {
    if (prefix.empty()) return Clear();
    return ForEachShard([&](ShardBase& s) { return s.InvalidatePrefix(prefix); });
  }
  Result<uint64_t> InvalidatePattern(std::string_view glob) override {
    Status status = ValidateGlob(glob);
    if (!status.ok()) return status;
    std::string_view prefix = GlobLiteralPrefix(glob);
    return ForEachShard([&](ShardBase& s) { return s.InvalidateGlob(glob, prefix); });
  }
  uint64_t Clear() override {
    return ForEachShard([](ShardBase& s) { return s.Clear(); });
  }
  uint64_t RunMaintenance() override {
    int64_t now = Now();
    return ForEachShard([now](ShardBase& s) { return s.Expire(now); });
  }

  uint64_t Entries() const override {
    return ForEachShard([](ShardBase& s) { return s.entries(); });
  }
  uint64_t Bytes() const override {
    return ForEachShard([](ShardBase& s) { return s.bytes(); });
  }
  Stats GetStats() const override {
    Stats stats;
    ForEachShard([&](ShardBase& s) {
      s.AddStats(&stats);
      return uint64_t{0};
    });
    stats.misses += host_misses_.load(std::memory_order_relaxed);
    stats.hits += host_hits_.load(std::memory_order_relaxed);
    stats.stale_hits += host_stale_hits_.load(std::memory_order_relaxed);
    stats.max_entries = options_.max_entries;
    stats.max_bytes = options_.max_bytes;
    stats.window_fraction /= shard_count_;
    return stats;
  }
  std::string StatsJson() const override {
    return StatsToJson(GetStats(), options_.policy, shard_count_);
  }
  const Options& options() const override { return options_; }

  std::string SaveSnapshotBytes() const override {
    SnapshotWriter writer;
    ForEachShard([&](ShardBase& s) {
      s.ForEachEntry([&](const EntryView& e) {
        // Entries the format cannot hold cannot exist (the cache's own limits are tighter).
        (void)writer.Add(e.key, *e.value, e.fresh_until_ms, e.stale_until_ms, *e.tags);
      });
      return uint64_t{0};
    });
    return writer.Finish();
  }

  Result<uint64_t> LoadSnapshotBytes(std::string_view bytes) override {
    Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(bytes);
    if (!decoded.ok()) return decoded.status();
    // Everything is validated before the first entry goes in: a bad snapshot changes nothing.
    std::vector<EntryWrite> writes;
    writes.reserve(decoded.value().size());
    for (const SnapshotEntry& e : decoded.value()) {
      Status status = CheckEntry(e.key, e.value, e.tags);
      if (!status.ok()) {
        return Status(ErrorCode::kCorruptSnapshot,
                      "snapshot entry does not fit this cache: " + status.ToString());
      }
      EntryWrite w;
      w.key = e.key;
      w.value = e.value;
      w.hash = Hash(e.key);
      w.fresh_until_ms = std::min(e.fresh_until_ms, kNeverMs);
      w.stale_until_ms = std::min(e.stale_until_ms, kNeverMs);
      w.tags = &e.tags;
      writes.push_back(w);
    }
    int64_t now = Now();
    uint64_t loaded = 0;
    for (const EntryWrite& w : writes) {
      if (w.stale_until_ms <= now) continue;
      Guarded& g = ShardFor(w.hash);
      MutexLock lock(g.mutex);
      if (g.shard->Set(w, now, nullptr).ok()) {
        ++loaded;
      } else {
        // An entry this cache cannot take (its shard's byte bound is smaller than the one it
        // was saved from) must not leave an older value of the key behind it.
        g.shard->Delete(w.key, w.hash);
      }
    }
    return loaded;
  }

  Status SaveSnapshot(const std::string& path) const override {
    return platform::WriteFileAtomically(path, SaveSnapshotBytes());
  }
  Result<uint64_t> LoadSnapshot(const std::string& path) override {
    Result<std::string> bytes = platform::ReadWholeFile(path);
    if (!bytes.ok()) return bytes.status();
    return LoadSnapshotBytes(bytes.value());
  }
  Status Flush() override {
    Status first;
    ForEachShard([&](ShardBase& s) {
      Status status = s.Flush();
      if (first.ok() && !status.ok()) first = status;
      return uint64_t{0};
    });
    return first;
  }

 private:
  // One shard and its lock, on its own cache lines so neighbours do not false-share.
  struct alignas(64) Guarded {
    mutable Mutex mutex;
    std::unique_ptr<ShardBase> shard;
  };

  // The clock as this cache sees it: never earlier than a time it has already used, so a
  // clock stepping back can neither revive an expired entry nor shorten a new one (deadlines
  // are computed here and compared in the shards with the same clamped time).
  int64_t Now() const {
    int64_t now = options_.clock->NowMs();
    int64_t seen = latest_now_.load(std::memory_order_relaxed);
    while (now > seen && !latest_now_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
    return now > seen ? now : seen;
  }
  uint64_t Hash(std::string_view key) const { return HashKey(key, options_.hash_seed); }

  uint32_t ShardIndex(uint64_t hash) const {
    // The index uses the low 32 bits and the top 5; shards take bits from the middle.
    return static_cast<uint32_t>((hash >> 32) & (shard_count_ - 1));
  }
  Guarded& ShardFor(uint64_t hash) const { return shards_[ShardIndex(hash)]; }

  template <typename F>
  uint64_t ForEachShard(F&& f) const {
    uint64_t total = 0;
    for (uint32_t i = 0; i < shard_count_; ++i) {
      MutexLock lock(shards_[i].mutex);
      total += f(*shards_[i].shard);
    }
    return total;
  }

  bool ValidKey(std::string_view key) const {
    return !key.empty() && key.size() <= options_.max_key_bytes;
  }

  Status CheckEntry(std::string_view key, std::string_view value,
                    const std::vector<std::string>& tags) const {
    if (key.empty()) return Invalid(ErrorCode::kEmptyKey, "keys must not be empty");
    if (key.size() > options_.max_key_bytes) {
      return Invalid(ErrorCode::kKeyTooLarge, "key is " + std::to_string(key.size()) +
                                                  " bytes, the limit is " +
                                                  std::to_string(options_.max_key_bytes));
    }
    if (value.size() > options_.max_value_bytes) {
      return Invalid(ErrorCode::kValueTooLarge, "value is " + std::to_string(value.size()) +
                                                    " bytes, the limit is " +
                                                    std::to_string(options_.max_value_bytes));
    }
    if (tags.size() > kMaxTagsPerEntry) {
      return Invalid(ErrorCode::kInvalidArgument, "an entry has at most " +
                                                      std::to_string(kMaxTagsPerEntry) +
                                                      " tags, got " + std::to_string(tags.size()));
    }
    for (const std::string& tag : tags) {
      if (tag.empty() || tag.size() > options_.max_key_bytes) {
        return Invalid(ErrorCode::kInvalidArgument,
                       "tags must be 1 to " + std::to_string(options_.max_key_bytes) +
                           " bytes long, got one of " + std::to_string(tag.size()));
      }
    }
    return Status::Ok();
  }

  // Set and Add: one resolution, one shard call. *written (if given) says whether an Add found
  // the key free; result is filled only for a write that happened.
  Status Write(std::string_view key, std::string_view value, const SetOptions& options,
               bool only_if_absent, WriteResult* result, bool* written) {
    EntryWrite write;
    std::vector<std::string> tags;
    int64_t now = Now();
    Status status = Resolve(key, value, options, now, &write, &tags);
    if (!status.ok()) return status;
    write.only_if_absent = only_if_absent;
    uint32_t index = ShardIndex(write.hash);
    SlotId slot = kNoSlot;
    {
      MutexLock lock(shards_[index].mutex);
      status = shards_[index].shard->Set(write, now, &slot);
    }
    if (!status.ok() || slot == kNoSlot) return status;
    if (written != nullptr) *written = true;
    if (result != nullptr) {
      result->ref = (index << kRefSlotBits) | slot;
      result->fresh_until_ms = write.fresh_until_ms >= kNeverMs ? kNoExpiry : write.fresh_until_ms;
      result->stale_until_ms = write.stale_until_ms >= kNeverMs ? kNoExpiry : write.stale_until_ms;
    }
    return status;
  }

  // Validates a write and fills in its times and tags: explicit options first, then the
  // first matching config rule, then the cache's defaults.
  Status Resolve(std::string_view key, std::string_view value, const SetOptions& options,
                 int64_t now, EntryWrite* write, std::vector<std::string>* tags) const {
    const TtlRule* rule = nullptr;
    if (options_.config != nullptr) rule = options_.config->Match(key, tags);
    for (const std::string& tag : options.tags) tags->push_back(tag);
    std::sort(tags->begin(), tags->end());
    tags->erase(std::unique(tags->begin(), tags->end()), tags->end());
    Status status = CheckEntry(key, value, *tags);
    if (!status.ok()) return status;

    int64_t ttl = options_.default_ttl_ms;
    int64_t grace = options_.default_grace_ms;
    if (options_.config != nullptr) {
      if (options_.config->default_ttl_ms) ttl = *options_.config->default_ttl_ms;
      if (options_.config->default_grace_ms) grace = *options_.config->default_grace_ms;
    }
    if (rule != nullptr && rule->ttl_ms) ttl = *rule->ttl_ms;
    // A market-hours TTL depends on when the write happens: the cache's clock, not the host's.
    if (rule != nullptr && rule->market_hours && !options.ttl_ms) {
      ttl = rule->market_hours->TtlAt(now);
    }
    if (rule != nullptr && rule->grace_ms) grace = *rule->grace_ms;
    if (options.ttl_ms) ttl = *options.ttl_ms;
    if (options.grace_ms) grace = *options.grace_ms;
    status = CheckTime(TimeKind::kTtl, ttl);
    if (status.ok()) status = CheckTime(TimeKind::kGrace, grace);
    if (!status.ok()) return status;

    write->key = key;
    write->value = value;
    write->hash = Hash(key);
    write->fresh_until_ms = ttl == kNoExpiry ? kNeverMs : std::min(now + ttl, kNeverMs);
    write->stale_until_ms = write->fresh_until_ms >= kNeverMs
                                ? kNeverMs
                                : std::min(write->fresh_until_ms + grace, kNeverMs);
    write->tags = tags;
    return Status::Ok();
  }

  Options options_;
  std::shared_ptr<const RemovalListener> listener_;  // the shards hold raw pointers to it
  mutable std::atomic<int64_t> latest_now_;
  // Answers a host front gave without the core (RecordMisses, RecordHits).
  std::atomic<uint64_t> host_misses_{0};
  std::atomic<uint64_t> host_hits_{0};
  std::atomic<uint64_t> host_stale_hits_{0};
  uint32_t shard_count_;
  std::unique_ptr<Guarded[]> shards_;
};

Status ValidateOptions(const Options& o) {
  auto bad = [](const std::string& message) {
    return Invalid(ErrorCode::kInvalidArgument, message);
  };
  if (o.max_entries == 0 && o.max_bytes == 0) {
    return bad("set max_entries, max_bytes or both: an unbounded cache is a leak");
  }
  if (o.max_key_bytes == 0 || o.max_key_bytes > kMaxKeyBytesLimit) {
    return bad("max_key_bytes must be 1 to 65535, got " + std::to_string(o.max_key_bytes));
  }
  if (o.max_value_bytes == 0 || o.max_value_bytes > kMaxValueBytesLimit) {
    return bad("max_value_bytes must be 1 to 268435456, got " + std::to_string(o.max_value_bytes));
  }
  if (o.shards != 0 && (o.shards > kMaxShards || (o.shards & (o.shards - 1)) != 0)) {
    return bad("shards must be a power of two up to 256, got " + std::to_string(o.shards));
  }
  if (o.policy != PolicyKind::kWTinyLfu && o.policy != PolicyKind::kLru &&
      o.policy != PolicyKind::kSieve) {
    return bad("unknown policy " + std::to_string(static_cast<int>(o.policy)));
  }
  Status status = CheckTime(TimeKind::kTtl, o.default_ttl_ms);
  if (status.ok()) status = CheckTime(TimeKind::kGrace, o.default_grace_ms);
  return status;
}

}  // namespace

Result<std::unique_ptr<Cache>> Cache::Create(Options options) {
  Status status = ValidateOptions(options);
  if (!status.ok()) return status;
  if (options.clock == nullptr) options.clock = SystemClock();
  if (options.hash_seed == 0) options.hash_seed = HashSeed();
  if (!options.store) options.store = MemoryStoreFactory();
  uint32_t shard_count = ChooseShards(options);
  if (options.max_entries != 0 && options.max_entries < shard_count) {
    return Status(ErrorCode::kInvalidArgument,
                  "max_entries " + std::to_string(options.max_entries) +
                      " is smaller than the shard count " + std::to_string(shard_count));
  }
  int64_t now = options.clock->NowMs();
  // The shards call the listener through one copy that lives as long as the cache.
  auto listener = options.on_removal ? std::make_shared<const RemovalListener>(options.on_removal)
                                     : std::shared_ptr<const RemovalListener>();
  std::vector<std::unique_ptr<ShardBase>> shards;
  for (uint32_t i = 0; i < shard_count; ++i) {
    Result<std::unique_ptr<Store>> store = options.store(i, shard_count);
    if (!store.ok()) return store.status();
    ShardLimits limits;
    limits.max_entries = ShareOf(options.max_entries, shard_count, i);
    limits.max_bytes = ShareOf(options.max_bytes, shard_count, i);
    limits.namespace_separator = options.namespace_separator;
    limits.hash_seed = options.hash_seed;
    limits.sketch_floor_bytes = kSketchFloorBytes / shard_count;
    limits.shard_index = i;
    limits.on_removal = listener.get();
    shards.push_back(MakeShard(options.policy, limits, std::move(store).value(), now));
  }
  return std::unique_ptr<Cache>(
      new ShardedCache(std::move(options), std::move(shards), now, std::move(listener)));
}

}  // namespace tickcache
