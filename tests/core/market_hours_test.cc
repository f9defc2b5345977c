// market_hours_test.cc: POSIX TZ rules and exchange calendars (tickcache/market_hours.h).
//
// Proves: TZ strings parse to the right offsets and bad ones are refused naming the string;
// the New York and London clock changes of 2026 happen at the right UTC second, with skipped
// and repeated local times resolved as documented; the NYSE opens at the right UTC instant on
// the Monday after each change, stays shut on weekends, holidays (Thanksgiving, Christmas, a
// holiday Monday, Good Friday) and after an early close (2026-11-27 13:00); NextOpen/NextClose
// land exactly on a change of state; lunch breaks and sessions that run across midnight; a
// 24/7 calendar; calendars that could never open, or that contradict themselves, are refused.
// Expected instants come from a day-counting helper written independently of the code under
// test. The whole file also runs as wasm (same assertions, same answers); natively, one more
// test checks the offsets and NYSE open minutes of 2025-2028 against the system tz database.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tickcache/market_hours.h"

#ifndef __EMSCRIPTEN__
#include <cstdlib>
#include <ctime>
#endif

namespace tickcache {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;

// Milliseconds since the epoch of a UTC wall time, by counting whole years and months: slow,
// obvious, and not the algorithm the code uses.
int64_t UtcMs(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t days = 0;
  for (int y = 1970; y < year; ++y) days += leap(y) ? 366 : 365;
  for (int m = 1; m < month; ++m) days += month_days[m - 1] + (m == 2 && leap(year) ? 1 : 0);
  days += day - 1;
  return ((days * 24 + hour) * 60 + minute) * kMinuteMs + second * int64_t{1000};
}

// A local wall time at a fixed offset (hours east of UTC): New York is -5 (EST) or -4 (EDT).
int64_t LocalMs(int utc_offset_hours, int year, int month, int day, int hour, int minute = 0) {
  return UtcMs(year, month, day, hour, minute) - utc_offset_hours * kHourMs;
}
constexpr int kEst = -5;
constexpr int kEdt = -4;
constexpr int kGmt = 0;
constexpr int kBst = 1;

TimeZoneRule MustParseZone(const char* text) {
  Result<TimeZoneRule> zone = TimeZoneRule::Parse(text);
  EXPECT_TRUE(zone.ok()) << text << ": " << zone.status().message();
  return zone.ok() ? zone.value() : TimeZoneRule::Parse("UTC0").value();
}

MarketCalendar MustPreset(const char* name) {
  Result<MarketCalendar> calendar = MarketCalendar::Preset(name);
  EXPECT_TRUE(calendar.ok()) << name << ": " << calendar.status().message();
  return std::move(calendar).value();
}

Session S(const char* text) { return ParseSession(text).value(); }
int32_t D(const char* text) { return ParseLocalDate(text).value(); }

// ---- dates, times, sessions -----------------------------------------------------------

TEST(MarketHoursParse, DatesTimesAndSessions) {
  EXPECT_EQ(ParseLocalDate("1970-01-01").value(), 0);
  EXPECT_EQ(ParseLocalDate("2026-11-26").value(), UtcMs(2026, 11, 26) / kDayMs);
  EXPECT_EQ(ParseLocalDate("2028-02-29").value(), UtcMs(2028, 2, 29) / kDayMs);
  EXPECT_EQ(FormatLocalDate(D("2026-12-25")), "2026-12-25");
  EXPECT_EQ(FormatLocalDate(D("1900-03-01")), "1900-03-01");
  for (const char* bad : {"", "2026-1-01", "2026-13-01", "2026-02-29", "2026-04-31", "1899-12-31",
                          "2026/01/01", "2026-01-01 ", "20260101", "2026-01-0\xff"}) {
    Result<int32_t> day = ParseLocalDate(bad);
    ASSERT_FALSE(day.ok()) << bad;
    EXPECT_EQ(day.status().code(), ErrorCode::kBadConfig);
  }
  EXPECT_EQ(ParseClockTime("09:30").value(), 9 * 60 + 30);
  EXPECT_EQ(ParseClockTime("24:00").value(), 1440);
  for (const char* bad : {"9:30", "24:01", "25:00", "12:60", "12:3", "12h30", ""}) {
    EXPECT_FALSE(ParseClockTime(bad).ok()) << bad;
  }
  EXPECT_EQ(S("09:30-16:00").open_minute, 570);
  EXPECT_EQ(S("09:30-16:00").close_minute, 960);
  EXPECT_EQ(S("00:00-24:00").close_minute, 1440);
  for (const char* bad : {"16:00-09:30", "09:30-09:30", "09:30", "09:30-", "-16:00", "9-16"}) {
    Result<Session> session = ParseSession(bad);
    ASSERT_FALSE(session.ok()) << bad;
    EXPECT_NE(session.status().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << session.status().message();
  }
}

// ---- time zones -----------------------------------------------------------------------

TEST(TimeZoneRuleTest, FixedZones) {
  EXPECT_EQ(MustParseZone("UTC0").UtcOffsetSeconds(UtcMs(2026, 7, 1) / 1000), 0);
  EXPECT_EQ(MustParseZone("JST-9").UtcOffsetSeconds(0), 9 * 3600);
  EXPECT_EQ(MustParseZone("EST5").UtcOffsetSeconds(0), -5 * 3600);
  EXPECT_EQ(MustParseZone("<+0530>-5:30").UtcOffsetSeconds(0), 5 * 3600 + 1800);
  EXPECT_EQ(MustParseZone("<-03>3").UtcOffsetSeconds(0), -3 * 3600);
  EXPECT_FALSE(MustParseZone("JST-9").has_dst());
  const TimeZoneRule tokyo = MustParseZone("JST-9");
  EXPECT_EQ(tokyo.LocalToUtcSeconds(UtcMs(2026, 1, 5, 9) / 1000), UtcMs(2026, 1, 5, 0) / 1000);
}

TEST(TimeZoneRuleTest, NewYorkChangesAtTheRightSecond) {
  const TimeZoneRule ny = MustParseZone("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(ny.has_dst());
  // 2026-03-08 02:00 EST (07:00 UTC) becomes 03:00 EDT.
  const int64_t spring = UtcMs(2026, 3, 8, 7) / 1000;
  EXPECT_EQ(ny.UtcOffsetSeconds(spring - 1), -5 * 3600);
  EXPECT_EQ(ny.UtcOffsetSeconds(spring), -4 * 3600);
  // 2026-11-01 02:00 EDT (06:00 UTC) becomes 01:00 EST.
  const int64_t fall = UtcMs(2026, 11, 1, 6) / 1000;
  EXPECT_EQ(ny.UtcOffsetSeconds(fall - 1), -4 * 3600);
  EXPECT_EQ(ny.UtcOffsetSeconds(fall), -5 * 3600);
  // 2027: second Sunday of March is the 14th, first Sunday of November the 7th.
  EXPECT_EQ(ny.UtcOffsetSeconds(UtcMs(2027, 3, 14, 7) / 1000 - 1), -5 * 3600);
  EXPECT_EQ(ny.UtcOffsetSeconds(UtcMs(2027, 3, 14, 7) / 1000), -4 * 3600);
  EXPECT_EQ(ny.UtcOffsetSeconds(UtcMs(2027, 11, 7, 6) / 1000), -5 * 3600);

  // Local 02:30 on 2026-03-08 never happens: it maps to the instant of the change.
  const int64_t local_0230 = UtcMs(2026, 3, 8, 2, 30) / 1000;
  EXPECT_EQ(ny.LocalToUtcSeconds(local_0230), spring);
  // Local 01:30 on 2026-11-01 happens twice: the first time (EDT, 05:30 UTC) is meant.
  const int64_t local_0130 = UtcMs(2026, 11, 1, 1, 30) / 1000;
  EXPECT_EQ(ny.LocalToUtcSeconds(local_0130), UtcMs(2026, 11, 1, 5, 30) / 1000);
  // Ordinary times either side.
  EXPECT_EQ(ny.LocalToUtcSeconds(UtcMs(2026, 3, 9, 9, 30) / 1000),
            UtcMs(2026, 3, 9, 13, 30) / 1000);
  EXPECT_EQ(ny.LocalToUtcSeconds(UtcMs(2026, 3, 6, 9, 30) / 1000),
            UtcMs(2026, 3, 6, 14, 30) / 1000);
}

TEST(TimeZoneRuleTest, LondonSydneyAndDublinConventions) {
  const TimeZoneRule london = MustParseZone("GMT0BST,M3.5.0/1,M10.5.0");
  // Last Sunday of March 2026 is the 29th, of October the 25th; both at 01:00 UTC.
  EXPECT_EQ(london.UtcOffsetSeconds(UtcMs(2026, 3, 29, 1) / 1000 - 1), 0);
  EXPECT_EQ(london.UtcOffsetSeconds(UtcMs(2026, 3, 29, 1) / 1000), 3600);
  EXPECT_EQ(london.UtcOffsetSeconds(UtcMs(2026, 10, 25, 1) / 1000 - 1), 3600);
  EXPECT_EQ(london.UtcOffsetSeconds(UtcMs(2026, 10, 25, 1) / 1000), 0);
  // Southern hemisphere: daylight time spans the new year. Sydney 2026: ends first Sunday of
  // April (the 5th) at 03:00 AEDT = 16:00 UTC on the 4th; starts first Sunday of October (the
  // 4th) at 02:00 AEST = 16:00 UTC on the 3rd.
  const TimeZoneRule sydney = MustParseZone("AEST-10AEDT,M10.1.0,M4.1.0/3");
  EXPECT_EQ(sydney.UtcOffsetSeconds(UtcMs(2026, 1, 15) / 1000), 11 * 3600);
  EXPECT_EQ(sydney.UtcOffsetSeconds(UtcMs(2026, 4, 4, 16) / 1000 - 1), 11 * 3600);
  EXPECT_EQ(sydney.UtcOffsetSeconds(UtcMs(2026, 4, 4, 16) / 1000), 10 * 3600);
  EXPECT_EQ(sydney.UtcOffsetSeconds(UtcMs(2026, 10, 3, 16) / 1000 - 1), 10 * 3600);
  EXPECT_EQ(sydney.UtcOffsetSeconds(UtcMs(2026, 10, 3, 16) / 1000), 11 * 3600);
  // Dublin's "negative DST": standard time is summer time (IST +1), GMT in winter.
  const TimeZoneRule dublin = MustParseZone("IST-1GMT0,M10.5.0,M3.5.0/1");
  EXPECT_EQ(dublin.UtcOffsetSeconds(UtcMs(2026, 7, 1) / 1000), 3600);
  EXPECT_EQ(dublin.UtcOffsetSeconds(UtcMs(2026, 12, 1) / 1000), 0);
  // Julian forms: J60 is March 1 in every year, 59 (zero-based) is March 1 only in leap years.
  const TimeZoneRule julian = MustParseZone("AAA0BBB,J60/0,J300/0");
  EXPECT_EQ(julian.UtcOffsetSeconds(UtcMs(2028, 3, 1) / 1000 - 1), 0);
  EXPECT_EQ(julian.UtcOffsetSeconds(UtcMs(2028, 3, 1) / 1000), 3600);
  const TimeZoneRule zero_based = MustParseZone("AAA0BBB,59/0,300/0");
  EXPECT_EQ(zero_based.UtcOffsetSeconds(UtcMs(2028, 2, 29) / 1000 - 1), 0);
  EXPECT_EQ(zero_based.UtcOffsetSeconds(UtcMs(2028, 2, 29) / 1000), 3600);
  // An explicit daylight offset and transition times with minutes, or beyond 24h.
  const TimeZoneRule explicit_offset = MustParseZone("XST3XDT1:30,M3.2.0/2:30,M11.1.0/26");
  EXPECT_EQ(explicit_offset.UtcOffsetSeconds(UtcMs(2026, 7, 1) / 1000), -5400);
  EXPECT_EQ(explicit_offset.UtcOffsetSeconds(UtcMs(2026, 3, 8, 5, 30) / 1000 - 1), -3 * 3600);
  EXPECT_EQ(explicit_offset.UtcOffsetSeconds(UtcMs(2026, 3, 8, 5, 30) / 1000), -5400);
}

TEST(TimeZoneRuleTest, BadStringsAreRefusedNamingTheString) {
  const char* bad[] = {
      "",                            // no name
      "E5",                          // name too short
      "EST",                         // no offset
      "EST25",                       // offset beyond 24h
      "EST5:60",                     // minutes beyond 59
      "EST5EDT",                     // daylight time without rules
      "EST5EDT,M3.2.0",              // no end rule
      "EST5EDT,M13.2.0,M11.1.0",     // month 13
      "EST5EDT,M0.2.0,M11.1.0",      // month 0
      "EST5EDT,M3.6.0,M11.1.0",      // week 6
      "EST5EDT,M3.0.0,M11.1.0",      // week 0
      "EST5EDT,M3.2.7,M11.1.0",      // weekday 7
      "EST5EDT,J0,J365",             // J is 1-based
      "EST5EDT,366,10",              // n is at most 365
      "EST5EDT,M3.2.0/168,M11.1.0",  // transition time beyond 167h
      "EST5EDT,M3.2.0,M11.1.0x",     // trailing text
      "EST5EDT,,M11.1.0",            // empty rule
      "<AB>5",                       // quoted name too short
      "<EST5",                       // unclosed quote
      "EST5 EDT",                    // a space
      "America/New_York",            // a tz database name is not a POSIX rule
  };
  for (const char* text : bad) {
    Result<TimeZoneRule> zone = TimeZoneRule::Parse(text);
    ASSERT_FALSE(zone.ok()) << "accepted \"" << text << "\"";
    EXPECT_EQ(zone.status().code(), ErrorCode::kBadConfig) << text;
    EXPECT_NE(zone.status().message().find(std::string("\"") + text + "\""), std::string::npos)
        << zone.status().message();
  }
  EXPECT_NE(TimeZoneRule::Parse("EST5EDT").status().message().find("needs its rules"),
            std::string::npos);
  EXPECT_NE(TimeZoneRule::Parse("EST5EDT,M13.2.0,M11.1.0").status().message().find("month"),
            std::string::npos);
}

// ---- the NYSE preset ------------------------------------------------------------------

TEST(MarketCalendarNyse, OpensAtTheRightInstantAroundEachClockChange) {
  const MarketCalendar nyse = MustPreset("nyse");
  // Spring forward on Sunday 2026-03-08: Friday opened at 14:30 UTC, Monday at 13:30 UTC.
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2026, 3, 5, 17)), LocalMs(kEst, 2026, 3, 6, 9, 30));
  EXPECT_EQ(LocalMs(kEst, 2026, 3, 6, 9, 30), UtcMs(2026, 3, 6, 14, 30));
  const int64_t friday_evening = LocalMs(kEst, 2026, 3, 6, 17);
  EXPECT_EQ(nyse.NextOpen(friday_evening), UtcMs(2026, 3, 9, 13, 30));
  EXPECT_FALSE(nyse.IsOpen(UtcMs(2026, 3, 9, 13, 30) - 1));
  EXPECT_TRUE(nyse.IsOpen(UtcMs(2026, 3, 9, 13, 30)));
  EXPECT_EQ(nyse.NextClose(UtcMs(2026, 3, 9, 15)), UtcMs(2026, 3, 9, 20));  // 16:00 EDT
  // Fall back on Sunday 2026-11-01: Friday opened at 13:30 UTC, Monday at 14:30 UTC.
  EXPECT_TRUE(nyse.IsOpen(UtcMs(2026, 10, 30, 13, 30)));
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEdt, 2026, 10, 30, 16)), UtcMs(2026, 11, 2, 14, 30));
  EXPECT_FALSE(nyse.IsOpen(UtcMs(2026, 11, 2, 13, 30)));  // where the open was last week
  EXPECT_EQ(nyse.NextClose(UtcMs(2026, 11, 2, 15)), UtcMs(2026, 11, 2, 21));  // 16:00 EST
  // The DST switch of 2025 too.
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2025, 3, 7, 18)), LocalMs(kEdt, 2025, 3, 10, 9, 30));
}

