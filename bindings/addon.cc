// bindings/addon.cc: the Node-API host of the core, the native half of bindings/PROTOCOL.md's
// `CoreCache`, plus the module functions `openCoreCache` and `parseDuration`. js/ wraps it;
// nothing else should call it.
//
// Invariants:
//   - Marshalling only. Every rule (validation, TTL resolution, eviction, expiry, durations) is
//     the core's; this file turns JS values into bytes and numbers and reports the core's Status
//     as a thrown Error whose `code` is ErrorCodeName, or one of the host codes ("closed",
//     "invalid_argument", "name_taken", "not_found") for what only a host can get wrong.
//   - It converts numbers exactly as wasm/exports.cc does (durations, `now`, Infinity), so
//     one Jest suite gets the same answers from both backends.
//   - A failed call changes nothing: every argument is checked before the clock moves or the
//     core is called, and the core itself leaves the cache as it was on a bad Status.
//   - node-addon-api runs without C++ exceptions: a failure sets a pending JS exception and
//     the method returns at once. Nothing aborts the process.
//   - Per-env state lives in AddonData (napi_set_instance_data), never in globals, so every
//     worker_thread that loads the addon gets its own class. The one process-wide object is
//     the Registry of named caches, which is what lets worker_threads share a cache.
//   - A CoreCache object is a handle on a SharedCache (shared_ptr): a named cache may have
//     handles in several envs; the cache and its name die with the last handle, closed or
//     garbage-collected (env teardown finalizes a worker's handles too).
//   - Time is the caller's: each cache owns a ManualClock set from `now` before each call
//     that reads freshness; the core clamps, so time never steps back. Handles of one named
//     cache share its clock: a thread's `now` may be read by another thread's concurrent
//     call, which is harmless for real clocks (they agree to a few ms and the core clamps).
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tickcache/cache.h"
#include "tickcache/clock.h"
#include "tickcache/config.h"
#include "tickcache/host.h"
#include "tickcache/status.h"

namespace {

using tickcache::Cache;
using tickcache::EntryRef;
using tickcache::Freshness;
using tickcache::Lookup;
using tickcache::ManualClock;
using tickcache::RemovalCause;
using tickcache::Status;

constexpr char kClosed[] = "closed";
constexpr char kInvalidArgument[] = "invalid_argument";
constexpr char kNameTaken[] = "name_taken";
constexpr char kNotFound[] = "not_found";
// Counts JS hands over (touch's) must be exact doubles.
constexpr double kMaxSafeInteger = 9007199254740991.0;

// Sets a pending Error with `code` (napi_throw_error defines the property itself). The
// caller returns at once.
void Throw(napi_env env, const char* code, const std::string& message) {
  napi_throw_error(env, code, message.c_str());
}

void Throw(napi_env env, const Status& status) {
  Throw(env, tickcache::ErrorCodeName(status.code()), status.message());
}

// "number", "object", ...: names what a caller passed instead of what was expected.
const char* TypeName(napi_env env, napi_value value) {
  napi_valuetype type = napi_undefined;
  if (napi_typeof(env, value, &type) != napi_ok) return "unknown";
  switch (type) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "boolean";
    case napi_number:
      return "number";
    case napi_string:
      return "string";
    case napi_symbol:
      return "symbol";
    case napi_object:
      return "object";
    case napi_function:
      return "function";
    case napi_external:
      return "external";
    case napi_bigint:
      return "bigint";
  }
  return "unknown";
}

void ThrowWrongType(napi_env env, const std::string& what, const char* expected, napi_value got) {
  Throw(env, kInvalidArgument, what + " must be " + expected + ", got " + TypeName(env, got));
}

// A JS string argument as UTF-8 bytes. Strings that fit the inline buffer (every key of the
// usual kind) cost one Node-API call and no allocation; longer ones take a second call into
// the heap. Lone surrogates arrive as U+FFFD, as Node-API converts them.
class Utf8Arg {
 public:
  Utf8Arg() = default;
  Utf8Arg(const Utf8Arg&) = delete;
  Utf8Arg& operator=(const Utf8Arg&) = delete;

