// tests/fuzz/cache_fuzzer.cc: libFuzzer target for the core engine (scripts/test.sh runs it).
//
// The first input byte picks a mode (and, for the cache modes, the policy):
//   ops       the rest is a sequence of operations on a small cache with a ManualClock, checked
//             against a model of what was set;
//   snapshot  the rest is given to LoadSnapshotBytes (raw, or framed with a valid header and
//             checksum so the entry parser itself is reached) on a cache holding entries;
//   mutated   a real snapshot is truncated, flipped or extended as the input says, then loaded;
//   config    the rest is a policy configuration document (and a duration);
//   glob      the rest is a pattern and a text, GlobMatch against a reference matcher.
// Invariants checked after every step (abort() with a message, so libFuzzer keeps the input):
//   - Entries() <= max_entries and Bytes() <= max_bytes; no bytes are charged without entries;
//   - bad input gets a non-ok Status with the documented code and a message, and changes
//     nothing; nothing throws (an exception escaping would terminate the run);
//   - what the cache answers matches the model: a present key holds the value last set, its
//     freshness follows its TTL and grace, invalidated keys are gone;
//   - a snapshot that fails to load leaves the target cache exactly as it was, and any
//     truncation or alteration of a real snapshot is refused.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <nlohmann/json.hpp>

#include "tickcache/cache.h"
#include "tickcache/clock.h"
#include "tickcache/config.h"
#include "tickcache/status.h"

namespace {

using tickcache::Cache;
using tickcache::ErrorCode;
using tickcache::Freshness;
using tickcache::kMaxTtlMs;
using tickcache::kNoExpiry;
using tickcache::Lookup;
using tickcache::ManualClock;
using tickcache::Options;
using tickcache::PolicyKind;
using tickcache::SetOptions;
using tickcache::Status;

// What the harness was doing, printed when a check fails so a crash report reads on its own.
std::string g_context;
// TICKCACHE_FUZZ_TRACE=1 prints every operation (for replaying one crash input by hand).
const bool g_trace = std::getenv("TICKCACHE_FUZZ_TRACE") != nullptr;

[[noreturn]] void Fail(const char* file, int line, const char* fmt, ...) {
  std::fprintf(stderr, "\ncache_fuzzer: check failed at %s:%d\n  during: %s\n  ", file, line,
               g_context.c_str());
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  std::abort();
}

#define FUZZ_CHECK(cond, ...)                                        \
  do {                                                               \
    if (!(cond)) Fail(__FILE__, __LINE__, "" #cond " " __VA_ARGS__); \
  } while (0)

const char* StateName(Freshness state) {
  switch (state) {
    case Freshness::kFresh:
      return "FRESH";
    case Freshness::kStale:
      return "STALE";
    case Freshness::kMiss:
      return "MISS";
  }
  return "?";
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 48)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (bytes.size() > 48) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

// A failed operation must say what failed: a code other than kOk and a message.
void CheckErrorStatus(const Status& status) {
  FUZZ_CHECK(!status.ok());
  FUZZ_CHECK(!status.message().empty(), "(code %s)", tickcache::ErrorCodeName(status.code()));
  FUZZ_CHECK(!status.ToString().empty());
}

void CheckBounds(const Cache& cache, const char* which) {
  const Options& options = cache.options();
  const uint64_t entries = cache.Entries();
  const uint64_t bytes = cache.Bytes();
  if (options.max_entries > 0) {
    FUZZ_CHECK(entries <= options.max_entries, "(%s: %llu entries, max %llu)", which,
               (unsigned long long)entries, (unsigned long long)options.max_entries);
  }
  if (options.max_bytes > 0) {
    FUZZ_CHECK(bytes <= options.max_bytes, "(%s: %llu bytes, max %llu)", which,
               (unsigned long long)bytes, (unsigned long long)options.max_bytes);
  }
  // Every entry is charged at least a one-byte key plus kEntryChargeBytes.
  FUZZ_CHECK(bytes >= entries * (tickcache::kEntryChargeBytes + 1),
             "(%s: %llu bytes for %llu entries)", which, (unsigned long long)bytes,
             (unsigned long long)entries);
}

void CheckStats(const Cache& cache) {
  const tickcache::Stats stats = cache.GetStats();
  FUZZ_CHECK(stats.entries == cache.Entries());
  FUZZ_CHECK(stats.bytes == cache.Bytes());
  const double rate = stats.HitRate();
  FUZZ_CHECK(rate >= 0.0 && rate <= 1.0, "(hit rate %f)", rate);
  const std::string json = cache.StatsJson();
  FUZZ_CHECK(nlohmann::json::accept(json), "(StatsJson is not JSON: %s)", Printable(json).c_str());
}

// ---- reference glob: `*` any run, `?` one byte, `\x` literal x, a trailing `\` literal ----

struct GlobToken {
  enum Kind : uint8_t { kLiteral, kOne, kStar } kind;
  char byte;
};

std::vector<GlobToken> TokenizeGlob(std::string_view pattern) {
  std::vector<GlobToken> tokens;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      tokens.push_back({GlobToken::kLiteral, pattern[++i]});
    } else if (c == '*') {
      tokens.push_back({GlobToken::kStar, 0});
    } else if (c == '?') {
      tokens.push_back({GlobToken::kOne, 0});
    } else {
      tokens.push_back({GlobToken::kLiteral, c});
    }
  }
  return tokens;
}

// Whether the pattern ends in an unpaired `\` (ValidateGlob's only refusal).
bool HasDanglingEscape(std::string_view pattern) {
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '\\') {
      if (i + 1 == pattern.size()) return true;
      i += 2;
    } else {
      ++i;
    }
  }
  return false;
}

// Dynamic programming over (token, text position): obviously right, quadratic, no shortcuts.
bool ReferenceGlob(std::string_view pattern, std::string_view text) {
  const std::vector<GlobToken> tokens = TokenizeGlob(pattern);
  std::vector<char> row(text.size() + 1, 0);  // row[j]: tokens so far match text[0, j)
  row[0] = 1;
  for (const GlobToken& token : tokens) {
    std::vector<char> next(text.size() + 1, 0);
    for (size_t j = 0; j <= text.size(); ++j) {
      switch (token.kind) {
        case GlobToken::kStar:
          next[j] = row[j] || (j > 0 && next[j - 1]);
          break;
        case GlobToken::kOne:
          next[j] = j > 0 && row[j - 1];
          break;
        case GlobToken::kLiteral:
          next[j] = j > 0 && row[j - 1] && text[j - 1] == token.byte;
          break;
      }
    }
    row.swap(next);
  }
  return row[text.size()] != 0;
}

