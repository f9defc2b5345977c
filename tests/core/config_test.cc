// config_test.cc: ParseDuration, ParsePolicyConfig, PolicyConfig::Match and market-hours rules.
//
// Proves: every duration unit and its bounds; the users' own TTL table parses to the expected
// milliseconds; each kind of bad document is refused with kBadConfig and a message naming the
// JSON path and the bad value; the first matching rule wins; `{N}` captures expand into tags;
// random damage to a valid document never crashes the parser or yields another error code.
// Market hours: rules and calendars parse (built-in, declared, inline, extended by "base"),
// TtlAt follows min(closed, max(until open, open)), bad calendars and rules name the field and
// the value, and a cache on a fake clock gives a price written during the session 5 minutes
// and one written on a Saturday (or before a holiday) freshness until the next open.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tickcache/cache.h"
#include "tickcache/clock.h"
#include "tickcache/config.h"
#include "tickcache/options_json.h"

namespace tickcache {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;

// ---- durations ------------------------------------------------------------------------

TEST(ParseDurationTest, EveryUnit) {
  const struct {
    const char* text;
    int64_t ms;
  } cases[] = {{"250ms", 250}, {"30s", 30 * kSecond}, {"5m", 5 * kMinute},   {"6h", 6 * kHour},
               {"1d", kDay},   {"1w", kWeek},         {"1500", 1500},        {"0", 0},
               {"0s", 0},      {"007s", 7 * kSecond}, {"300s", 5 * kMinute}, {"24h", 24 * kHour}};
  for (const auto& c : cases) {
    Result<int64_t> parsed = ParseDuration(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status().message();
    EXPECT_EQ(parsed.value(), c.ms) << c.text;
  }
}

TEST(ParseDurationTest, BadInputsNameTheInput) {
  const char* bad[] = {"",      "5x",    "s",    "ms",  "-5s",  "+5s",  "1.5s",
                       " 5s",   "5s ",   "5 s",  "5S",  "5MS",  "5ms5", "5sec",
                       "1h30m", "never", "0x10", "1e3", "5mss", "\xff"};
  for (const char* text : bad) {
    Result<int64_t> parsed = ParseDuration(text);
    ASSERT_FALSE(parsed.ok()) << "accepted \"" << text << "\"";
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidTtl) << text;
    EXPECT_NE(parsed.status().message().find("(use ms or 250ms/30s/5m/6h/1d/1w)"),
              std::string::npos)
        << parsed.status().message();
  }
  Result<int64_t> bad_unit = ParseDuration("5x");
  EXPECT_EQ(bad_unit.status().message(),
            "invalid duration \"5x\" (use ms or 250ms/30s/5m/6h/1d/1w)");
  // An embedded NUL is not a unit either (string_view keeps it).
  EXPECT_FALSE(ParseDuration(std::string_view("5\0s", 3)).ok());
}

TEST(ParseDurationTest, BoundsAndOverflow) {
  Result<int64_t> max = ParseDuration(std::to_string(kMaxTtlMs));
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max.value(), kMaxTtlMs);
  EXPECT_FALSE(ParseDuration(std::to_string(kMaxTtlMs + 1)).ok());

  const struct {
    const char* unit;
    int64_t ms;
  } units[] = {{"ms", 1}, {"s", kSecond}, {"m", kMinute}, {"h", kHour}, {"d", kDay}, {"w", kWeek}};
  for (const auto& u : units) {
    const int64_t largest = kMaxTtlMs / u.ms;
    Result<int64_t> fits = ParseDuration(std::to_string(largest) + u.unit);
    ASSERT_TRUE(fits.ok()) << largest << u.unit;
    EXPECT_EQ(fits.value(), largest * u.ms);
    Result<int64_t> beyond = ParseDuration(std::to_string(largest + 1) + u.unit);
    ASSERT_FALSE(beyond.ok()) << largest + 1 << u.unit;
    EXPECT_EQ(beyond.status().code(), ErrorCode::kInvalidTtl);
    EXPECT_NE(beyond.status().message().find("beyond the maximum"), std::string::npos);
  }
  // Far past int64: must be refused, not wrapped around into a small positive number.
  for (const char* huge : {"9223372036854775807", "9223372036854775808", "18446744073709551616",
                           "99999999999999999999999999999999w", "18446744073709551616000ms"}) {
    Result<int64_t> parsed = ParseDuration(huge);
    EXPECT_FALSE(parsed.ok()) << huge;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidTtl) << huge;
  }
  // 2^64 / 1000 wraps to a small number if the unit multiply overflowed unchecked.
  EXPECT_FALSE(ParseDuration("18446744073709552s").ok());
}

// ---- the users' configuration -----------------------------------------------------------

constexpr const char* kMarketDataConfig = R"({
  "version": 1,
  "defaults": { "ttl": "5m", "grace": "0s" },
  "rules": [
    { "match": "price:latest:*", "ttl": "300s", "grace": "1h", "tags": ["prices", "symbol:{1}"] },
    { "namespace": "fundamentals", "ttl": "24h", "tags": ["fundamentals", "symbol:{1}"] },
    { "match": "feed:*:*", "ttl": "30s", "tags": ["feed", "feed:{1}"] },
    { "match": "portfolio:*", "ttl": "180s", "tags": ["user:{1}"] },
    { "match": "signal:*", "ttl": 300000 },
    { "match": "leaderboard:top", "ttl": "300s" },
    { "match": "provider:*:stats", "ttl": "600s", "tags": ["provider:{1}"] },
    { "match": "data:recent:*", "ttl": "1h", "grace": 60000, "tags": ["symbol:{1}"] },
    { "match": "symbols:list", "ttl": "6h" },
    { "namespace": "economic", "ttl": "1d" },
    { "namespace": "dividends", "ttl": "1w" },
    { "match": "static:*", "ttl": "never" }
  ]
})";