TEST(MarketCalendarNyse, WeekendsHolidaysAndEarlyCloses) {
  const MarketCalendar nyse = MustPreset("nyse");
  // A plain week: open Tuesday 10:00 until 16:00; closed Saturday; Friday evening -> Monday.
  EXPECT_TRUE(nyse.IsOpen(LocalMs(kEst, 2026, 1, 13, 10)));
  EXPECT_EQ(nyse.NextClose(LocalMs(kEst, 2026, 1, 13, 10)), LocalMs(kEst, 2026, 1, 13, 16));
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2026, 1, 13, 10)), LocalMs(kEst, 2026, 1, 13, 10));
  EXPECT_FALSE(nyse.IsOpen(LocalMs(kEst, 2026, 1, 13, 16)));  // the close is exclusive
  EXPECT_FALSE(nyse.IsOpen(LocalMs(kEst, 2026, 1, 17, 12)));  // Saturday
  EXPECT_EQ(nyse.NextClose(LocalMs(kEst, 2026, 1, 17, 12)), LocalMs(kEst, 2026, 1, 17, 12));
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2026, 2, 6, 18)), LocalMs(kEst, 2026, 2, 9, 9, 30));

  // A holiday Monday: Martin Luther King Jr. Day, 2026-01-19.
  EXPECT_FALSE(nyse.IsOpen(LocalMs(kEst, 2026, 1, 19, 11)));
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2026, 1, 16, 16)), LocalMs(kEst, 2026, 1, 20, 9, 30));
  // Good Friday 2026-04-03, after the clocks changed: Thursday's close -> Monday 09:30 EDT.
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEdt, 2026, 4, 2, 16)), LocalMs(kEdt, 2026, 4, 6, 9, 30));

  // Thanksgiving 2026-11-26 is closed; the day after closes at 13:00.
  EXPECT_FALSE(nyse.IsOpen(LocalMs(kEst, 2026, 11, 26, 10)));
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2026, 11, 25, 16)), LocalMs(kEst, 2026, 11, 27, 9, 30));
  EXPECT_TRUE(nyse.IsOpen(LocalMs(kEst, 2026, 11, 27, 12, 59)));
  EXPECT_FALSE(nyse.IsOpen(LocalMs(kEst, 2026, 11, 27, 13)));
  EXPECT_EQ(nyse.NextClose(LocalMs(kEst, 2026, 11, 27, 10)), LocalMs(kEst, 2026, 11, 27, 13));
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2026, 11, 27, 13)), LocalMs(kEst, 2026, 11, 30, 9, 30));
  // Christmas Eve closes at 13:00, Christmas (a Friday) is closed: next open is Monday the 28th.
  EXPECT_EQ(nyse.NextClose(LocalMs(kEst, 2026, 12, 24, 9, 30)), LocalMs(kEst, 2026, 12, 24, 13));
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2026, 12, 24, 13)), LocalMs(kEst, 2026, 12, 28, 9, 30));
  // 2027: Christmas observed Friday 24th, Independence Day observed Monday July 5th.
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEst, 2027, 12, 23, 16)), LocalMs(kEst, 2027, 12, 27, 9, 30));
  EXPECT_EQ(nyse.NextOpen(LocalMs(kEdt, 2027, 7, 2, 16)), LocalMs(kEdt, 2027, 7, 6, 9, 30));
  // 2028-01-01 is a Saturday and no holiday is observed: Friday 2027-12-31 trades all day.
  EXPECT_EQ(nyse.NextClose(LocalMs(kEst, 2027, 12, 31, 10)), LocalMs(kEst, 2027, 12, 31, 16));
  // Nasdaq keeps the same days.
  const MarketCalendar nasdaq = MustPreset("nasdaq");
  EXPECT_FALSE(nasdaq.IsOpen(LocalMs(kEst, 2026, 12, 25, 11)));
  EXPECT_EQ(nasdaq.NextClose(LocalMs(kEst, 2026, 11, 27, 10)), LocalMs(kEst, 2026, 11, 27, 13));
}

