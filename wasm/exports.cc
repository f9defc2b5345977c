// wasm/exports.cc: the WebAssembly module's C ABI, the wasm half of bindings/PROTOCOL.md's
// CoreCache (and of its module function parseDuration). wasm/core_cache.mjs calls these
// exports; nothing else should.
//
// Why plain extern "C" and not embind: a call with a string argument costs ~90 ns this way
// and ~285 ns through embind (DESIGN.md, "What the boundary costs").
//
// Invariants:
//   - Marshalling only. Every rule (validation, TTL resolution, eviction, expiry) is the
//     core's; this file converts numbers and byte ranges and reports the core's Status.
//   - JS holds caches by id. Ids are never reused, so a closed id stays closed ("closed")
//     even after later caches are created.
//   - Every call that can fail returns a negative number and leaves the failure in the
//     last-error slot (code name + message) for the glue to read; nothing aborts and nothing
//     throws (the module is built without exceptions, and the core never throws).
//   - Values leave through one result buffer owned by the module: valid until the next call
//     that fills it (get, peek, stats_json). The glue copies out at once.
//   - Time comes from the caller: each cache reads a ManualClock that the call sets from its
//     `now` argument; the core clamps, so time never steps back. The clock starts at 0 so a
//     test's fake clock may begin anywhere at or after the epoch.
//   - Single-threaded: the module is built without threads, so the globals need no lock.
//   - A cache created with track_removals queues a (ref, cause) notice for every entry that
//     leaves, from the core's listener (which only appends), until the glue drains it.
#include <emscripten/emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickcache/cache.h"
#include "tickcache/clock.h"
#include "tickcache/config.h"
#include "tickcache/host.h"
#include "tickcache/status.h"

namespace {

using tickcache::Cache;
using tickcache::EntryRef;
using tickcache::ErrorCode;
using tickcache::ManualClock;
using tickcache::RemovalCause;
using tickcache::Status;

// The (ref, cause) notices of a cache created with track_removals: tickcache::RemovalQueue
// (core/include/tickcache/host.h), the same class the Node host drains.
using tickcache::RemovalQueue;

// Member order matters: `cache` is declared last so it is destroyed first, while the queue its
// listener writes to still lives. The queue is boxed so that its address survives g_caches
// growing.
struct CacheHandle {
  std::unique_ptr<RemovalQueue> removals;  // null unless track_removals
  std::shared_ptr<ManualClock> clock;
  std::unique_ptr<Cache> cache;  // null once closed
};

std::vector<CacheHandle> g_caches;  // index = id
std::string g_result;               // the last value or document handed to JS
// tc_touch's missed keys, views into its argument for the call; kept for the capacity.
std::vector<std::string_view> g_missed_keys;
const char* g_error_code = "";  // static strings only: ErrorCodeName or a literal
std::string g_error_message;

constexpr int kFailed = -1;

int Fail(const char* code, std::string message) {
  g_error_code = code;
  g_error_message = std::move(message);
  return kFailed;
}

int Fail(const Status& status) {
  return Fail(tickcache::ErrorCodeName(status.code()), status.message());
}

// The open cache behind `id`, or null with the error set.
Cache* Find(int id) {
  if (id < 0 || static_cast<size_t>(id) >= g_caches.size()) {
    Fail("invalid_argument", "no cache with id " + std::to_string(id));
    return nullptr;
  }
  if (g_caches[static_cast<size_t>(id)].cache == nullptr) {
    Fail("closed", "the cache is closed");
    return nullptr;
  }
  return g_caches[static_cast<size_t>(id)].cache.get();
}

// Like Find, and moves the cache's clock to `now_ms` first.
Cache* FindAt(int id, double now_ms) {
  Cache* cache = Find(id);
  if (cache == nullptr) return nullptr;
  if (!std::isfinite(now_ms)) {
    Fail("invalid_argument", "now must be a finite number of ms, got " + std::to_string(now_ms));
    return nullptr;
  }
  // Past int64's range the cast would be undefined; the core clamps anything before a time
  // it has already seen, so saturating here is enough.
  constexpr double kLimit = 9.0e18;
  double clamped = now_ms < -kLimit ? -kLimit : (now_ms > kLimit ? kLimit : now_ms);
  g_caches[static_cast<size_t>(id)].clock->Set(static_cast<int64_t>(clamped));
  return cache;
}

std::string_view Bytes(const char* data, size_t length) {
  return length == 0 ? std::string_view() : std::string_view(data, length);
}

// A number for a message, as JS prints the usual ones ("-1", "0.5"); "nan", "inf" otherwise.
std::string ShowNumber(double number) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", number);
  return text;
}