TEST(ParsePolicyConfigTest, MarketDataTable) {
  Result<PolicyConfig> parsed = ParsePolicyConfig(kMarketDataConfig);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const PolicyConfig& config = parsed.value();
  EXPECT_EQ(config.default_ttl_ms, 5 * kMinute);
  EXPECT_EQ(config.default_grace_ms, 0);
  ASSERT_EQ(config.rules.size(), 12u);

  const TtlRule& price = config.rules[0];
  EXPECT_EQ(price.pattern, "price:latest:*");
  EXPECT_EQ(price.ttl_ms, 300 * kSecond);
  EXPECT_EQ(price.grace_ms, kHour);
  EXPECT_EQ(price.tags, (std::vector<std::string>{"prices", "symbol:{1}"}));

  EXPECT_EQ(config.rules[1].pattern, "fundamentals:*");
  EXPECT_EQ(config.rules[1].ttl_ms, 24 * kHour);
  EXPECT_FALSE(config.rules[1].grace_ms.has_value());
  EXPECT_EQ(config.rules[2].ttl_ms, 30 * kSecond);
  EXPECT_EQ(config.rules[3].ttl_ms, 180 * kSecond);
  EXPECT_EQ(config.rules[4].ttl_ms, 300 * kSecond);
  EXPECT_TRUE(config.rules[4].tags.empty());
  EXPECT_EQ(config.rules[6].ttl_ms, 600 * kSecond);
  EXPECT_EQ(config.rules[7].ttl_ms, kHour);
  EXPECT_EQ(config.rules[7].grace_ms, kMinute);
  EXPECT_EQ(config.rules[8].ttl_ms, 6 * kHour);
  EXPECT_EQ(config.rules[9].pattern, "economic:*");
  EXPECT_EQ(config.rules[9].ttl_ms, kDay);
  EXPECT_EQ(config.rules[10].ttl_ms, kWeek);
  EXPECT_EQ(config.rules[11].ttl_ms, kNoExpiry);
}

TEST(ParsePolicyConfigTest, MatchesTheUsersKeys) {
  Result<PolicyConfig> parsed = ParsePolicyConfig(kMarketDataConfig);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const PolicyConfig& config = parsed.value();
  std::vector<std::string> tags;

  const TtlRule* rule = config.Match("price:latest:AAPL", &tags);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule, &config.rules[0]);
  EXPECT_EQ(tags, (std::vector<std::string>{"prices", "symbol:AAPL"}));

  rule = config.Match("fundamentals:MSFT", &tags);
  ASSERT_EQ(rule, &config.rules[1]);
  EXPECT_EQ(tags, (std::vector<std::string>{"fundamentals", "symbol:MSFT"}));

  rule = config.Match("feed:u42:c9", &tags);
  ASSERT_EQ(rule, &config.rules[2]);
  EXPECT_EQ(tags, (std::vector<std::string>{"feed", "feed:u42"}));

  EXPECT_EQ(config.Match("portfolio:u42", &tags), &config.rules[3]);
  EXPECT_EQ(tags, (std::vector<std::string>{"user:u42"}));
  EXPECT_EQ(config.Match("signal:9001", &tags), &config.rules[4]);
  EXPECT_TRUE(tags.empty());
  EXPECT_EQ(config.Match("leaderboard:top", &tags), &config.rules[5]);
  EXPECT_EQ(config.Match("provider:17:stats", &tags), &config.rules[6]);
  EXPECT_EQ(tags, (std::vector<std::string>{"provider:17"}));
  EXPECT_EQ(config.Match("data:recent:TSLA", &tags), &config.rules[7]);
  EXPECT_EQ(config.Match("symbols:list", nullptr), &config.rules[8]);
  EXPECT_EQ(config.Match("economic:CPI", nullptr), &config.rules[9]);
  EXPECT_EQ(config.Match("dividends:KO", nullptr), &config.rules[10]);
  EXPECT_EQ(config.Match("static:logo", nullptr), &config.rules[11]);

  // No rule: null, and the tags of the previous match are gone.
  tags = {"left", "over"};
  EXPECT_EQ(config.Match("leaderboard:bottom", &tags), nullptr);
  EXPECT_TRUE(tags.empty());
  EXPECT_EQ(config.Match("fundamentalsX:MSFT", &tags), nullptr);  // the namespace needs its ':'
  EXPECT_EQ(config.Match("price:history:AAPL", &tags), nullptr);
  EXPECT_EQ(config.Match("", &tags), nullptr);
}

TEST(PolicyConfigMatchTest, FirstRuleInFileOrderWins) {
  Result<PolicyConfig> parsed = ParsePolicyConfig(R"({"rules": [
    {"match": "price:latest:AAPL", "ttl": "1m", "tags": ["hot"]},
    {"match": "price:latest:*", "ttl": "5m", "tags": ["symbol:{1}"]},
    {"match": "price:*", "ttl": "10m", "tags": ["rest:{1}"]},
    {"match": "*", "ttl": "1h"}
  ]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const PolicyConfig& config = parsed.value();
  std::vector<std::string> tags;
  EXPECT_EQ(config.Match("price:latest:AAPL", &tags), &config.rules[0]);
  EXPECT_EQ(tags, (std::vector<std::string>{"hot"}));
  EXPECT_EQ(config.Match("price:latest:MSFT", &tags), &config.rules[1]);
  EXPECT_EQ(tags, (std::vector<std::string>{"symbol:MSFT"}));
  EXPECT_EQ(config.Match("price:history:MSFT", &tags), &config.rules[2]);
  EXPECT_EQ(tags, (std::vector<std::string>{"rest:history:MSFT"}));
  EXPECT_EQ(config.Match("anything", &tags), &config.rules[3]);
  EXPECT_TRUE(tags.empty());
}