TEST(MarketCalendarLse, OpensAtTheRightInstantAroundEachClockChange) {
  const MarketCalendar lse = MustPreset("lse");
  // BST starts Sunday 2026-03-29: Friday opened at 08:00 UTC, Monday at 07:00 UTC.
  EXPECT_EQ(lse.NextOpen(LocalMs(kGmt, 2026, 3, 26, 17)), UtcMs(2026, 3, 27, 8));
  EXPECT_EQ(lse.NextOpen(LocalMs(kGmt, 2026, 3, 27, 17)), UtcMs(2026, 3, 30, 7));
  EXPECT_EQ(lse.NextClose(UtcMs(2026, 3, 30, 9)), LocalMs(kBst, 2026, 3, 30, 16, 30));
  // BST ends Sunday 2026-10-25: Monday opens at 08:00 UTC again.
  EXPECT_EQ(lse.NextOpen(LocalMs(kBst, 2026, 10, 23, 17)), UtcMs(2026, 10, 26, 8));
  EXPECT_FALSE(lse.IsOpen(UtcMs(2026, 10, 26, 7, 30)));
  // Easter 2026: Good Friday and Easter Monday closed; December 24 closes at 12:30; Boxing Day
  // falls on a Saturday and is observed on Monday the 28th.
  EXPECT_EQ(lse.NextOpen(LocalMs(kBst, 2026, 4, 2, 17)), LocalMs(kBst, 2026, 4, 7, 8));
  EXPECT_EQ(lse.NextClose(LocalMs(kGmt, 2026, 12, 24, 9)), LocalMs(kGmt, 2026, 12, 24, 12, 30));
  EXPECT_EQ(lse.NextOpen(LocalMs(kGmt, 2026, 12, 24, 12, 30)), LocalMs(kGmt, 2026, 12, 29, 8));
}

