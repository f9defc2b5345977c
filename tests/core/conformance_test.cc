// conformance_test.cc: one typed suite that every store runs under every policy.
//
// Whatever the policy and wherever the bytes live, a cache must give the same answers:
// values round-trip, freshness moves fresh -> stale -> gone on the injected clock, every
// invalidation removes exactly what it names and reports how many, bounds hold, snapshots
// round-trip and a bad one changes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "test_support.h"

namespace tickcache {
namespace {

using testing_support::GetValue;
using testing_support::MustCreate;
using testing_support::Tags;
using testing_support::TempDir;
using testing_support::Ttl;

template <PolicyKind P, bool FileBacked>
struct Setup {
  static constexpr PolicyKind kPolicy = P;
  static constexpr bool kFileBacked = FileBacked;
};

template <typename S>
class Conformance : public ::testing::Test {
 protected:
  Options MakeOptions(uint64_t max_entries, uint64_t max_bytes = 0, uint32_t shards = 1) {
    Options o;
    o.max_entries = max_entries;
    o.max_bytes = max_bytes;
    o.policy = S::kPolicy;
    o.shards = shards;
    o.clock = clock_;
    if (S::kFileBacked) o.store = FileStoreFactory(dir_.path() + "/store");
    return o;
  }
  std::unique_ptr<Cache> Make(uint64_t max_entries, uint64_t max_bytes = 0, uint32_t shards = 1) {
    return MustCreate(MakeOptions(max_entries, max_bytes, shards));
  }

