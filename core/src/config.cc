// config.cc: the policy configuration file (ParsePolicyConfig) with its market calendars,
// durations (ParseDuration), rule lookup (PolicyConfig::Match) and market-hours TTLs (TtlAt).
//
// Invariants:
//   - No exception is thrown or needed: the wasm build may compile without them, so the JSON is
//     parsed with allow_exceptions = false and every value's type is checked before it is read.
//   - Parsing is all or nothing and strict: unknown or duplicate fields, wrong types and values
//     out of range are refused with kBadConfig and a message "<json path>: <problem>, got <value>".
//   - A PolicyConfig returned by ParsePolicyConfig holds only valid globs, TTLs in
//     (0, kMaxTtlMs] or kNoExpiry, graces in [0, kMaxTtlMs], and tag templates whose `{N}` all
//     name an existing capture, so Match never has to report an error; every market-hours
//     rule holds a calendar MarketCalendar::Create accepted and finite TTLs, so TtlAt cannot
//     fail either.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "glob.h"
#include "tickcache/cache.h"
#include "tickcache/config.h"
#include "tickcache/market_hours.h"
#include "tickcache/options_json.h"
#include "tickcache/store.h"

namespace tickcache {
namespace {

using nlohmann::json;

constexpr std::string_view kDurationHelp = "(use ms or 250ms/30s/5m/6h/1d/1w)";
constexpr size_t kShownBytes = 80;  // longer values are cut in messages: they are for people

struct DurationUnit {
  std::string_view suffix;
  int64_t ms;
};
constexpr DurationUnit kDurationUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}, {"w", 604'800'000},
};

// Dumps never throw on odd bytes: the replace handler is used because a message must not be
// the thing that fails.
std::string DumpSafely(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// `text` as a JSON string literal, cut to kShownBytes.
std::string Quote(std::string_view text) {
  std::string shown(text.substr(0, kShownBytes));
  std::string quoted = DumpSafely(json(shown));
  if (text.size() > kShownBytes) quoted += "...";
  return quoted;
}

// A compact rendering of a JSON value for a message. Containers are shown only a few levels
// deep, because dump() recurses and a hostile document can nest a hundred thousand levels.
void AppendShown(const json& value, int depth_left, std::string* out) {
  if (out->size() > kShownBytes) return;
  if (value.is_object()) {
    if (depth_left == 0 || value.empty()) {
      *out += value.empty() ? "{}" : "{...}";
      return;
    }
    *out += '{';
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!first) *out += ',';
      first = false;
      if (out->size() > kShownBytes) {
        *out += "...";
        break;
      }
      *out += Quote(it.key());
      *out += ':';
      AppendShown(it.value(), depth_left - 1, out);
    }
    *out += '}';
  } else if (value.is_array()) {
    if (depth_left == 0 || value.empty()) {
      *out += value.empty() ? "[]" : "[...]";
      return;
    }
    *out += '[';
    bool first = true;
    for (const json& item : value) {
      if (!first) *out += ',';
      first = false;
      if (out->size() > kShownBytes) {
        *out += "...";
        break;
      }
      AppendShown(item, depth_left - 1, out);
    }
    *out += ']';
  } else if (value.is_string()) {
    *out += Quote(value.get_ref<const std::string&>());
  } else {
    *out += DumpSafely(value);
  }
}

std::string Shown(const json& value) {
  std::string out;
  AppendShown(value, 3, &out);
  return out;
}

Status BadConfig(const std::string& path, const std::string& problem) {
  return Status(ErrorCode::kBadConfig, path.empty() ? problem : path + ": " + problem);
}

std::string FieldPath(const std::string& parent, std::string_view field) {
  return parent.empty() ? std::string(field) : parent + "." + std::string(field);
}

// ---- syntax errors and duplicate fields ---------------------------------------------------

// Records nlohmann's description of the first syntax error. Used only after the DOM parse has
// failed, to tell the user where: the DOM parser without exceptions just says "discarded".
class SyntaxErrorRecorder final : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& error) override {
    message_ = error.what();
    // "[json.exception.parse_error.101] parse error at line 1, ..." -> "parse error at ..."
    const size_t tag_end = message_.find("] ");
    if (message_.rfind("[json.exception.", 0) == 0 && tag_end != std::string::npos) {
      message_.erase(0, tag_end + 2);
    }
    return false;
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

// nlohmann keeps the last of two equal keys without a word; a config where "ttl" appears twice
// is almost certainly a mistake, so the parse callback tracks the path and finds duplicates.
class DuplicateFieldFinder {
 public:
  void OnEvent(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        CountArrayElement();
        frames_.push_back(Frame{event == json::parse_event_t::array_start, 0, {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key:
        if (!frames_.empty() && parsed.is_string()) {
          Frame& frame = frames_.back();
          frame.key = parsed.get_ref<const std::string&>();
          if (!frame.seen_keys.insert(frame.key).second && problem_.ok()) {
            const std::string path = PathOfTop();
            problem_ = BadConfig(path, std::string(path.empty() ? "duplicate top-level field "
                                                                : "duplicate field ") +
                                           Quote(frame.key));
          }
        }
        break;
      case json::parse_event_t::value:
        CountArrayElement();
        break;
    }
  }
  const Status& problem() const { return problem_; }

 private:
  struct Frame {
    bool is_array;
    size_t elements;  // in an array: how many elements have started
    std::string key;  // in an object: the key being read
    std::set<std::string> seen_keys;
  };

  void CountArrayElement() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().elements;
  }

  // The path of the innermost open container, as in every other message ("rules[0]").
  std::string PathOfTop() const {
    std::string path;
    for (size_t i = 0; i + 1 < frames_.size(); ++i) {
      if (frames_[i].is_array) {
        path += "[" + std::to_string(frames_[i].elements - 1) + "]";
      } else {
        path = FieldPath(path, frames_[i].key);
      }
    }
    return path;
  }

  std::vector<Frame> frames_;
  Status problem_;
};

// ---- fields ---------------------------------------------------------------------------

Status CheckKnownFields(const json& object, const std::string& path,
                        std::initializer_list<std::string_view> allowed) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    for (std::string_view name : allowed) known = known || it.key() == name;
    if (known) continue;
    std::string list;
    for (std::string_view name : allowed) {
      if (!list.empty()) list += ", ";
      list += name;
    }
    return BadConfig(path,
                     std::string(path.empty() ? "unknown top-level field " : "unknown field ") +
                         Quote(it.key()) + " (allowed: " + list + ")");
  }
  return Status::Ok();
}

