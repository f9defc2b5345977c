// bindings/addon.cc: the Node-API host of the core, the native half of bindings/PROTOCOL.md's
// `CoreCache`. js/ wraps it; nothing else should call it.
//
// Invariants:
//   - Marshalling only. Every rule (validation, TTL resolution, eviction, expiry) is the
//     core's; this file turns JS values into bytes and numbers and reports the core's Status
//     as a thrown Error whose `code` is ErrorCodeName, or "closed" / "invalid_argument" for
//     what only a host can get wrong (a closed object, an argument of the wrong JS type).
//   - It converts numbers exactly as wasm/exports.cc does (durations, `now`, Infinity), so
//     one Jest suite gets the same answers from both backends.
//   - A failed call changes nothing: every argument is checked before the clock moves or the
//     core is called, and the core itself leaves the cache as it was on a bad Status.
//   - node-addon-api runs without C++ exceptions: a failure sets a pending JS exception and
//     the method returns at once. Nothing aborts the process.
//   - Per-env state lives in AddonData (napi_set_instance_data), never in globals, so every
//     worker_thread that loads the addon gets its own class.
//   - Time is the caller's: each CoreCache owns a ManualClock set from `now` before each call
//     that reads freshness; the core clamps, so time never steps back.
#include <napi.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickcache/cache.h"
#include "tickcache/clock.h"
#include "tickcache/host.h"
#include "tickcache/status.h"

namespace {

using tickcache::Cache;
using tickcache::Freshness;
using tickcache::Lookup;
using tickcache::ManualClock;
using tickcache::Status;

constexpr char kClosed[] = "closed";
constexpr char kInvalidArgument[] = "invalid_argument";

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

// The Float64Array(3) that get/peek fill with [state, freshRemainingMs, staleRemainingMs].
bool ReadTimesOut(napi_env env, napi_value value, double** out) {
  bool is_typed_array = false;
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || length < 3 || data == nullptr) {
    Throw(env, kInvalidArgument, "out must be a Float64Array of at least 3 elements");
    return false;
  }
  *out = static_cast<double*>(data);
  return true;
}

// Tags: null or undefined for none, else an array of strings.
bool ReadTags(napi_env env, napi_value value, std::vector<std::string>* tags) {
  napi_valuetype type = napi_undefined;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_undefined || type == napi_null) return true;
  bool is_array = false;
  uint32_t count = 0;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, value, &count) != napi_ok) {
    ThrowWrongType(env, "tags", "an array of strings or null", value);
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

void ReportTimes(const Lookup& lookup, double* out) { tickcache::LookupToHost(lookup, out); }

// Counts cross as doubles: exact up to 2^53, far beyond any cache's entry count.
Napi::Value Count(napi_env env, uint64_t count) {
  return Napi::Number::New(env, static_cast<double>(count));
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
                           InstanceMethod<&CoreCache::Delete>("delete"),
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

  // new CoreCache(optionsJson). On failure the exception stays pending and node-addon-api
  // discards the half-made object.
  explicit CoreCache(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CoreCache>(info) {
    napi_env env = info.Env();
    Utf8Arg json;
    if (!json.Read(env, info[0], "optionsJson")) return;
    tickcache::Result<tickcache::Options> parsed = tickcache::ParseOptionsJson(json.view());
    if (!parsed.ok()) {
      Throw(env, parsed.status());
      return;
    }
    tickcache::Options options = std::move(parsed).value();
    // Starts at 0, like the wasm host, so a test's fake clock may begin anywhere after the
    // epoch.
    auto clock = std::make_shared<ManualClock>(0);
    options.clock = clock;
    tickcache::Result<std::unique_ptr<Cache>> created = Cache::Create(std::move(options));
    if (!created.ok()) {
      Throw(env, created.status());
      return;
    }
    cache_ = std::move(created).value();
    clock_ = std::move(clock);
  }

 private:
  // The open cache, or null with "closed" pending.
  Cache* Open(napi_env env) {
    if (cache_ == nullptr) Throw(env, kClosed, "the cache is closed");
    return cache_.get();
  }

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
    clock_->Set(now_ms);
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
    clock_->Set(now_ms);
    return Napi::Number::New(env, static_cast<double>(cache->Has(key.view())));
  }

  // set(key, value, ttlMs, graceMs, tags, now)
  Napi::Value Set(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg key;
    std::string_view value;
    double ttl_ms = 0;
    double grace_ms = 0;
    tickcache::SetOptions options;
    int64_t now_ms = 0;
    if (cache == nullptr || !key.Read(env, info[0], "key") ||
        !ReadBytes(env, info[1], "value", &value) || !ReadNumber(env, info[2], "ttlMs", &ttl_ms) ||
        !ReadNumber(env, info[3], "graceMs", &grace_ms) || !ReadTags(env, info[4], &options.tags) ||
        !ReadNow(env, info[5], &now_ms)) {
      return Napi::Value();
    }
    options.ttl_ms = tickcache::DurationFromHost(ttl_ms);
    options.grace_ms = tickcache::DurationFromHost(grace_ms);
    clock_->Set(now_ms);
    Status status = cache->Set(key.view(), value, options);
    if (!status.ok()) {
      Throw(env, status);
      return Napi::Value();
    }
    return info.Env().Undefined();
  }

  Napi::Value Delete(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Cache* cache = Open(env);
    Utf8Arg key;
    if (cache == nullptr || !key.Read(env, info[0], "key")) return Napi::Value();
    return Napi::Boolean::New(env, cache->Delete(key.view()));
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
    clock_->Set(now_ms);
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

  // close(): frees the entries now rather than at garbage collection; every later call, close
  // included, throws "closed" (PROTOCOL.md).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Open(info.Env()) == nullptr) return Napi::Value();
    cache_.reset();
    clock_.reset();
    return info.Env().Undefined();
  }

  // Shared so that a later registry can hand one cache to several worker_threads' objects.
  std::shared_ptr<Cache> cache_;  // null once closed
  std::shared_ptr<ManualClock> clock_;
  // get/peek assign the value here, so a hit reuses its capacity and allocates only the
  // Buffer handed to JS.
  std::string value_scratch_;
};

// What one env (the main thread or a worker) keeps: the class, for code that must construct
// or recognize a CoreCache from native code.
struct AddonData {
  Napi::FunctionReference core_cache;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function core_cache = CoreCache::Define(env);
  if (env.IsExceptionPending()) return exports;
  env.SetInstanceData<AddonData>(new AddonData{Napi::Persistent(core_cache)});
  exports.Set("CoreCache", core_cache);
  return exports;
}

}  // namespace

NODE_API_MODULE(tickcache, Init)
