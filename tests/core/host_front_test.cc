// host_front_test.cc: what a host that answers hits itself (the JavaScript object-mode front)
// needs from the core: a ref and the absolute times of every write, Touch to report the hits
// it answered, and a notice for every entry that leaves, naming its ref and why.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "test_support.h"

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

}  // namespace
}  // namespace tickcache