TEST(MarketCalendarCrypto, AlwaysOpen) {
  const MarketCalendar crypto = MustPreset("crypto");
  std::mt19937_64 random(7);
  for (int i = 0; i < 200; ++i) {
    const int64_t t = UtcMs(2024, 1, 1) + static_cast<int64_t>(random() % (5 * 365 * kDayMs));
    EXPECT_TRUE(crypto.IsOpen(t)) << t;
    EXPECT_EQ(crypto.NextOpen(t), t);
    EXPECT_EQ(crypto.NextClose(t), kMarketNever) << t;
  }
  EXPECT_TRUE(crypto.IsOpen(UtcMs(2026, 1, 1)));  // midnight: the days touch
  EXPECT_EQ(crypto.NextClose(UtcMs(2026, 1, 1) - 1), kMarketNever);
}

// ---- calendars of one's own -----------------------------------------------------------

MarketCalendarSpec WeekdaySpec(const char* zone, std::vector<Session> sessions) {
  MarketCalendarSpec spec;
  spec.time_zone = zone;
  for (int weekday = 1; weekday <= 5; ++weekday) spec.weekly_sessions[weekday] = sessions;
  return spec;
}

TEST(MarketCalendarCustom, LunchBreak) {
  Result<MarketCalendar> tse =
      MarketCalendar::Create(WeekdaySpec("JST-9", {S("12:30-15:30"), S("09:00-11:30")}));
  ASSERT_TRUE(tse.ok()) << tse.status().message();
  constexpr int kJst = 9;
  EXPECT_TRUE(tse.value().IsOpen(LocalMs(kJst, 2026, 6, 1, 10)));
  EXPECT_EQ(tse.value().NextClose(LocalMs(kJst, 2026, 6, 1, 10)),
            LocalMs(kJst, 2026, 6, 1, 11, 30));
  EXPECT_FALSE(tse.value().IsOpen(LocalMs(kJst, 2026, 6, 1, 12)));
  EXPECT_EQ(tse.value().NextOpen(LocalMs(kJst, 2026, 6, 1, 12)), LocalMs(kJst, 2026, 6, 1, 12, 30));
  EXPECT_EQ(tse.value().NextClose(LocalMs(kJst, 2026, 6, 1, 13)),
            LocalMs(kJst, 2026, 6, 1, 15, 30));
}