const json* FindField(const json& object, std::string_view name) {
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

enum class DurationKind { kTtl, kGrace };

// A TTL or grace: milliseconds as a JSON number, a duration string, or (TTL only) "never".
Result<int64_t> ParseDurationField(const json& value, const std::string& path, DurationKind kind) {
  const bool is_ttl = kind == DurationKind::kTtl;
  const std::string lower_bound = is_ttl ? "must be > 0, got " : "must be >= 0, got ";
  int64_t ms = 0;
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text == "never") {
      if (is_ttl) return kNoExpiry;
      return BadConfig(path, "must be a finite duration of at most " + std::to_string(kMaxTtlMs) +
                                 " ms, got \"never\"");
    }
    Result<int64_t> parsed = ParseDuration(text);
    if (!parsed.ok()) return BadConfig(path, parsed.status().message());
    ms = parsed.value();
  } else if (value.is_number_unsigned()) {
    const uint64_t number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(kMaxTtlMs)) {
      return BadConfig(path, "must be <= " + std::to_string(kMaxTtlMs) +
                                 " ms (about 68 years), got " + Shown(value));
    }
    ms = static_cast<int64_t>(number);
  } else if (value.is_number_integer()) {
    const int64_t number = value.get<int64_t>();
    if (number < 0) return BadConfig(path, lower_bound + Shown(value));
    if (number > kMaxTtlMs) {
      return BadConfig(path, "must be <= " + std::to_string(kMaxTtlMs) +
                                 " ms (about 68 years), got " + Shown(value));
    }
    ms = number;
  } else if (value.is_number_float()) {
    // 1e3 is a float to JSON but a whole number of milliseconds to a person: accept it.
    const double number = value.get<double>();
    if (!std::isfinite(number)) return BadConfig(path, "must be finite, got " + Shown(value));
    if (number < 0) return BadConfig(path, lower_bound + Shown(value));
    if (number != std::floor(number)) {
      return BadConfig(path, "must be a whole number of milliseconds, got " + Shown(value));
    }
    if (number > static_cast<double>(kMaxTtlMs)) {
      return BadConfig(path, "must be <= " + std::to_string(kMaxTtlMs) +
                                 " ms (about 68 years), got " + Shown(value));
    }
    ms = static_cast<int64_t>(number);
  } else {
    return BadConfig(path, std::string("must be milliseconds (a number) or a duration string "
                                       "like \"30s\"") +
                               (is_ttl ? " or \"never\"" : "") + ", got " + Shown(value));
  }
  if (is_ttl && ms == 0) return BadConfig(path, lower_bound + Shown(value));
  return ms;
}

// ---- tag templates ------------------------------------------------------------------------

// Walks a tag template: literal runs go to on_literal, `{N}` to on_capture(N) (1-based), `{{` is
// a literal `{`. Returns the byte offset of a malformed `{`, or npos when the template is fine.
// A lone `}` is an ordinary byte.
template <typename OnLiteral, typename OnCapture>
size_t WalkTemplate(std::string_view tmpl, OnLiteral on_literal, OnCapture on_capture) {
  constexpr size_t kMaxIndexDigits = 6;  // far beyond any pattern's star count, no overflow
  size_t literal_start = 0;
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] != '{') {
      ++i;
      continue;
    }
    on_literal(tmpl.substr(literal_start, i - literal_start));
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      on_literal(std::string_view("{"));
      i += 2;
      literal_start = i;
      continue;
    }
    size_t j = i + 1;
    size_t index = 0;
    while (j < tmpl.size() && j - i - 1 < kMaxIndexDigits &&
           std::isdigit(static_cast<unsigned char>(tmpl[j]))) {
      index = index * 10 + static_cast<size_t>(tmpl[j] - '0');
      ++j;
    }
    if (j == i + 1 || j >= tmpl.size() || tmpl[j] != '}') return i;
    on_capture(index);
    i = j + 1;
    literal_start = i;
  }
  on_literal(tmpl.substr(literal_start));
  return std::string_view::npos;
}

