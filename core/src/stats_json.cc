// stats_json.cc: StatsToJson. Builds the document with nlohmann_json, which escapes the names
// and formats doubles; a non-finite ratio is written as 0 so the output always parses.
#include "stats_json.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace tickcache {
namespace {

double FiniteOrZero(double value) { return std::isfinite(value) ? value : 0.0; }

const char* OrEmpty(const char* text) { return text != nullptr ? text : ""; }

}  // namespace

std::string StatsToJson(const Stats& stats, PolicyKind policy, uint32_t shards) {
  nlohmann::json document = {
      {"hits", stats.hits},
      {"staleHits", stats.stale_hits},
      {"misses", stats.misses},
      {"sets", stats.sets},
      {"deletes", stats.deletes},
      {"evictions", stats.evictions},
      {"rejections", stats.rejections},
      {"expirations", stats.expirations},
      {"invalidations", stats.invalidations},
      {"entries", stats.entries},
      {"bytes", stats.bytes},
      {"maxEntries", stats.max_entries},
      {"maxBytes", stats.max_bytes},
      {"storeOverheadBytes", stats.store_overhead_bytes},
      {"windowFraction", FiniteOrZero(stats.window_fraction)},
      {"hitRate", FiniteOrZero(stats.HitRate())},
      {"policy", OrEmpty(PolicyKindName(policy))},
      {"shards", shards},
      {"hash", OrEmpty(HashName())},
  };
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tickcache
