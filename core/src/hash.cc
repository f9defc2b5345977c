// hash.cc: the one key hash of the engine: XXH3-64 with a per-process random seed.
//
// Keys come from requests (symbols, user ids), so an attacker who knew the hash could
// choose keys that all land in one shard, one index cluster and one sketch counter. The
// seed is drawn once per process from std::random_device (the OS's entropy source; in
// wasm, crypto.getRandomValues) and never leaves the process: persisted data stores keys,
// not hashes.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <random>

#include "tickcache/cache.h"

namespace tickcache {
namespace {

uint64_t DrawSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

uint64_t HashSeed() {
  static const uint64_t seed = DrawSeed();
  return seed;
}

uint64_t HashKey(std::string_view key) {
  static const uint64_t seed = HashSeed();
  return XXH3_64bits_withSeed(key.data(), key.size(), seed);
}

uint64_t HashKey(std::string_view key, uint64_t seed) {
  return XXH3_64bits_withSeed(key.data(), key.size(), seed);
}

const char* HashName() { return "XXH3-64 (per-process random seed)"; }

}  // namespace tickcache
