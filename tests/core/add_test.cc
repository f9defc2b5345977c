// add_test.cc: Cache::Add, set-if-absent: it writes only when the key holds no live entry (an
// entry past its grace counts as absent), validates and resolves TTLs exactly as Set does, and
// leaves a live entry (value, times, tags, stats) untouched. The Concurrency test races threads
// on one key (run under ThreadSanitizer by the tsan step, ctest -R Concurrency): exactly one
// Add wins, which is what makes an entry usable as a lock shared by threads or worker_threads.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace tickcache {
namespace {

using testing_support::GetValue;
using testing_support::MustCreate;
using testing_support::Ttl;

constexpr PolicyKind kPolicies[] = {PolicyKind::kLru, PolicyKind::kSieve, PolicyKind::kWTinyLfu};

Options Small(PolicyKind policy, std::shared_ptr<ManualClock> clock) {
  Options o;
  o.max_entries = 100;
  o.shards = 1;
  o.policy = policy;
  o.clock = std::move(clock);
  return o;
}

// Asserts an Add answered `expected` without an error.
void ExpectAdd(Cache& cache, std::string_view key, std::string_view value,
               const SetOptions& options, bool expected) {
  Result<bool> added = cache.Add(key, value, options);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added.value(), expected) << "Add(\"" << key << "\", \"" << value << "\")";
}

TEST(CacheAdd, WritesAnAbsentKeyAndKeepsALiveOne) {
  for (PolicyKind policy : kPolicies) {
    SCOPED_TRACE(PolicyKindName(policy));
    auto clock = std::make_shared<ManualClock>();
    auto cache = MustCreate(Small(policy, clock));
    ExpectAdd(*cache, "lock:a", "first", Ttl(1000, 500, {"old"}), true);
    EXPECT_EQ(GetValue(*cache, "lock:a"), "first");
    EXPECT_EQ(cache->GetStats().sets, 1u);

    // Fresh: kept, with its times, tags and the stats as they were.
    clock->Advance(400);
    ExpectAdd(*cache, "lock:a", "second", Ttl(5000, 0, {"new"}), false);
    std::string value;
    Lookup kept = cache->Peek("lock:a", &value);
    EXPECT_EQ(value, "first");
    EXPECT_EQ(kept.state, Freshness::kFresh);
    EXPECT_EQ(kept.fresh_remaining_ms, 600);
    EXPECT_EQ(kept.stale_remaining_ms, 1100);
    EXPECT_EQ(cache->GetStats().sets, 1u);
    EXPECT_EQ(cache->InvalidateTag("new"), 0u);

    // Stale within its grace, up to its last millisecond: still kept.
    clock->Advance(1099);
    ExpectAdd(*cache, "lock:a", "third", Ttl(5000), false);
    EXPECT_EQ(cache->Peek("lock:a", &value).state, Freshness::kStale);
    EXPECT_EQ(value, "first");
    EXPECT_EQ(cache->GetStats().sets, 1u);

    // At its stale time the entry is gone for Add as for Get: replaced, new times and tags.
    clock->Advance(1);
    ExpectAdd(*cache, "lock:a", "fourth", Ttl(2000, 0, {"new"}), true);
    Lookup replaced = cache->Peek("lock:a", &value);
    EXPECT_EQ(value, "fourth");
    EXPECT_EQ(replaced.fresh_remaining_ms, 2000);
    EXPECT_EQ(cache->GetStats().sets, 2u);
    EXPECT_EQ(cache->Entries(), 1u);
    EXPECT_EQ(cache->InvalidateTag("old"), 0u);
    EXPECT_EQ(cache->InvalidateTag("new"), 1u);

    // Deleted or invalidated: absent again.
    ExpectAdd(*cache, "lock:a", "fifth", {}, true);
    EXPECT_TRUE(cache->Delete("lock:a"));
    ExpectAdd(*cache, "lock:a", "sixth", {}, true);
    EXPECT_EQ(GetValue(*cache, "lock:a"), "sixth");
  }
}

TEST(CacheAdd, AnEntryPastItsGraceButNotYetSweptIsReplacedInPlace) {
  auto clock = std::make_shared<ManualClock>();
  auto cache = MustCreate(Small(PolicyKind::kWTinyLfu, clock));
  WriteResult first;
  ASSERT_TRUE(cache->SetWithResult("k", "old", Ttl(10), &first).ok());
  clock->Advance(10);
  WriteResult second;
  Result<bool> added = cache->AddWithResult("k", "new", Ttl(10), &second);
  ASSERT_TRUE(added.ok() && added.value());
  EXPECT_EQ(second.ref, first.ref);  // a rewrite of a held key keeps its ref, as Set's does
  EXPECT_EQ(second.fresh_until_ms, clock->NowMs() + 10);
  EXPECT_EQ(GetValue(*cache, "k"), "new");
  EXPECT_EQ(cache->Entries(), 1u);
}