void CheckGlobAgrees(std::string_view pattern, std::string_view text) {
  const bool expected = ReferenceGlob(pattern, text);
  const bool actual = tickcache::GlobMatch(pattern, text);
  FUZZ_CHECK(actual == expected, "(GlobMatch(\"%s\", \"%s\") = %d, reference says %d)",
             Printable(pattern).c_str(), Printable(text).c_str(), actual, expected);
}

// ---- input helpers -----------------------------------------------------------------

PolicyKind PolicyFromByte(uint8_t byte) {
  static constexpr PolicyKind kPolicies[] = {PolicyKind::kWTinyLfu, PolicyKind::kLru,
                                             PolicyKind::kSieve};
  return kPolicies[byte % 3];
}

// A TTL or grace as the input chooses: mostly valid, sometimes absent, sometimes out of range
// (negative, or finite beyond kMaxTtlMs) to exercise refusal.
std::optional<int64_t> ConsumeDuration(FuzzedDataProvider& fdp, bool is_ttl) {
  switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
    case 0:
    case 1:
      return std::nullopt;
    case 2:
      return is_ttl ? kNoExpiry : int64_t{0};
    case 3:
      return fdp.ConsumeIntegralInRange<int64_t>(1, kMaxTtlMs);
    case 4:
      return -fdp.ConsumeIntegralInRange<int64_t>(1, kMaxTtlMs);
    case 5:
      return kMaxTtlMs + fdp.ConsumeIntegralInRange<int64_t>(0, 2);
    case 6:
      return int64_t{0};
    default:
      return fdp.ConsumeIntegralInRange<int64_t>(1, 5000);
  }
}

bool DurationIsInvalid(const std::optional<int64_t>& ms) {
  return ms && (*ms < 0 || (*ms > kMaxTtlMs && *ms != kNoExpiry));
}

std::string ConsumeTag(FuzzedDataProvider& fdp) {
  static const char* const kTags[] = {"t0", "t1", "t2", "symbol:AAPL", "prices", ""};
  if (fdp.ConsumeIntegralInRange<int>(0, 7) < 7) {
    return kTags[fdp.ConsumeIntegralInRange<size_t>(0, std::size(kTags) - 1)];
  }
  return fdp.ConsumeRandomLengthString(12);
}

// ---- mode: operation sequences against a model ---------------------------------------

// The engine keeps absolute times in 48 bits (until the year 10889) and treats a deadline past
// that as "never"; the model predicts times only below it, and the clock stays far below it.
constexpr int64_t kStorableMs = (int64_t{1} << 48) - 1;
constexpr int64_t kClockCeilingMs = int64_t{1} << 46;

struct ModelEntry {
  std::string value;
  std::vector<std::string> tags;
  bool times_known = false;  // false when the TTL (0) has no documented meaning to model
  int64_t fresh_until = 0;
  int64_t stale_until = 0;
  int64_t stale_slack = 0;  // how much later than stale_until the entry may still be there
};

class OpsHarness {
 public:
  OpsHarness(FuzzedDataProvider& fdp, PolicyKind policy) : fdp_(fdp), policy_(policy) {}

  void Run() {
    if (!Build()) return;
    int op_count = 0;
    while (fdp_.remaining_bytes() > 0 && op_count < 1500) {
      ++op_count;
      Step(op_count);
      if (g_trace) {
        std::fprintf(stderr, "op %d: %s -> entries %llu bytes %llu now %lld\n", op_count,
                     g_context.c_str(), (unsigned long long)cache_->Entries(),
                     (unsigned long long)cache_->Bytes(), (long long)clock_->NowMs());
      }
      CheckBounds(*cache_, "cache");
      if (second_) CheckBounds(*second_, "second cache");
      if (op_count % 16 == 0) Sweep();
    }
    Sweep();
    CheckStats(*cache_);
  }

 private:
  // Options drawn from the input. Invalid ones must be refused; plain valid ones accepted.
  bool Build() {
    Options options;
    options.policy = policy_;
    options.clock = clock_;
    const int entries_choice = fdp_.ConsumeIntegralInRange<int>(0, 9);
    options.max_entries = entries_choice < 2 ? 0 : fdp_.ConsumeIntegralInRange<uint64_t>(1, 64);
    const int bytes_choice = fdp_.ConsumeIntegralInRange<int>(0, 9);
    options.max_bytes = bytes_choice < 3 ? 0 : fdp_.ConsumeIntegralInRange<uint64_t>(256, 8192);
    static constexpr uint32_t kShards[] = {0, 0, 0, 1, 1, 2, 4, 3};
    options.shards = fdp_.PickValueInArray(kShards);
    static constexpr uint32_t kKeyLimits[] = {1024, 1024, 8, 24, 70000};
    options.max_key_bytes = fdp_.PickValueInArray(kKeyLimits);
    static constexpr uint32_t kValueLimits[] = {64u << 20, 64u << 20, 100, 700};
    options.max_value_bytes = fdp_.PickValueInArray(kValueLimits);
    static constexpr char kSeparators[] = {':', ':', ':', '/', '\0'};
    options.namespace_separator = fdp_.PickValueInArray(kSeparators);
    if (fdp_.ConsumeBool()) options.default_ttl_ms = fdp_.ConsumeIntegralInRange<int64_t>(1, 9000);
    if (fdp_.ConsumeBool())
      options.default_grace_ms = fdp_.ConsumeIntegralInRange<int64_t>(0, 9000);
    const bool negative_ttl = fdp_.ConsumeIntegralInRange<int>(0, 31) == 0;
    if (negative_ttl) options.default_ttl_ms = -1;

    const bool must_fail = (options.max_entries == 0 && options.max_bytes == 0) ||
                           options.shards == 3 || options.max_key_bytes > 65535 || negative_ttl;
    const bool must_succeed =
        !must_fail && options.shards <= 1 && (options.max_bytes == 0 || options.max_bytes >= 1024);
    g_context = "Cache::Create";
    auto created = Cache::Create(options);
    if (!created.ok()) {
      CheckErrorStatus(created.status());
      FUZZ_CHECK(!must_succeed, "(valid options refused: %s)", created.status().ToString().c_str());
      return false;
    }
    if (g_trace) {
      std::fprintf(stderr,
                   "cache: policy %s max_entries %llu max_bytes %llu shards %u key<=%u value<=%u "
                   "sep '%c' ttl %lld grace %lld\n",
                   tickcache::PolicyKindName(options.policy),
                   (unsigned long long)options.max_entries, (unsigned long long)options.max_bytes,
                   options.shards, options.max_key_bytes, options.max_value_bytes,
                   options.namespace_separator ? options.namespace_separator : '0',
                   (long long)options.default_ttl_ms, (long long)options.default_grace_ms);
    }
    FUZZ_CHECK(!must_fail, "(invalid options accepted)");
    cache_ = std::move(created).value();
    FUZZ_CHECK(cache_ != nullptr);
    FUZZ_CHECK(cache_->Entries() == 0 && cache_->Bytes() == 0);
    FUZZ_CHECK(cache_->options().max_entries == options.max_entries);
    FUZZ_CHECK(cache_->options().max_bytes == options.max_bytes);

    // The cache snapshots are loaded into: bounded by entries only (so every saved entry
    // fits), or by bytes too, with its own policy.
    Options second;
    second.policy = PolicyFromByte(fdp_.ConsumeIntegral<uint8_t>());
    second.clock = clock_;
    second.max_entries = fdp_.ConsumeIntegralInRange<uint64_t>(1, 64);
    second.max_bytes = fdp_.ConsumeBool() ? 0 : fdp_.ConsumeIntegralInRange<uint64_t>(512, 8192);
    auto second_created = Cache::Create(second);
    FUZZ_CHECK(second_created.ok(), "(%s)", second_created.status().ToString().c_str());
    second_ = std::move(second_created).value();
    return true;
  }