TEST(MarketCalendarCustom, SessionsThatTouchAcrossMidnightAreOneRun) {
  // Futures-style: Sunday 18:00 to Friday 17:00 New York time, with a daily 17:00-18:00 break.
  MarketCalendarSpec spec;
  spec.time_zone = "EST5EDT,M3.2.0,M11.1.0";
  spec.weekly_sessions[0] = {S("18:00-24:00")};
  for (int weekday = 1; weekday <= 4; ++weekday) {
    spec.weekly_sessions[weekday] = {S("00:00-17:00"), S("18:00-24:00")};
  }
  spec.weekly_sessions[5] = {S("00:00-17:00")};
  spec.holidays = {D("2026-11-26")};
  Result<MarketCalendar> futures = MarketCalendar::Create(spec);
  ASSERT_TRUE(futures.ok()) << futures.status().message();
  const MarketCalendar& f = futures.value();
  EXPECT_EQ(f.NextClose(LocalMs(kEst, 2026, 11, 8, 19)), LocalMs(kEst, 2026, 11, 9, 17));
  EXPECT_TRUE(f.IsOpen(LocalMs(kEst, 2026, 11, 10, 0)));  // midnight inside the run
  EXPECT_EQ(f.NextOpen(LocalMs(kEst, 2026, 11, 9, 17, 30)), LocalMs(kEst, 2026, 11, 9, 18));
  EXPECT_EQ(f.NextOpen(LocalMs(kEst, 2026, 11, 13, 17)), LocalMs(kEst, 2026, 11, 15, 18));
  // A holiday Thursday ends Wednesday's evening session at midnight.
  EXPECT_EQ(f.NextClose(LocalMs(kEst, 2026, 11, 25, 20)), LocalMs(kEst, 2026, 11, 26, 0));
  EXPECT_EQ(f.NextOpen(LocalMs(kEst, 2026, 11, 26, 0)), LocalMs(kEst, 2026, 11, 27, 0));
}