TEST(CacheAdd, WithResultReportsWhatSetWouldAndNothingWhenTheKeyIsHeld) {
  auto clock = std::make_shared<ManualClock>();
  auto cache = MustCreate(Small(PolicyKind::kLru, clock));
  WriteResult added;
  Result<bool> first = cache->AddWithResult("a", "1", Ttl(1000, 250), &added);
  ASSERT_TRUE(first.ok() && first.value());
  EXPECT_EQ(added.fresh_until_ms, clock->NowMs() + 1000);
  EXPECT_EQ(added.stale_until_ms, clock->NowMs() + 1250);
  WriteResult set;
  ASSERT_TRUE(cache->SetWithResult("a", "2", Ttl(1000, 250), &set).ok());
  EXPECT_EQ(set.ref, added.ref);

  WriteResult untouched{12345, 6, 7};
  Result<bool> second = cache->AddWithResult("a", "3", Ttl(1000), &untouched);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second.value());
  EXPECT_EQ(untouched.ref, 12345u);
  EXPECT_EQ(untouched.fresh_until_ms, 6);
  EXPECT_EQ(untouched.stale_until_ms, 7);

  WriteResult never;
  Result<bool> third = cache->AddWithResult("b", "1", Ttl(kNoExpiry), &never);
  ASSERT_TRUE(third.ok() && third.value());
  EXPECT_EQ(never.fresh_until_ms, kNoExpiry);
  EXPECT_EQ(never.stale_until_ms, kNoExpiry);
}

