// market_hours.cc: POSIX TZ rules, exchange calendars and the built-in presets.
//
// Invariants:
//   - Integer arithmetic only, on the description alone (no tz database, no locale, no
//     floating point): the native and wasm builds give the same instants.
//   - A MarketCalendar that Create returned is valid: its zone parsed, each weekday's sessions
//     are sorted, non-overlapping and at most kMaxSessionsPerDay, some weekday has a session,
//     holidays are sorted and unique, and each early close cuts a real trading day short.
//     So the queries never fail and never loop: every scan stops after scan_limit_days_ days,
//     a bound that no valid calendar reaches (each holiday can hide at most one week's
//     sessions, and one week always holds a session).
//   - Local-to-UTC conversion is non-decreasing in local time (first occurrence in an
//     overlap, the change instant in a gap), so a day's intervals come out in time order and
//     the days' intervals follow each other in time order too.
#include "tickcache/market_hours.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tickcache {
namespace {

constexpr int64_t kSecondsPerDay = 86'400;
constexpr int64_t kMsPerSecond = 1'000;
constexpr int32_t kMinutesPerDay = 1'440;
// Queries clamp their input to about +-35,000 years, where no arithmetic below can overflow.
constexpr int64_t kClampMs = int64_t{1} << 50;
constexpr std::string_view kWeekdayNames[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = FloorDiv(year, 400);
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146'097 + day_of_era - 719'468;
}

struct CivilDate {
  int64_t year;
  int32_t month;
  int32_t day;
};

CivilDate CivilFromDays(int64_t days) {
  days += 719'468;
  const int64_t era = FloorDiv(days, 146'097);
  const int64_t day_of_era = days - era * 146'097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const auto day = static_cast<int32_t>(day_of_year - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<int32_t>(mp < 10 ? mp + 3 : mp - 9);
  return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int32_t DaysInMonth(int64_t year, int32_t month) {
  constexpr int32_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// 0 = Sunday; 1970-01-01 was a Thursday.
int32_t Weekday(int64_t day) { return static_cast<int32_t>(FloorMod(day + 4, 7)); }

// `text` in double quotes, bytes outside printable ASCII as \xNN: messages are for people and
// must not carry control bytes into logs.
std::string Quoted(std::string_view text) {
  constexpr size_t kShownBytes = 80;
  constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kShownBytes; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += static_cast<char>(byte);
    }
  }
  out += '"';
  if (text.size() > kShownBytes) out += "...";
  return out;
}

Status Bad(std::string message) { return Status(ErrorCode::kBadConfig, std::move(message)); }

std::string TwoDigits(int32_t value) {
  return std::string(1, static_cast<char>('0' + value / 10)) + static_cast<char>('0' + value % 10);
}

std::string FormatMinute(int32_t minute) {
  return TwoDigits(minute / 60) + ":" + TwoDigits(minute % 60);
}

std::string FormatSession(const Session& session) {
  return FormatMinute(session.open_minute) + "-" + FormatMinute(session.close_minute);
}

// Reads exactly `count` decimal digits at text[*pos].
bool ReadDigits(std::string_view text, size_t* pos, size_t count, int32_t* value) {
  if (*pos + count > text.size()) return false;
  int32_t number = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    number = number * 10 + (c - '0');
  }
  *pos += count;
  *value = number;
  return true;
}

}  // namespace

// ---- dates and clock times ------------------------------------------------------------

Result<int32_t> ParseLocalDate(std::string_view text) {
  const Status bad = Bad("must be a date \"YYYY-MM-DD\" from 1900 to 9999, got " + Quoted(text));
  size_t pos = 0;
  int32_t year = 0;
  int32_t month = 0;
  int32_t day = 0;
  if (text.size() != 10 || !ReadDigits(text, &pos, 4, &year) || text[pos++] != '-' ||
      !ReadDigits(text, &pos, 2, &month) || text[pos++] != '-' ||
      !ReadDigits(text, &pos, 2, &day)) {
    return bad;
  }
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return bad;
  }
  return static_cast<int32_t>(DaysFromCivil(year, month, day));
}

std::string FormatLocalDate(int32_t day) {
  const CivilDate date = CivilFromDays(day);
  std::string year = std::to_string(date.year);
  if (year.size() < 4) year.insert(0, 4 - year.size(), '0');
  return year + "-" + TwoDigits(date.month) + "-" + TwoDigits(date.day);
}