TEST(PolicyConfigMatchTest, TemplateExpansion) {
  Result<PolicyConfig> parsed = ParsePolicyConfig(R"({"rules": [
    {"match": "feed:*:*", "tags": ["{2}@{1}", "{{literal}", "{{{1}}", "a}b", "{1}{1}"]},
    {"match": "s?:*", "tags": ["x{1}"]},
    {"match": "esc\\*:*", "tags": ["only:{1}"]},
    {"namespace": "back\\slash", "tags": ["ns:{1}"]}
  ]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const PolicyConfig& config = parsed.value();
  std::vector<std::string> tags;
  ASSERT_EQ(config.Match("feed:u1:c:2", &tags), &config.rules[0]);
  EXPECT_EQ(tags, (std::vector<std::string>{"c:2@u1", "{literal}", "{u1}", "a}b", "u1u1"}));
  ASSERT_EQ(config.Match("sq:", &tags), &config.rules[1]);
  EXPECT_EQ(tags, (std::vector<std::string>{"x"}));  // an empty capture
  ASSERT_EQ(config.Match("esc*:9", &tags), &config.rules[2]);
  EXPECT_EQ(tags, (std::vector<std::string>{"only:9"}));
  EXPECT_EQ(config.Match("escX:9", &tags), nullptr);
  EXPECT_EQ(config.rules[3].pattern, "back\\\\slash:*");
  ASSERT_EQ(config.Match("back\\slash:k", &tags), &config.rules[3]);
  EXPECT_EQ(tags, (std::vector<std::string>{"ns:k"}));
}

TEST(PolicyConfigMatchTest, HandBuiltConfigNeverFails) {
  // Not from the parser: templates pointing past the captures are kept as written.
  PolicyConfig config;
  config.rules.push_back(TtlRule{"a*", 1000, std::nullopt, {"{1}", "{3}", "x{", "{0}"}});
  std::vector<std::string> tags;
  ASSERT_EQ(config.Match("abc", &tags), &config.rules[0]);
  EXPECT_EQ(tags, (std::vector<std::string>{"bc", "{3}", "x{", "{0}"}));
}

TEST(ParsePolicyConfigTest, MinimalDocuments) {
  Result<PolicyConfig> empty = ParsePolicyConfig("{}");
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_FALSE(empty.value().default_ttl_ms.has_value());
  EXPECT_FALSE(empty.value().default_grace_ms.has_value());
  EXPECT_TRUE(empty.value().rules.empty());
  EXPECT_EQ(empty.value().Match("k", nullptr), nullptr);

  Result<PolicyConfig> numbers =
      ParsePolicyConfig(R"({"defaults": {"ttl": 1e3, "grace": 0}, "rules": []})");
  ASSERT_TRUE(numbers.ok()) << numbers.status().message();
  EXPECT_EQ(numbers.value().default_ttl_ms, 1000);  // 1e3 is a whole number of ms
  EXPECT_EQ(numbers.value().default_grace_ms, 0);

  Result<PolicyConfig> never = ParsePolicyConfig(R"({"defaults": {"ttl": "never"}})");
  ASSERT_TRUE(never.ok()) << never.status().message();
  EXPECT_EQ(never.value().default_ttl_ms, kNoExpiry);

  Result<PolicyConfig> max =
      ParsePolicyConfig(R"({"defaults": {"ttl": )" + std::to_string(kMaxTtlMs) + R"(, "grace": ")" +
                        std::to_string(kMaxTtlMs) + R"("}})");
  ASSERT_TRUE(max.ok()) << max.status().message();
  EXPECT_EQ(max.value().default_ttl_ms, kMaxTtlMs);
  EXPECT_EQ(max.value().default_grace_ms, kMaxTtlMs);
}

TEST(PolicyConfigInCacheTest, RulesDriveTtlGraceAndTags) {
  // The configuration as the engine uses it: a set() that names no TTL takes the rule's.
  Result<PolicyConfig> parsed = ParsePolicyConfig(kMarketDataConfig);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto clock = std::make_shared<ManualClock>();
  Options options;
  options.max_entries = 100;
  options.clock = clock;
  options.config = std::make_shared<const PolicyConfig>(std::move(parsed).value());
  Result<std::unique_ptr<Cache>> created = Cache::Create(options);
  ASSERT_TRUE(created.ok()) << created.status().message();
  Cache& cache = *created.value();

  ASSERT_TRUE(cache.Set("price:latest:AAPL", "189.5").ok());
  ASSERT_TRUE(cache.Set("price:latest:MSFT", "410.1").ok());
  ASSERT_TRUE(cache.Set("fundamentals:AAPL", "{}").ok());
  ASSERT_TRUE(cache.Set("unruled:key", "x").ok());  // defaults: 5 min, no grace

  clock->Advance(300 * kSecond - 1);
  std::string value;
  EXPECT_EQ(cache.Get("price:latest:AAPL", &value).state, Freshness::kFresh);
  clock->Advance(1);  // 300 s: past fresh, within the 1 h grace
  Lookup stale = cache.Get("price:latest:AAPL", &value);
  EXPECT_EQ(stale.state, Freshness::kStale);
  EXPECT_EQ(value, "189.5");
  EXPECT_EQ(stale.stale_remaining_ms, kHour);
  EXPECT_EQ(cache.Get("unruled:key", &value).state, Freshness::kMiss);
  EXPECT_EQ(cache.Get("fundamentals:AAPL", &value).state, Freshness::kFresh);

  // "symbol:{1}" expanded per key: only AAPL's price and fundamentals carry symbol:AAPL.
  EXPECT_EQ(cache.InvalidateTag("symbol:AAPL"), 2u);
  EXPECT_EQ(cache.Has("price:latest:AAPL"), Freshness::kMiss);
  EXPECT_EQ(cache.Has("fundamentals:AAPL"), Freshness::kMiss);
  EXPECT_EQ(cache.Has("price:latest:MSFT"), Freshness::kStale);
  EXPECT_EQ(cache.InvalidateTag("prices"), 1u);
}

// ---- bad documents ----------------------------------------------------------------------

struct BadDocument {
  std::string json;
  std::vector<std::string> must_mention;  // the field path, the bad value, the explanation
};