  TempDir dir_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
};

using Setups =
    ::testing::Types<Setup<PolicyKind::kWTinyLfu, false>, Setup<PolicyKind::kLru, false>,
                     Setup<PolicyKind::kSieve, false>, Setup<PolicyKind::kWTinyLfu, true>,
                     Setup<PolicyKind::kLru, true>, Setup<PolicyKind::kSieve, true>>;
class SetupNames {
 public:
  template <typename S>
  static std::string GetName(int) {
    // gtest filters read '-' as "exclude", so "w-tinylfu" must not reach a test name.
    std::string name =
        std::string(PolicyKindName(S::kPolicy)) + (S::kFileBacked ? "_file" : "_memory");
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
  }
};
TYPED_TEST_SUITE(Conformance, Setups, SetupNames);

TYPED_TEST(Conformance, ValuesRoundTripIncludingBinaryAndEmpty) {
  auto cache = this->Make(100);
  std::string binary("a\0b\xff\x01", 5);
  ASSERT_TRUE(cache->Set("k:binary", binary).ok());
  ASSERT_TRUE(cache->Set("k:empty", "").ok());
  ASSERT_TRUE(cache->Set("k:text", "hello").ok());
  std::string value;
  EXPECT_EQ(cache->Get("k:binary", &value).state, Freshness::kFresh);
  EXPECT_EQ(value, binary);
  EXPECT_EQ(cache->Get("k:empty", &value).state, Freshness::kFresh);
  EXPECT_EQ(value, "");
  EXPECT_EQ(GetValue(*cache, "k:text"), "hello");
  EXPECT_EQ(cache->Get("k:absent", &value).state, Freshness::kMiss);
  EXPECT_EQ(cache->Entries(), 3u);
}

TYPED_TEST(Conformance, OverwriteReplacesValueTagsAndCharge) {
  auto cache = this->Make(100);
  ASSERT_TRUE(cache->Set("quote:AAPL", "1", Tags({"old"})).ok());
  uint64_t before = cache->Bytes();
  ASSERT_TRUE(cache->Set("quote:AAPL", "12345", Tags({"new"})).ok());
  EXPECT_EQ(cache->Entries(), 1u);
  EXPECT_EQ(cache->Bytes(), before + 4);
  EXPECT_EQ(GetValue(*cache, "quote:AAPL"), "12345");
  EXPECT_EQ(cache->InvalidateTag("old"), 0u);
  EXPECT_EQ(cache->InvalidateTag("new"), 1u);
  EXPECT_EQ(cache->Entries(), 0u);
  EXPECT_EQ(cache->Bytes(), 0u);
}

TYPED_TEST(Conformance, FreshThenStaleWithinGraceThenGone) {
  auto cache = this->Make(100);
  ASSERT_TRUE(cache->Set("price:latest:AAPL", "189.5", Ttl(1000, 500)).ok());
  std::string value;
  this->clock_->Advance(999);
  Lookup l = cache->Get("price:latest:AAPL", &value);
  EXPECT_EQ(l.state, Freshness::kFresh);
  EXPECT_EQ(l.fresh_remaining_ms, 1);
  EXPECT_EQ(l.stale_remaining_ms, 501);
  this->clock_->Advance(1);
  l = cache->Get("price:latest:AAPL", &value);
  EXPECT_EQ(l.state, Freshness::kStale);
  EXPECT_EQ(value, "189.5");
  EXPECT_EQ(l.fresh_remaining_ms, 0);
  EXPECT_EQ(l.stale_remaining_ms, 500);
  this->clock_->Advance(500);
  EXPECT_EQ(cache->Get("price:latest:AAPL", &value).state, Freshness::kMiss);
  EXPECT_EQ(cache->Entries(), 0u);
  Stats s = cache->GetStats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.stale_hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.expirations, 1u);
}

TYPED_TEST(Conformance, NoExpiryNeverGoesStale) {
  auto cache = this->Make(10);
  ASSERT_TRUE(cache->Set("symbols:list", "AAPL,MSFT").ok());
  this->clock_->Advance(int64_t{100} * 365 * 24 * 3600 * 1000);
  EXPECT_EQ(cache->RunMaintenance(), 0u);
  std::string value;
  Lookup l = cache->Get("symbols:list", &value);
  EXPECT_EQ(l.state, Freshness::kFresh);
  EXPECT_EQ(l.fresh_remaining_ms, kNoExpiry);
  EXPECT_EQ(l.stale_remaining_ms, kNoExpiry);
}

TYPED_TEST(Conformance, MaintenanceRemovesExactlyTheDueEntries) {
  auto cache = this->Make(10000, 0, 4);
  // TTLs spread over every wheel level: seconds, minutes, hours, days, weeks.
  std::vector<int64_t> ttls;
  for (int i = 0; i < 2000; ++i) {
    int64_t ttl = 1 + (static_cast<int64_t>(i) * 7919 * 104729) % (int64_t{14} * 24 * 3600 * 1000);
    ttls.push_back(ttl);
    ASSERT_TRUE(cache->Set("e:" + std::to_string(i), "v", Ttl(ttl)).ok());
  }
  int64_t elapsed = 0;
  for (int64_t step : {int64_t{500}, int64_t{70'000}, int64_t{3'600'000}, int64_t{90'000'000},
                       int64_t{400'000'000}, int64_t{800'000'000}}) {
    this->clock_->Advance(step);
    elapsed += step;
    cache->RunMaintenance();
    uint64_t alive = 0;
    for (int64_t ttl : ttls) alive += ttl > elapsed ? 1 : 0;
    EXPECT_EQ(cache->Entries(), alive) << "after " << elapsed << " ms";
  }
}

TYPED_TEST(Conformance, TagInvalidationRemovesExactlyItsMembers) {
  auto cache = this->Make(1000, 0, 4);
  for (int i = 0; i < 300; ++i) {
    std::vector<std::string> tags = {"symbol:" + std::to_string(i % 3)};
    if (i % 10 == 0) tags.push_back("tenth");
    ASSERT_TRUE(cache->Set("data:" + std::to_string(i), "v", Tags(tags)).ok());
  }
  EXPECT_EQ(cache->InvalidateTag("tenth"), 30u);
  EXPECT_EQ(cache->InvalidateTag("symbol:1"), 90u);  // 100 minus the 10 already gone
  EXPECT_EQ(cache->InvalidateTag("symbol:1"), 0u);
  EXPECT_EQ(cache->InvalidateTag("no-such-tag"), 0u);
  EXPECT_EQ(cache->Entries(), 180u);
  EXPECT_EQ(GetValue(*cache, "data:2"), "v");
  EXPECT_EQ(GetValue(*cache, "data:1"), "<miss>");
  EXPECT_EQ(cache->GetStats().invalidations, 120u);
}

TYPED_TEST(Conformance, PrefixInvalidationRemovesExactlyMatchingKeys) {
  auto cache = this->Make(1000, 0, 4);
  std::vector<std::string> keys = {
      "price:latest:AAPL", "price:latest:AMZN", "price:latest:MSFT", "price:hist:AAPL", "feed:1:a",
      "feed:1:b",          "feed:12:a",         "feed:2:a",          "plainkey",        "plain",
      "leaderboard:top"};
  auto fill = [&] {
    for (const auto& k : keys) ASSERT_TRUE(cache->Set(k, "v").ok());
  };
  fill();
  EXPECT_EQ(cache->InvalidatePrefix("feed:1:"), 2u);
  EXPECT_EQ(cache->InvalidatePrefix("price:latest:A"), 2u);
  EXPECT_EQ(cache->InvalidatePrefix("plain"), 2u);
  EXPECT_EQ(cache->InvalidatePrefix("price:"), 2u);
  EXPECT_EQ(cache->InvalidatePrefix("nothing:"), 0u);
  EXPECT_EQ(cache->Entries(), 3u);
  EXPECT_EQ(GetValue(*cache, "feed:12:a"), "v");
  EXPECT_EQ(GetValue(*cache, "leaderboard:top"), "v");
  fill();
  EXPECT_EQ(cache->InvalidatePrefix("feed:1"), 3u);  // feed:1:a, feed:1:b, feed:12:a
  EXPECT_EQ(cache->InvalidatePrefix(""), 8u);        // everything left
}

TYPED_TEST(Conformance, PatternInvalidationMatchesGlobs) {
  auto cache = this->Make(1000, 0, 2);
  for (const char* k : {"price:latest:AAPL", "data:recent:AAPL", "price:latest:MSFT", "feed:1:x",
                        "feed:2:y", "signal:7", "signal:77"}) {
    ASSERT_TRUE(cache->Set(k, "v").ok());
  }
  Result<uint64_t> removed = cache->InvalidatePattern("*:AAPL");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed.value(), 2u);
  EXPECT_EQ(cache->InvalidatePattern("feed:*").value(), 2u);
  EXPECT_EQ(cache->InvalidatePattern("signal:?").value(), 1u);
  EXPECT_EQ(GetValue(*cache, "signal:77"), "v");
  Result<uint64_t> bad = cache->InvalidatePattern("price:\\");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidPattern);
  EXPECT_EQ(cache->Entries(), 2u);
}