Result<int32_t> ParseClockTime(std::string_view text) {
  size_t pos = 0;
  int32_t hours = 0;
  int32_t minutes = 0;
  if (text.size() != 5 || !ReadDigits(text, &pos, 2, &hours) || text[pos++] != ':' ||
      !ReadDigits(text, &pos, 2, &minutes) || hours > 24 || minutes > 59 ||
      (hours == 24 && minutes != 0)) {
    return Bad("must be a local time \"HH:MM\" from 00:00 to 24:00, got " + Quoted(text));
  }
  return hours * 60 + minutes;
}

Result<Session> ParseSession(std::string_view text) {
  const size_t dash = text.find('-');
  const Status bad =
      Bad("must be a session \"HH:MM-HH:MM\" (local times, opening before closing, 24:00 at "
          "most), got " +
          Quoted(text));
  if (dash == std::string_view::npos) return bad;
  Result<int32_t> open = ParseClockTime(text.substr(0, dash));
  Result<int32_t> close = ParseClockTime(text.substr(dash + 1));
  if (!open.ok() || !close.ok() || open.value() >= close.value()) return bad;
  return Session{open.value(), close.value()};
}

// ---- POSIX TZ rules -------------------------------------------------------------------

class TimeZoneParser {
 public:
  explicit TimeZoneParser(std::string_view text) : text_(text) {}

