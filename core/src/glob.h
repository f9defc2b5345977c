// glob.h: glob helpers the engine and the policy configuration share with GlobMatch.
//
// One syntax everywhere: `*` matches any run of bytes (empty included), `?` exactly one byte,
// `\x` the byte x literally; anything else matches itself. Matching never backtracks more than
// to the last `*` seen, so its cost is bounded by pattern length x text length, never
// exponential. GlobMatch tolerates a dangling trailing `\` (a literal backslash) so it never
// fails on input; ValidateGlob is where callers that take patterns from users refuse it.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "tickcache/status.h"

namespace tickcache {

// kInvalidPattern, naming the pattern, when it ends in a dangling `\`.
Status ValidateGlob(std::string_view pattern);

// A prefix of every text `pattern` matches, as a view into `pattern`: the bytes before the
// first `*`, `?` or `\`. Stopping at the first escape (rather than unescaping) keeps the answer
// a view and is still safe to narrow a scan with. A pattern without any of the three returns
// whole: it matches only itself.
std::string_view GlobLiteralPrefix(std::string_view pattern);

// Whether the pattern's only special byte is one trailing `*` ("price:latest:*"), i.e. whether
// matching it is `text.starts_with(prefix)`. Sets *prefix (if given) to the part before the `*`.
bool GlobIsPrefixPattern(std::string_view pattern, std::string_view* prefix);

// How many unescaped `*` the pattern holds: the number of captures GlobCapture reports.
size_t GlobStarCount(std::string_view pattern);

// Matches exactly like GlobMatch and, when it matches and `captures` is given, replaces
// *captures with what each `*` matched, in pattern order (views into `text`). The choice among
// several possible splits is leftmost-shortest: from left to right, each `*` takes the shortest
// run that still lets the rest of the pattern match ("*:*" on "a:b:c" gives "a" and "b:c").
// On no match, *captures is left empty.
bool GlobCapture(std::string_view pattern, std::string_view text,
                 std::vector<std::string_view>* captures);

}  // namespace tickcache
