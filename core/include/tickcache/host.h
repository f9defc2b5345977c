// tickcache/host.h: what the JavaScript hosts (the Node addon, the wasm module) share.
//
// Numbers cross from JavaScript as doubles. These helpers give both hosts one conversion, so
// the same call means the same thing on either backend:
//   - a duration of NaN is "absent" (the config rules and defaults decide), +Infinity never
//     expires, fractions round up (a positive duration stays positive), and anything out of
//     range becomes a value Cache::Set refuses with kInvalidTtl and a message naming it;
//   - a remaining time of kNoExpiry reads back as +Infinity.
#pragma once

#include <cstdint>
#include <optional>

#include "tickcache/cache.h"
#include "tickcache/options_json.h"

namespace tickcache {

std::optional<int64_t> DurationFromHost(double ms);

// Writes [state (0 miss, 1 fresh, 2 stale), fresh remaining ms, stale remaining ms].
void LookupToHost(const Lookup& lookup, double out[3]);

}  // namespace tickcache
