// host_front_test.cc: what a host that answers hits itself (the JavaScript object-mode front)
// needs from the core: a ref and the absolute times of every write, Touch to report the hits
// it answered, RecordMissedKeys to tell the policy the keys it missed, and a notice for every
// entry that leaves, naming its ref and why.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "test_support.h"
#include "tickcache/host.h"

namespace tickcache {
namespace {

using testing_support::MustCreate;
using testing_support::Tags;
using testing_support::Ttl;

struct Notice {
  EntryRef ref;
  std::string key;
  RemovalCause cause;
};

class HostFront : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> Make(uint64_t max_entries, PolicyKind policy, uint32_t shards = 1) {
    Options o;
    o.max_entries = max_entries;
    o.policy = policy;
    o.shards = shards;
    o.clock = clock_;
    o.on_removal = [this](EntryRef ref, std::string_view key, RemovalCause cause) {
      notices_.push_back({ref, std::string(key), cause});
    };
    return MustCreate(o);
  }
  EntryRef SetRef(Cache& cache, const std::string& key, const SetOptions& options = {}) {
    WriteResult result;
    EXPECT_TRUE(cache.SetWithResult(key, "v", options, &result).ok());
    refs_[key] = result.ref;
    return result.ref;
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::vector<Notice> notices_;
  std::map<std::string, EntryRef> refs_;
};

TEST_F(HostFront, WritesReportTheirRefAndAbsoluteTimes) {
  auto cache = Make(100, PolicyKind::kLru, 4);
  WriteResult result;
  ASSERT_TRUE(cache->SetWithResult("price:AAPL", "1", Ttl(1000, 500), &result).ok());
  EXPECT_EQ(result.fresh_until_ms, clock_->NowMs() + 1000);
  EXPECT_EQ(result.stale_until_ms, clock_->NowMs() + 1500);
  ASSERT_TRUE(cache->SetWithResult("symbols:list", "x", {}, &result).ok());
  EXPECT_EQ(result.fresh_until_ms, kNoExpiry);
  EXPECT_EQ(result.stale_until_ms, kNoExpiry);
  EXPECT_EQ(cache->SetWithResult("", "x", {}, &result).code(), ErrorCode::kEmptyKey);
}

TEST_F(HostFront, TouchIsAHitThePolicyAndStatsSee) {
  auto cache = Make(3, PolicyKind::kLru);
  EntryRef a = SetRef(*cache, "a");
  SetRef(*cache, "b");
  SetRef(*cache, "c");
  cache->Touch(&a, 1);  // a is now the most recent: b is the next victim
  EntryRef stale = a | kStaleAnswer;
  cache->Touch(&stale, 1);
  SetRef(*cache, "d");
  EXPECT_EQ(cache->Has("a"), Freshness::kFresh);
  EXPECT_EQ(cache->Has("b"), Freshness::kMiss);
  Stats s = cache->GetStats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.stale_hits, 1u);
  // Refs the cache never gave out are ignored, whatever their bits.
  EntryRef junk[] = {0, 1, (EntryRef{1} << 22) - 1, ~EntryRef{0}, 7u << 22};
  cache->Touch(junk, 5);
  EXPECT_EQ(cache->GetStats().hits, 1u);
}

TEST_F(HostFront, RecordedAnswersCountInTheStatsAndTheirJson) {
  auto cache = Make(3, PolicyKind::kLru);
  SetRef(*cache, "a");
  std::string value;
  EXPECT_EQ(cache->Get("nope", &value).state, Freshness::kMiss);
  cache->RecordMisses(4);
  EXPECT_EQ(cache->GetStats().misses, 5u);
  cache->RecordHits(3, 2);
  EXPECT_EQ(cache->GetStats().hits, 3u);
  EXPECT_EQ(cache->GetStats().stale_hits, 2u);
  EXPECT_NE(cache->StatsJson().find("\"misses\":5"), std::string::npos) << cache->StatsJson();
}

TEST_F(HostFront, EveryRemovalIsNoticedWithItsRefAndCause) {
  auto cache = Make(2, PolicyKind::kLru, 1);
  SetRef(*cache, "del");
  ASSERT_TRUE(cache->Delete("del"));
  SetRef(*cache, "e1");
  SetRef(*cache, "e2");
  SetRef(*cache, "e3");             // evicts e1
  SetRef(*cache, "exp", Ttl(100));  // evicts e2
  clock_->Advance(200);
  EXPECT_EQ(cache->RunMaintenance(), 1u);
  SetRef(*cache, "tagged", Tags({"t"}));
  EXPECT_EQ(cache->InvalidateTag("t"), 1u);
  SetRef(*cache, "cleared");
  EXPECT_EQ(cache->Clear(), 2u);  // e3 and cleared

  std::vector<std::tuple<std::string, RemovalCause>> expected = {
      {"del", RemovalCause::kDeleted},        {"e1", RemovalCause::kEvicted},
      {"e2", RemovalCause::kEvicted},         {"exp", RemovalCause::kExpired},
      {"tagged", RemovalCause::kInvalidated}, {"e3", RemovalCause::kInvalidated},
      {"cleared", RemovalCause::kInvalidated}};
  ASSERT_EQ(notices_.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    // Clear visits entries in slot order, so compare the last two as a set.
    const Notice& n = notices_[i];
    if (i < 5) {
      EXPECT_EQ(n.key, std::get<0>(expected[i])) << i;
    }
    EXPECT_EQ(n.cause, std::get<1>(expected[i])) << n.key;
    EXPECT_EQ(n.ref, refs_.at(n.key)) << n.key;
  }
  EXPECT_STREQ(RemovalCauseName(RemovalCause::kRejected), "rejected");
}

TEST_F(HostFront, AdmissionRefusalsAndLazyExpiryAreNoticedToo) {
  auto cache = Make(100, PolicyKind::kWTinyLfu);
  std::string value;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 100; ++i) {
      std::string key = "hot:" + std::to_string(i);
      if (cache->Get(key, &value).state == Freshness::kMiss) SetRef(*cache, key);
    }
  }
  notices_.clear();
  for (int i = 0; i < 50; ++i) SetRef(*cache, "once:" + std::to_string(i));
  size_t rejected = 0;
  for (const Notice& n : notices_) rejected += n.cause == RemovalCause::kRejected;
  EXPECT_GT(rejected, 40u);
  EXPECT_EQ(rejected, cache->GetStats().rejections);

  notices_.clear();
  SetRef(*cache, "hot:0", Ttl(10));
  clock_->Advance(20);
  EXPECT_EQ(cache->Get("hot:0", &value).state, Freshness::kMiss);
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_EQ(notices_[0].cause, RemovalCause::kExpired);
  EXPECT_EQ(notices_[0].ref, refs_.at("hot:0"));
}