TEST(CacheAdd, ResolvesTtlsAsSetDoes) {
  Result<PolicyConfig> config = ParsePolicyConfig(R"({
    "defaults": {"ttl": "5m"},
    "rules": [{"match": "lock:*", "ttl": "30s", "grace": "10s", "tags": ["locks"]}]})");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto clock = std::make_shared<ManualClock>();
  Options o = Small(PolicyKind::kLru, clock);
  o.config = std::make_shared<PolicyConfig>(config.value());
  auto cache = MustCreate(o);
  ExpectAdd(*cache, "lock:a", "x", {}, true);
  ASSERT_TRUE(cache->Set("lock:b", "x").ok());
  ExpectAdd(*cache, "other", "x", {}, true);
  ExpectAdd(*cache, "lock:c", "x", Ttl(1000), true);  // an explicit TTL wins, as for Set
  std::string value;
  Lookup by_add = cache->Peek("lock:a", &value);
  Lookup by_set = cache->Peek("lock:b", &value);
  EXPECT_EQ(by_add.fresh_remaining_ms, 30'000);
  EXPECT_EQ(by_add.fresh_remaining_ms, by_set.fresh_remaining_ms);
  EXPECT_EQ(by_add.stale_remaining_ms, by_set.stale_remaining_ms);
  EXPECT_EQ(cache->Peek("other", &value).fresh_remaining_ms, 300'000);
  EXPECT_EQ(cache->Peek("lock:c", &value).fresh_remaining_ms, 1000);
  EXPECT_EQ(cache->InvalidateTag("locks"), 3u);  // the rule's tags came with the Adds too
}

TEST(CacheAdd, RefusesWhatSetRefusesWithItsCodeWhetherOrNotTheKeyIsHeld) {
  auto clock = std::make_shared<ManualClock>();
  Options o = Small(PolicyKind::kWTinyLfu, clock);
  o.max_bytes = 4096;
  o.max_key_bytes = 16;
  o.max_value_bytes = 8192;
  auto cache = MustCreate(o);
  ASSERT_TRUE(cache->Set("held", "v", Ttl(1000)).ok());
  struct Case {
    const char* what;
    std::string key;
    std::string value;
    SetOptions options;
    ErrorCode code;
  };
  std::vector<std::string> many_tags;
  for (int i = 0; i < 65; ++i) many_tags.push_back("t" + std::to_string(i));
  std::vector<Case> cases = {
      {"empty key", "", "v", {}, ErrorCode::kEmptyKey},
      {"long key", std::string(17, 'k'), "v", {}, ErrorCode::kKeyTooLarge},
      {"long value", "k", std::string(8193, 'v'), {}, ErrorCode::kValueTooLarge},
      {"entry over the byte bound", "k", std::string(5000, 'v'), {}, ErrorCode::kEntryTooLarge},
      {"ttl 0", "k", "v", Ttl(0), ErrorCode::kInvalidTtl},
      {"ttl past the limit", "k", "v", Ttl(kMaxTtlMs + 1), ErrorCode::kInvalidTtl},
      {"grace -1", "k", "v", Ttl(1000, -1), ErrorCode::kInvalidTtl},
      {"65 tags", "k", "v", Ttl(1000, 0, many_tags), ErrorCode::kInvalidArgument},
      {"empty tag", "k", "v", Ttl(1000, 0, {""}), ErrorCode::kInvalidArgument},
  };
  for (const char* key : {"absent", "held"}) {
    for (Case& c : cases) {
      std::string k = c.key == "k" ? key : c.key;
      Result<bool> added = cache->Add(k, c.value, c.options);
      ASSERT_FALSE(added.ok()) << c.what << " on " << key;
      EXPECT_EQ(added.status().code(), c.code) << c.what << ": " << added.status().ToString();
      Result<bool> set_too = cache->Add(k, c.value, c.options);
      EXPECT_EQ(set_too.status().code(), cache->Set(k, c.value, c.options).code()) << c.what;
    }
  }
  EXPECT_EQ(cache->Entries(), 1u);
  EXPECT_EQ(GetValue(*cache, "held"), "v");
  EXPECT_EQ(cache->GetStats().sets, 1u);
}

TEST(CacheAdd, ANoticeOnlyForWhatAWrittenAddEvicts) {
  auto clock = std::make_shared<ManualClock>();
  Options o = Small(PolicyKind::kLru, clock);
  o.max_entries = 2;
  std::vector<std::string> removed;
  o.on_removal = [&](EntryRef, std::string_view key, RemovalCause) { removed.emplace_back(key); };
  auto cache = MustCreate(o);
  ExpectAdd(*cache, "a", "1", {}, true);
  ExpectAdd(*cache, "b", "1", {}, true);
  ExpectAdd(*cache, "a", "2", {}, false);
  EXPECT_TRUE(removed.empty());
  ExpectAdd(*cache, "c", "1", {}, true);  // LRU: "a" is the oldest (the refused Add read nothing)
  EXPECT_EQ(removed, std::vector<std::string>{"a"});
}

// Eight threads race to Add each key of many rounds; exactly one of them may win each, and the
// value left is the winner's. Keys spread over four shards; between rounds the clock moves past
// the previous round's locks, so later rounds also race to replace expired entries.
TEST(Concurrency, AddOfOneKeyFromEightThreadsHasExactlyOneWinner) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  constexpr int kKeysPerRound = 16;
  auto clock = std::make_shared<ManualClock>();
  Options o;
  o.max_entries = 4096;
  o.shards = 4;
  o.clock = clock;
  auto cache = MustCreate(o);
  std::vector<std::atomic<int>> wins(kKeysPerRound);
  std::vector<std::atomic<int>> winner(kKeysPerRound);
  std::atomic<int> errors{0};
  for (int round = 0; round < kRounds; ++round) {
    for (int k = 0; k < kKeysPerRound; ++k) {
      wins[k] = 0;
      winner[k] = -1;
    }
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();  // start together
        for (int k = 0; k < kKeysPerRound; ++k) {
          // Later rounds reuse the keys of earlier ones, now expired: Add must replace them.
          std::string key = "lock:" + std::to_string(k);
          Result<bool> added = cache->Add(key, std::to_string(t), Ttl(100));
          if (!added.ok()) {
            errors.fetch_add(1);
          } else if (added.value()) {
            wins[k].fetch_add(1);
            winner[k] = t;
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    for (int k = 0; k < kKeysPerRound; ++k) {
      std::string key = "lock:" + std::to_string(k);
      ASSERT_EQ(wins[k].load(), 1) << "round " << round << ", " << key;
      std::string value;
      ASSERT_NE(cache->Peek(key, &value).state, Freshness::kMiss);
      EXPECT_EQ(value, std::to_string(winner[k].load())) << "round " << round << ", " << key;
    }
    clock->Advance(100);  // every lock of this round has now expired
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(cache->GetStats().sets, uint64_t{kRounds} * kKeysPerRound);
}

}  // namespace
}  // namespace tickcache