  // False, with invalid_argument pending, when `value` is not a string.
  bool Read(napi_env env, napi_value value, const std::string& what) {
    size_t length = 0;
    if (napi_get_value_string_utf8(env, value, inline_, kInlineBytes, &length) != napi_ok) {
      ThrowWrongType(env, what, "a string", value);
      return false;
    }
    // V8 writes whole characters only (at most 4 bytes each) into the kInlineBytes - 1 bytes
    // it is offered, so a string that stopped more than 4 bytes short of that is complete.
    if (length + 4 < kInlineBytes) {
      view_ = std::string_view(inline_, length);
      return true;
    }
    size_t full = 0;
    napi_get_value_string_utf8(env, value, nullptr, 0, &full);
    if (full == length) {
      view_ = std::string_view(inline_, length);
      return true;
    }
    heap_.resize(full + 1);  // room for the terminator Node-API always writes
    napi_get_value_string_utf8(env, value, &heap_[0], heap_.size(), &length);
    view_ = std::string_view(heap_.data(), length);
    return true;
  }

  std::string_view view() const { return view_; }
  std::string str() const { return std::string(view_); }

 private:
  static constexpr size_t kInlineBytes = 256;
  char inline_[kInlineBytes];
  std::string heap_;
  std::string_view view_;
};

bool ReadNumber(napi_env env, napi_value value, const char* what, double* out) {
  if (napi_get_value_double(env, value, out) != napi_ok) {
    ThrowWrongType(env, what, "a number", value);
    return false;
  }
  return true;
}

// `now` in ms since the epoch. Past int64's range the cast would be undefined; the core
// clamps anything before a time it has already seen, so saturating is enough (as in wasm).
bool ReadNow(napi_env env, napi_value value, int64_t* now_ms) {
  double ms = 0;
  if (!ReadNumber(env, value, "now", &ms)) return false;
  if (!std::isfinite(ms)) {
    Throw(env, kInvalidArgument, "now must be a finite number of ms, got " + std::to_string(ms));
    return false;
  }
  constexpr double kLimit = 9.0e18;
  *now_ms = static_cast<int64_t>(ms < -kLimit ? -kLimit : (ms > kLimit ? kLimit : ms));
  return true;
}

// The bytes of a Uint8Array (Buffer included), or false with invalid_argument pending.
bool ReadBytes(napi_env env, napi_value value, const char* what, std::string_view* bytes) {
  bool is_typed_array = false;
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    ThrowWrongType(env, what, "a Uint8Array", value);
    return false;
  }
  *bytes = length == 0 ? std::string_view() : std::string_view(static_cast<char*>(data), length);
  return true;
}

// A typed array of type `wanted` with at least `min_length` elements, or false with invalid_argument
// pending ("<what> must be <expected>, got ...").
template <typename Element>
bool ReadTypedArray(napi_env env, napi_value value, napi_typedarray_type wanted, size_t min_length,
                    const char* what, const char* expected, Element** data, size_t* length) {
  bool is_typed_array = false;
  napi_typedarray_type type = napi_int8_array;
  void* raw = nullptr;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, length, &raw, nullptr, nullptr) != napi_ok ||
      type != wanted || *length < min_length) {
    if (is_typed_array) {
      Throw(env, kInvalidArgument, std::string(what) + " must be " + expected);
    } else {
      ThrowWrongType(env, what, expected, value);
    }
    return false;
  }
  *data = static_cast<Element*>(raw);
  return true;
}

// The Float64Array(3) that get/peek fill with [state, freshRemainingMs, staleRemainingMs].
bool ReadTimesOut(napi_env env, napi_value value, double** out) {
  size_t length = 0;
  return ReadTypedArray(env, value, napi_float64_array, 3, "out",
                        "a Float64Array of at least 3 elements", out, &length);
}

// A number for a message, as JS prints the usual ones ("-1", "0.5"); "nan", "inf" otherwise.
std::string ShowNumber(double number) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", number);
  return text;
}

// A whole number in [0, 2^53) (counts JS hands over), or false with invalid_argument pending.
bool ReadCount(napi_env env, napi_value value, const char* what, double* count) {
  if (!ReadNumber(env, value, what, count)) return false;
  if (!(*count >= 0 && *count <= kMaxSafeInteger && std::floor(*count) == *count)) {
    Throw(env, kInvalidArgument,
          std::string(what) + " must be a whole number >= 0, got " + ShowNumber(*count));
    return false;
  }
  return true;
}

