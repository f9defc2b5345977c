// bench/trace_reader.h: reads the hit-ratio traces and replays them through a tickcache.
//
// Shared by the trace replay command (bench/trace_replay.cc) and the trace GoogleTest
// (tests/core/trace_test.cc), so both measure the hit ratio in exactly one way:
//   - a trace is gzip text, one 64-bit key per line (../shared/traces/README.md; unsigned,
//     except one trace of negative ids); a line that is not a key makes the whole trace
//     refused, never silently skipped;
//   - a replay goes through the public API only: Get(key as decimal text), and on a miss
//     Set(key, 8-byte value), on a cache of max_entries = capacity, one shard, a manual clock
//     that never moves (so nothing expires and the policy alone decides what stays);
//   - hit ratio = hits / requests in %, compulsory misses included, as in the reference file.
// Header-only (inline): it needs zlib and nlohmann_json from whoever includes it.
#pragma once

#include <zlib.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickcache/cache.h"
#include "tickcache/clock.h"
#include "tickcache/status.h"

namespace tickcache_bench {

// Decodes one trace file into its keys, in request order.
inline tickcache::Result<std::vector<uint64_t>> ReadTraceKeys(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return tickcache::Status(tickcache::ErrorCode::kIoError, "cannot open trace " + path);
  }
  gzbuffer(file, 1 << 20);
  std::vector<uint64_t> keys;
  char line[128];
  uint64_t line_number = 0;
  while (gzgets(file, line, sizeof line) != nullptr) {
    ++line_number;
    size_t length = std::strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) --length;
    if (length == 0) continue;  // a trailing blank line is not a request
    uint64_t key = 0;
    const char* end = nullptr;
    std::errc error{};
    if (line[0] == '-') {
      // cache2k-orm-busy holds signed 32-bit ids despite the README's "u64": keep them as
      // their two's complement, which keeps distinct ids distinct.
      int64_t signed_key = 0;
      std::from_chars_result parsed = std::from_chars(line, line + length, signed_key);
      end = parsed.ptr;
      error = parsed.ec;
      key = static_cast<uint64_t>(signed_key);
    } else {
      std::from_chars_result parsed = std::from_chars(line, line + length, key);
      end = parsed.ptr;
      error = parsed.ec;
    }
    if (error != std::errc() || end != line + length) {
      gzclose(file);
      return tickcache::Status(tickcache::ErrorCode::kInvalidArgument,
                               path + ":" + std::to_string(line_number) + ": not a u64 key: \"" +
                                   std::string(line, length) + "\"");
    }
    keys.push_back(key);
  }
  int zlib_error = Z_OK;
  const char* message = gzerror(file, &zlib_error);
  std::string zlib_message = message != nullptr ? message : "";
  gzclose(file);
  if (zlib_error != Z_OK && zlib_error != Z_STREAM_END) {
    return tickcache::Status(tickcache::ErrorCode::kIoError,
                             "cannot decode trace " + path + ": " + zlib_message);
  }
  if (keys.empty()) {
    return tickcache::Status(tickcache::ErrorCode::kInvalidArgument, "trace " + path + " is empty");
  }
  return tickcache::Result<std::vector<uint64_t>>(std::move(keys));
}

// One row of reference-lru-opt.json.
struct ReferencePoint {
  std::string name;   // "lirs-gli@1000"
  std::string trace;  // "lirs-gli"
  uint64_t capacity = 0;
  double lru_percent = 0;
  double opt_percent = 0;
};

// Reads reference-lru-opt.json, keeping the file's order.
inline tickcache::Result<std::vector<ReferencePoint>> ReadReference(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return tickcache::Status(tickcache::ErrorCode::kIoError, "cannot open reference " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::ordered_json document =
      nlohmann::ordered_json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return tickcache::Status(tickcache::ErrorCode::kBadConfig, path + ": not a JSON object");
  }
  std::vector<ReferencePoint> points;
  for (const auto& [name, value] : document.items()) {
    size_t at = name.rfind('@');
    ReferencePoint point;
    point.name = name;
    uint64_t capacity = 0;
    bool capacity_ok = false;
    if (at != std::string::npos && at > 0) {
      const char* begin = name.data() + at + 1;
      const char* end = name.data() + name.size();
      auto [parsed_end, error] = std::from_chars(begin, end, capacity);
      capacity_ok = error == std::errc() && parsed_end == end && capacity > 0;
    }
    if (!capacity_ok) {
      return tickcache::Status(tickcache::ErrorCode::kBadConfig,
                               path + ": key \"" + name + "\" is not trace@capacity");
    }
    if (!value.is_object() || !value.contains("lru") || !value["lru"].is_number() ||
        !value.contains("opt") || !value["opt"].is_number()) {
      return tickcache::Status(tickcache::ErrorCode::kBadConfig,
                               path + ": \"" + name + "\" needs numbers \"lru\" and \"opt\"");
    }
    point.trace = name.substr(0, at);
    point.capacity = capacity;
    point.lru_percent = value["lru"].get<double>();
    point.opt_percent = value["opt"].get<double>();
    points.push_back(std::move(point));
  }
  return tickcache::Result<std::vector<ReferencePoint>>(std::move(points));
}

struct ReplayResult {
  uint64_t requests = 0;
  uint64_t hits = 0;
  double HitPercent() const {
    return requests == 0 ? 0 : 100.0 * static_cast<double>(hits) / static_cast<double>(requests);
  }
};

// Replays hash with this fixed seed so a table is the same run after run (the admission
// policy's sketch collisions depend on the seed; production caches draw theirs at random).
inline constexpr uint64_t kReplayHashSeed = 0x7469636b63616368ULL;  // "tickcach"

// Replays `keys` through a fresh cache of `capacity` entries under `policy`; `hash_seed` 0
// means the per-process random seed.
inline tickcache::Result<ReplayResult> ReplayTrace(const std::vector<uint64_t>& keys,
                                                   tickcache::PolicyKind policy, uint64_t capacity,
                                                   uint64_t hash_seed = kReplayHashSeed) {
  tickcache::Options options;
  options.hash_seed = hash_seed;
  options.max_entries = capacity;
  options.policy = policy;
  options.shards = 1;
  options.clock = std::make_shared<tickcache::ManualClock>();
  auto created = tickcache::Cache::Create(std::move(options));
  if (!created.ok()) return created.status();
  std::unique_ptr<tickcache::Cache> cache = std::move(created).value();

  ReplayResult result;
  std::string value_out;
  char key_text[24];
  char value_bytes[8];
  for (uint64_t key : keys) {
    auto [end, error] = std::to_chars(key_text, key_text + sizeof key_text, key);
    (void)error;  // 24 bytes always hold a u64's 20 digits
    std::string_view key_view(key_text, static_cast<size_t>(end - key_text));
    ++result.requests;
    if (cache->Get(key_view, &value_out).state != tickcache::Freshness::kMiss) {
      ++result.hits;
      continue;
    }
    std::memcpy(value_bytes, &key, sizeof value_bytes);
    tickcache::Status status = cache->Set(key_view, std::string_view(value_bytes, 8));
    if (!status.ok()) {
      return tickcache::Status(status.code(), "Set(\"" + std::string(key_view) +
                                                  "\") failed during replay: " + status.message());
    }
  }
  return result;
}

}  // namespace tickcache_bench
