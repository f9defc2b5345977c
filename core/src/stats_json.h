// stats_json.h: the one JSON document a cache's stats export as (Cache::StatsJson).
//
// One string crosses into JavaScript instead of dozens of property sets, so the keys are
// camelCase, ready to be JSON.parse'd as is. Counters are JSON integers; hitRate and
// windowFraction are numbers in [0, 1] (never NaN, which JSON cannot carry).
#pragma once

#include <cstdint>
#include <string>

#include "tickcache/cache.h"

namespace tickcache {

// {"hits":..,"staleHits":..,"misses":..,"sets":..,"deletes":..,"evictions":..,"rejections":..,
//  "expirations":..,"invalidations":..,"entries":..,"bytes":..,"maxEntries":..,"maxBytes":..,
//  "storeOverheadBytes":..,"windowFraction":..,"hitRate":..,"policy":"wtinylfu","shards":..,
//  "hash":"..."}
std::string StatsToJson(const Stats& stats, PolicyKind policy, uint32_t shards);

}  // namespace tickcache
