// glob_test.cc: GlobMatch and the glob.h helpers. Pins down the syntax (`*`, `?`, `\` escapes,
// a dangling `\` as a literal), the leftmost-shortest captures, the safe literal prefix, and
// that a pathological pattern finishes (the matcher never backtracks exponentially).
#include "glob.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tickcache/cache.h"

namespace tickcache {
namespace {

struct GlobCase {
  std::string_view pattern;
  std::string_view text;
  bool matches;
};

TEST(GlobMatchTest, Table) {
  const GlobCase cases[] = {
      // empty pattern: only the empty text
      {"", "", true},
      {"", "a", false},
      // only stars: everything
      {"*", "", true},
      {"*", "anything:at:all", true},
      {"***", "", true},
      {"***", "abc", true},
      // literals
      {"abc", "abc", true},
      {"abc", "abcd", false},
      {"abcd", "abc", false},
      {"abc", "abC", false},
      // `?` is exactly one byte
      {"?", "", false},
      {"?", "a", true},
      {"?", "ab", false},
      {"a?c", "abc", true},
      {"a?c", "ac", false},
      {"??", std::string_view("\xff\0", 2), true},  // any byte, NUL included
      // the users' patterns
      {"*:AAPL", "price:latest:AAPL", true},
      {"*:AAPL", "symbol:info:AAPL", true},
      {"*:AAPL", "price:latest:AAPL2", false},
      {"*:AAPL", "AAPL", false},
      {"feed:*", "feed:", true},
      {"feed:*", "feed:42:cursor9", true},
      {"feed:*", "feeds:42", false},
      {"feed:*", "fee", false},
      {"price:latest:*", "price:latest:MSFT", true},
      {"provider:*:stats", "provider:17:stats", true},
      {"provider:*:stats", "provider:17:stats:x", false},
      {"feed:?:*", "feed:7:abc", true},
      {"feed:?:*", "feed:77:abc", false},
      // escapes make wildcards literal
      {"a\\*b", "a*b", true},
      {"a\\*b", "axb", false},
      {"a\\?b", "a?b", true},
      {"a\\?b", "axb", false},
      {"a\\\\b", "a\\b", true},
      {"\\a", "a", true},
      // a dangling escape is a literal backslash
      {"ab\\", "ab\\", true},
      {"ab\\", "ab", false},
      {"*\\", "x\\", true},
      // star needs to retry after a partial match
      {"*ab", "aab", true},
      {"*aab", "aaab", true},
      {"a*b*c", "abxbxc", true},
      {"a*b*c", "abxbxd", false},
      {"*a*", "bbb", false},
  };
  for (const GlobCase& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.matches)
        << "pattern \"" << c.pattern << "\" text \"" << c.text << "\"";
    std::vector<std::string_view> captures;
    EXPECT_EQ(GlobCapture(c.pattern, c.text, &captures), c.matches)
        << "pattern \"" << c.pattern << "\" text \"" << c.text << "\"";
    if (c.matches) {
      EXPECT_EQ(captures.size(), GlobStarCount(c.pattern)) << "pattern \"" << c.pattern << "\"";
    } else {
      EXPECT_TRUE(captures.empty());
    }
  }
}

TEST(GlobMatchTest, PathologicalPatternFinishes) {
  // 30 x "a*" then "b", against 100 'a's then 'b': naive backtracking would take ~C(100,30)
  // steps. Both the match and the near miss must come back within the test's run.
  std::string pattern;
  for (int i = 0; i < 30; ++i) pattern += "a*";
  pattern += "b";
  const std::string text = std::string(100, 'a') + "b";
  EXPECT_TRUE(GlobMatch(pattern, text));
  EXPECT_FALSE(GlobMatch(pattern, std::string(100, 'a')));
  EXPECT_FALSE(GlobMatch(pattern + "c", text));
  std::vector<std::string_view> captures;
  ASSERT_TRUE(GlobCapture(pattern, text, &captures));
  ASSERT_EQ(captures.size(), 30u);
  // Leftmost-shortest: the first 29 stars take nothing, the last one the remaining a's.
  for (size_t i = 0; i + 1 < captures.size(); ++i) EXPECT_EQ(captures[i], "") << i;
  EXPECT_EQ(captures.back(), std::string(70, 'a'));
}

TEST(GlobCaptureTest, LeftmostShortest) {
  std::vector<std::string_view> captures;
  ASSERT_TRUE(GlobCapture("*:*", "a:b:c", &captures));
  EXPECT_EQ(captures, (std::vector<std::string_view>{"a", "b:c"}));

  ASSERT_TRUE(GlobCapture("price:latest:*", "price:latest:AAPL", &captures));
  EXPECT_EQ(captures, (std::vector<std::string_view>{"AAPL"}));

  ASSERT_TRUE(GlobCapture("feed:*:*", "feed:u42:cursor:9", &captures));
  EXPECT_EQ(captures, (std::vector<std::string_view>{"u42", "cursor:9"}));

  ASSERT_TRUE(GlobCapture("*-?-*", "x-y-z-w", &captures));
  EXPECT_EQ(captures, (std::vector<std::string_view>{"x", "z-w"}));

  // Adjacent stars: the first takes nothing.
  ASSERT_TRUE(GlobCapture("a**", "abc", &captures));
  EXPECT_EQ(captures, (std::vector<std::string_view>{"", "bc"}));

  // Trailing stars past the end of the text capture the empty run at the end.
  ASSERT_TRUE(GlobCapture("abc*", "abc", &captures));
  EXPECT_EQ(captures, (std::vector<std::string_view>{""}));

  // An escaped star is not a capture.
  ASSERT_TRUE(GlobCapture("a\\**", "a*rest", &captures));
  EXPECT_EQ(captures, (std::vector<std::string_view>{"rest"}));

  // A failed match leaves nothing behind, even after partial progress.
  captures = {"stale"};
  EXPECT_FALSE(GlobCapture("a*b*c", "axbyd", &captures));
  EXPECT_TRUE(captures.empty());

  // Null captures: a plain match.
  EXPECT_TRUE(GlobCapture("a*", "ab", nullptr));
}

TEST(GlobCaptureTest, CapturesPointIntoTheText) {
  const std::string text = "price:latest:MSFT";
  std::vector<std::string_view> captures;
  ASSERT_TRUE(GlobCapture("*:*:*", text, &captures));
  ASSERT_EQ(captures.size(), 3u);
  EXPECT_EQ(captures[0].data(), text.data());
  EXPECT_EQ(captures[2].data(), text.data() + 13);
  EXPECT_EQ(captures[2], "MSFT");
}

TEST(ValidateGlobTest, DanglingEscapeIsRefused) {
  EXPECT_TRUE(ValidateGlob("").ok());
  EXPECT_TRUE(ValidateGlob("feed:*").ok());
  EXPECT_TRUE(ValidateGlob("a\\*").ok());
  EXPECT_TRUE(ValidateGlob("a\\\\").ok());  // an escaped backslash at the end is complete
  const Status dangling = ValidateGlob("price:\\");
  EXPECT_EQ(dangling.code(), ErrorCode::kInvalidPattern);
  EXPECT_NE(dangling.message().find("price:\\"), std::string::npos) << dangling.message();
  EXPECT_EQ(ValidateGlob("a\\\\\\").code(), ErrorCode::kInvalidPattern);
}

TEST(GlobLiteralPrefixTest, StopsAtTheFirstSpecialByte) {
  EXPECT_EQ(GlobLiteralPrefix("price:latest:*"), "price:latest:");
  EXPECT_EQ(GlobLiteralPrefix("feed:?:*"), "feed:");
  EXPECT_EQ(GlobLiteralPrefix("*:AAPL"), "");
  EXPECT_EQ(GlobLiteralPrefix("exact:key"), "exact:key");
  EXPECT_EQ(GlobLiteralPrefix(""), "");
  // An escape ends the view: "a\*b*" matches texts starting "a*b", and "a" is a safe prefix.
  EXPECT_EQ(GlobLiteralPrefix("a\\*b*"), "a");
}

TEST(GlobLiteralPrefixTest, IsAPrefixOfEveryMatch) {
  const std::string_view patterns[] = {"feed:*", "a\\*b*", "p?x*", "ab\\", "x*y*z"};
  const std::string_view texts[] = {"feed:1", "a*bc", "pqx", "ab\\", "xyz", "xaybz", "feed:"};
  for (std::string_view pattern : patterns) {
    const std::string_view prefix = GlobLiteralPrefix(pattern);
    for (std::string_view text : texts) {
      if (!GlobMatch(pattern, text)) continue;
      EXPECT_EQ(text.substr(0, prefix.size()), prefix) << pattern << " / " << text;
    }
  }
}

TEST(GlobIsPrefixPatternTest, OnlyOneTrailingStar) {
  std::string_view prefix;
  EXPECT_TRUE(GlobIsPrefixPattern("fundamentals:*", &prefix));
  EXPECT_EQ(prefix, "fundamentals:");
  EXPECT_TRUE(GlobIsPrefixPattern("*", &prefix));
  EXPECT_EQ(prefix, "");
  EXPECT_FALSE(GlobIsPrefixPattern("a**", &prefix));
  EXPECT_FALSE(GlobIsPrefixPattern("a?*", &prefix));
  EXPECT_FALSE(GlobIsPrefixPattern("a\\*", &prefix));  // an escaped star is a literal
  EXPECT_FALSE(GlobIsPrefixPattern("a\\b*", &prefix));
  EXPECT_FALSE(GlobIsPrefixPattern("abc", &prefix));
  EXPECT_FALSE(GlobIsPrefixPattern("", &prefix));
}

TEST(GlobStarCountTest, CountsUnescapedStars) {
  EXPECT_EQ(GlobStarCount(""), 0u);
  EXPECT_EQ(GlobStarCount("a*b*"), 2u);
  EXPECT_EQ(GlobStarCount("a\\*b*"), 1u);
  EXPECT_EQ(GlobStarCount("\\\\*"), 1u);
  EXPECT_EQ(GlobStarCount("??"), 0u);
}

}  // namespace
}  // namespace tickcache