// Two identical W-TinyLFU caches (same hash seed, same writes and reads) whose keys were each
// read twice. A host misses each of kWanted keys kMissesPerKey times: one cache hears the keys
// (RecordMissedKeys), the other only the count (RecordMisses). Then the wanted keys are set
// and pushed out of the window: only the cache that heard the keys admits them over a victim
// read twice; the stats of both are the same.
class MissedKeys : public HostFront, public ::testing::WithParamInterface<uint32_t> {
 protected:
  static constexpr int kPerShard = 100;
  static constexpr int kWanted = 8;
  static constexpr int kMissesPerKey = 5;

  // Twice as many keys as fit are set, so every shard is full whatever its share of them;
  // each key held then is read twice.
  std::unique_ptr<Cache> MakeFull(uint32_t shards) {
    Options o;
    o.max_entries = kPerShard * shards;
    o.policy = PolicyKind::kWTinyLfu;
    o.shards = shards;
    o.hash_seed = 0x5eed;
    o.clock = clock_;
    auto cache = MustCreate(o);
    const int written = 2 * kPerShard * static_cast<int>(shards);
    for (int i = 0; i < written; ++i) {
      EXPECT_TRUE(cache->Set("held:" + std::to_string(i), "v").ok());
    }
    std::string value;
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < written; ++i) {
        const std::string key = "held:" + std::to_string(i);
        if (cache->Has(key) == Freshness::kFresh) cache->Get(key, &value);
      }
    }
    EXPECT_EQ(cache->Entries(), o.max_entries);
    EXPECT_EQ(cache->GetStats().misses, 0u);
    return cache;
  }

  // Sets the wanted keys, then as many new keys as the cache holds, so that every wanted key
  // leaves its shard's window and meets admission. Returns how many wanted keys stayed.
  static int SetWantedAndPush(Cache& cache) {
    for (int i = 0; i < kWanted; ++i) EXPECT_TRUE(cache.Set(Wanted(i), "v").ok());
    for (uint64_t i = 0; i < cache.options().max_entries; ++i) {
      EXPECT_TRUE(cache.Set("push:" + std::to_string(i), "v").ok());
    }
    int stayed = 0;
    for (int i = 0; i < kWanted; ++i) stayed += cache.Has(Wanted(i)) == Freshness::kFresh;
    return stayed;
  }

  static std::string Wanted(int i) { return "wanted:" + std::to_string(i); }
};

