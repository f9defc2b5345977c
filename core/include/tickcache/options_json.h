// tickcache/options_json.h: cache options as one JSON document, for the hosts.
//
// The Node addon and the wasm module receive their options from JavaScript as JSON and parse
// them here, so both hosts accept exactly the same documents and report the same errors:
//
//   { "maxEntries": 10000, "maxBytes": 67108864, "policy": "w-tinylfu" | "lru" | "sieve",
//     "defaultTtl": "5m" | 300000 | "never", "defaultGrace": "1h" | 0,
//     "maxKeyBytes": 1024, "maxValueBytes": 67108864, "shards": 0, "namespaceSeparator": ":",
//     "hashSeed": 0, "config": { ...the policy file, see config.h... } }
//
// Every field is optional here (Cache::Create still insists on a bound). Parsing is strict
// like the policy file's: an unknown field, a wrong type or a bad value is kBadConfig with a
// message naming the field and the value. Durations follow ParseDuration.
#pragma once

#include <string_view>

#include "tickcache/cache.h"

namespace tickcache {

Result<Options> ParseOptionsJson(std::string_view json_text);

}  // namespace tickcache