// An absolute time as JS sees it: kNoExpiry ("never") is +Infinity.
double TimeForHost(int64_t ms) {
  return ms == tickcache::kNoExpiry ? INFINITY : static_cast<double>(ms);
}

size_t PendingRemovals(int id) {
  const RemovalQueue* queue = g_caches[static_cast<size_t>(id)].removals.get();
  return queue == nullptr ? 0 : queue->Pending();
}

// Writes [state, fresh, stale] and returns the state.
int Report(const tickcache::Lookup& lookup, double* out_times) {
  tickcache::LookupToHost(lookup, out_times);
  return static_cast<int>(lookup.state);
}

// Lists of strings (set's tags, touch's missed keys) arrive as one buffer of
// [u32 little-endian length][bytes] records. Strings is a vector of std::string (copies) or of
// std::string_view (views into the buffer, valid for the call).
template <typename Strings>
bool ParseRecords(const char* data, size_t length, Strings* strings) {
  size_t at = 0;
  while (at < length) {
    if (length - at < 4) return false;
    uint32_t size = 0;
    std::memcpy(&size, data + at, 4);  // wasm is little-endian
    at += 4;
    if (size > length - at) return false;
    strings->emplace_back(data + at, size);
    at += size;
  }
  return true;
}

// tc_set and tc_add: 1 written, 0 kept by a live entry (add only), -1 failed.
int Write(int id, std::string_view key, std::string_view value, double ttl_ms, double grace_ms,
          const char* tags, size_t tags_len, double now_ms, double* out_write,
          bool only_if_absent) {
  Cache* cache = FindAt(id, now_ms);
  if (cache == nullptr) return kFailed;
  tickcache::SetOptions options;
  options.ttl_ms = tickcache::DurationFromHost(ttl_ms);
  options.grace_ms = tickcache::DurationFromHost(grace_ms);
  if (!ParseRecords(tags, tags_len, &options.tags)) {
    return Fail("invalid_argument", "the tags buffer is not a sequence of length-prefixed strings");
  }
  tickcache::WriteResult written;
  tickcache::WriteResult* result = out_write == nullptr ? nullptr : &written;
  bool wrote = true;
  if (only_if_absent) {
    tickcache::Result<bool> added = cache->AddWithResult(key, value, options, result);
    if (!added.ok()) return Fail(added.status());
    wrote = added.value();
  } else {
    Status status = cache->SetWithResult(key, value, options, result);
    if (!status.ok()) return Fail(status);
  }
  if (out_write != nullptr && wrote) {
    out_write[0] = static_cast<double>(written.ref);
    out_write[1] = TimeForHost(written.fresh_until_ms);
    out_write[2] = TimeForHost(written.stale_until_ms);
    out_write[3] = static_cast<double>(PendingRemovals(id));
  }
  return wrote ? 1 : 0;
}

}  // namespace