TEST(MarketCalendarCustom, AllWeekCalendarClosesOnlyOnItsSpecialDays) {
  MarketCalendarSpec spec;
  spec.time_zone = "UTC0";
  for (auto& day : spec.weekly_sessions) day = {S("00:00-24:00")};
  spec.holidays = {D("2030-05-01")};
  spec.early_closes = {{D("2029-12-31"), 12 * 60}};
  Result<MarketCalendar> calendar = MarketCalendar::Create(spec);
  ASSERT_TRUE(calendar.ok()) << calendar.status().message();
  EXPECT_EQ(calendar.value().NextClose(UtcMs(2026, 1, 1, 5)), UtcMs(2029, 12, 31, 12));
  EXPECT_EQ(calendar.value().NextOpen(UtcMs(2029, 12, 31, 12)), UtcMs(2030, 1, 1));
  EXPECT_EQ(calendar.value().NextClose(UtcMs(2030, 1, 1)), UtcMs(2030, 5, 1));
  EXPECT_EQ(calendar.value().NextOpen(UtcMs(2030, 5, 1, 3)), UtcMs(2030, 5, 2));
  EXPECT_EQ(calendar.value().NextClose(UtcMs(2030, 5, 2)), kMarketNever);
}

TEST(MarketCalendarCustom, SessionInsideASkippedHour) {
  // A session from 02:15 to 02:45 on Sundays only: on 2026-03-08 New York skips 02:00-03:00,
  // so that day it never opens, and NextOpen moves on to the next Sunday.
  MarketCalendarSpec spec;
  spec.time_zone = "EST5EDT,M3.2.0,M11.1.0";
  spec.weekly_sessions[0] = {S("02:15-02:45")};
  Result<MarketCalendar> calendar = MarketCalendar::Create(spec);
  ASSERT_TRUE(calendar.ok());
  EXPECT_EQ(calendar.value().NextOpen(LocalMs(kEst, 2026, 3, 7, 12)),
            LocalMs(kEdt, 2026, 3, 15, 2, 15));
  // A session from 01:30 to 03:30 that day opens at 01:30 EST and closes at 03:30 EDT.
  spec.weekly_sessions[0] = {S("01:30-03:30")};
  calendar = MarketCalendar::Create(spec);
  ASSERT_TRUE(calendar.ok());
  EXPECT_EQ(calendar.value().NextOpen(LocalMs(kEst, 2026, 3, 7, 12)),
            LocalMs(kEst, 2026, 3, 8, 1, 30));
  EXPECT_EQ(calendar.value().NextClose(LocalMs(kEst, 2026, 3, 8, 1, 45)),
            LocalMs(kEdt, 2026, 3, 8, 3, 30));
}