TEST(ParsePolicyConfigTest, BadDocumentsNamePathAndValue) {
  const std::string too_big = std::to_string(kMaxTtlMs + 1);
  const BadDocument cases[] = {
      {R"({"rules": [{"match": "a*", "ttl": "5m"}, {"match": "b*", "ttl": "5x"}]})",
       {"rules[1].ttl: invalid duration \"5x\" (use ms or 250ms/30s/5m/6h/1d/1w)"}},
      {R"({"rules": [{"ttl": "5m"}]})",
       {"rules[0]: needs exactly one of \"match\" or \"namespace\""}},
      {R"({"rules": [{"match": "a*", "namespace": "a"}]})",
       {"rules[0]: needs exactly one of \"match\" or \"namespace\""}},
      {R"({"defaults": {"grace": -5}})", {"defaults.grace: must be >= 0, got -5"}},
      {R"({"defaults": {"ttl": -5}})", {"defaults.ttl: must be > 0, got -5"}},
      {R"({"defaults": {"ttl": 0}})", {"defaults.ttl: must be > 0, got 0"}},
      {R"({"rules": [{"match": "a*", "ttl": "0s"}]})", {"rules[0].ttl", "\"0s\""}},
      {R"({"rules": [{"match": "a*", "ttl": "-5s"}]})", {"rules[0].ttl", "\"-5s\""}},
      {R"({"rules": [{"match": "a*", "ttl": 1.5}]})", {"rules[0].ttl", "1.5", "whole number"}},
      {R"({"rules": [{"match": "a*", "ttl": )" + too_big + "}]}", {"rules[0].ttl", too_big}},
      {R"({"rules": [{"match": "a*", "grace": ")" + too_big + R"(ms"}]})",
       {"rules[0].grace", too_big, "beyond the maximum"}},
      {R"({"rules": [{"match": "a*", "grace": "never"}]})", {"rules[0].grace", "never"}},
      {R"({"defaults": {"ttl": true}})", {"defaults.ttl", "true"}},
      {R"({"defaults": {"ttl": null}})", {"defaults.ttl", "null"}},
      {R"({"defaults": {"ttl": "5m", "extra": 1}})", {"defaults", "\"extra\"", "ttl, grace"}},
      {R"({"defaults": ["5m"]})", {"defaults: must be an object", "[\"5m\"]"}},
      {R"({"rules": [{"match": "a*", "tll": "5m"}]})", {"rules[0]", "\"tll\"", "unknown field"}},
      {R"({"events": {"signal.created": ["feed:*"]}})",
       {"\"events\"", "version, defaults, calendars, rules"}},
      {R"({"version": 2})", {"version: must be 1, got 2"}},
      {R"({"version": "1"})", {"version", "\"1\""}},
      {R"({"rules": {"match": "a*"}})", {"rules: must be an array", "{\"match\":\"a*\"}"}},
      {R"({"rules": [5]})", {"rules[0]", "got 5"}},
      {R"({"rules": [{"match": 5}]})", {"rules[0].match", "got 5"}},
      {R"({"rules": [{"match": ""}]})", {"rules[0].match", "\"\""}},
      {R"({"rules": [{"match": "price:\\"}]})", {"rules[0].match", "price:\\", "dangling"}},
      {R"({"rules": [{"namespace": "fund*"}]})", {"rules[0].namespace", "\"fund*\""}},
      {R"({"rules": [{"namespace": ""}]})", {"rules[0].namespace", "\"\""}},
      {R"({"rules": [{"namespace": ["a"]}]})", {"rules[0].namespace", "[\"a\"]"}},
      {R"({"rules": [{"match": "a*", "tags": "prices"}]})", {"rules[0].tags", "\"prices\""}},
      {R"({"rules": [{"match": "a*", "tags": ["ok", 5]}]})", {"rules[0].tags[1]", "got 5"}},
      {R"({"rules": [{"match": "a*", "tags": [""]}]})", {"rules[0].tags[0]", "empty"}},
      {R"({"rules": [{"match": "price:*", "tags": ["symbol:{2}"]}]})",
       {"rules[0].tags[0]", "\"symbol:{2}\"", "\"price:*\"", "1 wildcard"}},
      {R"({"rules": [{"namespace": "fundamentals", "tags": ["{2}"]}]})",
       {"rules[0].tags[0]", "\"{2}\""}},
      {R"({"rules": [{"match": "exact", "tags": ["x:{1}"]}]})",
       {"rules[0].tags[0]", "\"x:{1}\"", "0 wildcards"}},
      {R"({"rules": [{"match": "a*", "tags": ["{0}"]}]})", {"rules[0].tags[0]", "\"{0}\""}},
      {R"({"rules": [{"match": "a*", "tags": ["x{y"]}]})", {"rules[0].tags[0]", "\"x{y\""}},
      {R"({"rules": [{"match": "a*", "tags": ["x{1"]}]})", {"rules[0].tags[0]", "\"x{1\""}},
      {R"({"rules": [{"match": "a*", "ttl": "5m", "ttl": "1h"}]})",
       {"rules[0]: duplicate field \"ttl\""}},
      {R"({"rules": [{"match": "a*"}], "rules": []})", {"duplicate top-level field \"rules\""}},
      {R"({"rules": [{"match": "a*"}, {"match": "b*", "tags": ["x"], "tags": ["y"]}]})",
       {"rules[1]: duplicate field \"tags\""}},
      {R"([{"match": "a*"}])", {"config must be a JSON object", "[{\"match\":\"a*\"}]"}},
      {R"({"rules": [)", {"not valid JSON", "parse error"}},
      {"", {"not valid JSON"}},
      {R"({"rules": [] /* comment */})", {"not valid JSON"}},
  };
  ASSERT_GE(std::size(cases), 12u);
  for (const BadDocument& c : cases) {
    Result<PolicyConfig> parsed = ParsePolicyConfig(c.json);
    ASSERT_FALSE(parsed.ok()) << "accepted: " << c.json;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kBadConfig) << c.json;
    for (const std::string& part : c.must_mention) {
      EXPECT_NE(parsed.status().message().find(part), std::string::npos)
          << "document: " << c.json << "\nmessage: " << parsed.status().message()
          << "\nmissing: " << part;
    }
  }
}

TEST(ParsePolicyConfigTest, DeepNestingIsRefusedWithoutCrashing) {
  // Message rendering must not recurse through a hostile document.
  const int depth = 100'000;
  const std::string doc = R"({"rules": )" + std::string(depth, '[') + std::string(depth, ']') + "}";
  Result<PolicyConfig> parsed = ParsePolicyConfig(doc);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kBadConfig);
  EXPECT_NE(parsed.status().message().find("rules[0]"), std::string::npos)
      << parsed.status().message();
  EXPECT_LT(parsed.status().message().size(), 400u);
}