extern "C" {

// ---- errors and results --------------------------------------------------------------

// The last failure's code name: NUL-terminated ASCII ("key_too_large", "closed", ...).
EMSCRIPTEN_KEEPALIVE const char* tc_last_error_code() { return g_error_code; }
EMSCRIPTEN_KEEPALIVE const char* tc_last_error_message() { return g_error_message.data(); }
EMSCRIPTEN_KEEPALIVE size_t tc_last_error_message_len() { return g_error_message.size(); }

EMSCRIPTEN_KEEPALIVE const char* tc_result_ptr() { return g_result.data(); }
EMSCRIPTEN_KEEPALIVE size_t tc_result_len() { return g_result.size(); }

// ---- lifetime ------------------------------------------------------------------------

// Returns the new cache's id (>= 0), or -1. track_removals != 0: queue removal notices.
EMSCRIPTEN_KEEPALIVE int tc_create(const char* json, size_t json_len, int track_removals) {
  tickcache::Result<tickcache::Options> parsed = tickcache::ParseOptionsJson(Bytes(json, json_len));
  if (!parsed.ok()) return Fail(parsed.status());
  tickcache::Options options = std::move(parsed).value();
  CacheHandle handle;
  if (track_removals != 0) {
    handle.removals = std::make_unique<RemovalQueue>();
    RemovalQueue* queue = handle.removals.get();
    options.on_removal = [queue](EntryRef ref, std::string_view, RemovalCause cause) {
      queue->Push(ref, cause);
    };
  }
  handle.clock = std::make_shared<ManualClock>(0);
  options.clock = handle.clock;
  tickcache::Result<std::unique_ptr<Cache>> created = Cache::Create(std::move(options));
  if (!created.ok()) return Fail(created.status());
  handle.cache = std::move(created).value();
  g_caches.push_back(std::move(handle));
  return static_cast<int>(g_caches.size() - 1);
}

// Frees the cache's memory; every later call with this id, close included, fails with
// "closed" (PROTOCOL.md). Returns 0 or -1.
EMSCRIPTEN_KEEPALIVE int tc_close(int id) {
  if (Find(id) == nullptr) return kFailed;
  CacheHandle& handle = g_caches[static_cast<size_t>(id)];
  handle.cache.reset();  // first: its listener writes to the queue
  handle.removals.reset();
  handle.clock.reset();
  return 0;
}

// ---- reads ---------------------------------------------------------------------------

// Returns the state (0 miss, 1 fresh, 2 stale) or -1; on a hit the value is the result.
EMSCRIPTEN_KEEPALIVE int tc_get(int id, const char* key, size_t key_len, double now_ms,
                                double* out_times) {
  Cache* cache = FindAt(id, now_ms);
  if (cache == nullptr) return kFailed;
  return Report(cache->Get(Bytes(key, key_len), &g_result), out_times);
}

EMSCRIPTEN_KEEPALIVE int tc_peek(int id, const char* key, size_t key_len, double now_ms,
                                 double* out_times) {
  Cache* cache = FindAt(id, now_ms);
  if (cache == nullptr) return kFailed;
  return Report(cache->Peek(Bytes(key, key_len), &g_result), out_times);
}

EMSCRIPTEN_KEEPALIVE int tc_has(int id, const char* key, size_t key_len, double now_ms) {
  Cache* cache = FindAt(id, now_ms);
  if (cache == nullptr) return kFailed;
  return static_cast<int>(cache->Has(Bytes(key, key_len)));
}

// ---- writes --------------------------------------------------------------------------

// ttl_ms / grace_ms: NaN for "not given". tags: length-prefixed records (see ParseTags).
// out_write: null, or 4 doubles to fill with [ref, fresh until, stale until, pending removals]
// (absolute ms, +Infinity for never). Returns 0 or -1.
EMSCRIPTEN_KEEPALIVE int tc_set(int id, const char* key, size_t key_len, const char* value,
                                size_t value_len, double ttl_ms, double grace_ms, const char* tags,
                                size_t tags_len, double now_ms, double* out_write) {
  int written = Write(id, Bytes(key, key_len), Bytes(value, value_len), ttl_ms, grace_ms, tags,
                      tags_len, now_ms, out_write, /*only_if_absent=*/false);
  return written < 0 ? kFailed : 0;
}

// Cache::Add, with tc_set's arguments: 1 when it wrote (out_write filled as tc_set fills it), 0
// when a live entry kept the key (out_write untouched), -1 on failure.
EMSCRIPTEN_KEEPALIVE int tc_add(int id, const char* key, size_t key_len, const char* value,
                                size_t value_len, double ttl_ms, double grace_ms, const char* tags,
                                size_t tags_len, double now_ms, double* out_write) {
  return Write(id, Bytes(key, key_len), Bytes(value, value_len), ttl_ms, grace_ms, tags, tags_len,
               now_ms, out_write, /*only_if_absent=*/true);
}

// Returns 1 if the key was there, 0 if not, -1 on failure.
EMSCRIPTEN_KEEPALIVE int tc_delete(int id, const char* key, size_t key_len) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  return cache->Delete(Bytes(key, key_len)) ? 1 : 0;
}