bool IsUndefined(napi_env env, napi_value value) {
  napi_valuetype type = napi_undefined;
  return napi_typeof(env, value, &type) == napi_ok && type == napi_undefined;
}

// An optional array argument: null or undefined is none (*count 0). False, with
// invalid_argument pending (naming `what` and `expected`), for anything but an array.
bool ReadOptionalArrayLength(napi_env env, napi_value value, const char* what, const char* expected,
                             uint32_t* count) {
  *count = 0;
  napi_valuetype type = napi_undefined;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_undefined || type == napi_null) return true;
  bool is_array = false;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, value, count) != napi_ok) {
    ThrowWrongType(env, what, expected, value);
    return false;
  }
  return true;
}

// Tags: null or undefined for none, else an array of strings.
bool ReadTags(napi_env env, napi_value value, std::vector<std::string>* tags) {
  uint32_t count = 0;
  if (!ReadOptionalArrayLength(env, value, "tags", "an array of strings or null", &count)) {
    return false;
  }
  tags->reserve(count);
  Utf8Arg tag;
  for (uint32_t i = 0; i < count; ++i) {
    napi_value element = nullptr;
    if (napi_get_element(env, value, i, &element) != napi_ok) return false;  // a getter threw
    if (!tag.Read(env, element, "tags[" + std::to_string(i) + "]")) return false;
    tags->push_back(tag.str());
  }
  return true;
}

// An array of JS strings as UTF-8, packed into one buffer that keeps its capacity between
// calls: one Node-API call per string of the usual length (a second for a long one), no
// allocation per string. touch's missed keys, a batch of up to the front's buffer size.
class Utf8Batch {
 public:
  // null or undefined: no strings. False, with invalid_argument pending, for anything but an
  // array of strings (a getter that threw leaves its own exception pending).
  bool Read(napi_env env, napi_value value, const char* what) {
    bytes_.clear();
    ends_.clear();
    views_.clear();
    uint32_t count = 0;
    if (!ReadOptionalArrayLength(env, value, what, "an array of strings, null or undefined",
                                 &count)) {
      return false;
    }
    for (uint32_t i = 0; i < count; ++i) {
      napi_value element = nullptr;
      if (napi_get_element(env, value, i, &element) != napi_ok) return false;
      if (!Append(env, element)) {
        ThrowWrongType(env, std::string(what) + "[" + std::to_string(i) + "]", "a string", element);
        return false;
      }
    }
    // Views only now: appending may have moved the bytes.
    size_t begin = 0;
    for (size_t end : ends_) {
      views_.emplace_back(bytes_.data() + begin, end - begin);
      begin = end;
    }
    return true;
  }

  const std::vector<std::string_view>& views() const { return views_; }

 private:
  static constexpr size_t kGuessBytes = 256;

  // False when `element` is not a string.
  bool Append(napi_env env, napi_value element) {
    const size_t at = bytes_.size();
    bytes_.resize(at + kGuessBytes);
    size_t length = 0;
    if (napi_get_value_string_utf8(env, element, &bytes_[at], kGuessBytes, &length) != napi_ok) {
      bytes_.resize(at);
      return false;
    }
    // As Utf8Arg: V8 writes whole characters only, so stopping more than 4 bytes short of
    // the room offered means the string is complete.
    if (length + 4 >= kGuessBytes) {
      size_t full = 0;
      napi_get_value_string_utf8(env, element, nullptr, 0, &full);
      if (full != length) {
        bytes_.resize(at + full + 1);  // room for the terminator Node-API always writes
        napi_get_value_string_utf8(env, element, &bytes_[at], full + 1, &length);
      }
    }
    bytes_.resize(at + length);
    ends_.push_back(bytes_.size());
    return true;
  }

  std::string bytes_;
  std::vector<size_t> ends_;  // ends_[i]: where string i ends in bytes_
  std::vector<std::string_view> views_;
};

void ReportTimes(const Lookup& lookup, double* out) { tickcache::LookupToHost(lookup, out); }