  std::string ConsumeKey() {
    static const char* const kNamespaces[] = {"a", "b", "feed", "price:latest", "x/y"};
    static const char kSuffixBytes[] = {'A', 'B', 'C', 'A', '*', '?', '\\', ':'};
    const Options& options = cache_->options();
    switch (fdp_.ConsumeIntegralInRange<int>(0, 15)) {
      case 0:
        return fdp_.ConsumeRandomLengthString(12);
      case 1:
        return "";
      case 2: {
        const size_t limit = options.max_key_bytes;
        return std::string(limit + fdp_.ConsumeIntegralInRange<size_t>(0, 1), 'k');
      }
      default: {
        std::string key = kNamespaces[fdp_.ConsumeIntegralInRange<size_t>(0, 4)];
        key += fdp_.ConsumeBool() ? ':' : '/';
        const int suffix = fdp_.ConsumeIntegralInRange<int>(1, 2);
        for (int i = 0; i < suffix; ++i) key += fdp_.PickValueInArray(kSuffixBytes);
        return key;
      }
    }
  }

  std::string ConsumeValue(int op_number) {
    const Options& options = cache_->options();
    size_t length;
    switch (fdp_.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
        length = 0;
        break;
      case 1:
        length = fdp_.ConsumeIntegralInRange<size_t>(100, 1500);
        break;
      case 2:
        length = options.max_value_bytes < 4096 ? options.max_value_bytes + 1 : 5000;
        break;
      default:
        length = fdp_.ConsumeIntegralInRange<size_t>(1, 40);
    }
    // Distinct per operation, so an answer carrying an older value is caught.
    std::string value = std::to_string(op_number) + "#";
    value.resize(length, static_cast<char>('a' + op_number % 26));
    return value;
  }

  SetOptions ConsumeSetOptions() {
    SetOptions options;
    options.ttl_ms = ConsumeDuration(fdp_, /*is_ttl=*/true);
    options.grace_ms = ConsumeDuration(fdp_, /*is_ttl=*/false);
    const int tags = fdp_.ConsumeIntegralInRange<int>(0, 3);
    for (int i = 0; i < tags; ++i) options.tags.push_back(ConsumeTag(fdp_));
    return options;
  }

  // The codes a Set of (key, value, options) must fail with; empty if the input is valid as
  // far as the harness can tell without knowing shard sizes.
  std::vector<ErrorCode> ExpectedSetErrors(std::string_view key, std::string_view value,
                                           const SetOptions& set) const {
    const Options& options = cache_->options();
    std::vector<ErrorCode> codes;
    if (key.empty()) codes.push_back(ErrorCode::kEmptyKey);
    if (key.size() > options.max_key_bytes) codes.push_back(ErrorCode::kKeyTooLarge);
    if (value.size() > options.max_value_bytes) codes.push_back(ErrorCode::kValueTooLarge);
    if (DurationIsInvalid(set.ttl_ms) || DurationIsInvalid(set.grace_ms)) {
      codes.push_back(ErrorCode::kInvalidTtl);
    }
    if (options.max_bytes > 0 &&
        key.size() + value.size() + tickcache::kEntryChargeBytes > options.max_bytes) {
      codes.push_back(ErrorCode::kEntryTooLarge);
    }
    return codes;
  }

  // A zero TTL may or may not be refused (kInvalidTtl: "zero where not allowed"); either way
  // other problems of the same Set may be reported first.
  void CheckSetStatus(const Status& status, const std::vector<ErrorCode>& expected,
                      const SetOptions& set) {
    if (status.ok()) {
      FUZZ_CHECK(expected.empty(), "(bad input accepted; first expected code %s)",
                 tickcache::ErrorCodeName(expected.front()));
      return;
    }
    CheckErrorStatus(status);
    if (expected.empty()) return;  // e.g. too large for its shard: allowed, not required
    bool listed = status.code() == ErrorCode::kEntryTooLarge ||
                  status.code() == ErrorCode::kInvalidArgument ||
                  (status.code() == ErrorCode::kInvalidTtl && set.ttl_ms == int64_t{0});
    for (ErrorCode code : expected) listed = listed || status.code() == code;
    FUZZ_CHECK(listed, "(code %s, expected %s)", tickcache::ErrorCodeName(status.code()),
               tickcache::ErrorCodeName(expected.front()));
  }