TEST_P(MissedKeys, ReportedKeysAreAdmittedWhereCountedMissesAreNot) {
  const uint32_t shards = GetParam();
  auto reported = MakeFull(shards);
  auto counted = MakeFull(shards);

  // Round-robin over the keys in one call: with several shards, their keys interleave.
  std::vector<std::string> storage;
  for (int round = 0; round < kMissesPerKey; ++round) {
    for (int i = 0; i < kWanted; ++i) storage.push_back(Wanted(i));
  }
  const std::string too_long(reported->options().max_key_bytes + 1, 'k');
  storage.push_back("");
  storage.push_back(too_long);
  std::vector<std::string_view> keys(storage.begin(), storage.end());
  reported->RecordMissedKeys(keys.data(), keys.size());
  counted->RecordMisses(keys.size());
  reported->RecordMissedKeys(nullptr, 0);

  // Every key counts once, the two a cache could never hold included.
  const uint64_t misses = kWanted * kMissesPerKey + 2;
  EXPECT_EQ(reported->GetStats().misses, misses);
  EXPECT_EQ(counted->GetStats().misses, misses);

  EXPECT_EQ(SetWantedAndPush(*reported), kWanted);
  EXPECT_EQ(SetWantedAndPush(*counted), 0);
  EXPECT_EQ(reported->GetStats().hits, counted->GetStats().hits);
  EXPECT_EQ(reported->GetStats().misses, counted->GetStats().misses);
}

INSTANTIATE_TEST_SUITE_P(Shards, MissedKeys, ::testing::Values(1u, 4u),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return std::to_string(info.param) + "Shards";
                         });

// Fewer reports than the victim's reads do not outweigh it: the key is heard as often as it
// was missed, no more (a count-min sketch may only overestimate, and 100 keys hardly collide).
TEST_F(MissedKeys, AKeyMissedLessOftenThanTheVictimWasReadIsStillRejected) {
  auto cache = MakeFull(1);
  const std::string_view wanted[] = {"wanted:0", "wanted:0"};
  cache->RecordMissedKeys(wanted, 2);
  EXPECT_EQ(SetWantedAndPush(*cache), 0);
}

// Policies without a frequency signal ignore the keys; the stats still count them.
TEST_F(HostFront, MissedKeysCountUnderEveryPolicy) {
  for (PolicyKind policy : {PolicyKind::kLru, PolicyKind::kSieve, PolicyKind::kWTinyLfu}) {
    SCOPED_TRACE(PolicyKindName(policy));
    auto cache = Make(10, policy, 2);
    SetRef(*cache, "a");
    const std::string_view keys[] = {"a", "b", "c", "b"};
    cache->RecordMissedKeys(keys, 4);
    EXPECT_EQ(cache->GetStats().misses, 4u);
    EXPECT_EQ(cache->GetStats().hits, 0u);
    // Nothing was looked up or removed: a held key reported as missed stays.
    EXPECT_EQ(cache->Has("a"), Freshness::kFresh);
    EXPECT_EQ(cache->Entries(), 1u);
  }
}

}  // namespace
}  // namespace tickcache

namespace tickcache {
namespace {

TEST(RemovalQueueTest, DrainsOldestFirstInBatchesAndCompacts) {
  RemovalQueue queue;
  for (EntryRef ref = 1; ref <= 1000; ++ref) queue.Push(ref, RemovalCause::kEvicted);
  EXPECT_EQ(queue.Pending(), 1000u);
  uint32_t out[2 * 300];
  EntryRef expected = 1;
  for (int batch = 0; batch < 3; ++batch) {
    ASSERT_EQ(queue.Drain(out, 300), 300u);
    for (size_t i = 0; i < 300; ++i) {
      EXPECT_EQ(out[2 * i], expected++);
      EXPECT_EQ(out[2 * i + 1], static_cast<uint32_t>(RemovalCause::kEvicted));
    }
  }
  queue.Push(5000, RemovalCause::kExpired);  // a push between drains waits its turn
  ASSERT_EQ(queue.Drain(out, 300), 101u);
  EXPECT_EQ(out[2 * 99], 1000u);
  EXPECT_EQ(out[2 * 100], 5000u);
  EXPECT_EQ(out[2 * 100 + 1], static_cast<uint32_t>(RemovalCause::kExpired));
  EXPECT_EQ(queue.Pending(), 0u);
  EXPECT_EQ(queue.Drain(out, 300), 0u);
}

}  // namespace
}  // namespace tickcache