TYPED_TEST(Conformance, BoundsHoldUnderRandomChurn) {
  auto cache = this->Make(64, 16 * 1024, 2);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string key = "k:" + std::to_string(rng() % 300);
    std::string value(rng() % 400, 'x');
    switch (rng() % 4) {
      case 0:
      case 1:
        ASSERT_TRUE(cache->Set(key, value, Ttl(1 + rng() % 5000, rng() % 1000)).ok());
        break;
      case 2:
        GetValue(*cache, key);
        break;
      case 3:
        this->clock_->Advance(static_cast<int64_t>(rng() % 100));
        break;
    }
    ASSERT_LE(cache->Entries(), 64u);
    ASSERT_LE(cache->Bytes(), 16u * 1024);
  }
  Stats s = cache->GetStats();
  EXPECT_GT(s.evictions + s.rejections, 0u);
}

TYPED_TEST(Conformance, ClearRemovesEverythingAndTheCacheGoesOn) {
  auto cache = this->Make(100, 0, 2);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(cache->Set("c:" + std::to_string(i), "v", Ttl(1000)).ok());
  EXPECT_EQ(cache->Clear(), 50u);
  EXPECT_EQ(cache->Entries(), 0u);
  EXPECT_EQ(cache->Bytes(), 0u);
  this->clock_->Advance(5000);
  EXPECT_EQ(cache->RunMaintenance(), 0u);
  ASSERT_TRUE(cache->Set("c:again", "w", Tags({"t"})).ok());
  EXPECT_EQ(GetValue(*cache, "c:again"), "w");
  EXPECT_EQ(cache->InvalidateTag("t"), 1u);
}

TYPED_TEST(Conformance, GetManyAndSetManyAnswerPerItem) {
  auto cache = this->Make(100);
  std::vector<std::pair<std::string_view, std::string_view>> items = {
      {"m:1", "one"}, {"", "empty key"}, {"m:2", "two"}};
  std::vector<Status> statuses = cache->SetMany(items, Ttl(1000));
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), ErrorCode::kEmptyKey);
  EXPECT_TRUE(statuses[2].ok());
  std::vector<std::string> values;
  std::vector<Lookup> lookups = cache->GetMany({"m:1", "m:3", "m:2"}, &values);
  ASSERT_EQ(lookups.size(), 3u);
  EXPECT_EQ(lookups[0].state, Freshness::kFresh);
  EXPECT_EQ(values[0], "one");
  EXPECT_EQ(lookups[1].state, Freshness::kMiss);
  EXPECT_EQ(values[2], "two");
}