// An absolute time as JS sees it: kNoExpiry ("never") is +Infinity.
double TimeForHost(int64_t ms) {
  return ms == tickcache::kNoExpiry ? INFINITY : static_cast<double>(ms);
}

// Counts cross as doubles: exact up to 2^53, far beyond any cache's entry count.
Napi::Value Count(napi_env env, uint64_t count) {
  return Napi::Number::New(env, static_cast<double>(count));
}

// ---- removal notices ---------------------------------------------------------------------

// The (ref, cause) notices of a cache created with trackRemovals: tickcache::RemovalQueue
// (core/include/tickcache/host.h), shared with the wasm host.
//
// No mutex: only a cache that is not named can track removals, so its one handle, and so
// every call that can remove an entry and every drain, runs on one env's JS thread. Nothing
// bounds the queue but the front's draining, which it does whenever set() reports pending
// notices.
using tickcache::RemovalQueue;

// ---- shared caches and the registry of names ---------------------------------------------

// One tickcache::Cache and what every handle on it shares. Member order matters: `cache` is
// declared last so it is destroyed first, while the queue its listener writes to still lives.
struct SharedCache {
  ~SharedCache();

  std::string name;  // "" when unnamed; set once, before the cache is published
  std::unique_ptr<RemovalQueue> removals;  // null unless trackRemovals
  std::shared_ptr<ManualClock> clock;
  std::unique_ptr<Cache> cache;
};

// Names -> live named caches, for every env (main thread and worker_threads) of the process.
// It holds weak pointers: the handles own the caches, so a name lives exactly as long as one
// handle on its cache does.
class Registry {
 public:
  // Never destroyed: a worker's handles may be finalized while the process exits, after
  // static destructors would have run.
  static Registry& Instance() {
    static Registry* registry = new Registry();
    return *registry;
  }

  // False when `name` belongs to a live cache.
  bool Register(const std::string& name, const std::shared_ptr<SharedCache>& shared) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::weak_ptr<SharedCache>& slot = by_name_[name];
    if (!slot.expired()) return false;
    shared->name = name;
    slot = shared;
    return true;
  }

  std::shared_ptr<SharedCache> Find(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = by_name_.find(name);
    return found == by_name_.end() ? nullptr : found->second.lock();
  }

  // Called by a dying cache. A new cache may already have taken the name (its entry is then
  // live): only an expired entry is the dying cache's own.
  void Forget(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = by_name_.find(name);
    if (found != by_name_.end() && found->second.expired()) by_name_.erase(found);
  }

 private:
  Registry() = default;

  std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<SharedCache>> by_name_;  // guarded by mutex_
};

SharedCache::~SharedCache() {
  cache.reset();  // before the name is free, so a new cache of that name never meets this one
  if (!name.empty()) Registry::Instance().Forget(name);
}

// ---- per-env data -------------------------------------------------------------------------

// What one env (the main thread or a worker) keeps: the class, so openCoreCache can construct
// a CoreCache, and the cache that construction adopts instead of creating one.
struct AddonData {
  Napi::FunctionReference core_cache;
  std::shared_ptr<SharedCache> adopting;  // set only for the duration of openCoreCache's New
};

// The constructor's second argument: { trackRemovals?: boolean, name?: string }.
struct HostOptions {
  bool track_removals = false;
  std::string name;  // "" when absent
};

