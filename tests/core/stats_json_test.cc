// stats_json_test.cc: StatsToJson. Parses the document back and checks that every Stats field
// arrives under its camelCase key with its exact value (64-bit counters included), that the
// policy, shard count and hash are named, and that the output is valid JSON even for odd input.
#include "stats_json.h"

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tickcache/cache.h"

namespace tickcache {
namespace {

using nlohmann::json;

Stats DistinctStats() {
  Stats stats;
  stats.hits = 700;
  stats.stale_hits = 50;
  stats.misses = 250;
  stats.sets = 4;
  stats.deletes = 5;
  stats.evictions = 6;
  stats.rejections = 7;
  stats.expirations = 8;
  stats.invalidations = 9;
  stats.entries = 10;
  stats.bytes = (uint64_t{1} << 60) + 3;  // beyond 2^53: must survive as an integer
  stats.max_entries = 12;
  stats.max_bytes = 13;
  stats.store_overhead_bytes = 14;
  stats.window_fraction = 0.0125;
  return stats;
}

json ParseBack(const std::string& text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(document.is_discarded()) << text;
  return document;
}

TEST(StatsJsonTest, EveryFieldUnderItsCamelCaseKey) {
  const Stats stats = DistinctStats();
  const std::string text = StatsToJson(stats, PolicyKind::kSieve, 8);
  const json document = ParseBack(text);
  ASSERT_TRUE(document.is_object()) << text;

  const std::set<std::string> expected_keys = {
      "hits",       "staleHits",          "misses",         "sets",    "deletes", "evictions",
      "rejections", "expirations",        "invalidations",  "entries", "bytes",   "maxEntries",
      "maxBytes",   "storeOverheadBytes", "windowFraction", "hitRate", "policy",  "shards",
      "hash"};
  std::set<std::string> keys;
  for (auto it = document.begin(); it != document.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, expected_keys);

  EXPECT_EQ(document["hits"].get<uint64_t>(), stats.hits);
  EXPECT_EQ(document["staleHits"].get<uint64_t>(), stats.stale_hits);
  EXPECT_EQ(document["misses"].get<uint64_t>(), stats.misses);
  EXPECT_EQ(document["sets"].get<uint64_t>(), stats.sets);
  EXPECT_EQ(document["deletes"].get<uint64_t>(), stats.deletes);
  EXPECT_EQ(document["evictions"].get<uint64_t>(), stats.evictions);
  EXPECT_EQ(document["rejections"].get<uint64_t>(), stats.rejections);
  EXPECT_EQ(document["expirations"].get<uint64_t>(), stats.expirations);
  EXPECT_EQ(document["invalidations"].get<uint64_t>(), stats.invalidations);
  EXPECT_EQ(document["entries"].get<uint64_t>(), stats.entries);
  ASSERT_TRUE(document["bytes"].is_number_unsigned());
  EXPECT_EQ(document["bytes"].get<uint64_t>(), stats.bytes);
  EXPECT_EQ(document["maxEntries"].get<uint64_t>(), stats.max_entries);
  EXPECT_EQ(document["maxBytes"].get<uint64_t>(), stats.max_bytes);
  EXPECT_EQ(document["storeOverheadBytes"].get<uint64_t>(), stats.store_overhead_bytes);
  EXPECT_DOUBLE_EQ(document["windowFraction"].get<double>(), stats.window_fraction);
  // (hits + stale hits) / lookups = 750 / 1000
  EXPECT_DOUBLE_EQ(document["hitRate"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(document["hitRate"].get<double>(), stats.HitRate());
  EXPECT_EQ(document["policy"].get<std::string>(), PolicyKindName(PolicyKind::kSieve));
  EXPECT_EQ(document["shards"].get<uint32_t>(), 8u);
  ASSERT_TRUE(document["hash"].is_string());
  EXPECT_EQ(document["hash"].get<std::string>(), HashName());
  EXPECT_FALSE(document["hash"].get<std::string>().empty());
}

TEST(StatsJsonTest, PolicyNamesDiffer) {
  std::set<std::string> names;
  for (PolicyKind kind : {PolicyKind::kWTinyLfu, PolicyKind::kLru, PolicyKind::kSieve}) {
    const json document = ParseBack(StatsToJson(Stats{}, kind, 1));
    ASSERT_TRUE(document["policy"].is_string());
    EXPECT_EQ(document["policy"].get<std::string>(), PolicyKindName(kind));
    names.insert(document["policy"].get<std::string>());
  }
  EXPECT_EQ(names.size(), 3u);
}

TEST(StatsJsonTest, EmptyAndOddStatsStillParse) {
  Stats stats;  // no lookups: hit rate 0, not NaN
  stats.window_fraction = std::numeric_limits<double>::quiet_NaN();
  stats.max_entries = std::numeric_limits<uint64_t>::max();
  const json document = ParseBack(StatsToJson(stats, PolicyKind::kWTinyLfu, 0));
  ASSERT_TRUE(document["hitRate"].is_number()) << document.dump();
  EXPECT_EQ(document["hitRate"].get<double>(), 0.0);
  ASSERT_TRUE(document["windowFraction"].is_number()) << document.dump();
  EXPECT_EQ(document["windowFraction"].get<double>(), 0.0);
  EXPECT_EQ(document["maxEntries"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(document["shards"].get<uint32_t>(), 0u);
}

}  // namespace
}  // namespace tickcache