  void RecordSet(const std::string& key, const std::string& value, const SetOptions& set) {
    const Options& options = cache_->options();
    ModelEntry entry;
    entry.value = value;
    entry.tags = set.tags;
    const int64_t ttl = set.ttl_ms.value_or(options.default_ttl_ms);
    const int64_t grace = set.grace_ms.value_or(options.default_grace_ms);
    const int64_t now = clock_->NowMs();
    entry.times_known = ttl > 0 && grace >= 0 && grace <= kMaxTtlMs &&
                        (ttl == kNoExpiry || now + ttl + grace < kStorableMs);
    entry.fresh_until = ttl == kNoExpiry ? kNoExpiry : now + ttl;
    entry.stale_until = ttl == kNoExpiry ? kNoExpiry : entry.fresh_until + grace;
    // The engine keeps graces of 2^31 ms (~25 days) or more in whole seconds, rounded up.
    entry.stale_slack = grace >= (int64_t{1} << 31) ? 999 : 0;
    model_[key] = std::move(entry);
    keys_.insert(key);
  }

  // Compares one key's answer from Peek with the model, and returns it.
  Lookup CheckKey(const std::string& key, std::string* value_out = nullptr) {
    std::string value;
    const Lookup lookup = cache_->Peek(key, &value);
    FUZZ_CHECK(cache_->Has(key) == lookup.state, "(Has and Peek disagree on \"%s\")",
               Printable(key).c_str());
    auto it = model_.find(key);
    if (lookup.state == Freshness::kMiss) {
      // A key that is gone stays gone until set again (unless time ran backwards).
      if (it != model_.end() && !clock_went_back_) model_.erase(it);
      return lookup;
    }
    FUZZ_CHECK(it != model_.end(), "(\"%s\" is %s but was removed or never set)",
               Printable(key).c_str(), StateName(lookup.state));
    const ModelEntry& entry = it->second;
    FUZZ_CHECK(value == entry.value, "(\"%s\" holds \"%s\", last set to \"%s\")",
               Printable(key).c_str(), Printable(value).c_str(), Printable(entry.value).c_str());
    if (entry.times_known && !clock_went_back_) CheckTimes(key, entry, lookup);
    if (value_out) *value_out = std::move(value);
    return lookup;
  }

  void CheckTimes(const std::string& key, const ModelEntry& entry, const Lookup& lookup) {
    const int64_t now = clock_->NowMs();
    const char* state = StateName(lookup.state);
    const bool never = entry.fresh_until == kNoExpiry;
    if (never || now < entry.fresh_until) {
      FUZZ_CHECK(lookup.state == Freshness::kFresh, "(\"%s\" is %s, %lld ms before fresh_until)",
                 Printable(key).c_str(), state, (long long)(entry.fresh_until - now));
      const int64_t fresh_left = never ? kNoExpiry : entry.fresh_until - now;
      FUZZ_CHECK(lookup.fresh_remaining_ms == fresh_left, "(\"%s\": %lld, expected %lld)",
                 Printable(key).c_str(), (long long)lookup.fresh_remaining_ms,
                 (long long)fresh_left);
    } else if (now > entry.fresh_until && now < entry.stale_until) {
      FUZZ_CHECK(lookup.state == Freshness::kStale, "(\"%s\" is %s within its grace)",
                 Printable(key).c_str(), state);
      FUZZ_CHECK(lookup.fresh_remaining_ms == 0);
    } else if (now > entry.stale_until + entry.stale_slack) {
      FUZZ_CHECK(false, "(\"%s\" is %s %lld ms after its grace ran out)", Printable(key).c_str(),
                 state, (long long)(now - entry.stale_until));
    }
    if (lookup.state != Freshness::kMiss && now != entry.fresh_until && now < entry.stale_until) {
      const int64_t stale_left =
          entry.stale_until == kNoExpiry ? kNoExpiry : entry.stale_until - now;
      const bool close_enough =
          stale_left == kNoExpiry ? lookup.stale_remaining_ms == kNoExpiry
                                  : lookup.stale_remaining_ms >= stale_left &&
                                        lookup.stale_remaining_ms <= stale_left + entry.stale_slack;
      FUZZ_CHECK(close_enough, "(\"%s\": stale %lld, expected %lld)", Printable(key).c_str(),
                 (long long)lookup.stale_remaining_ms, (long long)stale_left);
    }
  }

  // Checks every key ever set against the model.
  void Sweep() {
    g_context = "sweep";
    for (const std::string& key : keys_) CheckKey(key);
    if (cache_->Entries() == 0) FUZZ_CHECK(cache_->Bytes() == 0, "(bytes charged to nothing)");
    CheckStats(*cache_);
  }

  // A failed Set must change nothing: same counts, same answer for the key.
  void DoSet(int op_number) {
    const std::string key = ConsumeKey();
    const std::string value = ConsumeValue(op_number);
    const SetOptions set = ConsumeSetOptions();
    g_context = "Set(\"" + Printable(key) + "\", " + std::to_string(value.size()) + " bytes, ttl " +
                (set.ttl_ms ? std::to_string(*set.ttl_ms) : "-") + ", grace " +
                (set.grace_ms ? std::to_string(*set.grace_ms) : "-") + ", " +
                std::to_string(set.tags.size()) + " tags)";
    const uint64_t entries = cache_->Entries();
    const uint64_t bytes = cache_->Bytes();
    std::string before_value;
    const Lookup before = cache_->Peek(key, &before_value);
    const Status status = cache_->Set(key, value, set);
    CheckSetStatus(status, ExpectedSetErrors(key, value, set), set);
    if (!status.ok()) {
      FUZZ_CHECK(cache_->Entries() == entries && cache_->Bytes() == bytes,
                 "(a failed Set changed the cache: %s)", status.ToString().c_str());
      std::string after_value;
      const Lookup after = cache_->Peek(key, &after_value);
      FUZZ_CHECK(after.state == before.state && after_value == before_value);
      return;
    }
    RecordSet(key, value, set);
    const bool times_known = model_[key].times_known;
    const Lookup lookup = CheckKey(key);
    // LRU never evicts what it just inserted: a Set that succeeded is visible.
    if (policy_ == PolicyKind::kLru && times_known) {
      FUZZ_CHECK(lookup.state == Freshness::kFresh, "(LRU lost \"%s\" right after Set: %s)",
                 Printable(key).c_str(), StateName(lookup.state));
    }
  }

