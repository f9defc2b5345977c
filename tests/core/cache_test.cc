// cache_test.cc: behaviour of the engine that is not the same across policies or stores:
// option validation, LRU order as an oracle, peek's neutrality, config rules at set time,
// invalidation that touches only what it removes, the file store across a restart, and
// the seeded hash.
#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <atomic>
#include <list>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"

namespace tickcache {
namespace {

using testing_support::GetValue;
using testing_support::MustCreate;
using testing_support::Tags;
using testing_support::TempDir;
using testing_support::Ttl;

Options Small(uint64_t max_entries, PolicyKind policy = PolicyKind::kLru) {
  Options o;
  o.max_entries = max_entries;
  o.shards = 1;
  o.policy = policy;
  o.clock = std::make_shared<ManualClock>();
  return o;
}

TEST(CacheOptions, InvalidOptionsAreRefusedWithTheirCode) {
  struct Case {
    const char* what;
    Options options;
    ErrorCode code;
  };
  std::vector<Case> cases;
  {
    Options o;
    cases.push_back({"no bound", o, ErrorCode::kInvalidArgument});
  }
  {
    Options o = Small(10);
    o.max_key_bytes = 0;
    cases.push_back({"max_key_bytes 0", o, ErrorCode::kInvalidArgument});
    o.max_key_bytes = 70000;
    cases.push_back({"max_key_bytes 70000", o, ErrorCode::kInvalidArgument});
  }
  {
    Options o = Small(10);
    o.max_value_bytes = (256u << 20) + 1;
    cases.push_back({"max_value_bytes", o, ErrorCode::kInvalidArgument});
  }
  {
    Options o = Small(10);
    o.shards = 3;
    cases.push_back({"shards 3", o, ErrorCode::kInvalidArgument});
    o.shards = 512;
    cases.push_back({"shards 512", o, ErrorCode::kInvalidArgument});
    o.shards = 16;
    cases.push_back({"fewer entries than shards", o, ErrorCode::kInvalidArgument});
  }
  {
    Options o = Small(10);
    o.default_ttl_ms = 0;
    cases.push_back({"default ttl 0", o, ErrorCode::kInvalidTtl});
    o.default_ttl_ms = 1000;
    o.default_grace_ms = -1;
    cases.push_back({"default grace -1", o, ErrorCode::kInvalidTtl});
  }
  {
    Options o = Small(10);
    o.policy = static_cast<PolicyKind>(9);
    cases.push_back({"policy 9", o, ErrorCode::kInvalidArgument});
  }
  for (Case& c : cases) {
    Result<std::unique_ptr<Cache>> made = Cache::Create(c.options);
    ASSERT_FALSE(made.ok()) << c.what;
    EXPECT_EQ(made.status().code(), c.code) << c.what << ": " << made.status().ToString();
    EXPECT_FALSE(made.status().message().empty());
  }
}

TEST(CacheLru, EvictsLeastRecentlyUsedAndPeekDoesNotRefresh) {
  auto cache = MustCreate(Small(3));
  for (const char* k : {"a", "b", "c"}) ASSERT_TRUE(cache->Set(k, k).ok());
  std::string value;
  EXPECT_EQ(cache->Get("a", &value).state, Freshness::kFresh);   // a becomes most recent
  EXPECT_EQ(cache->Peek("b", &value).state, Freshness::kFresh);  // b stays least recent
  EXPECT_EQ(cache->Has("b"), Freshness::kFresh);
  ASSERT_TRUE(cache->Set("d", "d").ok());
  EXPECT_EQ(cache->Has("b"), Freshness::kMiss);
  EXPECT_EQ(cache->Has("a"), Freshness::kFresh);
  EXPECT_EQ(cache->Has("c"), Freshness::kFresh);
  Stats s = cache->GetStats();
  EXPECT_EQ(s.hits, 1u);  // peek and has are not lookups
  EXPECT_EQ(s.evictions, 1u);
}

// Lookups and rewrites reach the policy through a queue applied in batches (shard.cc,
// Shard::Defer). Against a plain reference LRU over a random mix of hits, misses, rewrites
// (same size: queued; larger: applied at once), inserts and deletes, every eviction must
// name the key the reference evicts, at the same operation.
TEST(CacheLru, QueuedAccessesEvictExactlyAsAReferenceLru) {
  constexpr size_t kCapacity = 64;
  Options options = Small(kCapacity);
  std::vector<std::string> evicted;
  options.on_removal = [&evicted](EntryRef, std::string_view key, RemovalCause cause) {
    if (cause == RemovalCause::kEvicted) evicted.emplace_back(key);
  };
  auto cache = MustCreate(std::move(options));

  std::list<std::string> order;  // most recent first
  std::map<std::string, std::list<std::string>::iterator> where;
  auto touch = [&](const std::string& key) { order.splice(order.begin(), order, where[key]); };

  std::mt19937 random(7);
  std::string value;
  uint64_t queued_rewrites = 0;
  for (int op = 0; op < 200'000; ++op) {
    const std::string key = "k" + std::to_string(random() % (3 * kCapacity));
    const bool present = where.count(key) != 0;
    std::vector<std::string> expected;
    switch (random() % 8) {
      case 0:
      case 1:
      case 2:  // a lookup: a hit moves the key, a miss changes nothing in LRU
        ASSERT_EQ(cache->Get(key, &value).state != Freshness::kMiss, present) << "op " << op;
        if (present) touch(key);
        break;
      case 3:
        if (present) ASSERT_TRUE(cache->Delete(key));
        if (present) order.erase(where[key]), where.erase(key);
        break;
      default: {  // a write: an insert, or a rewrite of the same or a larger size
        const size_t size = present && random() % 2 == 0 ? 8 : 8 + random() % 8;
        const bool queued =
            present && cache->Peek(key, &value).state != Freshness::kMiss && value.size() >= size;
        ASSERT_TRUE(cache->Set(key, std::string(size, 'v')).ok());
        queued_rewrites += queued ? 1 : 0;
        if (present) {
          touch(key);
        } else {
          order.push_front(key);
          where[key] = order.begin();
          if (order.size() > kCapacity) {
            expected.push_back(order.back());
            where.erase(order.back());
            order.pop_back();
          }
        }
      }
    }
    ASSERT_EQ(evicted, expected) << "op " << op;
    evicted.clear();
  }
  EXPECT_EQ(cache->Entries(), order.size());
  EXPECT_GT(queued_rewrites, 10'000u);  // the queued path really ran
}

// A hot set read continuously while a long scan streams through a cache twice its size:
// LRU lets the scan flush the hot set on every pass; W-TinyLFU refuses the one-hit scan keys.
double HotHitRatioDuringScan(PolicyKind policy) {
  auto cache = MustCreate(Small(100, policy));
  std::string value;
  uint64_t hot_hits = 0, hot_reads = 0;
  int scan = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 50; ++i) {
      std::string key = "hot:" + std::to_string(i);
      bool hit = cache->Get(key, &value).state != Freshness::kMiss;
      if (!hit) EXPECT_TRUE(cache->Set(key, "v").ok());
      if (round >= 20) hot_reads += 1, hot_hits += hit;
    }
    for (int i = 0; i < 200; ++i) {
      std::string key = "scan:" + std::to_string(scan++);
      if (cache->Get(key, &value).state == Freshness::kMiss) EXPECT_TRUE(cache->Set(key, "v").ok());
    }
  }
  return static_cast<double>(hot_hits) / static_cast<double>(hot_reads);
}

TEST(CacheWTinyLfu, ScanDoesNotFlushAFrequentlyUsedWorkingSet) {
  EXPECT_LT(HotHitRatioDuringScan(PolicyKind::kLru), 0.05);
  EXPECT_GT(HotHitRatioDuringScan(PolicyKind::kWTinyLfu), 0.90);
}

TEST(CacheConfig, RulesSetTtlGraceAndTagsWhenTheCallNamesNone) {
  Result<PolicyConfig> config = ParsePolicyConfig(R"({
    "defaults": {"ttl": "5m"},
    "rules": [
      {"match": "price:latest:*", "ttl": "300s", "grace": "1h", "tags": ["prices", "symbol:{1}"]},
      {"namespace": "fundamentals", "ttl": "24h"}
    ]})");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Options o = Small(100);
  o.config = std::make_shared<PolicyConfig>(config.value());
  auto cache = MustCreate(o);
  ASSERT_TRUE(cache->Set("price:latest:AAPL", "189").ok());
  ASSERT_TRUE(cache->Set("fundamentals:AAPL", "{}").ok());
  ASSERT_TRUE(cache->Set("other", "x").ok());
  ASSERT_TRUE(cache->Set("price:latest:MSFT", "420", Ttl(1000)).ok());  // explicit TTL wins
  std::string value;
  EXPECT_EQ(cache->Peek("price:latest:AAPL", &value).fresh_remaining_ms, 300'000);
  EXPECT_EQ(cache->Peek("price:latest:AAPL", &value).stale_remaining_ms, 300'000 + 3'600'000);
  EXPECT_EQ(cache->Peek("fundamentals:AAPL", &value).fresh_remaining_ms, 24 * 3'600'000);
  EXPECT_EQ(cache->Peek("other", &value).fresh_remaining_ms, 300'000);
  EXPECT_EQ(cache->Peek("price:latest:MSFT", &value).fresh_remaining_ms, 1000);
  EXPECT_EQ(cache->InvalidateTag("symbol:AAPL"), 1u);
  EXPECT_EQ(cache->InvalidateTag("prices"), 1u);  // MSFT still got the rule's tags
}

// A store that counts how often the engine looks at keys: invalidation must look only at
// the entries it removes (and their namespace), never at the rest of the cache.
class CountingStore final : public Store {
 public:
  CountingStore(std::unique_ptr<Store> inner, std::atomic<uint64_t>* key_reads)
      : inner_(std::move(inner)), key_reads_(key_reads) {}
  Result<StoreHandle> Put(std::string_view k, std::string_view v, const StoredMeta& m) override {
    return inner_->Put(k, v, m);
  }
  std::string_view Key(StoreHandle h) const override {
    ++*key_reads_;
    return inner_->Key(h);
  }
  uint32_t ValueSize(StoreHandle h) const override { return inner_->ValueSize(h); }
  Status ReadValue(StoreHandle h, std::string* out) const override {
    return inner_->ReadValue(h, out);
  }
  void Release(StoreHandle h) override { inner_->Release(h); }
  void ReleaseAll() override { inner_->ReleaseAll(); }
  uint64_t OverheadBytes() const override { return inner_->OverheadBytes(); }

 private:
  std::unique_ptr<Store> inner_;
  std::atomic<uint64_t>* key_reads_;
};

TEST(CacheInvalidation, TagsAndPrefixesTouchOnlyWhatTheyRemove) {
  std::atomic<uint64_t> key_reads{0};
  Options o;
  o.max_entries = 200'000;
  o.shards = 4;
  o.clock = std::make_shared<ManualClock>();
  o.store = [&](uint32_t i, uint32_t n) -> Result<std::unique_ptr<Store>> {
    Result<std::unique_ptr<Store>> inner = MemoryStoreFactory()(i, n);
    return std::unique_ptr<Store>(
        std::make_unique<CountingStore>(std::move(inner).value(), &key_reads));
  };
  auto cache = MustCreate(o);
  for (int i = 0; i < 100'000; ++i) {
    std::string key =
        (i < 1000 ? "hot:" : "cold:" + std::to_string(i % 50) + ":") + std::to_string(i);
    ASSERT_TRUE(
        cache->Set(key, "v", Tags({i % 100 == 0 ? "t:hot" : "t:cold" + std::to_string(i % 7)}))
            .ok());
  }
  key_reads = 0;
  EXPECT_EQ(cache->InvalidateTag("t:hot"), 1000u);
  EXPECT_LE(key_reads.load(), 20'000u);  // a few reads per removed entry, not 100k
  key_reads = 0;
  EXPECT_EQ(cache->InvalidatePrefix("hot:"), 990u);
  EXPECT_LE(key_reads.load(), 20'000u);
  key_reads = 0;
  EXPECT_EQ(cache->InvalidatePrefix("cold:7:"), 1980u);
  EXPECT_LE(key_reads.load(), 40'000u);
}

TEST(CacheFileStore, ReopensWithItsEntriesAfterARestart) {
  TempDir dir;
  // Persisted times are wall-clock times: the fake clock starts at the real now.
  auto clock = std::make_shared<ManualClock>(SystemClock()->NowMs());
  for (PolicyKind policy : {PolicyKind::kWTinyLfu, PolicyKind::kLru, PolicyKind::kSieve}) {
    std::string path = dir.path() + "/" + PolicyKindName(policy);
    Options o;
    o.max_entries = 1000;
    o.shards = 2;
    o.policy = policy;
    o.clock = clock;
    o.store = FileStoreFactory(path);
    {
      auto cache = MustCreate(o);
      for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(cache
                        ->Set("k:" + std::to_string(i), "value " + std::to_string(i),
                              Ttl(i < 10 ? 1000 : 3'600'000, 0, {i % 2 ? "odd" : "even"}))
                        .ok());
      }
      ASSERT_TRUE(cache->Delete("k:50"));
      ASSERT_TRUE(cache->Set("k:51", "rewritten").ok());
      ASSERT_TRUE(cache->Flush().ok());
    }
    clock->Advance(2000);  // the first ten expire while the cache is down
    auto cache = MustCreate(o);
    EXPECT_EQ(cache->Entries(), 89u) << PolicyKindName(policy);
    EXPECT_EQ(GetValue(*cache, "k:5"), "<miss>");
    EXPECT_EQ(GetValue(*cache, "k:50"), "<miss>");
    EXPECT_EQ(GetValue(*cache, "k:51"), "rewritten");
    EXPECT_EQ(GetValue(*cache, "k:99"), "value 99");
    EXPECT_EQ(cache->InvalidateTag("even"), 44u);  // 12..98 even, minus 50
    clock->Advance(-2000);
  }
}

TEST(CacheHash, IsXxh3SeededOncePerProcess) {
  EXPECT_NE(HashSeed(), 0u);
  EXPECT_EQ(HashSeed(), HashSeed());
  EXPECT_EQ(HashKey("AAPL"), XXH3_64bits_withSeed("AAPL", 4, HashSeed()));
  EXPECT_NE(HashKey("AAPL"), XXH3_64bits_withSeed("AAPL", 4, 0));
  EXPECT_NE(std::string(HashName()).find("XXH3"), std::string::npos);
}

TEST(CacheSnapshot, FileSnapshotIsCrashSafeAndCorruptionIsReported) {
  TempDir dir;
  std::string path = dir.path() + "/cache.snapshot";
  auto cache = MustCreate(Small(100));
  ASSERT_TRUE(cache->Set("a", "1").ok());
  ASSERT_TRUE(cache->SaveSnapshot(path).ok());
  auto other = MustCreate(Small(100));
  Result<uint64_t> loaded = other->LoadSnapshot(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(GetValue(*other, "a"), "1");
  Result<uint64_t> missing = other->LoadSnapshot(dir.path() + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kIoError);
  EXPECT_EQ(cache->SaveSnapshot(dir.path() + "/no/such/dir/x").code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace tickcache

namespace tickcache {
namespace {

TEST(CacheClock, ASteppedBackClockNeitherRevivesNorShortensEntries) {
  auto clock = std::make_shared<ManualClock>();
  Options o = Small(10);
  o.clock = clock;
  auto cache = MustCreate(o);
  ASSERT_TRUE(cache->Set("short", "v", Ttl(100)).ok());
  clock->Advance(200);
  EXPECT_EQ(cache->Peek("short", nullptr).state, Freshness::kMiss);
  clock->Advance(-150'000);  // NTP steps the clock back
  EXPECT_EQ(cache->Peek("short", nullptr).state, Freshness::kMiss);
  ASSERT_TRUE(cache->Set("new", "v", Ttl(1000)).ok());
  std::string value;
  Lookup l = cache->Get("new", &value);
  EXPECT_EQ(l.state, Freshness::kFresh);
  EXPECT_EQ(l.fresh_remaining_ms, 1000);
}

TEST(CacheClock, TheLongestGraceIsKeptToTheSecond) {
  auto clock = std::make_shared<ManualClock>();
  Options o = Small(10);
  o.clock = clock;
  auto cache = MustCreate(o);
  ASSERT_TRUE(cache->Set("k", "v", Ttl(1000, kMaxTtlMs)).ok());
  EXPECT_EQ(cache->Set("k2", "v", Ttl(1000, kMaxTtlMs + 1)).code(), ErrorCode::kInvalidTtl);
  clock->Advance(kMaxTtlMs);
  std::string value;
  Lookup l = cache->Get("k", &value);
  EXPECT_EQ(l.state, Freshness::kStale);
  EXPECT_EQ(l.stale_remaining_ms, 1000);
  clock->Advance(1000);
  EXPECT_EQ(cache->Get("k", &value).state, Freshness::kMiss);
}

}  // namespace
}  // namespace tickcache