Status CheckTagTemplate(const std::string& tmpl, const std::string& path, size_t star_count,
                        const std::string& pattern) {
  if (tmpl.empty()) return BadConfig(path, "a tag must not be empty");
  size_t bad_index = 0;
  const size_t bad_brace = WalkTemplate(
      tmpl, [](std::string_view) {},
      [&](size_t index) {
        if ((index == 0 || index > star_count) && bad_index == 0) bad_index = index + 1;
      });
  if (bad_brace != std::string_view::npos) {
    return BadConfig(path, "bad tag template " + Quote(tmpl) + ": the '{' at byte " +
                               std::to_string(bad_brace) +
                               " must start {N} (N = 1, 2, ...) or be doubled as {{");
  }
  if (bad_index != 0) {
    const size_t index = bad_index - 1;
    if (index == 0) {
      return BadConfig(path, "tag template " + Quote(tmpl) + " uses {0}; captures count from {1}");
    }
    return BadConfig(path, "tag template " + Quote(tmpl) + " uses {" + std::to_string(index) +
                               "} but pattern " + Quote(pattern) + " has " +
                               std::to_string(star_count) + " wildcard" +
                               (star_count == 1 ? "" : "s"));
  }
  return Status::Ok();
}

// Templates were validated at parse time; for a PolicyConfig built by hand, a `{N}` without a
// capture is kept as written rather than guessed at.
std::string ExpandTemplate(std::string_view tmpl, const std::vector<std::string_view>& captures) {
  std::string out;
  out.reserve(tmpl.size() + 16);
  const size_t bad = WalkTemplate(
      tmpl, [&](std::string_view literal) { out += literal; },
      [&](size_t index) {
        if (index >= 1 && index <= captures.size()) {
          out += captures[index - 1];
        } else {
          out += "{" + std::to_string(index) + "}";
        }
      });
  if (bad != std::string_view::npos) return std::string(tmpl);
  return out;
}

// ---- calendars ------------------------------------------------------------------------

// The path of a user-chosen key: "calendars.tse", or calendars["a b"] when the key is not a
// plain name, so a message never hides what the key really was.
std::string KeyPath(const std::string& parent, const std::string& key) {
  bool plain = !key.empty();
  for (char c : key) {
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  }
  return plain ? FieldPath(parent, key) : parent + "[" + Quote(key) + "]";
}

constexpr std::string_view kDayNames[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// "mon" -> {mon}; "mon-fri" -> mon to fri; "fri-mon" -> fri, sat, sun, mon; "daily" -> all.
// Bit d is weekday d (0 = Sunday); 0 means the key is not a day.
unsigned DaysOfKey(std::string_view key) {
  if (key == "daily") return 0x7f;
  auto day_index = [](std::string_view name) {
    for (int i = 0; i < 7; ++i) {
      if (kDayNames[i] == name) return i;
    }
    return -1;
  };
  const size_t dash = key.find('-');
  const int first = day_index(key.substr(0, dash));
  const int last = dash == std::string_view::npos ? first : day_index(key.substr(dash + 1));
  if (first < 0 || last < 0) return 0;
  unsigned days = 0;
  for (int day = first;; day = (day + 1) % 7) {
    days |= 1u << day;
    if (day == last) break;
  }
  return days;
}

Status ParseSessions(const json& value, const std::string& path,
                     std::array<std::vector<Session>, 7>* weekly) {
  if (!value.is_object()) {
    return BadConfig(path,
                     "must be an object of days to session lists, like {\"mon-fri\": "
                     "[\"09:30-16:00\"]}, got " +
                         Shown(value));
  }
  *weekly = {};
  std::array<std::string, 7> given_by;  // the key that set each day, for a clash message
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string key_path = KeyPath(path, it.key());
    const unsigned days = DaysOfKey(it.key());
    if (days == 0) {
      return BadConfig(path, "unknown day " + Quote(it.key()) +
                                 " (use mon, tue, wed, thu, fri, sat, sun, a range like "
                                 "\"mon-fri\", or \"daily\")");
    }
    const json& list = it.value();
    if (!list.is_array()) {
      return BadConfig(key_path, "must be an array of \"HH:MM-HH:MM\" strings ([] = closed), got " +
                                     Shown(list));
    }
    if (list.size() > kMaxSessionsPerDay) {
      return BadConfig(key_path, "at most " + std::to_string(kMaxSessionsPerDay) +
                                     " sessions a day, got " + std::to_string(list.size()));
    }
    std::vector<Session> sessions;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string item_path = key_path + "[" + std::to_string(i) + "]";
      if (!list[i].is_string()) {
        return BadConfig(item_path, "must be a string \"HH:MM-HH:MM\", got " + Shown(list[i]));
      }
      Result<Session> session = ParseSession(list[i].get_ref<const std::string&>());
      if (!session.ok()) return BadConfig(item_path, session.status().message());
      sessions.push_back(session.value());
    }
    std::vector<Session> sorted = sessions;
    std::sort(sorted.begin(), sorted.end(),
              [](const Session& a, const Session& b) { return a.open_minute < b.open_minute; });
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (sorted[i].open_minute < sorted[i - 1].close_minute) {
        return BadConfig(key_path, "sessions overlap, got " + Shown(list));
      }
    }
    for (int day = 0; day < 7; ++day) {
      if ((days & (1u << day)) == 0) continue;
      const auto index = static_cast<size_t>(day);
      if (!given_by[index].empty()) {
        return BadConfig(key_path, std::string(kDayNames[day]) + " is already given by " +
                                       Quote(given_by[index]));
      }
      given_by[index] = it.key();
      (*weekly)[index] = sessions;
    }
  }
  return Status::Ok();
}