// Reads the host options; false with invalid_argument pending for anything but undefined or
// a plain object whose fields are known and of the right type (undefined fields are absent).
bool ReadHostOptions(napi_env env, napi_value value, HostOptions* options) {
  if (IsUndefined(env, value)) return true;
  napi_valuetype type = napi_undefined;
  bool is_array = false;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_object ||
      napi_is_array(env, value, &is_array) != napi_ok || is_array) {
    ThrowWrongType(env, "hostOptions", "an object", value);
    return false;
  }
  napi_value names = nullptr;
  uint32_t count = 0;
  if (napi_get_all_property_names(
          env, value, napi_key_own_only,
          static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
          napi_key_numbers_to_strings, &names) != napi_ok ||
      napi_get_array_length(env, names, &count) != napi_ok) {
    return false;  // a Proxy trap threw: its exception is pending
  }
  Utf8Arg field;
  for (uint32_t i = 0; i < count; ++i) {
    napi_value name = nullptr;
    if (napi_get_element(env, names, i, &name) != napi_ok || !field.Read(env, name, "field")) {
      return false;
    }
    if (field.view() != "trackRemovals" && field.view() != "name") {
      Throw(env, kInvalidArgument,
            "hostOptions." + field.str() + " is not a host option (trackRemovals, name)");
      return false;
    }
  }
  napi_value track = nullptr;
  if (napi_get_named_property(env, value, "trackRemovals", &track) != napi_ok) return false;
  if (!IsUndefined(env, track) &&
      napi_get_value_bool(env, track, &options->track_removals) != napi_ok) {
    ThrowWrongType(env, "hostOptions.trackRemovals", "a boolean", track);
    return false;
  }
  napi_value name = nullptr;
  if (napi_get_named_property(env, value, "name", &name) != napi_ok) return false;
  if (!IsUndefined(env, name)) {
    Utf8Arg text;
    if (!text.Read(env, name, "hostOptions.name")) return false;
    if (text.view().empty()) {
      Throw(env, kInvalidArgument, "hostOptions.name must not be empty");
      return false;
    }
    options->name = text.str();
  }
  if (!options->name.empty() && options->track_removals) {
    Throw(env, kInvalidArgument,
          "hostOptions.trackRemovals cannot be combined with name \"" + options->name +
              "\": removal notices are drained by one JS realm, a named cache is shared");
    return false;
  }
  return true;
}

