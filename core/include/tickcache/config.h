// tickcache/config.h: the policy configuration file.
//
// TTL rules live in one JSON document per environment instead of at call sites:
//
//   {
//     "defaults": { "ttl": "5m", "grace": "0s" },
//     "rules": [
//       { "match": "price:latest:*", "ttl": "300s", "grace": "1h", "tags": ["prices", "symbol:{1}"] },
//       { "namespace": "fundamentals", "ttl": "24h" }
//     ]
//   }
//
// A rule matches a key by glob ("match": `*` any run, `?` one byte, `\` escapes) or by
// namespace ("namespace": "x" matches keys starting with "x:"). The first matching rule in
// file order wins. In tags, `{N}` is replaced by what the N-th `*` of the rule matched.
// Durations are milliseconds (a JSON number) or strings: "250ms", "30s", "5m", "6h", "1d", "1w".
// Parsing is strict: an unknown field, a wrong type or a bad value is refused with a
// kBadConfig status naming the field path and the value ("rules[1].ttl: ...").
//
// Market hours. Instead of "ttl", a rule may give "marketHours" (never both):
//
//   { "match": "price:latest:*", "grace": "1h",
//     "marketHours": { "calendar": "nyse", "open": "5m", "closed": "untilOpen" } }
//
//   calendar  a built-in calendar ("nyse", "nasdaq", "lse", "crypto"; see market_hours.h), a
//             name declared under "calendars", or a calendar object written in place.
//   open      the TTL of a write made while the market is open (a finite duration).
//   closed    the TTL of a write made while it is closed: "untilOpen" (the default) or a
//             duration. Either way it is capped at the next open, but never below "open":
//               ttl = min(closed, max(next open - now, open))
//             So while the market is open no fresh answer is older than "open" (the largest
//             floor that keeps that promise), and a write a second before the bell does not
//             expire a second later, all at once with every other such write.
// The rule's "grace" applies in both phases; `now` is the cache's clock at the write.
//
// Calendars of your own go in a top-level "calendars" object, by name (a built-in name
// cannot be reused):
//
//   "calendars": {
//     "tse": { "timeZone": "JST-9",
//              "sessions": { "mon-fri": ["09:00-11:30", "12:30-15:30"] },
//              "holidays": ["2026-01-01", "2026-01-02"],
//              "earlyCloses": { "2026-12-30": "11:30" } },
//     "nyse-ext": { "base": "nyse", "holidays": ["2029-01-01"] }
//   }
//
//   timeZone     a POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0", "GMT0BST,M3.5.0/1,M10.5.0",
//                "JST-9", "UTC0"): the same answers on every host, no tz database needed.
//   sessions     local "HH:MM-HH:MM" ranges by day: keys "mon".."sun", forward ranges
//                ("mon-fri", "sun-thu") or "daily"; each day at most once. Days not given
//                are closed (weekends). "24:00" closes at midnight.
//   holidays     "YYYY-MM-DD" local dates closed all day.
//   earlyCloses  "YYYY-MM-DD": "HH:MM", the day's trading ends at that local time.
//   base         a built-in calendar to start from: "timeZone" and "sessions", when given,
//                replace the base's; "holidays" and "earlyCloses" are added to its lists
//                (a holiday you add replaces the base's early close on that day).
// Without "base", "timeZone" and "sessions" are required.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickcache/market_hours.h"
#include "tickcache/status.h"

namespace tickcache {

// A rule's market-hours TTL (see the top of this file for the formula).
struct MarketHoursTtl {
  std::shared_ptr<const MarketCalendar> calendar;  // never null in a parsed config
  std::string calendar_name;                       // as the config named it ("" if written inline)
  int64_t open_ttl_ms = 0;                         // in (0, kMaxTtlMs]
  std::optional<int64_t> closed_ttl_ms;            // absent: until the next open

  // The TTL of a write at `now_ms`, in (0, kMaxTtlMs].
  int64_t TtlAt(int64_t now_ms) const;
};

struct TtlRule {
  std::string pattern;  // glob; a namespace rule is stored as "ns:*"
  std::optional<int64_t> ttl_ms;
  std::optional<int64_t> grace_ms;
  std::vector<std::string> tags;               // templates, `{N}` = N-th wildcard capture
  std::optional<MarketHoursTtl> market_hours;  // set only when ttl_ms is not
};

struct PolicyConfig {
  std::optional<int64_t> default_ttl_ms;
  std::optional<int64_t> default_grace_ms;
  std::vector<TtlRule> rules;
  // The calendars this config declares or its rules name, by name (built-ins included once
  // a rule names them), so a host can answer "is the market open" with the same calendar.
  std::map<std::string, std::shared_ptr<const MarketCalendar>, std::less<>> calendars;

  // The first rule matching `key`, or null. When `tags` is given, it receives the rule's
  // tags with captures substituted.
  const TtlRule* Match(std::string_view key, std::vector<std::string>* tags) const;
};

Result<PolicyConfig> ParsePolicyConfig(std::string_view json_text);

// "5m" -> 300000. Also accepts a plain number of milliseconds ("1500").
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace tickcache