Result<std::vector<int32_t>> ParseHolidays(const json& value, const std::string& path) {
  if (!value.is_array()) {
    return BadConfig(path, "must be an array of \"YYYY-MM-DD\" dates, got " + Shown(value));
  }
  std::vector<int32_t> days;
  std::set<int32_t> seen;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    if (!value[i].is_string()) {
      return BadConfig(item_path, "must be a date string \"YYYY-MM-DD\", got " + Shown(value[i]));
    }
    Result<int32_t> day = ParseLocalDate(value[i].get_ref<const std::string&>());
    if (!day.ok()) return BadConfig(item_path, day.status().message());
    if (!seen.insert(day.value()).second) {
      return BadConfig(item_path, "listed twice, got " + Shown(value[i]));
    }
    days.push_back(day.value());
  }
  return days;
}

Result<std::vector<std::pair<int32_t, int32_t>>> ParseEarlyCloses(const json& value,
                                                                  const std::string& path) {
  if (!value.is_object()) {
    return BadConfig(path, "must be an object of \"YYYY-MM-DD\": \"HH:MM\", got " + Shown(value));
  }
  std::vector<std::pair<int32_t, int32_t>> closes;
  for (auto it = value.begin(); it != value.end(); ++it) {
    Result<int32_t> day = ParseLocalDate(it.key());
    if (!day.ok()) return BadConfig(path, "a key " + day.status().message());
    const std::string item_path = FieldPath(path, it.key());
    if (!it.value().is_string()) {
      return BadConfig(item_path, "must be a closing time \"HH:MM\", got " + Shown(it.value()));
    }
    Result<int32_t> minute = ParseClockTime(it.value().get_ref<const std::string&>());
    if (!minute.ok()) return BadConfig(item_path, minute.status().message());
    closes.emplace_back(day.value(), minute.value());
  }
  return closes;
}

Result<std::shared_ptr<const MarketCalendar>> ParseCalendar(const json& value,
                                                            const std::string& path) {
  if (!value.is_object()) {
    return BadConfig(path, "a calendar must be an object, got " + Shown(value));
  }
  if (Status s = CheckKnownFields(value, path,
                                  {"base", "timeZone", "sessions", "holidays", "earlyCloses"});
      !s.ok()) {
    return s;
  }
  MarketCalendarSpec spec;
  const json* base = FindField(value, "base");
  if (base != nullptr) {
    const std::string base_path = FieldPath(path, "base");
    if (!base->is_string()) {
      return BadConfig(base_path, "must be the name of a built-in calendar, got " + Shown(*base));
    }
    Result<MarketCalendarSpec> preset =
        MarketCalendar::PresetSpec(base->get_ref<const std::string&>());
    if (!preset.ok()) return BadConfig(base_path, preset.status().message());
    spec = std::move(preset).value();
  }
  if (const json* zone = FindField(value, "timeZone")) {
    const std::string zone_path = FieldPath(path, "timeZone");
    if (!zone->is_string()) {
      return BadConfig(zone_path,
                       "must be a POSIX TZ rule string like \"EST5EDT,M3.2.0,M11.1.0\", "
                       "got " +
                           Shown(*zone));
    }
    Result<TimeZoneRule> rule = TimeZoneRule::Parse(zone->get_ref<const std::string&>());
    if (!rule.ok()) return BadConfig(zone_path, rule.status().message());
    spec.time_zone = zone->get<std::string>();
  } else if (base == nullptr) {
    return BadConfig(path,
                     "needs \"timeZone\" (a POSIX TZ rule like \"EST5EDT,M3.2.0,M11.1.0\") or a "
                     "\"base\" calendar");
  }
  if (const json* sessions = FindField(value, "sessions")) {
    if (Status s = ParseSessions(*sessions, FieldPath(path, "sessions"), &spec.weekly_sessions);
        !s.ok()) {
      return s;
    }
  } else if (base == nullptr) {
    return BadConfig(path, "needs \"sessions\", like {\"mon-fri\": [\"09:30-16:00\"]}");
  }
  if (const json* holidays = FindField(value, "holidays")) {
    Result<std::vector<int32_t>> days = ParseHolidays(*holidays, FieldPath(path, "holidays"));
    if (!days.ok()) return days.status();
    for (int32_t day : days.value()) {
      // A closure you add wins over the base's early close that day.
      spec.early_closes.erase(
          std::remove_if(spec.early_closes.begin(), spec.early_closes.end(),
                         [day](const std::pair<int32_t, int32_t>& e) { return e.first == day; }),
          spec.early_closes.end());
      spec.holidays.push_back(day);
    }
  }
  if (const json* closes = FindField(value, "earlyCloses")) {
    Result<std::vector<std::pair<int32_t, int32_t>>> parsed =
        ParseEarlyCloses(*closes, FieldPath(path, "earlyCloses"));
    if (!parsed.ok()) return parsed.status();
    for (const auto& close : parsed.value()) {
      const int32_t day = close.first;
      spec.early_closes.erase(
          std::remove_if(spec.early_closes.begin(), spec.early_closes.end(),
                         [day](const std::pair<int32_t, int32_t>& e) { return e.first == day; }),
          spec.early_closes.end());
      spec.early_closes.push_back(close);
    }
  }
  Result<MarketCalendar> calendar = MarketCalendar::Create(std::move(spec));
  // Create names the calendar's own field ("earlyCloses.2026-11-27: ..."); put it in place.
  if (!calendar.ok()) return BadConfig("", path + "." + calendar.status().message());
  return std::shared_ptr<const MarketCalendar>(
      std::make_shared<MarketCalendar>(std::move(calendar).value()));
}

// Calendars by name while one document is parsed: those it declares, and the built-ins its
// rules name (each built once).
class CalendarScope {
 public:
  explicit CalendarScope(PolicyConfig* config) : config_(config) {}