TYPED_TEST(Conformance, SnapshotRoundTripsValuesTimesAndTags) {
  auto cache = this->Make(100, 0, 2);
  ASSERT_TRUE(cache->Set("price:latest:AAPL", "189", Ttl(60'000, 3'600'000, {"prices"})).ok());
  ASSERT_TRUE(cache->Set("symbols:list", "AAPL,MSFT").ok());
  ASSERT_TRUE(cache->Set("soon:gone", "x", Ttl(10)).ok());
  std::string snapshot = cache->SaveSnapshotBytes();

  TempDir other;
  Options o = this->MakeOptions(100, 0, 4);
  if (TypeParam::kFileBacked) o.store = FileStoreFactory(other.path());
  auto restored = MustCreate(o);
  this->clock_->Advance(20);
  Result<uint64_t> loaded = restored->LoadSnapshotBytes(snapshot);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded.value(), 2u);  // the expired one is dropped
  std::string value;
  Lookup l = restored->Get("price:latest:AAPL", &value);
  EXPECT_EQ(value, "189");
  EXPECT_EQ(l.fresh_remaining_ms, 60'000 - 20);
  EXPECT_EQ(restored->InvalidateTag("prices"), 1u);
  EXPECT_EQ(GetValue(*restored, "symbols:list"), "AAPL,MSFT");
}

TYPED_TEST(Conformance, CorruptSnapshotIsRefusedAndNothingIsLost) {
  Options source_options = this->MakeOptions(100);
  source_options.store = MemoryStoreFactory();
  auto source = MustCreate(source_options);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(source->Set("s:" + std::to_string(i), "value").ok());
  std::string snapshot = source->SaveSnapshotBytes();

  auto cache = this->Make(100);
  ASSERT_TRUE(cache->Set("mine", "precious").ok());
  for (size_t cut : {size_t{0}, size_t{7}, snapshot.size() / 2, snapshot.size() - 1}) {
    Result<uint64_t> r = cache->LoadSnapshotBytes(std::string_view(snapshot).substr(0, cut));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruptSnapshot);
  }
  std::string flipped = snapshot;
  flipped[flipped.size() / 2] ^= 0x20;
  Result<uint64_t> r = cache->LoadSnapshotBytes(flipped);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruptSnapshot);
  EXPECT_EQ(cache->Entries(), 1u);
  EXPECT_EQ(GetValue(*cache, "mine"), "precious");
}

TYPED_TEST(Conformance, BadInputIsRefusedWithItsCodeAndChangesNothing) {
  auto cache = this->Make(100, 4096);
  ASSERT_TRUE(cache->Set("keep", "me", Tags({"t"})).ok());
  uint64_t bytes = cache->Bytes();
  struct Case {
    std::string key;
    std::string value;
    SetOptions options;
    ErrorCode code;
  };
  std::vector<Case> cases = {
      {"", "v", {}, ErrorCode::kEmptyKey},
      {std::string(1025, 'k'), "v", {}, ErrorCode::kKeyTooLarge},
      {"big", std::string(8192, 'v'), {}, ErrorCode::kEntryTooLarge},
      {"ttl0", "v", Ttl(0), ErrorCode::kInvalidTtl},
      {"ttl-", "v", Ttl(-5), ErrorCode::kInvalidTtl},
      {"ttl+", "v", Ttl(kMaxTtlMs + 1), ErrorCode::kInvalidTtl},
      {"grace-", "v", Ttl(1000, -1), ErrorCode::kInvalidTtl},
      {"tag", "v", Tags({""}), ErrorCode::kInvalidArgument},
      {"keep", "replacement too big" + std::string(8192, 'x'), {}, ErrorCode::kEntryTooLarge},
  };
  for (const Case& c : cases) {
    Status s = cache->Set(c.key, c.value, c.options);
    EXPECT_EQ(s.code(), c.code) << c.key.substr(0, 10) << ": " << s.ToString();
    EXPECT_FALSE(s.message().empty());
    EXPECT_EQ(cache->Entries(), 1u);
    EXPECT_EQ(cache->Bytes(), bytes);
    EXPECT_EQ(GetValue(*cache, "keep"), "me");
  }
  EXPECT_EQ(cache->InvalidateTag("t"), 1u);
}

TYPED_TEST(Conformance, StatsExportAsOneJsonDocument) {
  auto cache = this->Make(10);
  ASSERT_TRUE(cache->Set("a", "1").ok());
  GetValue(*cache, "a");
  GetValue(*cache, "b");
  std::string json = cache->StatsJson();
  EXPECT_NE(json.find("\"hits\":1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"misses\":1"), std::string::npos) << json;
  EXPECT_NE(json.find(PolicyKindName(TypeParam::kPolicy)), std::string::npos) << json;
}

}  // namespace
}  // namespace tickcache
