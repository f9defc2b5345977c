// glob.cc: GlobMatch and the glob helpers of glob.h.
//
// The matcher is the classic two-pointer one: on a mismatch it only ever returns to the last
// `*` and lets that star swallow one more byte. That is enough, because any earlier star's
// choice can be absorbed by the later one, and it bounds the work by pattern x text instead of
// the exponential cost of naive backtracking ("a*a*a*...b" against "aaaa...").
#include "glob.h"

#include <string>

#include "tickcache/cache.h"

namespace tickcache {
namespace {

// One pattern position: a wildcard `?` or a literal byte, and how many pattern bytes it spans
// (2 for an escape). A dangling trailing `\` is a literal backslash, so matching never fails
// on a malformed pattern; ValidateGlob is where that is refused.
struct Token {
  bool any_byte;
  char byte;
  size_t width;
};

Token TokenAt(std::string_view pattern, size_t p) {
  const char c = pattern[p];
  if (c == '?') return {true, 0, 1};
  if (c == '\\' && p + 1 < pattern.size()) return {false, pattern[p + 1], 2};
  return {false, c, 1};
}

bool MatchAndCapture(std::string_view pattern, std::string_view text,
                     std::vector<std::string_view>* captures) {
  constexpr size_t kNoStar = std::string_view::npos;
  if (captures != nullptr) captures->clear();
  size_t p = 0;
  size_t t = 0;
  size_t resume_p = kNoStar;  // pattern index just after the last star seen
  size_t star_begin = 0;      // where the last star's run starts in text
  size_t star_end = 0;        // where it currently ends: the text index to resume from
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      ++p;
      resume_p = p;
      star_begin = star_end = t;
      if (captures != nullptr) captures->push_back(text.substr(t, 0));
      continue;
    }
    if (p < pattern.size()) {
      const Token token = TokenAt(pattern, p);
      if (token.any_byte || token.byte == text[t]) {
        p += token.width;
        ++t;
        continue;
      }
    }
    if (resume_p == kNoStar) {
      if (captures != nullptr) captures->clear();
      return false;
    }
    // Earlier stars stay frozen: only the last one grows, which is what makes the earlier
    // captures the shortest ones.
    ++star_end;
    p = resume_p;
    t = star_end;
    if (captures != nullptr) captures->back() = text.substr(star_begin, star_end - star_begin);
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
    if (captures != nullptr) captures->push_back(text.substr(t, 0));
  }
  if (p != pattern.size()) {
    if (captures != nullptr) captures->clear();
    return false;
  }
  return true;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  return MatchAndCapture(pattern, text, nullptr);
}

bool GlobCapture(std::string_view pattern, std::string_view text,
                 std::vector<std::string_view>* captures) {
  return MatchAndCapture(pattern, text, captures);
}

Status ValidateGlob(std::string_view pattern) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '\\') continue;
    if (i + 1 == pattern.size()) {
      constexpr size_t kShownBytes = 200;
      std::string shown(pattern.substr(0, kShownBytes));
      if (pattern.size() > kShownBytes) shown += "...";
      return Status(ErrorCode::kInvalidPattern,
                    "pattern \"" + shown +
                        "\" ends in a dangling escape '\\' (write \\\\ for a literal backslash)");
    }
    ++i;  // the escaped byte, whatever it is
  }
  return Status::Ok();
}

std::string_view GlobLiteralPrefix(std::string_view pattern) {
  const size_t special = pattern.find_first_of("*?\\");
  return special == std::string_view::npos ? pattern : pattern.substr(0, special);
}

bool GlobIsPrefixPattern(std::string_view pattern, std::string_view* prefix) {
  if (pattern.empty() || pattern.back() != '*') return false;
  const std::string_view literal = GlobLiteralPrefix(pattern);
  if (literal.size() + 1 != pattern.size()) return false;
  if (prefix != nullptr) *prefix = literal;
  return true;
}

size_t GlobStarCount(std::string_view pattern) {
  size_t stars = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '*') {
      ++stars;
    }
  }
  return stars;
}

}  // namespace tickcache