class CoreCache : public Napi::ObjectWrap<CoreCache> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CoreCache",
                       {
                           InstanceMethod<&CoreCache::Get>("get"),
                           InstanceMethod<&CoreCache::Peek>("peek"),
                           InstanceMethod<&CoreCache::Has>("has"),
                           InstanceMethod<&CoreCache::Set>("set"),
                           InstanceMethod<&CoreCache::Add>("add"),
                           InstanceMethod<&CoreCache::Delete>("delete"),
                           InstanceMethod<&CoreCache::Touch>("touch"),
                           InstanceMethod<&CoreCache::DrainRemovals>("drainRemovals"),
                           InstanceMethod<&CoreCache::PendingRemovals>("pendingRemovals"),
                           InstanceMethod<&CoreCache::InvalidateTag>("invalidateTag"),
                           InstanceMethod<&CoreCache::InvalidatePrefix>("invalidatePrefix"),
                           InstanceMethod<&CoreCache::InvalidatePattern>("invalidatePattern"),
                           InstanceMethod<&CoreCache::Clear>("clear"),
                           InstanceMethod<&CoreCache::Maintenance>("maintenance"),
                           InstanceMethod<&CoreCache::Entries>("entries"),
                           InstanceMethod<&CoreCache::Bytes>("bytes"),
                           InstanceMethod<&CoreCache::StatsJson>("statsJson"),
                           InstanceMethod<&CoreCache::Close>("close"),
                       });
  }

  // new CoreCache(optionsJson, hostOptions?), or, inside openCoreCache, a new handle on the
  // cache it is adopting. On failure the exception stays pending and node-addon-api discards
  // the half-made object.
  explicit CoreCache(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CoreCache>(info) {
    napi_env env = info.Env();
    AddonData* data = info.Env().GetInstanceData<AddonData>();
    if (data != nullptr && data->adopting != nullptr) {
      shared_ = std::move(data->adopting);
      return;
    }
    Utf8Arg json;
    HostOptions host;
    if (!json.Read(env, info[0], "optionsJson") || !ReadHostOptions(env, info[1], &host)) return;
    tickcache::Result<tickcache::Options> parsed = tickcache::ParseOptionsJson(json.view());
    if (!parsed.ok()) {
      Throw(env, parsed.status());
      return;
    }
    tickcache::Options options = std::move(parsed).value();
    auto shared = std::make_shared<SharedCache>();
    if (host.track_removals) {
      shared->removals = std::make_unique<RemovalQueue>();
      RemovalQueue* queue = shared->removals.get();  // outlives the cache (SharedCache's order)
      options.on_removal = [queue](EntryRef ref, std::string_view, RemovalCause cause) {
        queue->Push(ref, cause);
      };
    }
    // Starts at 0, like the wasm host, so a test's fake clock may begin anywhere after the
    // epoch.
    shared->clock = std::make_shared<ManualClock>(0);
    options.clock = shared->clock;
    tickcache::Result<std::unique_ptr<Cache>> created = Cache::Create(std::move(options));
    if (!created.ok()) {
      Throw(env, created.status());
      return;
    }
    shared->cache = std::move(created).value();
    if (!host.name.empty() && !Registry::Instance().Register(host.name, shared)) {
      Throw(env, kNameTaken, "a cache named \"" + host.name + "\" is already open");
      return;
    }
    shared_ = std::move(shared);
  }

 private:
  // The open cache, or null with "closed" pending.
  Cache* Open(napi_env env) {
    if (shared_ == nullptr) {
      Throw(env, kClosed, "the cache is closed");
      return nullptr;
    }
    return shared_->cache.get();
  }

  // Moves the cache's clock to the caller's `now`.
  void SetNow(int64_t now_ms) { shared_->clock->Set(now_ms); }

  // get(key, now, out) / peek(key, now, out): the value as a Buffer (a copy) or null.
  Napi::Value Read(const Napi::CallbackInfo& info, bool peek) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg key;
    int64_t now_ms = 0;
    double* out = nullptr;
    if (cache == nullptr || !key.Read(env, info[0], "key") || !ReadNow(env, info[1], &now_ms) ||
        !ReadTimesOut(env, info[2], &out)) {
      return Napi::Value();
    }
    SetNow(now_ms);
    Lookup lookup =
        peek ? cache->Peek(key.view(), &value_scratch_) : cache->Get(key.view(), &value_scratch_);
    ReportTimes(lookup, out);
    if (lookup.state == Freshness::kMiss) return info.Env().Null();
    return Napi::Buffer<char>::Copy(env, value_scratch_.data(), value_scratch_.size());
  }

  Napi::Value Get(const Napi::CallbackInfo& info) { return Read(info, /*peek=*/false); }
  Napi::Value Peek(const Napi::CallbackInfo& info) { return Read(info, /*peek=*/true); }

  // has(key, now): 0 miss, 1 fresh, 2 stale.
  Napi::Value Has(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg key;
    int64_t now_ms = 0;
    if (cache == nullptr || !key.Read(env, info[0], "key") || !ReadNow(env, info[1], &now_ms)) {
      return Napi::Value();
    }
    SetNow(now_ms);
    return Napi::Number::New(env, static_cast<double>(cache->Has(key.view())));
  }

  // set(key, value, ttlMs, graceMs, tags, now, out?): with `out`, fills [ref, freshUntilMs,
  // staleUntilMs, pendingRemovals] (absolute ms, +Infinity for never).
  Napi::Value Set(const Napi::CallbackInfo& info) { return Write(info, /*only_if_absent=*/false); }

  // add(key, value, ttlMs, graceMs, tags, now, out?): Cache::Add, true when it wrote (then `out`
  // is filled as set fills it), false when a live entry kept the key (`out` untouched).
  Napi::Value Add(const Napi::CallbackInfo& info) { return Write(info, /*only_if_absent=*/true); }

  Napi::Value Write(const Napi::CallbackInfo& info, bool only_if_absent) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg key;
    std::string_view value;
    double ttl_ms = 0;
    double grace_ms = 0;
    tickcache::SetOptions options;
    int64_t now_ms = 0;
    double* out = nullptr;
    size_t out_length = 0;
    if (cache == nullptr || !key.Read(env, info[0], "key") ||
        !ReadBytes(env, info[1], "value", &value) || !ReadNumber(env, info[2], "ttlMs", &ttl_ms) ||
        !ReadNumber(env, info[3], "graceMs", &grace_ms) || !ReadTags(env, info[4], &options.tags) ||
        !ReadNow(env, info[5], &now_ms) ||
        (!IsUndefined(env, info[6]) &&
         !ReadTypedArray(env, info[6], napi_float64_array, 4, "out",
                         "a Float64Array of at least 4 elements", &out, &out_length))) {
      return Napi::Value();
    }
    options.ttl_ms = tickcache::DurationFromHost(ttl_ms);
    options.grace_ms = tickcache::DurationFromHost(grace_ms);
    SetNow(now_ms);
    tickcache::WriteResult written;
    tickcache::WriteResult* result = out == nullptr ? nullptr : &written;
    bool wrote = true;
    if (only_if_absent) {
      tickcache::Result<bool> added = cache->AddWithResult(key.view(), value, options, result);
      if (!added.ok()) {
        Throw(env, added.status());
        return Napi::Value();
      }
      wrote = added.value();
    } else {
      Status status = cache->SetWithResult(key.view(), value, options, result);
      if (!status.ok()) {
        Throw(env, status);
        return Napi::Value();
      }
    }
    if (out != nullptr && wrote) {
      out[0] = static_cast<double>(written.ref);
      out[1] = TimeForHost(written.fresh_until_ms);
      out[2] = TimeForHost(written.stale_until_ms);
      out[3] = static_cast<double>(PendingCount());
    }
    if (!only_if_absent) return info.Env().Undefined();
    return Napi::Boolean::New(env, wrote);
  }

  Napi::Value Delete(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg key;
    if (cache == nullptr || !key.Read(env, info[0], "key")) return Napi::Value();
    return Napi::Boolean::New(env, cache->Delete(key.view()));
  }

  // touch(refs, count, misses, hits?, staleHits?, missedKeys?): the answers a JS front gave
  // itself: hits it replays to the policy (refs), misses it replays with their keys, misses
  // and hits it only counts (beyond what its buffers kept). Hits go first, then the missed
  // keys: a front reports before each write, so the newest miss, usually of the key about to
  // be written, reaches the policy last, right before that write, as Get-then-Set would.
  Napi::Value Touch(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    EntryRef* refs = nullptr;
    size_t length = 0;
    double count = 0;
    double misses = 0;
    double hits = 0;
    double stale_hits = 0;
    if (cache == nullptr ||
        !ReadTypedArray(env, info[0], napi_uint32_array, 0, "refs", "a Uint32Array", &refs,
                        &length) ||
        !ReadCount(env, info[1], "count", &count) || !ReadCount(env, info[2], "misses", &misses) ||
        (!IsUndefined(env, info[3]) && !ReadCount(env, info[3], "hits", &hits)) ||
        (!IsUndefined(env, info[4]) && !ReadCount(env, info[4], "staleHits", &stale_hits)) ||
        !missed_keys_.Read(env, info[5], "missedKeys")) {
      return Napi::Value();
    }
    if (count > static_cast<double>(length)) {
      Throw(env, kInvalidArgument,
            "count " + std::to_string(static_cast<uint64_t>(count)) + " is more than the " +
                std::to_string(length) + " refs given");
      return Napi::Value();
    }
    cache->Touch(refs, static_cast<size_t>(count));
    const std::vector<std::string_view>& keys = missed_keys_.views();
    if (!keys.empty()) cache->RecordMissedKeys(keys.data(), keys.size());
    cache->RecordMisses(static_cast<uint64_t>(misses));
    if (hits != 0 || stale_hits != 0) {
      cache->RecordHits(static_cast<uint64_t>(hits), static_cast<uint64_t>(stale_hits));
    }
    return info.Env().Undefined();
  }

  // drainRemovals(out: Uint32Array): pairs written as [ref, cause, ...], oldest first.
  Napi::Value DrainRemovals(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    uint32_t* out = nullptr;
    size_t length = 0;
    if (Open(env) == nullptr || !ReadTypedArray(env, info[0], napi_uint32_array, 0, "out",
                                                "a Uint32Array", &out, &length)) {
      return Napi::Value();
    }
    RemovalQueue* queue = shared_->removals.get();
    return Count(env, queue == nullptr ? 0 : queue->Drain(out, length / 2));
  }

  Napi::Value PendingRemovals(const Napi::CallbackInfo& info) {
    if (Open(info.Env()) == nullptr) return Napi::Value();
    return Count(info.Env(), PendingCount());
  }

  size_t PendingCount() const {
    return shared_->removals == nullptr ? 0 : shared_->removals->Pending();
  }

  Napi::Value InvalidateTag(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg tag;
    if (cache == nullptr || !tag.Read(env, info[0], "tag")) return Napi::Value();
    return Count(env, cache->InvalidateTag(tag.view()));
  }

  Napi::Value InvalidatePrefix(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg prefix;
    if (cache == nullptr || !prefix.Read(env, info[0], "prefix")) return Napi::Value();
    return Count(env, cache->InvalidatePrefix(prefix.view()));
  }

  Napi::Value InvalidatePattern(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg glob;
    if (cache == nullptr || !glob.Read(env, info[0], "glob")) return Napi::Value();
    tickcache::Result<uint64_t> removed = cache->InvalidatePattern(glob.view());
    if (!removed.ok()) {
      Throw(env, removed.status());
      return Napi::Value();
    }
    return Count(env, removed.value());
  }

  Napi::Value Clear(const Napi::CallbackInfo& info) {
    Cache* cache = Open(info.Env());
    if (cache == nullptr) return Napi::Value();
    return Count(info.Env(), cache->Clear());
  }

  // maintenance(now): how many entries whose grace ran out were removed.
  Napi::Value Maintenance(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    int64_t now_ms = 0;
    if (cache == nullptr || !ReadNow(env, info[0], &now_ms)) return Napi::Value();
    SetNow(now_ms);
    return Count(env, cache->RunMaintenance());
  }

  Napi::Value Entries(const Napi::CallbackInfo& info) {
    Cache* cache = Open(info.Env());
    if (cache == nullptr) return Napi::Value();
    return Count(info.Env(), cache->Entries());
  }

  Napi::Value Bytes(const Napi::CallbackInfo& info) {
    Cache* cache = Open(info.Env());
    if (cache == nullptr) return Napi::Value();
    return Count(info.Env(), cache->Bytes());
  }

  Napi::Value StatsJson(const Napi::CallbackInfo& info) {
    Cache* cache = Open(info.Env());
    if (cache == nullptr) return Napi::Value();
    return Napi::String::New(info.Env(), cache->StatsJson());
  }

  // close(): detaches this handle; the cache (and its name) is freed now if this was the last
  // handle on it, rather than at garbage collection. Every later call on this handle, close
  // included, throws "closed" (PROTOCOL.md); other handles on a named cache go on working.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Open(info.Env()) == nullptr) return Napi::Value();
    shared_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<SharedCache> shared_;  // null once closed
  // get/peek assign the value here, so a hit reuses its capacity and allocates only the
  // Buffer handed to JS.
  std::string value_scratch_;
  // touch's missed keys; its capacity is kept for the next batch.
  Utf8Batch missed_keys_;
};

