// options_json_test.cc: the options document the hosts hand to the core. Both hosts parse
// with this one function, so these cases pin what JavaScript users can write, everywhere.
#include <gtest/gtest.h>

#include <cmath>

#include "test_support.h"
#include "tickcache/host.h"

namespace tickcache {
namespace {

TEST(OptionsJson, EveryFieldReachesItsOption) {
  Result<Options> parsed = ParseOptionsJson(R"({
    "maxEntries": 10000, "maxBytes": 1e6, "policy": "lru", "defaultTtl": "5m",
    "defaultGrace": 3600000, "maxKeyBytes": 256, "maxValueBytes": 4096, "shards": 4,
    "namespaceSeparator": "/", "hashSeed": 42,
    "config": {"rules": [{"match": "price:*", "ttl": "30s"}]}})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Options& o = parsed.value();
  EXPECT_EQ(o.max_entries, 10000u);
  EXPECT_EQ(o.max_bytes, 1000000u);
  EXPECT_EQ(o.policy, PolicyKind::kLru);
  EXPECT_EQ(o.default_ttl_ms, 300000);
  EXPECT_EQ(o.default_grace_ms, 3600000);
  EXPECT_EQ(o.max_key_bytes, 256u);
  EXPECT_EQ(o.max_value_bytes, 4096u);
  EXPECT_EQ(o.shards, 4u);
  EXPECT_EQ(o.namespace_separator, '/');
  EXPECT_EQ(o.hash_seed, 42u);
  ASSERT_NE(o.config, nullptr);
  ASSERT_EQ(o.config->rules.size(), 1u);
  EXPECT_EQ(*o.config->rules[0].ttl_ms, 30000);
  // And the options build a working cache.
  Options with_clock = o;
  with_clock.clock = std::make_shared<ManualClock>();
  auto cache = testing_support::MustCreate(with_clock);
  ASSERT_TRUE(cache->Set("price:AAPL", "1").ok());
  std::string value;
  EXPECT_EQ(cache->Get("price:AAPL", &value).fresh_remaining_ms, 30000);
}

TEST(OptionsJson, DefaultsAndNeverAndNoSeparator) {
  Result<Options> parsed =
      ParseOptionsJson(R"({"maxEntries": 5, "defaultTtl": "never", "namespaceSeparator": ""})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed.value().default_ttl_ms, kNoExpiry);
  EXPECT_EQ(parsed.value().namespace_separator, '\0');
  EXPECT_EQ(parsed.value().policy, PolicyKind::kWTinyLfu);
  EXPECT_TRUE(ParseOptionsJson("{}").ok());
}

TEST(OptionsJson, BadDocumentsNameTheFieldAndValue) {
  struct Case {
    const char* json;
    const char* expect_in_message;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"[1]", "must be a JSON object"},
      {R"({"maxEntrys": 5})", "maxEntrys"},
      {R"({"maxEntries": -1})", "maxEntries: must be a whole number >= 0, got -1"},
      {R"({"maxEntries": 1.5})", "maxEntries"},
      {R"({"maxEntries": "10"})", "maxEntries"},
      {R"({"maxKeyBytes": 5000000000})", "maxKeyBytes: must be <= 4294967295"},
      {R"({"policy": "lfu"})", "policy: must be \"w-tinylfu\", \"lru\" or \"sieve\", got \"lfu\""},
      {R"({"defaultTtl": "5x"})", "defaultTtl"},
      {R"({"defaultTtl": 0})", "defaultTtl: must be > 0"},
      {R"({"defaultGrace": "never"})", "defaultGrace"},
      {R"({"namespaceSeparator": "::"})", "namespaceSeparator"},
      {R"({"config": []})", "config: must be the policy file's object"},
      {R"({"config": {"rules": [{"match": "a*", "ttl": "5q"}]}})", "config.rules[0].ttl"},
      {R"({"config": {"bogus": 1}})", "config: unknown top-level field \"bogus\""},
      {R"({"maxEntries": 1, "maxEntries": 2})", "duplicate"},
  };
  for (const Case& c : cases) {
    Result<Options> parsed = ParseOptionsJson(c.json);
    ASSERT_FALSE(parsed.ok()) << c.json;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kBadConfig) << c.json;
    EXPECT_NE(parsed.status().message().find(c.expect_in_message), std::string::npos)
        << c.json << " -> " << parsed.status().message();
  }
}

}  // namespace
}  // namespace tickcache