TEST(MarketCalendarCustom, ImpossibleCalendarsAreRefused) {
  struct Case {
    MarketCalendarSpec spec;
    const char* field;
  };
  std::vector<Case> cases;
  cases.push_back({MarketCalendarSpec{}, "sessions: no weekday has a session"});
  cases.push_back({WeekdaySpec("EST5EDT", {S("09:30-16:00")}), "timeZone: invalid POSIX TZ"});
  cases.push_back({WeekdaySpec("UTC0", {S("09:00-12:00"), S("11:00-13:00")}),
                   "sessions.mon: sessions 09:00-12:00 and 11:00-13:00 overlap"});
  cases.push_back({WeekdaySpec("UTC0", std::vector<Session>(9, S("09:00-10:00"))),
                   "sessions.mon: at most 8 sessions"});
  cases.push_back({WeekdaySpec("UTC0", {Session{600, 500}}), "sessions.mon: a session must open"});
  MarketCalendarSpec on_holiday = WeekdaySpec("UTC0", {S("09:00-17:00")});
  on_holiday.holidays = {D("2026-12-25")};
  on_holiday.early_closes = {{D("2026-12-25"), 12 * 60}};
  cases.push_back({on_holiday, "earlyCloses.2026-12-25: the day is also a holiday"});
  MarketCalendarSpec on_weekend = WeekdaySpec("UTC0", {S("09:00-17:00")});
  on_weekend.early_closes = {{D("2026-11-28"), 12 * 60}};
  cases.push_back(
      {on_weekend, "earlyCloses.2026-11-28: the market does not open that day (a sat)"});
  MarketCalendarSpec too_late = WeekdaySpec("UTC0", {S("09:00-17:00")});
  too_late.early_closes = {{D("2026-11-27"), 18 * 60}};
  cases.push_back({too_late, "earlyCloses.2026-11-27: 18:00 does not cut the day short"});
  MarketCalendarSpec twice = WeekdaySpec("UTC0", {S("09:00-17:00")});
  twice.early_closes = {{D("2026-11-27"), 12 * 60}, {D("2026-11-27"), 13 * 60}};
  cases.push_back({twice, "earlyCloses.2026-11-27: listed twice"});
  for (const Case& c : cases) {
    Result<MarketCalendar> calendar = MarketCalendar::Create(c.spec);
    ASSERT_FALSE(calendar.ok()) << c.field;
    EXPECT_EQ(calendar.status().code(), ErrorCode::kBadConfig);
    EXPECT_EQ(calendar.status().message().rfind(c.field, 0), 0u) << calendar.status().message();
  }
  Result<MarketCalendar> unknown = MarketCalendar::Preset("nyze");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "unknown calendar \"nyze\" (built in: nyse, nasdaq, lse, crypto)");
}

// ---- properties over many instants ----------------------------------------------------