  Status Declare(const json& value, const std::string& name, const std::string& path) {
    if (name.empty()) return BadConfig("calendars", "a calendar name must not be empty");
    for (std::string_view builtin : MarketCalendar::PresetNames()) {
      if (name == builtin) {
        return BadConfig(path, "the name " + Quote(name) +
                                   " is a built-in calendar; choose another name (\"base\": " +
                                   Quote(name) + " starts from it)");
      }
    }
    Result<std::shared_ptr<const MarketCalendar>> calendar = ParseCalendar(value, path);
    if (!calendar.ok()) return calendar.status();
    config_->calendars[name] = std::move(calendar).value();
    declared_.push_back(name);
    return Status::Ok();
  }

  Result<std::shared_ptr<const MarketCalendar>> Find(const std::string& name,
                                                     const std::string& path) {
    const auto it = config_->calendars.find(name);
    if (it != config_->calendars.end()) return it->second;
    Result<MarketCalendar> preset = MarketCalendar::Preset(name);
    if (!preset.ok()) {
      std::string message = preset.status().message();
      if (!declared_.empty()) {
        std::string names;
        for (const std::string& declared : declared_) {
          if (!names.empty()) names += ", ";
          names += declared;
        }
        message.insert(message.size() - 1, "; declared: " + names);
      }
      return BadConfig(path, message);
    }
    auto calendar = std::make_shared<MarketCalendar>(std::move(preset).value());
    config_->calendars[name] = calendar;
    return std::shared_ptr<const MarketCalendar>(calendar);
  }

 private:
  PolicyConfig* config_;
  std::vector<std::string> declared_;
};

Result<MarketHoursTtl> ParseMarketHours(const json& value, const std::string& path,
                                        CalendarScope* scope) {
  if (!value.is_object()) {
    return BadConfig(path,
                     "must be an object like {\"calendar\": \"nyse\", \"open\": \"5m\", "
                     "\"closed\": \"untilOpen\"}, got " +
                         Shown(value));
  }
  if (Status s = CheckKnownFields(value, path, {"calendar", "open", "closed"}); !s.ok()) return s;
  MarketHoursTtl ttl;
  const json* calendar = FindField(value, "calendar");
  const std::string calendar_path = FieldPath(path, "calendar");
  if (calendar == nullptr) {
    return BadConfig(path,
                     "needs \"calendar\" (a built-in name like \"nyse\", a name declared "
                     "under \"calendars\", or a calendar object)");
  }
  if (calendar->is_string()) {
    ttl.calendar_name = calendar->get<std::string>();
    Result<std::shared_ptr<const MarketCalendar>> found =
        scope->Find(ttl.calendar_name, calendar_path);
    if (!found.ok()) return found.status();
    ttl.calendar = std::move(found).value();
  } else if (calendar->is_object()) {
    Result<std::shared_ptr<const MarketCalendar>> parsed = ParseCalendar(*calendar, calendar_path);
    if (!parsed.ok()) return parsed.status();
    ttl.calendar = std::move(parsed).value();
  } else {
    return BadConfig(calendar_path,
                     "must be a calendar name or a calendar object, got " + Shown(*calendar));
  }
  const json* open = FindField(value, "open");
  const std::string open_path = FieldPath(path, "open");
  if (open == nullptr) {
    return BadConfig(path, "needs \"open\", the TTL while the market is open (like \"5m\")");
  }
  Result<int64_t> open_ms = ParseDurationField(*open, open_path, DurationKind::kTtl);
  if (!open_ms.ok()) return open_ms.status();
  if (open_ms.value() == kNoExpiry) {
    return BadConfig(open_path, "must be a finite duration, got \"never\"");
  }
  ttl.open_ttl_ms = open_ms.value();
  if (const json* closed = FindField(value, "closed")) {
    const std::string closed_path = FieldPath(path, "closed");
    const bool is_text = closed->is_string();
    const std::string text = is_text ? closed->get<std::string>() : std::string();
    if (text != "untilOpen") {
      const bool looks_like_duration =
          !is_text || (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])));
      Result<int64_t> closed_ms = ParseDurationField(*closed, closed_path, DurationKind::kTtl);
      if (!looks_like_duration || !closed_ms.ok() || closed_ms.value() == kNoExpiry) {
        return BadConfig(closed_path, "must be \"untilOpen\" or a finite duration " +
                                          std::string(kDurationHelp) + ", got " + Shown(*closed) +
                                          (closed_ms.ok() || !looks_like_duration
                                               ? std::string()
                                               : " (" + closed_ms.status().message() + ")"));
      }
      ttl.closed_ttl_ms = closed_ms.value();
    }
  }
  return ttl;
}

// ---- rules ----------------------------------------------------------------------------