// openCoreCache(name): a new handle on the named cache, from any env of the process.
Napi::Value OpenCoreCache(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  Utf8Arg name;
  if (!name.Read(env, info[0], "name")) return Napi::Value();
  std::shared_ptr<SharedCache> shared = Registry::Instance().Find(name.str());
  if (shared == nullptr) {
    Throw(env, kNotFound, "no open cache is named \"" + name.str() + "\"");
    return Napi::Value();
  }
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  data->adopting = std::move(shared);
  Napi::Object handle = data->core_cache.New({});
  data->adopting.reset();  // already moved into the handle unless New failed
  if (handle.IsEmpty()) return Napi::Value();
  return handle;
}

// parseDuration(text): the core's ParseDuration in ms; "never" is +Infinity.
Napi::Value ParseDuration(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  Utf8Arg text;
  if (!text.Read(env, info[0], "text")) return Napi::Value();
  if (text.view() == "never") return Napi::Number::New(env, INFINITY);
  tickcache::Result<int64_t> parsed = tickcache::ParseDuration(text.view());
  if (!parsed.ok()) {
    Throw(env, parsed.status());
    return Napi::Value();
  }
  return Napi::Number::New(env, static_cast<double>(parsed.value()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function core_cache = CoreCache::Define(env);
  if (env.IsExceptionPending()) return exports;
  env.SetInstanceData<AddonData>(new AddonData{Napi::Persistent(core_cache), nullptr});
  exports.Set("CoreCache", core_cache);
  exports.Set("openCoreCache", Napi::Function::New<OpenCoreCache>(env, "openCoreCache"));
  exports.Set("parseDuration", Napi::Function::New<ParseDuration>(env, "parseDuration"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tickcache, Init)