  void DoSetMany(int op_number) {
    std::vector<std::string> keys;
    std::vector<std::string> values;
    const int count = fdp_.ConsumeIntegralInRange<int>(0, 5);
    for (int i = 0; i < count; ++i) {
      keys.push_back(ConsumeKey());
      values.push_back(ConsumeValue(op_number));
    }
    const SetOptions set = ConsumeSetOptions();
    std::vector<std::pair<std::string_view, std::string_view>> items;
    for (int i = 0; i < count; ++i) items.emplace_back(keys[i], values[i]);
    g_context = "SetMany(" + std::to_string(count) + " items)";
    const std::vector<Status> statuses = cache_->SetMany(items, set);
    FUZZ_CHECK(statuses.size() == items.size());
    for (int i = 0; i < count; ++i) {
      CheckSetStatus(statuses[i], ExpectedSetErrors(keys[i], values[i], set), set);
      if (statuses[i].ok()) RecordSet(keys[i], values[i], set);
    }
    for (const std::string& key : keys) {
      if (model_.count(key)) CheckKey(key);
    }
  }

  void DoGet() {
    const std::string key = ConsumeKey();
    g_context = "Get(\"" + Printable(key) + "\")";
    std::string peeked;
    const Lookup peek = CheckKey(key, &peeked);
    std::string value;
    const Lookup got = cache_->Get(key, &value);
    FUZZ_CHECK(got.state == peek.state, "(Get %s, Peek %s)", StateName(got.state),
               StateName(peek.state));
    if (got.state != Freshness::kMiss) FUZZ_CHECK(value == peeked);
    FUZZ_CHECK(got.fresh_remaining_ms == peek.fresh_remaining_ms);
    FUZZ_CHECK(got.stale_remaining_ms == peek.stale_remaining_ms);
  }

  void DoGetMany() {
    std::vector<std::string> keys;
    const int count = fdp_.ConsumeIntegralInRange<int>(0, 6);
    for (int i = 0; i < count; ++i) keys.push_back(ConsumeKey());
    g_context = "GetMany(" + std::to_string(count) + " keys)";
    std::vector<Lookup> peeks;
    std::vector<std::string> peeked(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) peeks.push_back(CheckKey(keys[i], &peeked[i]));
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::string> values;
    const std::vector<Lookup> got = cache_->GetMany(views, &values);
    FUZZ_CHECK(got.size() == keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      FUZZ_CHECK(got[i].state == peeks[i].state, "(key %zu: GetMany %s, Peek %s)", i,
                 StateName(got[i].state), StateName(peeks[i].state));
      if (got[i].state != Freshness::kMiss) {
        FUZZ_CHECK(i < values.size() && values[i] == peeked[i], "(key %zu)", i);
      }
    }
  }

  void DoDelete() {
    const std::string key = ConsumeKey();
    g_context = "Delete(\"" + Printable(key) + "\")";
    const uint64_t entries = cache_->Entries();
    const bool deleted = cache_->Delete(key);
    if (deleted) {
      FUZZ_CHECK(cache_->Entries() == entries - 1, "(Delete said yes, entries %llu -> %llu)",
                 (unsigned long long)entries, (unsigned long long)cache_->Entries());
    } else {
      FUZZ_CHECK(cache_->Entries() <= entries);
    }
    FUZZ_CHECK(cache_->Peek(key, nullptr).state == Freshness::kMiss);
    model_.erase(key);
  }