// "fundamentals" -> "fundamentals:*", with `\` escaped so the namespace matches as written.
std::string NamespacePattern(std::string_view name) {
  std::string pattern;
  pattern.reserve(name.size() + 2);
  for (char c : name) {
    if (c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += ":*";
  return pattern;
}

Result<TtlRule> ParseRule(const json& value, const std::string& path, CalendarScope* calendars) {
  if (!value.is_object()) return BadConfig(path, "a rule must be an object, got " + Shown(value));
  if (Status s = CheckKnownFields(value, path,
                                  {"match", "namespace", "ttl", "marketHours", "grace", "tags"});
      !s.ok()) {
    return s;
  }
  const json* match = FindField(value, "match");
  const json* name = FindField(value, "namespace");
  if ((match == nullptr) == (name == nullptr)) {
    return BadConfig(path, "needs exactly one of \"match\" or \"namespace\"");
  }
  TtlRule rule;
  if (match != nullptr) {
    const std::string match_path = FieldPath(path, "match");
    if (!match->is_string()) {
      return BadConfig(match_path, "must be a glob pattern string, got " + Shown(*match));
    }
    rule.pattern = match->get<std::string>();
    if (rule.pattern.empty()) {
      return BadConfig(match_path, "must not be empty (keys are at least one byte), got \"\"");
    }
    if (Status s = ValidateGlob(rule.pattern); !s.ok()) return BadConfig(match_path, s.message());
  } else {
    const std::string name_path = FieldPath(path, "namespace");
    if (!name->is_string()) {
      return BadConfig(name_path, "must be a string, got " + Shown(*name));
    }
    const std::string& text = name->get_ref<const std::string&>();
    if (text.empty()) return BadConfig(name_path, "must not be empty, got \"\"");
    if (text.find_first_of("*?") != std::string::npos) {
      return BadConfig(name_path,
                       "must not contain wildcards (use \"match\" for a glob), got " + Quote(text));
    }
    rule.pattern = NamespacePattern(text);
  }
  if (const json* ttl = FindField(value, "ttl")) {
    Result<int64_t> ms = ParseDurationField(*ttl, FieldPath(path, "ttl"), DurationKind::kTtl);
    if (!ms.ok()) return ms.status();
    rule.ttl_ms = ms.value();
  }
  if (const json* market_hours = FindField(value, "marketHours")) {
    if (rule.ttl_ms) {
      return BadConfig(path, "give \"ttl\" or \"marketHours\", not both");
    }
    Result<MarketHoursTtl> ttl =
        ParseMarketHours(*market_hours, FieldPath(path, "marketHours"), calendars);
    if (!ttl.ok()) return ttl.status();
    rule.market_hours = std::move(ttl).value();
  }
  if (const json* grace = FindField(value, "grace")) {
    Result<int64_t> ms = ParseDurationField(*grace, FieldPath(path, "grace"), DurationKind::kGrace);
    if (!ms.ok()) return ms.status();
    rule.grace_ms = ms.value();
  }
  if (const json* tags = FindField(value, "tags")) {
    const std::string tags_path = FieldPath(path, "tags");
    if (!tags->is_array()) {
      return BadConfig(tags_path, "must be an array of strings, got " + Shown(*tags));
    }
    const size_t star_count = GlobStarCount(rule.pattern);
    for (size_t i = 0; i < tags->size(); ++i) {
      const json& tag = (*tags)[i];
      const std::string tag_path = tags_path + "[" + std::to_string(i) + "]";
      if (!tag.is_string()) return BadConfig(tag_path, "must be a string, got " + Shown(tag));
      const std::string& tmpl = tag.get_ref<const std::string&>();
      if (Status s = CheckTagTemplate(tmpl, tag_path, star_count, rule.pattern); !s.ok()) {
        return s;
      }
      rule.tags.push_back(tmpl);
    }
  }
  return rule;
}

Status ParseDefaults(const json& value, PolicyConfig* config) {
  const std::string path = "defaults";
  if (!value.is_object()) return BadConfig(path, "must be an object, got " + Shown(value));
  if (Status s = CheckKnownFields(value, path, {"ttl", "grace"}); !s.ok()) return s;
  if (const json* ttl = FindField(value, "ttl")) {
    Result<int64_t> ms = ParseDurationField(*ttl, "defaults.ttl", DurationKind::kTtl);
    if (!ms.ok()) return ms.status();
    config->default_ttl_ms = ms.value();
  }
  if (const json* grace = FindField(value, "grace")) {
    Result<int64_t> ms = ParseDurationField(*grace, "defaults.grace", DurationKind::kGrace);
    if (!ms.ok()) return ms.status();
    config->default_grace_ms = ms.value();
  }
  return Status::Ok();
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string_view suffix = text.substr(digits);
  int64_t unit_ms = suffix.empty() ? 1 : 0;  // plain digits are milliseconds
  for (const DurationUnit& unit : kDurationUnits) {
    if (suffix == unit.suffix) unit_ms = unit.ms;
  }
  if (digits == 0 || unit_ms == 0) {
    return Status(ErrorCode::kInvalidTtl,
                  "invalid duration " + Quote(text) + " " + std::string(kDurationHelp));
  }
  const Status too_long(ErrorCode::kInvalidTtl,
                        "duration " + Quote(text) + " is beyond the maximum of " +
                            std::to_string(kMaxTtlMs) + " ms (about 68 years)");
  int64_t count = 0;
  for (size_t i = 0; i < digits; ++i) {
    count = count * 10 + (text[i] - '0');
    // Checked per digit so the accumulator itself can never overflow.
    if (count > kMaxTtlMs) return too_long;
  }
  if (count > kMaxTtlMs / unit_ms) return too_long;
  return count * unit_ms;
}

namespace {

// Parses a whole document: a syntax error says where, a duplicate field is refused, and the
// top level must be an object. `what` names the document in messages ("config", "options").
Result<json> ParseDocument(std::string_view json_text, const char* what) {
  DuplicateFieldFinder duplicates;
  json::parser_callback_t on_event = [&duplicates](int, json::parse_event_t event, json& parsed) {
    duplicates.OnEvent(event, parsed);
    return true;
  };
  json document = json::parse(json_text.begin(), json_text.end(), on_event,
                              /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    SyntaxErrorRecorder recorder;
    (void)json::sax_parse(json_text.begin(), json_text.end(), &recorder);
    return BadConfig(
        "", std::string(what) + " is not valid JSON: " +
                (recorder.message().empty() ? std::string("syntax error") : recorder.message()));
  }
  if (!duplicates.problem().ok()) return duplicates.problem();
  if (!document.is_object()) {
    return BadConfig("", std::string(what) + " must be a JSON object, got " + Shown(document));
  }
  return document;
}

Result<PolicyConfig> PolicyConfigFrom(const json& document) {
  if (Status s = CheckKnownFields(document, "", {"version", "defaults", "calendars", "rules"});
      !s.ok()) {
    return s;
  }
  if (const json* version = FindField(document, "version")) {
    if (!version->is_number_integer() || version->get<int64_t>() != 1) {
      return BadConfig("version", "must be 1, got " + Shown(*version));
    }
  }
  PolicyConfig config;
  if (const json* defaults = FindField(document, "defaults")) {
    if (Status s = ParseDefaults(*defaults, &config); !s.ok()) return s;
  }
  CalendarScope calendars(&config);
  if (const json* declared = FindField(document, "calendars")) {
    if (!declared->is_object()) {
      return BadConfig("calendars",
                       "must be an object of calendars by name, got " + Shown(*declared));
    }
    for (auto it = declared->begin(); it != declared->end(); ++it) {
      if (Status s = calendars.Declare(it.value(), it.key(), KeyPath("calendars", it.key()));
          !s.ok()) {
        return s;
      }
    }
  }
  if (const json* rules = FindField(document, "rules")) {
    if (!rules->is_array()) return BadConfig("rules", "must be an array, got " + Shown(*rules));
    config.rules.reserve(rules->size());
    for (size_t i = 0; i < rules->size(); ++i) {
      Result<TtlRule> rule = ParseRule((*rules)[i], "rules[" + std::to_string(i) + "]", &calendars);
      if (!rule.ok()) return rule.status();
      config.rules.push_back(std::move(rule).value());
    }
  }
  return config;
}

// A whole, non-negative number (JavaScript sends every number as a double).
Result<uint64_t> ParseCount(const json& value, const std::string& path, uint64_t max) {
  uint64_t number = 0;
  if (value.is_number_unsigned()) {
    number = value.get<uint64_t>();
  } else if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    number = static_cast<uint64_t>(value.get<int64_t>());
  } else if (value.is_number_float() && std::isfinite(value.get<double>()) &&
             value.get<double>() >= 0 && value.get<double>() == std::floor(value.get<double>()) &&
             value.get<double>() <= 9007199254740992.0) {
    number = static_cast<uint64_t>(value.get<double>());
  } else {
    return BadConfig(path, "must be a whole number >= 0, got " + Shown(value));
  }
  if (number > max) {
    return BadConfig(path, "must be <= " + std::to_string(max) + ", got " + Shown(value));
  }
  return number;
}

}  // namespace

Result<PolicyConfig> ParsePolicyConfig(std::string_view json_text) {
  Result<json> document = ParseDocument(json_text, "config");
  if (!document.ok()) return document.status();
  return PolicyConfigFrom(document.value());
}

namespace {

// "store": {"type": "memory"} (the default) or {"type": "file", "directory": "...",
// "maxFileBytes": N}. Whether the host can have files is the store's to say when the cache is
// created (wasm: kUnsupported), not the parser's.
Status ParseStoreField(const json& store, Options* options) {
  if (!store.is_object()) {
    return BadConfig(
        "store", "must be an object {\"type\": \"memory\" | \"file\", ...}, got " + Shown(store));
  }
  if (Status s = CheckKnownFields(store, "store", {"type", "directory", "maxFileBytes"}); !s.ok()) {
    return s;
  }
  const json* type = FindField(store, "type");
  const std::string kind = type != nullptr && type->is_string() ? type->get<std::string>() : "";
  if (kind == "memory") {
    if (FindField(store, "directory") != nullptr || FindField(store, "maxFileBytes") != nullptr) {
      return BadConfig("store", "a memory store takes no directory or maxFileBytes");
    }
    options->store = MemoryStoreFactory();
    return Status::Ok();
  }
  if (kind != "file") {
    return BadConfig("store.type", "must be \"memory\" or \"file\", got " +
                                       (type == nullptr ? std::string("nothing") : Shown(*type)));
  }
  const json* directory = FindField(store, "directory");
  if (directory == nullptr || !directory->is_string() ||
      directory->get_ref<const std::string&>().empty()) {
    return BadConfig("store.directory",
                     "a file store needs a directory (a non-empty string), got " +
                         (directory == nullptr ? std::string("nothing") : Shown(*directory)));
  }
  uint64_t max_file_bytes = 0;
  if (const json* max = FindField(store, "maxFileBytes")) {
    Result<uint64_t> number = ParseCount(*max, "store.maxFileBytes", UINT64_MAX);
    if (!number.ok()) return number.status();
    max_file_bytes = number.value();
  }
  options->store = FileStoreFactory(directory->get<std::string>(), max_file_bytes);
  return Status::Ok();
}

}  // namespace

Result<Options> ParseOptionsJson(std::string_view json_text) {
  Result<json> parsed = ParseDocument(json_text, "options");
  if (!parsed.ok()) return parsed.status();
  const json& document = parsed.value();
  if (Status s = CheckKnownFields(
          document, "",
          {"maxEntries", "maxBytes", "policy", "defaultTtl", "defaultGrace", "maxKeyBytes",
           "maxValueBytes", "shards", "namespaceSeparator", "hashSeed", "config", "store"});
      !s.ok()) {
    return s;
  }
  Options options;
  if (const json* store = FindField(document, "store")) {
    if (Status s = ParseStoreField(*store, &options); !s.ok()) return s;
  }
  auto count = [&](const char* name, uint64_t max, auto* out) -> Status {
    const json* field = FindField(document, name);
    if (field == nullptr) return Status::Ok();
    Result<uint64_t> number = ParseCount(*field, name, max);
    if (!number.ok()) return number.status();
    *out = static_cast<std::remove_pointer_t<decltype(out)>>(number.value());
    return Status::Ok();
  };
  constexpr uint64_t kAny = std::numeric_limits<uint64_t>::max();
  for (Status s : {count("maxEntries", kAny, &options.max_entries),
                   count("maxBytes", kAny, &options.max_bytes),
                   count("maxKeyBytes", 0xffffffffu, &options.max_key_bytes),
                   count("maxValueBytes", 0xffffffffu, &options.max_value_bytes),
                   count("shards", 0xffffffffu, &options.shards),
                   count("hashSeed", kAny, &options.hash_seed)}) {
    if (!s.ok()) return s;
  }
  if (const json* policy = FindField(document, "policy")) {
    const std::string name = policy->is_string() ? policy->get<std::string>() : std::string();
    if (name == "w-tinylfu" || name == "wtinylfu") {
      options.policy = PolicyKind::kWTinyLfu;
    } else if (name == "lru") {
      options.policy = PolicyKind::kLru;
    } else if (name == "sieve") {
      options.policy = PolicyKind::kSieve;
    } else {
      return BadConfig("policy",
                       "must be \"w-tinylfu\", \"lru\" or \"sieve\", got " + Shown(*policy));
    }
  }
  if (const json* ttl = FindField(document, "defaultTtl")) {
    Result<int64_t> ms = ParseDurationField(*ttl, "defaultTtl", DurationKind::kTtl);
    if (!ms.ok()) return ms.status();
    options.default_ttl_ms = ms.value();
  }
  if (const json* grace = FindField(document, "defaultGrace")) {
    Result<int64_t> ms = ParseDurationField(*grace, "defaultGrace", DurationKind::kGrace);
    if (!ms.ok()) return ms.status();
    options.default_grace_ms = ms.value();
  }
  if (const json* separator = FindField(document, "namespaceSeparator")) {
    if (!separator->is_string() || separator->get_ref<const std::string&>().size() > 1) {
      return BadConfig("namespaceSeparator",
                       "must be a one-byte string, or \"\" to turn the prefix index off, got " +
                           Shown(*separator));
    }
    const std::string& text = separator->get_ref<const std::string&>();
    options.namespace_separator = text.empty() ? '\0' : text[0];
  }
  if (const json* config = FindField(document, "config")) {
    if (!config->is_object()) {
      return BadConfig("config", "must be the policy file's object, got " + Shown(*config));
    }
    Result<PolicyConfig> rules = PolicyConfigFrom(*config);
    if (!rules.ok()) {
      // Paths inside the policy file read "rules[1].ttl"; here they sit under "config".
      const std::string& message = rules.status().message();
      const bool has_path = message.rfind("rules", 0) == 0 || message.rfind("defaults", 0) == 0 ||
                            message.rfind("version", 0) == 0 || message.rfind("calendars", 0) == 0;
      return BadConfig("", (has_path ? "config." : "config: ") + message);
    }
    options.config = std::make_shared<PolicyConfig>(std::move(rules).value());
  }
  return options;
}

int64_t MarketHoursTtl::TtlAt(int64_t now_ms) const {
  if (calendar->IsOpen(now_ms)) return open_ttl_ms;
  const int64_t next_open = calendar->NextOpen(now_ms);  // >= now_ms
  // Written so that no subtraction can overflow, whatever the clock says.
  int64_t until_open = kMaxTtlMs;
  if (next_open != kMarketNever && next_open - kMaxTtlMs < now_ms) until_open = next_open - now_ms;
  const int64_t ttl = std::max(until_open, open_ttl_ms);
  return closed_ttl_ms ? std::min(*closed_ttl_ms, ttl) : ttl;
}

const TtlRule* PolicyConfig::Match(std::string_view key, std::vector<std::string>* tags) const {
  if (tags != nullptr) tags->clear();
  std::vector<std::string_view> captures;
  for (const TtlRule& rule : rules) {
    const bool want_captures = tags != nullptr && !rule.tags.empty();
    std::string_view prefix;
    bool matched = false;
    // Most rules are "ns:*": a starts_with instead of a glob walk.
    if (GlobIsPrefixPattern(rule.pattern, &prefix)) {
      matched = key.substr(0, prefix.size()) == prefix;
      if (matched && want_captures) captures.assign(1, key.substr(prefix.size()));
    } else if (want_captures) {
      matched = GlobCapture(rule.pattern, key, &captures);
    } else {
      matched = GlobMatch(rule.pattern, key);
    }
    if (!matched) continue;
    if (want_captures) {
      tags->reserve(rule.tags.size());
      for (const std::string& tmpl : rule.tags) tags->push_back(ExpandTemplate(tmpl, captures));
    }
    return &rule;
  }
  return nullptr;
}

}  // namespace tickcache
