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
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickcache/status.h"

namespace tickcache {

struct TtlRule {
  std::string pattern;  // glob; a namespace rule is stored as "ns:*"
  std::optional<int64_t> ttl_ms;
  std::optional<int64_t> grace_ms;
  std::vector<std::string> tags;  // templates, `{N}` = N-th wildcard capture
};

struct PolicyConfig {
  std::optional<int64_t> default_ttl_ms;
  std::optional<int64_t> default_grace_ms;
  std::vector<TtlRule> rules;

  // The first rule matching `key`, or null. When `tags` is given, it receives the rule's
  // tags with captures substituted.
  const TtlRule* Match(std::string_view key, std::vector<std::string>* tags) const;
};

Result<PolicyConfig> ParsePolicyConfig(std::string_view json_text);

// "5m" -> 300000. Also accepts a plain number of milliseconds ("1500").
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace tickcache