TEST(ParsePolicyConfigTest, RandomDamageNeverCrashes) {
  // Fixed seed: a failure reproduces. Every outcome is either a config or kBadConfig.
  std::mt19937 random(20240601);
  const std::string original = kMarketDataConfig;
  const std::string alphabet =
      "{}[]\":,*?\\0123456789msdhw-. \x01\xff"
      "abc";
  int accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string doc = original;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !doc.empty(); ++e) {
      const size_t at = random() % doc.size();
      switch (random() % 3) {
        case 0:
          doc.erase(at, 1 + random() % 3);
          break;
        case 1:
          doc.insert(at, 1, alphabet[random() % alphabet.size()]);
          break;
        default:
          doc[at] = alphabet[random() % alphabet.size()];
          break;
      }
    }
    Result<PolicyConfig> parsed = ParsePolicyConfig(doc);
    if (parsed.ok()) {
      ++accepted;
      for (const TtlRule& rule : parsed.value().rules) {
        if (rule.ttl_ms) {
          EXPECT_TRUE(*rule.ttl_ms == kNoExpiry || (*rule.ttl_ms > 0 && *rule.ttl_ms <= kMaxTtlMs))
              << doc;
        }
        if (rule.grace_ms) {
          EXPECT_TRUE(*rule.grace_ms >= 0 && *rule.grace_ms <= kMaxTtlMs) << doc;
        }
        std::vector<std::string> tags;
        (void)parsed.value().Match(rule.pattern, &tags);
      }
    } else {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kBadConfig) << doc;
      EXPECT_FALSE(parsed.status().message().empty());
    }
  }
  // Some edits land in whitespace or values and keep the document valid.
  EXPECT_GT(accepted, 0);
}

// ---- market hours -----------------------------------------------------------------------

// Milliseconds since the epoch of a wall time at a fixed offset from UTC (hours east), by
// counting whole years and months: independent of the code under test.
int64_t WallMs(int offset_hours, int year, int month, int day, int hour, int minute = 0,
               int second = 0) {
  auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t days = 0;
  for (int y = 1970; y < year; ++y) days += leap(y) ? 366 : 365;
  for (int m = 1; m < month; ++m) days += month_days[m - 1] + (m == 2 && leap(year) ? 1 : 0);
  days += day - 1;
  return days * kDay + hour * kHour + minute * kMinute + second * kSecond - offset_hours * kHour;
}
constexpr int kEst = -5;
constexpr int kEdt = -4;

constexpr const char* kMarketHoursConfig = R"({
  "calendars": {
    "tse": { "timeZone": "JST-9",
             "sessions": { "mon-fri": ["12:30-15:30", "09:00-11:30"] },
             "holidays": ["2026-01-01", "2026-01-02"],
             "earlyCloses": { "2026-12-30": "11:30" } },
    "nyse-ext": { "base": "nyse", "holidays": ["2029-01-01", "2026-11-27"],
                  "earlyCloses": { "2029-07-03": "13:00" } }
  },
  "rules": [
    { "match": "price:latest:*", "grace": "1h",
      "marketHours": { "calendar": "nyse", "open": "5m", "closed": "untilOpen" } },
    { "match": "quote:lse:*", "marketHours": { "calendar": "lse", "open": "1m", "closed": "1h" } },
    { "match": "quote:tse:*", "marketHours": { "calendar": "tse", "open": "2m" } },
    { "match": "fx:*", "marketHours": { "calendar": { "timeZone": "UTC0",
        "sessions": { "sun": ["22:00-24:00"], "mon-thu": ["00:00-22:00", "22:00-24:00"],
                      "fri": ["00:00-22:00"] } }, "open": "30s" } },
    { "match": "ext:*", "marketHours": { "calendar": "nyse-ext", "open": "5m" } },
    { "match": "short:*", "marketHours": { "calendar": "nyse", "open": "5m", "closed": "1m" } },
    { "namespace": "fundamentals", "ttl": "24h" }
  ]
})";