namespace tickcache {
namespace {

TEST(HostNumbers, DurationsFromJavaScriptMeanTheSameOnBothHosts) {
  EXPECT_FALSE(DurationFromHost(std::nan("")).has_value());
  EXPECT_EQ(DurationFromHost(INFINITY), kNoExpiry);
  EXPECT_EQ(DurationFromHost(1.2), 2);  // a positive duration stays positive
  EXPECT_EQ(DurationFromHost(300000), 300000);
  EXPECT_EQ(DurationFromHost(-0.5), -1);  // refused by Set as invalid_ttl
  EXPECT_EQ(DurationFromHost(-INFINITY), -1);
  EXPECT_EQ(DurationFromHost(1e300), kMaxTtlMs + 1);  // refused by Set as invalid_ttl
  double out[3];
  LookupToHost(Lookup{Freshness::kStale, 0, kNoExpiry}, out);
  EXPECT_EQ(out[0], 2);
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], INFINITY);
}

}  // namespace
}  // namespace tickcache

namespace tickcache {
namespace {

TEST(OptionsJsonStore, MemoryByDefaultAndBadStoresNamed) {
  EXPECT_TRUE(ParseOptionsJson(R"({"maxEntries": 5, "store": {"type": "memory"}})").ok());
  struct Case {
    const char* json;
    const char* expect_in_message;
  };
  for (const Case& c : {
           Case{R"({"store": "file"})", "store: must be an object"},
           Case{R"({"store": {"type": "disk"}})", "store.type: must be \"memory\" or \"file\""},
           Case{R"({"store": {}})", "store.type"},
           Case{R"({"store": {"type": "file"}})", "store.directory: a file store needs"},
           Case{R"({"store": {"type": "file", "directory": ""}})", "store.directory"},
           Case{R"({"store": {"type": "file", "directory": "/x", "maxFileBytes": -1}})",
                "store.maxFileBytes"},
           Case{R"({"store": {"type": "memory", "directory": "/x"}})", "memory store takes no"},
           Case{R"({"store": {"type": "file", "directory": "/x", "size": 1}})", "size"},
       }) {
    Result<Options> parsed = ParseOptionsJson(c.json);
    ASSERT_FALSE(parsed.ok()) << c.json;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kBadConfig) << c.json;
    EXPECT_NE(parsed.status().message().find(c.expect_in_message), std::string::npos)
        << c.json << " -> " << parsed.status().message();
  }
}

// Native only (a file store; excluded from the wasm run with the other CacheFileStore tests).
TEST(CacheFileStore, OptionsJsonFileStoreReopensWithItsEntries) {
  testing_support::TempDir dir;
  const std::string json =
      R"({"maxEntries": 100, "store": {"type": "file", "directory": ")" + dir.path() + R"("}})";
  {
    Result<Options> options = ParseOptionsJson(json);
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    auto cache = std::move(Cache::Create(std::move(options).value())).value();
    ASSERT_TRUE(cache->Set("price:AAPL", "189.5", {}).ok());
    ASSERT_TRUE(cache->Flush().ok());
  }
  Result<Options> options = ParseOptionsJson(json);
  ASSERT_TRUE(options.ok());
  auto reopened = std::move(Cache::Create(std::move(options).value())).value();
  std::string value;
  EXPECT_EQ(reopened->Get("price:AAPL", &value).state, Freshness::kFresh);
  EXPECT_EQ(value, "189.5");
}

}  // namespace
}  // namespace tickcache
