// tickcache/market_hours.h: exchange calendars (time zone, weekly sessions, holidays, early
// closes) for TTLs that follow market hours: "5 minutes while the market is open, until the
// next open while it is closed".
//
// Everything here is integer arithmetic on the calendar description alone: no tz database, no
// locale, no host clock. The browser build has no /usr/share/zoneinfo, and a host must not be
// able to answer differently from another, so time zones are POSIX TZ rule strings
// ("EST5EDT,M3.2.0,M11.1.0") and both hosts compute the same instants to the millisecond.
//
// Wall-clock semantics, stated once: a session "HH:MM-HH:MM" of a local date covers the
// instants from the first moment the local wall clock reads the opening time that day to the
// first moment it reads the closing time. So on a spring-forward day a session that would open
// inside the skipped hour opens at the instant of the change, and on a fall-back day a time the
// clock shows twice means its first occurrence. Sessions that touch (one ends where the next
// begins, also across midnight: "18:00-24:00" then "00:00-02:00") form one open run.
//
// Queries are exact and cheap: they step by day (never by minute), and every scan is bounded
// by the calendar's own size, so a calendar that is never open is refused when it is built
// instead of looping when it is asked.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickcache/status.h"

namespace tickcache {

// "No such instant": NextClose of a calendar that never closes (from that time on).
inline constexpr int64_t kMarketNever = INT64_MAX;
// Sessions one weekday may hold (a lunch break needs two; this bounds the work per day).
inline constexpr size_t kMaxSessionsPerDay = 8;

// Days since 1970-01-01 of a "YYYY-MM-DD" date, years 1900 to 9999 (kBadConfig otherwise).
Result<int32_t> ParseLocalDate(std::string_view text);
// "YYYY-MM-DD" of a day number (the inverse of ParseLocalDate).
std::string FormatLocalDate(int32_t day);
// Minutes after local midnight of "HH:MM", "00:00" to "24:00".
Result<int32_t> ParseClockTime(std::string_view text);

// One trading session of a local day: [open_minute, close_minute) after local midnight,
// 0 <= open < close <= 1440 (24:00 closes at the next midnight).
struct Session {
  int32_t open_minute = 0;
  int32_t close_minute = 0;
};
// "09:30-16:00".
Result<Session> ParseSession(std::string_view text);

// A POSIX TZ rule (IEEE 1003.1 section 8.3, plus the RFC 8536 extension of transition hours
// from -167 to 167): std offset [dst [offset] [,start[/time],end[/time]]]. Names are 3 or more
// letters or <quoted> ("<+09>-9"); offsets are hours west of UTC, [+|-]hh[:mm[:ss]]; rules are
// Jn (1-365, February 29 never counted), n (0-365) or Mm.w.d (week 5 = the last). A zone with a
// DST name must give its rules: the POSIX default is implementation-defined, and a silent
// guess is exactly what this file must not make.
class TimeZoneRule {
 public:
  // kBadConfig naming the string and the byte where it went wrong.
  static Result<TimeZoneRule> Parse(std::string_view posix_tz);

  // Seconds east of UTC in effect at `utc_seconds` (New York in winter: -18000).
  int32_t UtcOffsetSeconds(int64_t utc_seconds) const;
  // The instant the local wall clock first reads `local_seconds` (seconds since 1970-01-01 of
  // the local calendar): in a fall-back overlap the first occurrence, in a spring-forward gap
  // the instant of the change.
  int64_t LocalToUtcSeconds(int64_t local_seconds) const;

  bool has_dst() const { return has_dst_; }
  const std::string& text() const { return text_; }

 private:
  struct DateRule {
    enum class Kind : uint8_t { kJulian1, kJulian0, kMonthWeekDay } kind = Kind::kJulian1;
    int32_t day = 0;  // Jn, n: the number; Mm.w.d: unused
    int32_t month = 0;
    int32_t week = 0;
    int32_t weekday = 0;
    int32_t time_seconds = 7200;  // local time of the change, 02:00 unless given
  };
  friend class TimeZoneParser;