PolicyConfig MustParse(const char* text) {
  Result<PolicyConfig> parsed = ParsePolicyConfig(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? std::move(parsed).value() : PolicyConfig{};
}

const MarketHoursTtl& MarketRule(const PolicyConfig& config, std::string_view key) {
  const TtlRule* rule = config.Match(key, nullptr);
  EXPECT_NE(rule, nullptr) << key;
  EXPECT_TRUE(rule != nullptr && rule->market_hours.has_value()) << key;
  static const MarketHoursTtl kNone{};
  return rule != nullptr && rule->market_hours ? *rule->market_hours : kNone;
}

TEST(MarketHoursConfigTest, RulesAndCalendarsParse) {
  const PolicyConfig config = MustParse(kMarketHoursConfig);
  ASSERT_EQ(config.rules.size(), 7u);
  const MarketHoursTtl& price = MarketRule(config, "price:latest:AAPL");
  EXPECT_EQ(price.calendar_name, "nyse");
  EXPECT_EQ(price.open_ttl_ms, 5 * kMinute);
  EXPECT_FALSE(price.closed_ttl_ms.has_value());
  EXPECT_FALSE(config.rules[0].ttl_ms.has_value());
  EXPECT_EQ(config.rules[0].grace_ms, 1 * kHour);
  EXPECT_EQ(MarketRule(config, "quote:lse:VOD").closed_ttl_ms, 1 * kHour);
  EXPECT_EQ(MarketRule(config, "fx:EURUSD").calendar_name, "");
  EXPECT_FALSE(config.rules[6].market_hours.has_value());
  // Declared calendars and the built-ins rules named are kept by name, built once.
  for (const char* name : {"tse", "nyse-ext", "nyse", "lse"}) {
    EXPECT_EQ(config.calendars.count(name), 1u) << name;
  }
  EXPECT_EQ(config.calendars.count("crypto"), 0u);
  EXPECT_EQ(config.calendars.at("nyse").get(), MarketRule(config, "short:x").calendar.get());

  // The declared Tokyo calendar: lunch break, holiday, early close.
  const MarketCalendar& tse = *config.calendars.at("tse");
  EXPECT_TRUE(tse.IsOpen(WallMs(9, 2026, 6, 1, 10)));
  EXPECT_FALSE(tse.IsOpen(WallMs(9, 2026, 6, 1, 12)));
  EXPECT_FALSE(tse.IsOpen(WallMs(9, 2026, 1, 2, 10)));
  EXPECT_EQ(tse.NextClose(WallMs(9, 2026, 12, 30, 10)), WallMs(9, 2026, 12, 30, 11, 30));
  // "base": nyse's zone, sessions and lists, plus the added days; an added holiday replaces
  // the base's early close on 2026-11-27.
  const MarketCalendar& extended = *config.calendars.at("nyse-ext");
  EXPECT_FALSE(extended.IsOpen(WallMs(kEst, 2026, 11, 26, 10)));  // nyse's Thanksgiving
  EXPECT_FALSE(extended.IsOpen(WallMs(kEst, 2026, 11, 27, 10)));  // added
  EXPECT_FALSE(extended.IsOpen(WallMs(kEst, 2029, 1, 1, 10)));    // added
  EXPECT_EQ(extended.NextClose(WallMs(kEdt, 2029, 7, 3, 10)), WallMs(kEdt, 2029, 7, 3, 13));
  EXPECT_TRUE(extended.IsOpen(WallMs(kEst, 2029, 1, 2, 9, 30)));
  // The inline FX calendar: Sunday 22:00 UTC to Friday 22:00 UTC without a break.
  const MarketCalendar& fx = *MarketRule(config, "fx:EURUSD").calendar;
  EXPECT_EQ(fx.NextClose(WallMs(0, 2026, 6, 1, 3)), WallMs(0, 2026, 6, 5, 22));
  EXPECT_EQ(fx.NextOpen(WallMs(0, 2026, 6, 6, 3)), WallMs(0, 2026, 6, 7, 22));
}

TEST(MarketHoursConfigTest, TtlFollowsTheMarket) {
  const PolicyConfig config = MustParse(kMarketHoursConfig);
  const MarketHoursTtl& price = MarketRule(config, "price:latest:AAPL");
  // Open: the open TTL.
  EXPECT_EQ(price.TtlAt(WallMs(kEst, 2026, 1, 13, 10)), 5 * kMinute);
  EXPECT_EQ(price.TtlAt(WallMs(kEst, 2026, 1, 13, 15, 58)), 5 * kMinute);
  // Closed: until the next open.
  const int64_t saturday = WallMs(kEst, 2026, 1, 10, 12);
  EXPECT_EQ(price.TtlAt(saturday), WallMs(kEst, 2026, 1, 12, 9, 30) - saturday);
  const int64_t evening = WallMs(kEst, 2026, 1, 13, 16);
  EXPECT_EQ(price.TtlAt(evening), WallMs(kEst, 2026, 1, 14, 9, 30) - evening);
  // ... but never less than the open TTL: a write a second before the bell.
  EXPECT_EQ(price.TtlAt(WallMs(kEst, 2026, 1, 14, 9, 29, 59)), 5 * kMinute);
  EXPECT_EQ(price.TtlAt(WallMs(kEst, 2026, 1, 14, 9, 26)), 5 * kMinute);
  EXPECT_EQ(price.TtlAt(WallMs(kEst, 2026, 1, 14, 9, 20)), 10 * kMinute);
  // A closed duration is capped by the next open (never below the open TTL) ...
  const MarketHoursTtl& lse = MarketRule(config, "quote:lse:VOD");
  EXPECT_EQ(lse.TtlAt(WallMs(0, 2026, 1, 16, 18)), 1 * kHour);        // Friday evening
  EXPECT_EQ(lse.TtlAt(WallMs(0, 2026, 1, 19, 7, 30)), 30 * kMinute);  // Monday before 08:00
  EXPECT_EQ(lse.TtlAt(WallMs(0, 2026, 1, 19, 7, 59, 30)), 1 * kMinute);
  EXPECT_EQ(lse.TtlAt(WallMs(0, 2026, 1, 19, 9)), 1 * kMinute);  // open
  // ... and a closed TTL shorter than the open one is kept as given.
  const MarketHoursTtl& short_closed = MarketRule(config, "short:x");
  EXPECT_EQ(short_closed.TtlAt(saturday), 1 * kMinute);
  EXPECT_EQ(short_closed.TtlAt(WallMs(kEst, 2026, 1, 14, 9, 29, 59)), 1 * kMinute);
}

TEST(MarketHoursConfigTest, CacheOnAFakeClock) {
  auto clock = std::make_shared<ManualClock>(WallMs(kEst, 2026, 1, 13, 10));  // a Tuesday
  Options options;
  options.max_entries = 100;
  options.clock = clock;
  options.default_ttl_ms = 10 * kMinute;
  options.config = std::make_shared<PolicyConfig>(MustParse(kMarketHoursConfig));
  Result<std::unique_ptr<Cache>> made = Cache::Create(options);
  ASSERT_TRUE(made.ok()) << made.status().message();
  Cache& cache = *made.value();

  // During the session: 5 minutes fresh, then the rule's hour of grace.
  WriteResult written;
  ASSERT_TRUE(cache.SetWithResult("price:latest:AAPL", "189.50", {}, &written).ok());
  EXPECT_EQ(written.fresh_until_ms, clock->NowMs() + 5 * kMinute);
  EXPECT_EQ(written.stale_until_ms, clock->NowMs() + 5 * kMinute + 1 * kHour);
  std::string value;
  clock->Advance(5 * kMinute - 1);
  EXPECT_EQ(cache.Get("price:latest:AAPL", &value).state, Freshness::kFresh);
  clock->Advance(1);
  EXPECT_EQ(cache.Get("price:latest:AAPL", &value).state, Freshness::kStale);

  // On a Saturday: fresh until Monday's open, whatever the week's clock change did. 2026-03-07
  // is the Saturday before New York springs forward: Monday opens at 13:30 UTC.
  clock->Set(WallMs(kEst, 2026, 3, 7, 12));
  ASSERT_TRUE(cache.SetWithResult("price:latest:MSFT", "410.10", {}, &written).ok());
  EXPECT_EQ(written.fresh_until_ms, WallMs(kEdt, 2026, 3, 9, 9, 30));
  EXPECT_EQ(written.fresh_until_ms, WallMs(0, 2026, 3, 9, 13, 30));
  clock->Set(WallMs(kEdt, 2026, 3, 9, 9, 29, 59));
  Lookup lookup = cache.Get("price:latest:MSFT", &value);
  EXPECT_EQ(lookup.state, Freshness::kFresh);
  EXPECT_EQ(lookup.fresh_remaining_ms, kSecond);
  clock->Set(WallMs(kEdt, 2026, 3, 9, 9, 30));
  EXPECT_EQ(cache.Get("price:latest:MSFT", &value).state, Freshness::kStale);

  // Before Thanksgiving: fresh through the holiday until Friday's open.
  clock->Set(WallMs(kEst, 2026, 11, 25, 16, 5));
  ASSERT_TRUE(cache.SetWithResult("price:latest:IBM", "1", {}, &written).ok());
  EXPECT_EQ(written.fresh_until_ms, WallMs(kEst, 2026, 11, 27, 9, 30));
  // After the early close on Friday: until Monday.
  clock->Set(WallMs(kEst, 2026, 11, 27, 13, 1));
  ASSERT_TRUE(cache.SetWithResult("price:latest:IBM", "2", {}, &written).ok());
  EXPECT_EQ(written.fresh_until_ms, WallMs(kEst, 2026, 11, 30, 9, 30));

  // A TTL given with the write wins over the rule; keys no rule matches keep the default.
  SetOptions explicit_ttl;
  explicit_ttl.ttl_ms = 42 * kSecond;
  ASSERT_TRUE(cache.SetWithResult("price:latest:IBM", "3", explicit_ttl, &written).ok());
  EXPECT_EQ(written.fresh_until_ms, clock->NowMs() + 42 * kSecond);
  ASSERT_TRUE(cache.SetWithResult("other:key", "4", {}, &written).ok());
  EXPECT_EQ(written.fresh_until_ms, clock->NowMs() + 10 * kMinute);
}

TEST(MarketHoursConfigTest, BadRulesAndCalendarsNameTheFieldAndValue) {
  auto rule = [](const std::string& market_hours) {
    return R"({"rules": [{"match": "p:*", "marketHours": )" + market_hours + "}]}";
  };
  auto calendar = [](const std::string& body) {
    return R"({"calendars": {"x": )" + body +
           R"(}, "rules": [{"match": "p:*", "marketHours": {"calendar": "x", "open": "5m"}}]})";
  };
  const std::string weekdays = R"("sessions": {"mon-fri": ["09:30-16:00"]})";
  const BadDocument cases[] = {
      {R"({"rules": [{"match": "p:*", "ttl": "5m", "marketHours": {"calendar": "nyse", "open": "5m"}}]})",
       {"rules[0]: give \"ttl\" or \"marketHours\", not both"}},
      {rule(R"("nyse")"), {"rules[0].marketHours: must be an object", "\"nyse\""}},
      {rule(R"({"calendar": "nyze", "open": "5m"})"),
       {"rules[0].marketHours.calendar: unknown calendar \"nyze\" (built in: nyse, nasdaq, lse, "
        "crypto)"}},
      {R"({"calendars": {"tse": {"timeZone": "JST-9", "sessions": {"mon-fri": ["09:00-15:00"]}}},
          "rules": [{"match": "p:*", "marketHours": {"calendar": "tsx", "open": "5m"}}]})",
       {"rules[0].marketHours.calendar: unknown calendar \"tsx\"", "declared: tse)"}},
      {rule(R"({"calendar": 5, "open": "5m"})"), {"rules[0].marketHours.calendar", "got 5"}},
      {rule(R"({"open": "5m"})"), {"rules[0].marketHours: needs \"calendar\""}},
      {rule(R"({"calendar": "nyse"})"), {"rules[0].marketHours: needs \"open\""}},
      {rule(R"({"calendar": "nyse", "open": "never"})"),
       {"rules[0].marketHours.open: must be a finite duration, got \"never\""}},
      {rule(R"({"calendar": "nyse", "open": "0s"})"), {"rules[0].marketHours.open", "\"0s\""}},
      {rule(R"({"calendar": "nyse", "open": "5m", "closed": "untilopen"})"),
       {"rules[0].marketHours.closed: must be \"untilOpen\" or a finite duration",
        "got \"untilopen\""}},
      {rule(R"({"calendar": "nyse", "open": "5m", "closed": "never"})"),
       {"rules[0].marketHours.closed", "got \"never\""}},
      {rule(R"({"calendar": "nyse", "open": "5m", "closed": "5x"})"),
       {"rules[0].marketHours.closed", "got \"5x\"", "invalid duration"}},
      {rule(R"({"calendar": "nyse", "open": "5m", "closed": -1})"),
       {"rules[0].marketHours.closed", "got -1"}},
      {rule(R"({"calendar": "nyse", "open": "5m", "grace": "1h"})"),
       {"rules[0].marketHours", "unknown field \"grace\" (allowed: calendar, open, closed)"}},
      {rule(
           R"({"calendar": {"timeZone": "EST5EDT", "sessions": {"mon": ["09:30-16:00"]}}, "open": "5m"})"),
       {"rules[0].marketHours.calendar.timeZone: invalid POSIX TZ rule \"EST5EDT\"",
        "needs its rules"}},
      {R"({"calendars": ["nyse"]})", {"calendars: must be an object", "[\"nyse\"]"}},
      {R"({"calendars": {"nyse": {"timeZone": "UTC0", "sessions": {"daily": ["00:00-24:00"]}}}})",
       {"calendars.nyse: the name \"nyse\" is a built-in calendar"}},
      {R"({"calendars": {"": {"timeZone": "UTC0"}}})",
       {"calendars: a calendar name must not be empty"}},
      {calendar("{}"), {"calendars.x: needs \"timeZone\""}},
      {calendar(R"({"timeZone": "UTC0"})"), {"calendars.x: needs \"sessions\""}},
      {calendar(R"({"timeZone": "UTC0", "sessions": {}})"),
       {"calendars.x.sessions: no weekday has a session"}},
      {calendar(R"({"timeZone": "America/New_York", )" + weekdays + "}"),
       {"calendars.x.timeZone: invalid POSIX TZ rule \"America/New_York\""}},
      {calendar(R"({"timeZone": 5, )" + weekdays + "}"), {"calendars.x.timeZone", "got 5"}},
      {calendar(R"({"timeZone": "UTC0", "sessions": {"weekdays": ["09:30-16:00"]}})"),
       {"calendars.x.sessions: unknown day \"weekdays\""}},
      {calendar(R"({"timeZone": "UTC0", "sessions": {"mon-fri": ["9:30-16:00"]}})"),
       {"calendars.x.sessions.mon-fri[0]: must be a session", "got \"9:30-16:00\""}},
      {calendar(R"({"timeZone": "UTC0", "sessions": {"mon-fri": "09:30-16:00"}})"),
       {"calendars.x.sessions.mon-fri: must be an array", "got \"09:30-16:00\""}},
      {calendar(R"({"timeZone": "UTC0", "sessions": {"mon": ["09:00-12:00", "11:00-13:00"]}})"),
       {"calendars.x.sessions.mon: sessions overlap", "[\"09:00-12:00\",\"11:00-13:00\"]"}},
      {calendar(R"({"timeZone": "UTC0", "sessions": {"mon-fri": ["09:30-16:00"], "fri": []}})"),
       // Keys are visited in name order, so the message names whichever came second.
       {"calendars.x.sessions.", "fri is already given by"}},
      {calendar(R"({"timeZone": "UTC0", )" + weekdays +
                R"(, "holidays": ["2026-12-25", "2026-13-01"]})"),
       {"calendars.x.holidays[1]: must be a date \"YYYY-MM-DD\"", "got \"2026-13-01\""}},
      {calendar(R"({"timeZone": "UTC0", )" + weekdays +
                R"(, "holidays": ["2026-12-25", "2026-12-25"]})"),
       {"calendars.x.holidays[1]: listed twice", "\"2026-12-25\""}},
      {calendar(R"({"timeZone": "UTC0", )" + weekdays + R"(, "holidays": "2026-12-25"})"),
       {"calendars.x.holidays: must be an array", "\"2026-12-25\""}},
      {calendar(R"({"timeZone": "UTC0", )" + weekdays +
                R"(, "earlyCloses": {"2026-11-27": "1pm"}})"),
       {"calendars.x.earlyCloses.2026-11-27: must be a local time", "got \"1pm\""}},
      {calendar(R"({"timeZone": "UTC0", )" + weekdays + R"(, "earlyCloses": {"Nov 27": "13:00"}})"),
       {"calendars.x.earlyCloses: a key must be a date", "\"Nov 27\""}},
      {calendar(R"({"timeZone": "UTC0", )" + weekdays +
                R"(, "earlyCloses": {"2026-11-28": "13:00"}})"),
       {"calendars.x.earlyCloses.2026-11-28: the market does not open that day (a sat)"}},
      {calendar(R"({"timeZone": "UTC0", )" + weekdays +
                R"(, "earlyCloses": {"2026-11-27": "17:00"}})"),
       {"calendars.x.earlyCloses.2026-11-27: 17:00 does not cut the day short", "09:30-16:00"}},
      {calendar(R"({"base": "nyse", "earlyCloses": {"2026-12-25": "13:00"}})"),
       {"calendars.x.earlyCloses.2026-12-25: the day is also a holiday"}},
      {calendar(R"({"base": "nyze"})"), {"calendars.x.base: unknown calendar \"nyze\""}},
      {calendar(R"({"timeZone": "UTC0", )" + weekdays + R"(, "weekends": ["sat"]})"),
       {"calendars.x", "unknown field \"weekends\"",
        "allowed: base, timeZone, sessions, holidays, earlyCloses"}},
      {R"({"calendars": {"a b": {"timeZone": "UTC0"}}})",
       {"calendars[\"a b\"]: needs \"sessions\""}},
  };
  for (const BadDocument& c : cases) {
    Result<PolicyConfig> parsed = ParsePolicyConfig(c.json);
    ASSERT_FALSE(parsed.ok()) << "accepted: " << c.json;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kBadConfig) << c.json;
    for (const std::string& part : c.must_mention) {
      EXPECT_NE(parsed.status().message().find(part), std::string::npos)
          << "document: " << c.json << "\nmessage: " << parsed.status().message()
          << "\nmissing: " << part;
    }
  }
  // Inside the options document the same paths sit under "config".
  Result<Options> options = ParseOptionsJson(
      R"({"maxEntries": 10, "config": {"calendars": {"x": {"timeZone": "EST5EDT"}}}})");
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(
      options.status().message().rfind("config.calendars.x.timeZone: invalid POSIX TZ rule", 0), 0u)
      << options.status().message();
}

