// bounds_test.cc: the hard bounds, checked after every one of a million random operations.
//
// Entries and charged bytes must never exceed their limits, whatever mix of writes, reads,
// deletes, invalidations, clock jumps and maintenance arrives; and the byte count must be
// exactly what the live entries charge (recomputed from a snapshot every few thousand ops),
// so the bound is on what entries really cost, not on a counter that drifted.
#include <gtest/gtest.h>

#include <random>

#include "snapshot_codec.h"
#include "test_support.h"

namespace tickcache {
namespace {

using testing_support::MustCreate;

uint64_t ChargeOf(const SnapshotEntry& e, char separator) {
  bool has_namespace = e.key.find(separator) != std::string::npos;
  return e.key.size() + e.value.size() + kEntryChargeBytes +
         kTagChargeBytes * (e.tags.size() + (has_namespace ? 1 : 0));
}

void RunMillionOps(PolicyKind policy, uint32_t shards, uint64_t seed) {
  constexpr uint64_t kMaxEntries = 500;
  constexpr uint64_t kMaxBytes = 64 * 1024;
  auto clock = std::make_shared<ManualClock>();
  Options o;
  o.max_entries = kMaxEntries;
  o.max_bytes = kMaxBytes;
  o.policy = policy;
  o.shards = shards;
  o.clock = clock;
  auto cache = MustCreate(o);
  std::mt19937_64 rng(seed);
  std::string value;
  const char* namespaces[] = {"price:latest:", "feed:", "feed:7:", "", "symbol:info:"};
  auto random_key = [&] { return namespaces[rng() % 5] + std::to_string(rng() % 3000); };
  auto random_tags = [&] {
    std::vector<std::string> tags;
    for (uint64_t n = rng() % 3; n > 0; --n) tags.push_back("t" + std::to_string(rng() % 20));
    return tags;
  };
  for (int op = 0; op < 1'000'000; ++op) {
    uint64_t dice = rng() % 100;
    if (dice < 40) {
      SetOptions so;
      so.ttl_ms = 1 + static_cast<int64_t>(rng() % 60'000);
      so.grace_ms = static_cast<int64_t>(rng() % 10'000);
      so.tags = random_tags();
      // Mostly small values, now and then one close to the whole byte bound.
      size_t size = rng() % 50 == 0 ? rng() % (kMaxBytes / shards) : rng() % 600;
      Status s = cache->Set(random_key(), std::string(size, 'v'), so);
      ASSERT_TRUE(s.ok() || s.code() == ErrorCode::kEntryTooLarge) << s.ToString();
    } else if (dice < 75) {
      cache->Get(random_key(), &value);
    } else if (dice < 80) {
      cache->Peek(random_key(), &value);
    } else if (dice < 85) {
      cache->Delete(random_key());
    } else if (dice < 87) {
      cache->InvalidateTag("t" + std::to_string(rng() % 20));
    } else if (dice < 88) {
      cache->InvalidatePrefix(namespaces[rng() % 5] + std::to_string(rng() % 3));
    } else if (dice < 89) {
      ASSERT_TRUE(cache->InvalidatePattern("*" + std::to_string(rng() % 100)).ok());
    } else if (dice < 96) {
      clock->Advance(static_cast<int64_t>(rng() % 2000));
    } else if (dice < 99) {
      cache->RunMaintenance();
    } else if (rng() % 100 == 0) {
      cache->Clear();
    }
    ASSERT_LE(cache->Entries(), kMaxEntries) << "op " << op;
    ASSERT_LE(cache->Bytes(), kMaxBytes) << "op " << op;
    if (op % 20'000 == 0) {
      Result<std::vector<SnapshotEntry>> entries = DecodeSnapshot(cache->SaveSnapshotBytes());
      ASSERT_TRUE(entries.ok());
      uint64_t charged = 0;
      for (const SnapshotEntry& e : entries.value()) charged += ChargeOf(e, ':');
      ASSERT_EQ(entries.value().size(), cache->Entries()) << "op " << op;
      ASSERT_EQ(charged, cache->Bytes()) << "op " << op;
    }
  }
  Stats s = cache->GetStats();
  EXPECT_GT(s.evictions + s.rejections, 1000u);
  EXPECT_GT(s.expirations, 100u);
}

TEST(Bounds, MillionRandomOpsWTinyLfuSharded) { RunMillionOps(PolicyKind::kWTinyLfu, 4, 1); }
TEST(Bounds, MillionRandomOpsLru) { RunMillionOps(PolicyKind::kLru, 1, 2); }
TEST(Bounds, MillionRandomOpsSieve) { RunMillionOps(PolicyKind::kSieve, 2, 3); }

TEST(Bounds, BytesOnlyBoundWeighsByBytes) {
  Options o;
  o.max_bytes = 10'000;
  o.shards = 1;
  o.clock = std::make_shared<ManualClock>();
  auto cache = MustCreate(o);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(cache->Set("b" + std::to_string(i), std::string(i % 300, 'x')).ok());
    ASSERT_LE(cache->Bytes(), 10'000u);
  }
  EXPECT_GT(cache->Entries(), 10u);
}

}  // namespace
}  // namespace tickcache
