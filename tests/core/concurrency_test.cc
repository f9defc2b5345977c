// concurrency_test.cc: many threads on one cache. Run under ThreadSanitizer by the test
// command (ctest -R Concurrency in the tsan build): no data race, no lost bound, and every
// thread reads back exactly what it wrote to keys only it touches.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "test_support.h"

namespace tickcache {
namespace {

using testing_support::MustCreate;
using testing_support::Tags;

TEST(Concurrency, MixedOperationsFromEightThreadsKeepBoundsAndOwnKeys) {
  auto clock = std::make_shared<ManualClock>();
  Options o;
  o.max_entries = 4096;
  o.max_bytes = 1 << 20;
  o.shards = 8;
  o.clock = clock;
  auto cache = MustCreate(o);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t));
      std::string value;
      // A few keys only this thread writes, never evicted in practice (read often).
      std::string own = "own:" + std::to_string(t);
      for (int i = 0; i < 40'000; ++i) {
        if (i % 100 == 0) {
          std::string expected = std::to_string(i);
          if (!cache->Set(own, expected).ok()) ++failures;
          if (cache->Get(own, &value).state != Freshness::kMiss && value != expected) ++failures;
        }
        std::string key = "shared:" + std::to_string(rng() % 8000);
        switch (rng() % 8) {
          case 0:
          case 1:
          case 2:
            (void)cache->Set(key, std::string(rng() % 200, 'x'),
                             Tags({"g" + std::to_string(rng() % 4)}));
            break;
          case 3:
          case 4:
            cache->Get(key, &value);
            break;
          case 5:
            cache->Delete(key);
            break;
          case 6:
            if (rng() % 50 == 0) cache->InvalidateTag("g" + std::to_string(rng() % 4));
            break;
          case 7:
            if (rng() % 20 == 0) clock->Advance(10);
            if (rng() % 50 == 0) cache->RunMaintenance();
            break;
        }
        if (cache->Entries() > 4096 || cache->Bytes() > (1u << 20)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  Stats s = cache->GetStats();
  EXPECT_GT(s.sets, 100'000u);
  EXPECT_LE(s.entries, 4096u);
}

TEST(Concurrency, SnapshotsAndClearsWhileWriting) {
  Options o;
  o.max_entries = 2048;
  o.shards = 4;
  o.clock = std::make_shared<ManualClock>();
  auto cache = MustCreate(o);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) (void)cache->Set("w:" + std::to_string(i % 5000), "v");
  });
  for (int round = 0; round < 50; ++round) {
    std::string snapshot = cache->SaveSnapshotBytes();
    auto copy = MustCreate(o);
    ASSERT_TRUE(copy->LoadSnapshotBytes(snapshot).ok());
    if (round % 10 == 0) cache->Clear();
  }
  stop = true;
  writer.join();
  EXPECT_LE(cache->Entries(), 2048u);
}

}  // namespace
}  // namespace tickcache