  // The UTC instants (seconds) daylight time starts and ends in one year.
  struct YearChanges {
    int64_t dst_start;
    int64_t dst_end;
  };
  static constexpr int64_t kFirstTabledYear = 1970;
  static constexpr int64_t kLastTabledYear = 2199;

  // The day (since 1970-01-01) that `rule` names in `year`.
  static int64_t RuleDay(int64_t year, const DateRule& rule);
  YearChanges ComputeChanges(int64_t year) const;
  // From the table for tabled years: the rule arithmetic is most of what a query costs.
  YearChanges ChangesOf(int64_t year) const;

  std::string text_;
  int32_t std_offset_ = 0;  // seconds east of UTC
  int32_t dst_offset_ = 0;
  bool has_dst_ = false;
  DateRule dst_start_;                // in local standard time
  DateRule dst_end_;                  // in local daylight time
  std::vector<YearChanges> changes_;  // [year - kFirstTabledYear], when has_dst_
};

// What a calendar is built from. The named presets are built from this too.
struct MarketCalendarSpec {
  std::string time_zone = "UTC0";                         // a POSIX TZ rule
  std::array<std::vector<Session>, 7> weekly_sessions;    // by weekday, [0] = Sunday
  std::vector<int32_t> holidays;                          // day numbers, closed all day
  std::vector<std::pair<int32_t, int32_t>> early_closes;  // day number, closing minute
};

class MarketCalendar {
 public:
  // Validates and builds. kBadConfig, naming the field ("timeZone", "sessions.mon",
  // "holidays", "earlyCloses.2026-11-27") and the value, when: the time zone does not parse;
  // a weekday's sessions overlap; no weekday has a session (a calendar that is never open
  // would make "until the next open" meaningless); an early close falls on a holiday or on a
  // day without sessions, or does not cut that day's trading short.
  static Result<MarketCalendar> Create(MarketCalendarSpec spec);

  // Built-in calendars: "nyse" and "nasdaq" (09:30-16:00 America/New_York, the exchanges'
  // published holidays and 13:00 early closes for 2025 to 2028), "lse" (08:00-16:30
  // Europe/London, England's bank holidays and the 12:30 closes of December 24 and 31 for
  // 2025 to 2027) and "crypto" (always open). Past the last listed year only weekends close a
  // preset: extend one with a config calendar that names it as its "base".
  static Result<MarketCalendarSpec> PresetSpec(std::string_view name);
  static Result<MarketCalendar> Preset(std::string_view name);
  static const std::vector<std::string_view>& PresetNames();

  // Whether the market is open at `epoch_ms`.
  bool IsOpen(int64_t epoch_ms) const;
  // The first instant >= epoch_ms at which the market is open (epoch_ms itself when open).
  int64_t NextOpen(int64_t epoch_ms) const;
  // The first instant >= epoch_ms at which the market is closed (epoch_ms itself when closed);
  // kMarketNever when it never closes again (a 24/7 calendar past its last listed holiday).
  int64_t NextClose(int64_t epoch_ms) const;

  const MarketCalendarSpec& spec() const { return spec_; }
  const TimeZoneRule& time_zone() const { return zone_; }

 private:
  struct Interval {
    int64_t open_ms;
    int64_t close_ms;
  };
  MarketCalendar(MarketCalendarSpec spec, TimeZoneRule zone);

  // The local date whose wall clock shows at `epoch_ms`.
  int64_t LocalDay(int64_t epoch_ms) const;
  // UTC instant of local midnight starting `day`.
  int64_t DayStartMs(int64_t day) const;
  bool IsHoliday(int64_t day) const;
  bool IsSpecialDay(int64_t day) const;
  // Writes the day's open intervals in time order (UTC ms, each non-empty); returns how many.
  size_t DayIntervals(int64_t day, Interval* out) const;

  MarketCalendarSpec spec_;  // sorted: holidays, early closes, each weekday's sessions
  TimeZoneRule zone_;
  std::vector<int32_t> special_days_;  // holidays and early closes, sorted
  bool every_weekday_full_ = false;    // all seven days 00:00-24:00: only special days close
  int64_t scan_limit_days_ = 0;        // no query steps through more days than this
};

}  // namespace tickcache