  // Shared tail of the invalidations: `removed` was reported, `gone` keys must be missing.
  template <typename MustBeGone>
  void CheckInvalidation(uint64_t entries_before, uint64_t removed, MustBeGone must_be_gone) {
    const uint64_t entries_after = cache_->Entries();
    FUZZ_CHECK(entries_after <= entries_before);
    FUZZ_CHECK(removed <= entries_before - entries_after, "(reported %llu, entries %llu -> %llu)",
               (unsigned long long)removed, (unsigned long long)entries_before,
               (unsigned long long)entries_after);
    for (auto it = model_.begin(); it != model_.end();) {
      if (must_be_gone(it->first, it->second)) {
        FUZZ_CHECK(cache_->Peek(it->first, nullptr).state == Freshness::kMiss, "(\"%s\" survived)",
                   Printable(it->first).c_str());
        it = model_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void DoInvalidateTag() {
    const std::string tag = ConsumeTag(fdp_);
    g_context = "InvalidateTag(\"" + Printable(tag) + "\")";
    const uint64_t entries = cache_->Entries();
    const uint64_t removed = cache_->InvalidateTag(tag);
    CheckInvalidation(entries, removed, [&](const std::string&, const ModelEntry& entry) {
      for (const std::string& t : entry.tags) {
        if (t == tag) return true;
      }
      return false;
    });
  }

  void DoInvalidatePrefix() {
    static const char* const kPrefixes[] = {
        "a:", "b:", "feed:", "price:", "price:latest:", "x/", "fe", "", "a:A"};
    std::string prefix = fdp_.ConsumeIntegralInRange<int>(0, 5) == 0
                             ? fdp_.ConsumeRandomLengthString(6)
                             : kPrefixes[fdp_.ConsumeIntegralInRange<size_t>(0, 8)];
    g_context = "InvalidatePrefix(\"" + Printable(prefix) + "\")";
    const uint64_t entries = cache_->Entries();
    const uint64_t removed = cache_->InvalidatePrefix(prefix);
    // A prefix ending in a separator names whole namespaces: every key under it goes. Other
    // prefixes are checked only for consistency of counts.
    const char separator = cache_->options().namespace_separator;
    const bool namespace_prefix =
        separator != '\0' && !prefix.empty() && prefix.back() == separator;
    CheckInvalidation(entries, removed, [&](const std::string& key, const ModelEntry&) {
      return namespace_prefix && key.compare(0, prefix.size(), prefix) == 0;
    });
  }

  void DoInvalidatePattern() {
    static const char kPatternBytes[] = {'a', 'b', ':', '*', '?', '\\', 'A', 'B', 'f', '/'};
    std::string pattern;
    if (fdp_.ConsumeIntegralInRange<int>(0, 3) == 0) {
      static const char* const kPatterns[] = {"*:A",   "feed:*", "*",   "price:latest:*",
                                              "a:\\*", "?:?",    "*\\", "x/*"};
      pattern = fdp_.PickValueInArray(kPatterns);
    } else {
      const int length = fdp_.ConsumeIntegralInRange<int>(0, 8);
      for (int i = 0; i < length; ++i) pattern += fdp_.PickValueInArray(kPatternBytes);
    }
    g_context = "InvalidatePattern(\"" + Printable(pattern) + "\")";
    for (const std::string& key : keys_) CheckGlobAgrees(pattern, key);
    const uint64_t entries = cache_->Entries();
    const uint64_t bytes = cache_->Bytes();
    const auto removed = cache_->InvalidatePattern(pattern);
    if (HasDanglingEscape(pattern)) {
      FUZZ_CHECK(!removed.ok(), "(a dangling escape was accepted)");
      CheckErrorStatus(removed.status());
      FUZZ_CHECK(removed.status().code() == ErrorCode::kInvalidPattern, "(code %s)",
                 tickcache::ErrorCodeName(removed.status().code()));
      FUZZ_CHECK(cache_->Entries() == entries && cache_->Bytes() == bytes);
      return;
    }
    FUZZ_CHECK(removed.ok(), "(%s)", removed.status().ToString().c_str());
    CheckInvalidation(entries, removed.value(), [&](const std::string& key, const ModelEntry&) {
      return ReferenceGlob(pattern, key);
    });
  }

  void DoClear() {
    g_context = "Clear";
    const uint64_t entries = cache_->Entries();
    const uint64_t removed = cache_->Clear();
    FUZZ_CHECK(removed == entries, "(removed %llu of %llu)", (unsigned long long)removed,
               (unsigned long long)entries);
    FUZZ_CHECK(cache_->Entries() == 0 && cache_->Bytes() == 0);
    model_.clear();
  }

  void DoAdvance() {
    static constexpr int64_t kSteps[] = {1, 10, 999, 1000, 1001, 60'000, 3'600'000};
    int64_t step = fdp_.ConsumeIntegralInRange<int>(0, 9) == 0
                       ? fdp_.ConsumeIntegralInRange<int64_t>(0, kMaxTtlMs)
                       : fdp_.PickValueInArray(kSteps) * fdp_.ConsumeIntegralInRange<int64_t>(1, 5);
    step = std::min(step, kClockCeilingMs - clock_->NowMs());
    g_context = "Advance(" + std::to_string(step) + ")";
    clock_->Advance(step);
    if (fdp_.ConsumeBool()) {
      for (const std::string& key : keys_) CheckKey(key);
    }
  }

  void DoClockBack() {
    const int64_t step = fdp_.ConsumeIntegralInRange<int64_t>(1, 100'000);
    g_context = "clock back " + std::to_string(step);
    clock_->Set(clock_->NowMs() - step);
    clock_went_back_ = true;
  }

  void DoMaintenance() {
    g_context = "RunMaintenance";
    const uint64_t entries = cache_->Entries();
    const uint64_t removed = cache_->RunMaintenance();
    FUZZ_CHECK(removed <= entries - cache_->Entries(), "(reported %llu, entries %llu -> %llu)",
               (unsigned long long)removed, (unsigned long long)entries,
               (unsigned long long)cache_->Entries());
  }

  void DoSnapshot() {
    g_context = "SaveSnapshotBytes -> second cache";
    const std::string bytes = cache_->SaveSnapshotBytes();
    if (fdp_.ConsumeBool()) second_->Clear();
    const uint64_t entries = second_->Entries();
    const uint64_t second_bytes = second_->Bytes();
    const auto loaded = second_->LoadSnapshotBytes(bytes);
    if (!loaded.ok()) {
      CheckErrorStatus(loaded.status());
      // Every entry fits a cache bounded by entries only, so only a byte-bounded one may refuse.
      FUZZ_CHECK(second_->options().max_bytes > 0, "(a fresh snapshot was refused: %s)",
                 loaded.status().ToString().c_str());
      FUZZ_CHECK(second_->Entries() == entries && second_->Bytes() == second_bytes,
                 "(a refused load changed the cache)");
      return;
    }
    CheckBounds(*second_, "second cache");
    // What both hold must agree: same value, same freshness (times are absolute). A cache
    // bounded in bytes may skip a snapshot entry too large for its shard and keep an older
    // value of that key, so only an entries-bounded one is held to this.
    if (second_->options().max_bytes > 0) return;
    for (const std::string& key : keys_) {
      std::string first_value;
      std::string second_value;
      const Lookup first = cache_->Peek(key, &first_value);
      const Lookup second = second_->Peek(key, &second_value);
      if (first.state == Freshness::kMiss || second.state == Freshness::kMiss) continue;
      FUZZ_CHECK(first_value == second_value, "(\"%s\" after load)", Printable(key).c_str());
      if (!clock_went_back_) {
        FUZZ_CHECK(first.state == second.state, "(\"%s\": %s, loaded copy %s)",
                   Printable(key).c_str(), StateName(first.state), StateName(second.state));
      }
    }
  }

  void Step(int op_number) {
    const uint8_t op = fdp_.ConsumeIntegral<uint8_t>();
    if (op < 60) {
      DoSet(op_number);
    } else if (op < 90) {
      DoGet();
    } else if (op < 105) {
      const std::string key = ConsumeKey();
      g_context = "Peek(\"" + Printable(key) + "\")";
      CheckKey(key);
    } else if (op < 130) {
      DoDelete();
    } else if (op < 145) {
      DoGetMany();
    } else if (op < 160) {
      DoSetMany(op_number);
    } else if (op < 175) {
      DoInvalidateTag();
    } else if (op < 190) {
      DoInvalidatePrefix();
    } else if (op < 205) {
      DoInvalidatePattern();
    } else if (op < 230) {
      DoAdvance();
    } else if (op < 240) {
      DoMaintenance();
    } else if (op < 248) {
      DoSnapshot();
    } else if (op < 252) {
      g_context = "stats";
      CheckStats(*cache_);
    } else if (op < 254) {
      DoClear();
    } else {
      DoClockBack();
    }
  }

  FuzzedDataProvider& fdp_;
  const PolicyKind policy_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<Cache> second_;
  std::map<std::string, ModelEntry> model_;
  std::set<std::string> keys_;  // every key ever set successfully
  bool clock_went_back_ = false;
};

// ---- modes: snapshot bytes -----------------------------------------------------------

struct Remembered {
  std::string key;
  Lookup lookup;
  std::string value;
};

// A cache with room to spare (LRU, one shard) holding a few entries of every kind.
std::unique_ptr<Cache> MakeLoadTarget(const std::shared_ptr<ManualClock>& clock) {
  Options options;
  options.policy = PolicyKind::kLru;
  options.clock = clock;
  options.max_entries = 64;
  options.max_bytes = 64 * 1024;
  options.shards = 1;
  auto created = Cache::Create(options);
  FUZZ_CHECK(created.ok(), "(%s)", created.status().ToString().c_str());
  std::unique_ptr<Cache> cache = std::move(created).value();
  SetOptions forever;
  SetOptions graced;
  graced.ttl_ms = 1000;
  graced.grace_ms = 60'000;
  graced.tags = {"t0", "symbol:AAPL"};
  FUZZ_CHECK(cache->Set("keep:a", "alpha", forever).ok());
  FUZZ_CHECK(cache->Set("keep:b", std::string(300, 'b'), graced).ok());
  FUZZ_CHECK(cache->Set("price:latest:AAPL", "187.2", graced).ok());
  clock->Advance(1500);  // keep:b and the price are now stale, within grace
  FUZZ_CHECK(cache->Set("keep:c", "", forever).ok());
  return cache;
}

std::vector<Remembered> Remember(const Cache& cache) {
  std::vector<Remembered> out;
  for (const char* key : {"keep:a", "keep:b", "price:latest:AAPL", "keep:c"}) {
    Remembered r{key, {}, {}};
    r.lookup = cache.Peek(key, &r.value);
    FUZZ_CHECK(r.lookup.state != Freshness::kMiss, "(%s)", key);
    out.push_back(std::move(r));
  }
  return out;
}

// A refused load must leave the target exactly as it was.
void CheckUnchanged(const Cache& cache, const std::vector<Remembered>& before, uint64_t entries,
                    uint64_t bytes) {
  FUZZ_CHECK(cache.Entries() == entries && cache.Bytes() == bytes,
             "(entries %llu -> %llu, bytes %llu -> %llu)", (unsigned long long)entries,
             (unsigned long long)cache.Entries(), (unsigned long long)bytes,
             (unsigned long long)cache.Bytes());
  for (const Remembered& r : before) {
    std::string value;
    const Lookup now = cache.Peek(r.key, &value);
    FUZZ_CHECK(now.state == r.lookup.state && value == r.value, "(\"%s\" changed)", r.key.c_str());
    FUZZ_CHECK(now.stale_remaining_ms == r.lookup.stale_remaining_ms);
  }
}

// Whatever a cache accepted, it can save, and that snapshot loads again.
void CheckResaves(const Cache& cache, const std::shared_ptr<ManualClock>& clock) {
  const std::string bytes = cache.SaveSnapshotBytes();
  Options options;
  options.clock = clock;
  options.max_entries = 1000;
  auto created = Cache::Create(options);
  FUZZ_CHECK(created.ok());
  const auto reloaded = created.value()->LoadSnapshotBytes(bytes);
  FUZZ_CHECK(reloaded.ok(), "(a saved snapshot was refused: %s)",
             reloaded.status().ToString().c_str());
}

void LoadAndCheck(std::string_view snapshot, bool must_refuse, bool must_accept) {
  auto clock = std::make_shared<ManualClock>();
  std::unique_ptr<Cache> target = MakeLoadTarget(clock);
  const std::vector<Remembered> before = Remember(*target);
  const uint64_t entries = target->Entries();
  const uint64_t bytes = target->Bytes();
  g_context = "LoadSnapshotBytes(" + std::to_string(snapshot.size()) + " bytes)";
  const auto loaded = target->LoadSnapshotBytes(snapshot);
  if (!loaded.ok()) {
    CheckErrorStatus(loaded.status());
    FUZZ_CHECK(!must_accept, "(a valid snapshot was refused: %s)",
               loaded.status().ToString().c_str());
    CheckUnchanged(*target, before, entries, bytes);
    return;
  }
  FUZZ_CHECK(!must_refuse, "(a truncated or altered snapshot was accepted: %llu entries)",
             (unsigned long long)loaded.value());
  CheckBounds(*target, "load target");
  CheckStats(*target);
  CheckResaves(*target, clock);
}

uint64_t Xxh3(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

void AppendU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Raw bytes; or the bytes with a valid checksum appended; or behind a valid magic and version
// too. The framed forms reach the entry parser instead of stopping at the checksum.
void RunSnapshotBytes(FuzzedDataProvider& fdp) {
  const uint8_t framing = fdp.ConsumeIntegral<uint8_t>() % 3;
  std::string bytes = fdp.ConsumeRemainingBytesAsString();
  if (framing == 2) {
    static constexpr char kHeader[] = {'T', 'K', 'C', 'S', 'N', 'A', 'P', '\x01', 1, 0, 0, 0};
    bytes.insert(0, kHeader, sizeof kHeader);
  }
  if (framing >= 1) AppendU64(&bytes, Xxh3(bytes));
  LoadAndCheck(bytes, /*must_refuse=*/false, /*must_accept=*/false);
}

// A real snapshot of entries the input chooses, then damaged as the input says. Damage that
// is not covered up by a recomputed checksum must be refused; an intact one must load and
// bring back every entry.
void RunMutatedSnapshot(FuzzedDataProvider& fdp, PolicyKind policy) {
  auto clock = std::make_shared<ManualClock>();
  Options options;
  options.policy = policy;
  options.clock = clock;
  options.max_entries = 16;
  options.max_bytes = 4096;
  options.shards = 1;
  auto created = Cache::Create(options);
  FUZZ_CHECK(created.ok(), "(%s)", created.status().ToString().c_str());
  std::unique_ptr<Cache> source = std::move(created).value();
  const int count = fdp.ConsumeIntegralInRange<int>(0, 12);
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) {
    std::string key = fdp.ConsumeRandomLengthString(10);
    if (key.empty()) key = "k";
    SetOptions set;
    if (fdp.ConsumeBool()) set.ttl_ms = fdp.ConsumeIntegralInRange<int64_t>(1, 10'000);
    if (fdp.ConsumeBool()) set.grace_ms = fdp.ConsumeIntegralInRange<int64_t>(0, 10'000);
    if (fdp.ConsumeBool()) set.tags.push_back(ConsumeTag(fdp));
    std::string value = fdp.ConsumeRandomLengthString(64);
    if (source->Set(key, value, set).ok()) keys.push_back(key);
    if (fdp.ConsumeBool()) clock->Advance(fdp.ConsumeIntegralInRange<int64_t>(0, 3000));
  }
  const std::string original = source->SaveSnapshotBytes();
  std::string bytes = original;
  bool recompute_checksum = false;
  const int mutations = fdp.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < mutations && !bytes.empty(); ++i) {
    const size_t at = fdp.ConsumeIntegralInRange<size_t>(0, bytes.size() - 1);
    switch (fdp.ConsumeIntegralInRange<int>(0, 4)) {
      case 0:
        bytes.resize(at);
        break;
      case 1:
        bytes[at] = static_cast<char>(bytes[at] ^ fdp.ConsumeIntegralInRange<int>(1, 255));
        break;
      case 2:
        bytes.insert(at, 1, static_cast<char>(fdp.ConsumeIntegral<uint8_t>()));
        break;
      case 3:
        bytes.erase(at, fdp.ConsumeIntegralInRange<size_t>(1, 16));
        break;
      default:
        bytes += fdp.ConsumeRandomLengthString(16);
        recompute_checksum = fdp.ConsumeBool();
    }
  }
  if (fdp.ConsumeBool()) recompute_checksum = true;
  if (recompute_checksum && bytes.size() >= 8 && bytes != original) {
    bytes.resize(bytes.size() - 8);
    AppendU64(&bytes, Xxh3(bytes));
  }
  const bool intact = bytes == original;
  LoadAndCheck(bytes, /*must_refuse=*/!intact && !recompute_checksum, /*must_accept=*/intact);
  if (!intact) return;

  // The intact snapshot, loaded into a roomy LRU cache on the same clock, brings every live
  // entry back with its value and freshness.
  auto target_clock = clock;
  Options roomy;
  roomy.policy = PolicyKind::kLru;
  roomy.clock = target_clock;
  roomy.max_entries = 64;
  roomy.max_bytes = 64 * 1024;
  roomy.shards = 1;
  auto target = Cache::Create(roomy);
  FUZZ_CHECK(target.ok());
  g_context = "round trip of an intact snapshot";
  const auto loaded = target.value()->LoadSnapshotBytes(bytes);
  FUZZ_CHECK(loaded.ok(), "(%s)", loaded.status().ToString().c_str());
  for (const std::string& key : keys) {
    std::string was;
    std::string now;
    const Lookup before = source->Peek(key, &was);
    const Lookup after = target.value()->Peek(key, &now);
    FUZZ_CHECK(before.state == after.state, "(\"%s\": %s, restored %s)", Printable(key).c_str(),
               StateName(before.state), StateName(after.state));
    FUZZ_CHECK(was == now, "(\"%s\" restored with another value)", Printable(key).c_str());
    FUZZ_CHECK(before.fresh_remaining_ms == after.fresh_remaining_ms);
    FUZZ_CHECK(before.stale_remaining_ms == after.stale_remaining_ms);
  }
}

// ---- modes: configuration and globs ----------------------------------------------------

void RunConfig(FuzzedDataProvider& fdp) {
  const std::string duration = fdp.ConsumeRandomLengthString(16);
  g_context = "ParseDuration(\"" + Printable(duration) + "\")";
  const auto parsed_duration = tickcache::ParseDuration(duration);
  if (parsed_duration.ok()) {
    FUZZ_CHECK(parsed_duration.value() >= 0, "(%lld)", (long long)parsed_duration.value());
  } else {
    CheckErrorStatus(parsed_duration.status());
  }

  const std::string text = fdp.ConsumeRemainingBytesAsString();
  g_context = "ParsePolicyConfig(" + std::to_string(text.size()) + " bytes)";
  auto parsed = tickcache::ParsePolicyConfig(text);
  if (!parsed.ok()) {
    CheckErrorStatus(parsed.status());
    FUZZ_CHECK(parsed.status().code() == ErrorCode::kBadConfig, "(code %s)",
               tickcache::ErrorCodeName(parsed.status().code()));
    return;
  }
  const auto config = std::make_shared<const tickcache::PolicyConfig>(std::move(parsed).value());
  for (const tickcache::TtlRule& rule : config->rules) {
    FUZZ_CHECK(!DurationIsInvalid(rule.ttl_ms) && !DurationIsInvalid(rule.grace_ms),
               "(rule \"%s\" kept an out-of-range duration)", Printable(rule.pattern).c_str());
  }
  FUZZ_CHECK(!DurationIsInvalid(config->default_ttl_ms));
  FUZZ_CHECK(!DurationIsInvalid(config->default_grace_ms));

  // Keys the rules are about: each pattern with its wildcards filled in, plus fixed ones.
  std::vector<std::string> keys = {"price:latest:AAPL", "fundamentals:MSFT", "x", "a:b:c"};
  for (const tickcache::TtlRule& rule : config->rules) {
    std::string key;
    for (const GlobToken& token : TokenizeGlob(rule.pattern)) {
      key += token.kind == GlobToken::kLiteral ? std::string(1, token.byte) : std::string("Z");
    }
    keys.push_back(key);
    if (keys.size() > 24) break;
  }

  Options options;
  options.policy = PolicyKind::kLru;
  options.max_entries = 64;
  options.clock = std::make_shared<ManualClock>();
  options.config = config;
  auto created = Cache::Create(options);
  if (!created.ok()) {
    CheckErrorStatus(created.status());
    return;
  }
  std::unique_ptr<Cache> cache = std::move(created).value();
  for (const std::string& key : keys) {
    std::vector<std::string> tags;
    const tickcache::TtlRule* rule = config->Match(key, &tags);
    if (rule != nullptr) {
      FUZZ_CHECK(ReferenceGlob(rule->pattern, key), "(rule \"%s\" matched \"%s\")",
                 Printable(rule->pattern).c_str(), Printable(key).c_str());
    }
    const Status status = cache->Set(key, "v");
    if (!status.ok()) {
      CheckErrorStatus(status);
      continue;
    }
    CheckBounds(*cache, "configured cache");
  }
  for (const std::string& tag : {"prices", "symbol:AAPL"}) (void)cache->InvalidateTag(tag);
  CheckBounds(*cache, "configured cache");
  CheckStats(*cache);
}

void RunGlob(FuzzedDataProvider& fdp) {
  const std::string pattern = fdp.ConsumeRandomLengthString(64);
  const std::string text = fdp.ConsumeRandomLengthString(256);
  g_context = "GlobMatch";
  CheckGlobAgrees(pattern, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  FuzzedDataProvider fdp(data + 1, size - 1);
  const PolicyKind policy = PolicyFromByte(static_cast<uint8_t>(selector / 6));
  switch (selector % 6) {
    case 0:
    case 1: {
      OpsHarness harness(fdp, policy);
      harness.Run();
      break;
    }
    case 2:
      RunSnapshotBytes(fdp);
      break;
    case 3:
      RunMutatedSnapshot(fdp, policy);
      break;
    case 4:
      RunConfig(fdp);
      break;
    default:
      RunGlob(fdp);
  }
  return 0;
}