  Result<TimeZoneRule> Parse() {
    TimeZoneRule zone;
    zone.text_ = std::string(text_);
    if (!ParseName()) {
      return Fail("the standard time name must be 3 or more letters, or <quoted>");
    }
    int32_t west = 0;
    if (!ParseHms(/*max_hours=*/24, &west)) {
      return Fail("expected the standard time's offset west of UTC, [+|-]hh[:mm[:ss]] up to 24h");
    }
    zone.std_offset_ = -west;
    if (AtEnd()) return zone;
    if (!ParseName()) {
      return Fail("expected the end, or a daylight time name of 3 or more letters or <quoted>");
    }
    zone.has_dst_ = true;
    zone.dst_offset_ = zone.std_offset_ + 3600;  // POSIX: one hour ahead unless given
    if (!AtEnd() && text_[pos_] != ',') {
      if (!ParseHms(/*max_hours=*/24, &west)) {
        return Fail("expected the daylight time's offset, [+|-]hh[:mm[:ss]] up to 24h, or ','");
      }
      zone.dst_offset_ = -west;
    }
    if (AtEnd()) {
      return Fail(
          "a zone with daylight time needs its rules, \",start[/time],end[/time]\" (New York: "
          "\"EST5EDT,M3.2.0,M11.1.0\")");
    }
    if (!Consume(',') || !ParseDateRule(&zone.dst_start_)) return Fail(rule_problem_);
    if (!Consume(',')) return Fail("expected ',' and the end of daylight time");
    if (!ParseDateRule(&zone.dst_end_)) return Fail(rule_problem_);
    if (!AtEnd()) return Fail("unexpected text after the end rule");
    zone.changes_.reserve(TimeZoneRule::kLastTabledYear - TimeZoneRule::kFirstTabledYear + 1);
    for (int64_t year = TimeZoneRule::kFirstTabledYear; year <= TimeZoneRule::kLastTabledYear;
         ++year) {
      zone.changes_.push_back(zone.ComputeChanges(year));
    }
    return zone;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  bool Consume(char c) {
    if (AtEnd() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  static bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  Status Fail(const std::string& problem) const {
    return Bad("invalid POSIX TZ rule " + Quoted(text_) + ": " + problem + " (at byte " +
               std::to_string(pos_) + ")");
  }

  // "EST" or "<+09>": at least three characters.
  bool ParseName() {
    const size_t start = pos_;
    if (Consume('<')) {
      while (!AtEnd() && (IsAlpha(text_[pos_]) || IsDigit(text_[pos_]) || text_[pos_] == '+' ||
                          text_[pos_] == '-')) {
        ++pos_;
      }
      if (pos_ - start - 1 < 3 || !Consume('>')) {
        pos_ = start;
        return false;
      }
      return true;
    }
    while (!AtEnd() && IsAlpha(text_[pos_])) ++pos_;
    if (pos_ - start < 3) {
      pos_ = start;
      return false;
    }
    return true;
  }

  // Up to `max_digits` digits (at least one) with a value of at most `max`.
  bool ParseNumber(size_t max_digits, int32_t max, int32_t* value) {
    const size_t start = pos_;
    int32_t number = 0;
    while (!AtEnd() && IsDigit(text_[pos_]) && pos_ - start < max_digits) {
      number = number * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == start || number > max) {
      pos_ = start;
      return false;
    }
    *value = number;
    return true;
  }

  // [+|-]hh[:mm[:ss]] in seconds.
  bool ParseHms(int32_t max_hours, int32_t* seconds) {
    const size_t start = pos_;
    int32_t sign = 1;
    if (Consume('-')) {
      sign = -1;
    } else {
      (void)Consume('+');
    }
    int32_t hours = 0;
    int32_t minutes = 0;
    int32_t secs = 0;
    bool ok = ParseNumber(max_hours > 99 ? 3 : 2, max_hours, &hours);
    if (ok && Consume(':')) {
      ok = ParseNumber(2, 59, &minutes);
      if (ok && Consume(':')) ok = ParseNumber(2, 59, &secs);
    }
    if (!ok) {
      pos_ = start;
      return false;
    }
    *seconds = sign * (hours * 3600 + minutes * 60 + secs);
    return true;
  }

  bool ParseDateRule(TimeZoneRule::DateRule* rule) {
    using Kind = TimeZoneRule::DateRule::Kind;
    if (Consume('J')) {
      rule->kind = Kind::kJulian1;
      if (!ParseNumber(3, 365, &rule->day) || rule->day < 1) {
        rule_problem_ = "Jn needs a day from 1 to 365";
        return false;
      }
    } else if (Consume('M')) {
      rule->kind = Kind::kMonthWeekDay;
      if (!ParseNumber(2, 12, &rule->month) || rule->month < 1) {
        rule_problem_ = "Mm.w.d needs a month from 1 to 12";
        return false;
      }
      if (!Consume('.') || !ParseNumber(1, 5, &rule->week) || rule->week < 1) {
        rule_problem_ = "Mm.w.d needs '.' and a week from 1 to 5 (5 = the last)";
        return false;
      }
      if (!Consume('.') || !ParseNumber(1, 6, &rule->weekday)) {
        rule_problem_ = "Mm.w.d needs '.' and a weekday from 0 (Sunday) to 6";
        return false;
      }
    } else if (!AtEnd() && IsDigit(text_[pos_])) {
      rule->kind = Kind::kJulian0;
      if (!ParseNumber(3, 365, &rule->day)) {
        rule_problem_ = "n needs a day from 0 to 365";
        return false;
      }
    } else {
      rule_problem_ = "expected a date rule: Jn, n or Mm.w.d";
      return false;
    }
    if (Consume('/') && !ParseHms(/*max_hours=*/167, &rule->time_seconds)) {
      rule_problem_ = "expected the time of the change after '/', [+|-]hh[:mm[:ss]] up to 167h";
      return false;
    }
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string rule_problem_;
};

Result<TimeZoneRule> TimeZoneRule::Parse(std::string_view posix_tz) {
  return TimeZoneParser(posix_tz).Parse();
}

int64_t TimeZoneRule::RuleDay(int64_t year, const DateRule& rule) {
  const int64_t jan1 = DaysFromCivil(year, 1, 1);
  switch (rule.kind) {
    case DateRule::Kind::kJulian1:
      // J60 is March 1 in every year: February 29 is never counted.
      return jan1 + rule.day - 1 + (IsLeapYear(year) && rule.day >= 60 ? 1 : 0);
    case DateRule::Kind::kJulian0:
      return jan1 + rule.day;
    case DateRule::Kind::kMonthWeekDay:
      break;
  }
  const int64_t first = DaysFromCivil(year, rule.month, 1);
  int64_t day = first + FloorMod(rule.weekday - Weekday(first), 7) + int64_t{7} * (rule.week - 1);
  const int64_t month_end = first + DaysInMonth(year, rule.month);
  while (day >= month_end) day -= 7;  // week 5: the last such weekday
  return day;
}

TimeZoneRule::YearChanges TimeZoneRule::ComputeChanges(int64_t year) const {
  return {RuleDay(year, dst_start_) * kSecondsPerDay + dst_start_.time_seconds - std_offset_,
          RuleDay(year, dst_end_) * kSecondsPerDay + dst_end_.time_seconds - dst_offset_};
}

TimeZoneRule::YearChanges TimeZoneRule::ChangesOf(int64_t year) const {
  if (year >= kFirstTabledYear && year <= kLastTabledYear) {
    return changes_[static_cast<size_t>(year - kFirstTabledYear)];
  }
  return ComputeChanges(year);
}

int32_t TimeZoneRule::UtcOffsetSeconds(int64_t utc_seconds) const {
  if (!has_dst_) return std_offset_;
  const int64_t year = CivilFromDays(FloorDiv(utc_seconds + std_offset_, kSecondsPerDay)).year;
  const auto [start, end] = ChangesOf(year);
  const bool dst = start < end ? (utc_seconds >= start && utc_seconds < end)
                               : (utc_seconds < end || utc_seconds >= start);  // southern
  return dst ? dst_offset_ : std_offset_;
}

int64_t TimeZoneRule::LocalToUtcSeconds(int64_t local_seconds) const {
  if (!has_dst_) return local_seconds - std_offset_;
  const int64_t as_std = local_seconds - std_offset_;
  const int64_t as_dst = local_seconds - dst_offset_;
  const bool std_fits = UtcOffsetSeconds(as_std) == std_offset_;
  const bool dst_fits = UtcOffsetSeconds(as_dst) == dst_offset_;
  if (std_fits && dst_fits) return std::min(as_std, as_dst);  // overlap: the first occurrence
  if (std_fits) return as_std;
  if (dst_fits) return as_dst;
  // A gap: the change happened in (earlier, later]; find its instant. The range is at most the
  // difference of the two offsets, so this takes under twenty steps.
  int64_t low = std::min(as_std, as_dst);  // still has the offset from before the change
  int64_t high = std::max(as_std, as_dst);
  const int32_t after = UtcOffsetSeconds(high);
  while (high - low > 1) {
    const int64_t mid = low + (high - low) / 2;
    if (UtcOffsetSeconds(mid) == after) {
      high = mid;
    } else {
      low = mid;
    }
  }
  return high;
}

// ---- calendars ------------------------------------------------------------------------

MarketCalendar::MarketCalendar(MarketCalendarSpec spec, TimeZoneRule zone)
    : spec_(std::move(spec)), zone_(std::move(zone)) {}

Result<MarketCalendar> MarketCalendar::Create(MarketCalendarSpec spec) {
  Result<TimeZoneRule> zone = TimeZoneRule::Parse(spec.time_zone);
  if (!zone.ok()) return Bad("timeZone: " + zone.status().message());

  bool any_session = false;
  bool every_weekday_full = true;
  for (int32_t weekday = 0; weekday < 7; ++weekday) {
    std::vector<Session>& sessions = spec.weekly_sessions[static_cast<size_t>(weekday)];
    const std::string path = "sessions." + std::string(kWeekdayNames[weekday]);
    if (sessions.size() > kMaxSessionsPerDay) {
      return Bad(path + ": at most " + std::to_string(kMaxSessionsPerDay) +
                 " sessions a day, got " + std::to_string(sessions.size()));
    }
    for (const Session& session : sessions) {
      if (session.open_minute < 0 || session.open_minute >= session.close_minute ||
          session.close_minute > kMinutesPerDay) {
        return Bad(path + ": a session must open before it closes, within 00:00-24:00, got " +
                   std::to_string(session.open_minute) + "-" +
                   std::to_string(session.close_minute) + " (minutes)");
      }
    }
    std::sort(sessions.begin(), sessions.end(),
              [](const Session& a, const Session& b) { return a.open_minute < b.open_minute; });
    int32_t covered_until = 0;  // minutes from midnight covered without a break
    for (size_t i = 0; i < sessions.size(); ++i) {
      if (i > 0 && sessions[i].open_minute < sessions[i - 1].close_minute) {
        return Bad(path + ": sessions " + FormatSession(sessions[i - 1]) + " and " +
                   FormatSession(sessions[i]) + " overlap");
      }
      if (sessions[i].open_minute <= covered_until) {
        covered_until = std::max(covered_until, sessions[i].close_minute);
      }
    }
    any_session = any_session || !sessions.empty();
    every_weekday_full = every_weekday_full && covered_until == kMinutesPerDay;
  }
  if (!any_session) {
    return Bad("sessions: no weekday has a session, so the market would never open");
  }

  constexpr int64_t kFirstDay = -25'567;   // 1900-01-01
  constexpr int64_t kLastDay = 2'932'896;  // 9999-12-31
  std::sort(spec.holidays.begin(), spec.holidays.end());
  spec.holidays.erase(std::unique(spec.holidays.begin(), spec.holidays.end()), spec.holidays.end());
  for (int32_t day : spec.holidays) {
    if (day < kFirstDay || day > kLastDay) {
      return Bad("holidays: day " + std::to_string(day) + " is outside 1900-9999");
    }
  }
  std::sort(spec.early_closes.begin(), spec.early_closes.end());
  for (size_t i = 0; i < spec.early_closes.size(); ++i) {
    const auto [day, minute] = spec.early_closes[i];
    if (day < kFirstDay || day > kLastDay) {
      return Bad("earlyCloses: day " + std::to_string(day) + " is outside 1900-9999");
    }
    const std::string path = "earlyCloses." + FormatLocalDate(day);
    if (i > 0 && spec.early_closes[i - 1].first == day) return Bad(path + ": listed twice");
    if (std::binary_search(spec.holidays.begin(), spec.holidays.end(), day)) {
      return Bad(path + ": the day is also a holiday");
    }
    const std::vector<Session>& sessions = spec.weekly_sessions[static_cast<size_t>(Weekday(day))];
    const std::string weekday(kWeekdayNames[Weekday(day)]);
    if (sessions.empty()) {
      return Bad(path + ": the market does not open that day (a " + weekday + ")");
    }
    if (minute <= sessions.front().open_minute || minute >= sessions.back().close_minute) {
      return Bad(path + ": " +
                 (minute >= 0 && minute <= kMinutesPerDay ? FormatMinute(minute)
                                                          : std::to_string(minute) + " (minutes)") +
                 " does not cut the day short: " + weekday + " trades " +
                 FormatMinute(sessions.front().open_minute) + "-" +
                 FormatMinute(sessions.back().close_minute));
    }
  }

  MarketCalendar calendar(std::move(spec), std::move(zone).value());
  calendar.every_weekday_full_ = every_weekday_full;
  for (int32_t day : calendar.spec_.holidays) calendar.special_days_.push_back(day);
  for (const auto& early : calendar.spec_.early_closes) {
    calendar.special_days_.push_back(early.first);
  }
  std::sort(calendar.special_days_.begin(), calendar.special_days_.end());
  // Each holiday can hide at most one week's sessions; one spring-forward gap a year may hide a
  // session that lies wholly inside it; the rest is a week of slack on either side.
  calendar.scan_limit_days_ =
      int64_t{7} * (static_cast<int64_t>(calendar.spec_.holidays.size()) + 4);
  return calendar;
}

int64_t MarketCalendar::LocalDay(int64_t epoch_ms) const {
  const int64_t seconds = FloorDiv(epoch_ms, kMsPerSecond);
  return FloorDiv(seconds + zone_.UtcOffsetSeconds(seconds), kSecondsPerDay);
}

int64_t MarketCalendar::DayStartMs(int64_t day) const {
  return zone_.LocalToUtcSeconds(day * kSecondsPerDay) * kMsPerSecond;
}

bool MarketCalendar::IsHoliday(int64_t day) const {
  return std::binary_search(spec_.holidays.begin(), spec_.holidays.end(), day);
}

bool MarketCalendar::IsSpecialDay(int64_t day) const {
  return std::binary_search(special_days_.begin(), special_days_.end(), day);
}

size_t MarketCalendar::DayIntervals(int64_t day, Interval* out) const {
  const std::vector<Session>& sessions = spec_.weekly_sessions[static_cast<size_t>(Weekday(day))];
  if (sessions.empty() || IsHoliday(day)) return 0;
  int32_t cutoff = kMinutesPerDay;
  if (!spec_.early_closes.empty()) {
    const auto it = std::lower_bound(spec_.early_closes.begin(), spec_.early_closes.end(),
                                     std::make_pair(static_cast<int32_t>(day), int32_t{0}));
    if (it != spec_.early_closes.end() && it->first == day) cutoff = it->second;
  }
  size_t count = 0;
  const int64_t midnight = day * kSecondsPerDay;
  for (const Session& session : sessions) {
    if (session.open_minute >= cutoff) break;
    const int32_t close_minute = std::min(session.close_minute, cutoff);
    const int64_t open_ms =
        zone_.LocalToUtcSeconds(midnight + int64_t{60} * session.open_minute) * kMsPerSecond;
    const int64_t close_ms =
        zone_.LocalToUtcSeconds(midnight + int64_t{60} * close_minute) * kMsPerSecond;
    if (open_ms < close_ms) out[count++] = Interval{open_ms, close_ms};
  }
  return count;
}

bool MarketCalendar::IsOpen(int64_t epoch_ms) const {
  const int64_t now = std::clamp(epoch_ms, -kClampMs, kClampMs);
  const int64_t today = LocalDay(now);
  Interval intervals[kMaxSessionsPerDay];
  // Yesterday's and tomorrow's sessions only matter around a clock change at midnight.
  for (int64_t day = today - 1; day <= today + 1; ++day) {
    const size_t count = DayIntervals(day, intervals);
    for (size_t i = 0; i < count; ++i) {
      if (intervals[i].open_ms <= now && now < intervals[i].close_ms) return true;
    }
  }
  return false;
}

int64_t MarketCalendar::NextOpen(int64_t epoch_ms) const {
  const int64_t now = std::clamp(epoch_ms, -kClampMs, kClampMs);
  const int64_t first_day = LocalDay(now) - 1;
  Interval intervals[kMaxSessionsPerDay];
  for (int64_t day = first_day; day <= first_day + scan_limit_days_; ++day) {
    const size_t count = DayIntervals(day, intervals);
    for (size_t i = 0; i < count; ++i) {
      if (intervals[i].close_ms > now) return std::max(intervals[i].open_ms, epoch_ms);
    }
  }
  return kMarketNever;  // unreachable for a calendar Create accepted (see the invariants)
}

int64_t MarketCalendar::NextClose(int64_t epoch_ms) const {
  const int64_t now = std::clamp(epoch_ms, -kClampMs, kClampMs);
  if (!IsOpen(now)) return epoch_ms;
  int64_t open_until = now;  // the open run that holds `now` reaches at least this far
  Interval intervals[kMaxSessionsPerDay];
  int64_t day = LocalDay(now) - 1;
  for (int64_t steps = 0; steps <= scan_limit_days_; ++steps, ++day) {
    // A 24/7 week closes only on a holiday or an early close: jump over the full days between.
    if (every_weekday_full_ && !IsSpecialDay(day) && open_until == DayStartMs(day)) {
      const auto next_special = std::lower_bound(special_days_.begin(), special_days_.end(), day);
      if (next_special == special_days_.end()) return kMarketNever;
      day = *next_special;
      open_until = DayStartMs(day);
    }
    const size_t count = DayIntervals(day, intervals);
    for (size_t i = 0; i < count; ++i) {
      if (intervals[i].close_ms <= now) continue;
      if (intervals[i].open_ms > open_until) return open_until;
      open_until = std::max(open_until, intervals[i].close_ms);
    }
    // A day without trading ends the run at its midnight at the latest.
    if (count == 0 && open_until > now) return open_until;
  }
  return open_until;  // unreachable for a calendar Create accepted (see the invariants)
}

// ---- presets --------------------------------------------------------------------------

namespace {

struct PresetTable {
  std::string_view name;
  std::string_view time_zone;
  std::string_view weekday_session;  // Monday to Friday, or every day when all_week
  bool all_week;
  std::vector<std::string_view> holidays;
  std::vector<std::pair<std::string_view, std::string_view>> early_closes;
};

// NYSE Group's published calendars ("NYSE Group announces 2025, 2026 and 2027 holiday and early
// closings calendar", November 2024; the 2026-2028 release of December 2025), plus the national
// day of mourning for President Carter, 2025-01-09. Nasdaq keeps the same days.
const std::vector<std::string_view>& NyseHolidays() {
  static const std::vector<std::string_view> kDays = {
      "2025-01-01", "2025-01-09", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26",
      "2025-06-19", "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25",  //
      "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19",
      "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25",  //
      "2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18",
      "2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24",  //
      // 2028-01-01 is a Saturday: no New Year's holiday is observed.
      "2028-01-17", "2028-02-21", "2028-04-14", "2028-05-29", "2028-06-19", "2028-07-04",
      "2028-09-04", "2028-11-23", "2028-12-25"};
  return kDays;
}

const std::vector<std::pair<std::string_view, std::string_view>>& NyseEarlyCloses() {
  static const std::vector<std::pair<std::string_view, std::string_view>> kDays = {
      {"2025-07-03", "13:00"}, {"2025-11-28", "13:00"}, {"2025-12-24", "13:00"},
      {"2026-11-27", "13:00"}, {"2026-12-24", "13:00"}, {"2027-11-26", "13:00"},
      {"2028-07-03", "13:00"}, {"2028-11-24", "13:00"}};
  return kDays;
}

const std::vector<PresetTable>& Presets() {
  static const std::vector<PresetTable> kPresets = {
      {"nyse", "EST5EDT,M3.2.0,M11.1.0", "09:30-16:00", false, NyseHolidays(), NyseEarlyCloses()},
      {"nasdaq", "EST5EDT,M3.2.0,M11.1.0", "09:30-16:00", false, NyseHolidays(), NyseEarlyCloses()},
      // England and Wales bank holidays (gov.uk) are the LSE's closed days; trading closes at
      // 12:30 on December 24 and 31 when they are weekdays.
      {"lse",
       "GMT0BST,M3.5.0/1,M10.5.0",
       "08:00-16:30",
       false,
       {"2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05",
        "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26",  //
        "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04",
        "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",  //
        "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03",
        "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"},
       {{"2025-12-24", "12:30"},
        {"2025-12-31", "12:30"},
        {"2026-12-24", "12:30"},
        {"2026-12-31", "12:30"},
        {"2027-12-24", "12:30"},
        {"2027-12-31", "12:30"}}},
      {"crypto", "UTC0", "00:00-24:00", true, {}, {}},
  };
  return kPresets;
}

}  // namespace

const std::vector<std::string_view>& MarketCalendar::PresetNames() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> names;
    for (const PresetTable& preset : Presets()) names.push_back(preset.name);
    return names;
  }();
  return kNames;
}

Result<MarketCalendarSpec> MarketCalendar::PresetSpec(std::string_view name) {
  for (const PresetTable& preset : Presets()) {
    if (preset.name != name) continue;
    // The tables are parsed like a user's calendar, so a typo in them fails the tests.
    MarketCalendarSpec spec;
    spec.time_zone = std::string(preset.time_zone);
    Result<Session> session = ParseSession(preset.weekday_session);
    if (!session.ok()) return session.status();
    for (int32_t weekday = 0; weekday < 7; ++weekday) {
      if (preset.all_week || (weekday >= 1 && weekday <= 5)) {
        spec.weekly_sessions[static_cast<size_t>(weekday)].push_back(session.value());
      }
    }
    for (std::string_view text : preset.holidays) {
      Result<int32_t> day = ParseLocalDate(text);
      if (!day.ok()) return day.status();
      spec.holidays.push_back(day.value());
    }
    for (const auto& [date, time] : preset.early_closes) {
      Result<int32_t> day = ParseLocalDate(date);
      Result<int32_t> minute = ParseClockTime(time);
      if (!day.ok()) return day.status();
      if (!minute.ok()) return minute.status();
      spec.early_closes.emplace_back(day.value(), minute.value());
    }
    return spec;
  }
  std::string names;
  for (std::string_view known : PresetNames()) {
    if (!names.empty()) names += ", ";
    names += known;
  }
  return Bad("unknown calendar " + Quoted(name) + " (built in: " + names + ")");
}

Result<MarketCalendar> MarketCalendar::Preset(std::string_view name) {
  Result<MarketCalendarSpec> spec = PresetSpec(name);
  if (!spec.ok()) return spec.status();
  return Create(std::move(spec).value());
}

}  // namespace tickcache