// NextOpen and NextClose land exactly on a change of state, with no change in between
// (checked minute by minute here, which the code itself never does), for every preset.
TEST(MarketCalendarProperties, NextOpenAndNextCloseAreExactChanges) {
  std::mt19937_64 random(42);
  for (const char* name : {"nyse", "lse"}) {
    const MarketCalendar calendar = MustPreset(name);
    for (int i = 0; i < 150; ++i) {
      const int64_t t = UtcMs(2025, 1, 1) + static_cast<int64_t>(random() % (4 * 365 * kDayMs));
      const bool open = calendar.IsOpen(t);
      const int64_t next_open = calendar.NextOpen(t);
      const int64_t next_close = calendar.NextClose(t);
      ASSERT_EQ(next_open == t, open) << name << " " << t;
      ASSERT_EQ(next_close == t, !open) << name << " " << t;
      const int64_t change = open ? next_close : next_open;
      ASSERT_GT(change, t);
      ASSERT_LT(change - t, 6 * kDayMs) << name << " " << t;  // no gap in 2025-2028 is longer
      EXPECT_NE(calendar.IsOpen(change), open) << name << " " << t;
      EXPECT_EQ(calendar.IsOpen(change - 1), open) << name << " " << t;
      for (int64_t probe = t; probe < change; probe += kMinuteMs) {
        ASSERT_EQ(calendar.IsOpen(probe), open) << name << " from " << t << " at " << probe;
      }
    }
  }
}

#ifndef __EMSCRIPTEN__
// Native only, because the wasm build has no tz database (which is why the core has its own
// rules): the system's America/New_York and Europe/London agree with the POSIX rules on every
// hour of 2025-2028, and with the NYSE preset on which minutes of 2026 are trading minutes.
class SystemZone {
 public:
  explicit SystemZone(const char* name) {
    const char* old = std::getenv("TZ");
    had_tz_ = old != nullptr;
    if (had_tz_) old_tz_ = old;
    setenv("TZ", name, 1);
    tzset();
  }
  ~SystemZone() {
    if (had_tz_) {
      setenv("TZ", old_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  static std::tm Local(int64_t epoch_ms) {
    const auto seconds = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm local{};
    localtime_r(&seconds, &local);
    return local;
  }

 private:
  bool had_tz_ = false;
  std::string old_tz_;
};

TEST(MarketHoursSystemTz, RulesMatchTheTzDatabase) {
  const struct {
    const char* tzdb_name;
    const char* posix;
  } zones[] = {{"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
               {"Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"},
               {"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"}};
  for (const auto& zone : zones) {
    const TimeZoneRule rule = MustParseZone(zone.posix);
    SystemZone system(zone.tzdb_name);
    for (int64_t t = UtcMs(2025, 1, 1); t < UtcMs(2029, 1, 1); t += kHourMs) {
      ASSERT_EQ(rule.UtcOffsetSeconds(t / 1000), SystemZone::Local(t).tm_gmtoff)
          << zone.tzdb_name << " at " << t;
    }
  }
}

TEST(MarketHoursSystemTz, NyseMinutesOf2026MatchAnIndependentModel) {
  const MarketCalendar nyse = MustPreset("nyse");
  const std::vector<std::string> holidays = {"2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03",
                                             "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07",
                                             "2026-11-26", "2026-12-25"};
  SystemZone system("America/New_York");
  int open_minutes = 0;
  for (int64_t t = UtcMs(2026, 1, 1); t < UtcMs(2027, 1, 1); t += kMinuteMs) {
    const std::tm local = SystemZone::Local(t);
    char date[11];
    std::strftime(date, sizeof date, "%Y-%m-%d", &local);
    const int minute = local.tm_hour * 60 + local.tm_min;
    const bool holiday = std::find(holidays.begin(), holidays.end(), date) != holidays.end();
    const std::string day(date);
    const int close = day == "2026-11-27" || day == "2026-12-24" ? 13 * 60 : 16 * 60;
    const bool open = local.tm_wday >= 1 && local.tm_wday <= 5 && !holiday &&
                      minute >= 9 * 60 + 30 && minute < close;
    ASSERT_EQ(nyse.IsOpen(t), open) << date << " " << local.tm_hour << ":" << local.tm_min;
    open_minutes += open ? 1 : 0;
  }
  // 2026 has 261 weekdays (52 weeks and a Thursday); less 10 holidays, 251 days of 390
  // minutes, less 180 minutes for each of the 2 early closes.
  EXPECT_EQ(open_minutes, 251 * 390 - 2 * 180);
}
#endif

}  // namespace
}  // namespace tickcache