// Reports what a JS front answered itself: hits it replays to the policy (refs from tc_set's
// out_write, kStaleAnswer or'ed in for stale ones), misses it replays with their keys (records
// as tags are: length-prefixed UTF-8), and misses and hits it only counts (beyond what its
// buffers kept). The glue has checked that the counts are whole numbers in [0, 2^53). Hits go
// first, then the missed keys: the front reports before each write, so its newest miss,
// usually of the key about to be written, reaches the policy right before that write, as
// Get-then-Set would. Returns 0 or -1 (then nothing was reported).
EMSCRIPTEN_KEEPALIVE int tc_touch(int id, const EntryRef* refs, size_t count, double misses,
                                  double hits, double stale_hits, const char* missed_keys,
                                  size_t missed_keys_len) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  for (double counted : {misses, hits, stale_hits}) {
    if (!(counted >= 0 && counted <= 9007199254740991.0 && std::floor(counted) == counted)) {
      return Fail("invalid_argument",
                  "touch counts must be whole numbers >= 0, got " + ShowNumber(counted));
    }
  }
  std::vector<std::string_view>& keys = g_missed_keys;
  keys.clear();
  if (!ParseRecords(missed_keys, missed_keys_len, &keys)) {
    return Fail("invalid_argument",
                "the missed keys buffer is not a sequence of length-prefixed strings");
  }
  cache->Touch(refs, count);
  if (!keys.empty()) cache->RecordMissedKeys(keys.data(), keys.size());
  cache->RecordMisses(static_cast<uint64_t>(misses));
  if (hits != 0 || stale_hits != 0) {
    cache->RecordHits(static_cast<uint64_t>(hits), static_cast<uint64_t>(stale_hits));
  }
  return 0;
}

// Counts come back as doubles: exact up to 2^53, far beyond any cache's entry count.
EMSCRIPTEN_KEEPALIVE double tc_invalidate_tag(int id, const char* tag, size_t tag_len) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  return static_cast<double>(cache->InvalidateTag(Bytes(tag, tag_len)));
}

EMSCRIPTEN_KEEPALIVE double tc_invalidate_prefix(int id, const char* prefix, size_t prefix_len) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  return static_cast<double>(cache->InvalidatePrefix(Bytes(prefix, prefix_len)));
}

EMSCRIPTEN_KEEPALIVE double tc_invalidate_pattern(int id, const char* glob, size_t glob_len) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  tickcache::Result<uint64_t> removed = cache->InvalidatePattern(Bytes(glob, glob_len));
  if (!removed.ok()) return Fail(removed.status());
  return static_cast<double>(removed.value());
}

EMSCRIPTEN_KEEPALIVE double tc_clear(int id) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  return static_cast<double>(cache->Clear());
}

EMSCRIPTEN_KEEPALIVE double tc_maintenance(int id, double now_ms) {
  Cache* cache = FindAt(id, now_ms);
  if (cache == nullptr) return kFailed;
  return static_cast<double>(cache->RunMaintenance());
}

// ---- removal notices -----------------------------------------------------------------

// How many notices wait (0 for a cache without track_removals), or -1.
EMSCRIPTEN_KEEPALIVE double tc_pending_removals(int id) {
  if (Find(id) == nullptr) return kFailed;
  return static_cast<double>(PendingRemovals(id));
}

// Moves up to max_pairs of the oldest notices into out as [ref, cause, ...]; returns the
// pairs moved, or -1.
EMSCRIPTEN_KEEPALIVE double tc_drain_removals(int id, uint32_t* out, size_t max_pairs) {
  if (Find(id) == nullptr) return kFailed;
  RemovalQueue* queue = g_caches[static_cast<size_t>(id)].removals.get();
  return queue == nullptr ? 0 : static_cast<double>(queue->Drain(out, max_pairs));
}

// ---- sizes and stats -----------------------------------------------------------------

EMSCRIPTEN_KEEPALIVE double tc_entries(int id) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  return static_cast<double>(cache->Entries());
}

EMSCRIPTEN_KEEPALIVE double tc_bytes(int id) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  return static_cast<double>(cache->Bytes());
}

// Leaves Cache::StatsJson in the result buffer; returns 0 or -1.
EMSCRIPTEN_KEEPALIVE int tc_stats_json(int id) {
  Cache* cache = Find(id);
  if (cache == nullptr) return kFailed;
  g_result = cache->StatsJson();
  return 0;
}

// ---- module functions ----------------------------------------------------------------

// The core's ParseDuration into *out_ms ("never": +Infinity). Returns 0 or -1.
EMSCRIPTEN_KEEPALIVE int tc_parse_duration(const char* text, size_t text_len, double* out_ms) {
  std::string_view duration = Bytes(text, text_len);
  if (duration == "never") {
    *out_ms = INFINITY;
    return 0;
  }
  tickcache::Result<int64_t> parsed = tickcache::ParseDuration(duration);
  if (!parsed.ok()) return Fail(parsed.status());
  *out_ms = static_cast<double>(parsed.value());
  return 0;
}

}  // extern "C"