TEST(MarketHoursConfigTest, RandomDamageNeverCrashes) {
  // Fixed seed: a failure reproduces. Every outcome is a config whose market rules answer a
  // TTL in range at any instant, or kBadConfig.
  std::mt19937 random(20260308);
  const std::string original = kMarketHoursConfig;
  const std::string alphabet = "{}[]\":,-0123456789:MJ./ESTDmfsu \x01\xff";
  int accepted = 0;
  for (int round = 0; round < 1500; ++round) {
    std::string doc = original;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !doc.empty(); ++e) {
      const size_t at = random() % doc.size();
      if (random() % 2 == 0) {
        doc[at] = alphabet[random() % alphabet.size()];
      } else {
        doc.insert(at, 1, alphabet[random() % alphabet.size()]);
      }
    }
    Result<PolicyConfig> parsed = ParsePolicyConfig(doc);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kBadConfig) << doc;
      continue;
    }
    ++accepted;
    for (const TtlRule& rule : parsed.value().rules) {
      if (!rule.market_hours) continue;
      for (int64_t t : {int64_t{0}, WallMs(0, 2026, 3, 8, 7), WallMs(0, 2026, 11, 1, 6),
                        int64_t{INT64_MIN}, int64_t{INT64_MAX}}) {
        const int64_t ttl = rule.market_hours->TtlAt(t);
        EXPECT_TRUE(ttl > 0 && ttl <= kMaxTtlMs) << doc << " at " << t << ": " << ttl;
      }
    }
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace tickcache
