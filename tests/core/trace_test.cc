// tests/core/trace_test.cc: hit ratios on real traces (issue 2, line 4).
//
// LRU is the oracle: replaying lirs-gli through it must give the published, exact figures,
// which pins both the LRU policy and the replay itself (Get, Set on a miss; one shard).
// The default policy is held to its targets on the small traces only (lirs-gli, lirs-multi2,
// lirs-sprite: under a second of replay), so the suite stays fast; the whole table is the job
// of tickcache_trace_replay. The traces are part of the project's inputs: when they are
// missing the tests fail and say where they looked, never skip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "../../bench/trace_reader.h"
#include "tickcache/cache.h"

namespace {

using tickcache::PolicyKind;
using tickcache_bench::ReferencePoint;

const std::string kTracesDir = TICKCACHE_TRACES_DIR;

// Rounds a percentage the way the reference file gives it: to 2 decimals.
double Round2(double percent) { return std::round(percent * 100.0) / 100.0; }

std::string TwoDecimals(double percent) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", percent);
  return text;
}

std::string Missing(const tickcache::Status& status) {
  return status.ToString() + " (the traces are expected in " + kTracesDir + "; see its README.md)";
}

TEST(TraceLru, LirsGliMatchesReference) {
  auto trace = tickcache_bench::ReadTraceKeys(kTracesDir + "/lirs-gli.keys.gz");
  ASSERT_TRUE(trace.ok()) << Missing(trace.status());
  ASSERT_EQ(trace.value().size(), 6015u) << "lirs-gli has 6,015 requests (traces README)";
  auto reference = tickcache_bench::ReadReference(kTracesDir + "/reference-lru-opt.json");
  ASSERT_TRUE(reference.ok()) << Missing(reference.status());
  std::map<std::string, double> reference_lru;
  for (const ReferencePoint& point : reference.value()) {
    reference_lru[point.name] = point.lru_percent;
  }

  const std::vector<std::pair<uint64_t, double>> expected = {
      {250, 0.91}, {500, 0.95}, {1000, 11.21}, {2000, 57.41}};
  for (const auto& [capacity, expected_percent] : expected) {
    SCOPED_TRACE("lirs-gli@" + std::to_string(capacity));
    auto replay = tickcache_bench::ReplayTrace(trace.value(), PolicyKind::kLru, capacity);
    ASSERT_TRUE(replay.ok()) << replay.status().ToString();
    EXPECT_EQ(replay.value().requests, 6015u);
    EXPECT_NEAR(Round2(replay.value().HitPercent()), expected_percent, 1e-9)
        << "hits " << replay.value().hits << " of " << replay.value().requests << " = "
        << TwoDecimals(replay.value().HitPercent()) << " %";
    auto in_file = reference_lru.find("lirs-gli@" + std::to_string(capacity));
    ASSERT_NE(in_file, reference_lru.end()) << "reference-lru-opt.json lacks this row";
    EXPECT_NEAR(in_file->second, expected_percent, 1e-9)
        << "reference-lru-opt.json disagrees with the published LRU figure";
  }
}

TEST(TraceWTinyLfu, MeetsTheTargetsAndItsFloorsOnSmallTraces) {
  auto reference = tickcache_bench::ReadReference(kTracesDir + "/reference-lru-opt.json");
  ASSERT_TRUE(reference.ok()) << Missing(reference.status());

  std::map<std::string, std::vector<uint64_t>> traces;
  for (const char* name : {"lirs-gli", "lirs-multi2", "lirs-sprite"}) {
    auto trace = tickcache_bench::ReadTraceKeys(kTracesDir + "/" + name + ".keys.gz");
    ASSERT_TRUE(trace.ok()) << Missing(trace.status());
    traces[name] = std::move(trace).value();
  }

  // Replays use a fixed hash seed, so these figures are the same on every run. Each row must
  // meet issue 2's targets (within 1 pp of LRU; lirs-gli@1000 >= 50.5 %) and its floor: what
  // the default policy reached when the floor was last set, less 0.5 pp, so a change that
  // loses hit ratio fails here even while the targets still hold. The replay command checks
  // the same targets over every trace, and over other seeds with --seed.
  const std::map<std::string, double> floors = {
      {"lirs-gli@250", 11.9},     {"lirs-gli@500", 30.8},    {"lirs-gli@1000", 50.2},
      {"lirs-gli@2000", 57.4},    {"lirs-sprite@100", 29.4}, {"lirs-sprite@200", 46.8},
      {"lirs-sprite@400", 69.6},  {"lirs-sprite@800", 87.1}, {"lirs-multi2@500", 48.8},
      {"lirs-multi2@1000", 56.3}, {"lirs-multi2@2000", 68.7}};
  size_t rows_checked = 0;
  bool gli_1000_seen = false;
  for (const ReferencePoint& point : reference.value()) {
    auto trace = traces.find(point.trace);
    if (trace == traces.end()) continue;  // a large trace: the replay command covers it
    SCOPED_TRACE(point.name);
    // Options' default policy, not named, so that this test follows the default.
    tickcache::Options defaults;
    auto replay = tickcache_bench::ReplayTrace(trace->second, defaults.policy, point.capacity);
    ASSERT_TRUE(replay.ok()) << replay.status().ToString();
    const double percent = replay.value().HitPercent();
    ++rows_checked;
    ASSERT_EQ(floors.count(point.name), 1u) << "no floor for " << point.name;
    EXPECT_GE(percent, floors.at(point.name))
        << "the default policy gives " << TwoDecimals(percent) << " % (LRU "
        << TwoDecimals(point.lru_percent) << " %)";
    EXPECT_GE(percent, point.lru_percent - 1.0)
        << "more than 1 pp below LRU (" << TwoDecimals(point.lru_percent) << " %)";
    if (point.name == "lirs-gli@1000") {
      gli_1000_seen = true;
      EXPECT_GE(percent, 50.5) << "Caffeine's W-TinyLFU reaches ~50.5 % here";
    }
  }
  EXPECT_TRUE(gli_1000_seen) << "reference-lru-opt.json lacks lirs-gli@1000";
  EXPECT_EQ(rows_checked, 11u) << "expected 4 lirs-gli, 3 lirs-multi2 and 4 lirs-sprite rows";
}

TEST(TraceReader, RefusesAMissingTraceWithItsPath) {
  auto trace = tickcache_bench::ReadTraceKeys(kTracesDir + "/no-such-trace.keys.gz");
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), tickcache::ErrorCode::kIoError);
  EXPECT_NE(trace.status().message().find("no-such-trace.keys.gz"), std::string::npos);
}

}  // namespace
