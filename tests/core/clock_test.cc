// clock_test.cc: the system clock, and TickClock (tick_clock.h), the tick-counter clock
// under it on x86-64: fake sources drive calibration, extrapolation, re-anchoring and a
// counter that goes backwards; threads read while others re-anchor (the tsan step runs
// Concurrency.*); the real clock is compared with std::chrono::system_clock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "tick_clock.h"
#include "tickcache/clock.h"

namespace tickcache {
namespace {

constexpr int64_t kMs = 1'000'000;  // ns

// Sources a test moves by hand. Ticks run at 2 per ns unless a test says otherwise, and
// start far from 0 so a counter going backwards does not wrap.
struct FakeSources {
  static std::atomic<uint64_t> ticks;
  static std::atomic<int64_t> wall_ns;
  static std::atomic<int64_t> steady_ns;
  static uint64_t Ticks() { return ticks.load(); }
  static int64_t WallNs() { return wall_ns.load(); }
  static int64_t SteadyNs() { return steady_ns.load(); }
  // Moves all three by `ns`, as real time passing would.
  static void Pass(int64_t ns) {
    ticks += static_cast<uint64_t>(2 * ns);
    wall_ns += ns;
    steady_ns += ns;
  }
  // The counter moves and the wall clock does not: whatever a reading gains came from the
  // counter. (The steady clock moves too, so the measured rate stays right.)
  static void PassWithoutWall(int64_t ns) {
    ticks += static_cast<uint64_t>(2 * ns);
    steady_ns += ns;
  }
  static void Reset() {
    ticks = 1'000'000'000'000;
    wall_ns = 1'700'000'000'000 * kMs;
    steady_ns = 5'000 * kMs;
  }
};
std::atomic<uint64_t> FakeSources::ticks{0};
std::atomic<int64_t> FakeSources::wall_ns{0};
std::atomic<int64_t> FakeSources::steady_ns{0};

class TickClockTest : public ::testing::Test {
 protected:
  void SetUp() override { FakeSources::Reset(); }
  // Reads until calibrated: the first reading anchors, one 10 ms later measures the rate.
  static void Calibrate(TickClock<FakeSources>* clock) {
    clock->NowMs();
    FakeSources::Pass(TickClock<FakeSources>::kCalibrationNs);
    clock->NowMs();
    ASSERT_TRUE(clock->calibrated());
  }
};

TEST_F(TickClockTest, IsTheWallClockUntilTheRateIsMeasured) {
  TickClock<FakeSources> clock;
  EXPECT_EQ(clock.NowMs(), 1'700'000'000'000);
  EXPECT_FALSE(clock.calibrated());
  FakeSources::Pass(3 * kMs);
  EXPECT_EQ(clock.NowMs(), 1'700'000'000'003);
  EXPECT_FALSE(clock.calibrated());
}

TEST_F(TickClockTest, ExtrapolatesFromTheCounterBetweenAnchors) {
  TickClock<FakeSources> clock;
  Calibrate(&clock);
  const int64_t anchored = clock.NowMs();
  FakeSources::PassWithoutWall(7 * kMs);
  EXPECT_EQ(clock.NowMs(), anchored + 7);
  FakeSources::PassWithoutWall(2 * kMs);
  EXPECT_EQ(clock.NowMs(), anchored + 9);
}

TEST_F(TickClockTest, ReanchorsToTheWallClockOnceAWindowHasPassed) {
  TickClock<FakeSources> clock;
  Calibrate(&clock);
  // The wall clock steps an hour ahead (NTP, an operator): within the window readings
  // still extrapolate; past it they follow the wall clock again.
  FakeSources::wall_ns += 3'600'000 * kMs;
  const int64_t stepped = FakeSources::wall_ns.load() / kMs;
  FakeSources::PassWithoutWall(5 * kMs);
  EXPECT_LT(clock.NowMs(), stepped);
  FakeSources::Pass(TickClock<FakeSources>::kResyncNs);
  EXPECT_EQ(clock.NowMs(), stepped + 10);
  FakeSources::PassWithoutWall(1 * kMs);
  EXPECT_EQ(clock.NowMs(), stepped + 11);
}

TEST_F(TickClockTest, ACounterGoingBackwardsFallsBackToTheWallClock) {
  TickClock<FakeSources> clock;
  Calibrate(&clock);
  // Another core's counter, behind this one: the reading is not extrapolated from it.
  FakeSources::ticks -= 2 * 50 * kMs;
  FakeSources::wall_ns += 4 * kMs;
  EXPECT_EQ(clock.NowMs(), FakeSources::wall_ns.load() / kMs);
  EXPECT_FALSE(clock.calibrated());  // it measures the rate again from a new anchor
  Calibrate(&clock);
  FakeSources::PassWithoutWall(3 * kMs);
  EXPECT_EQ(clock.NowMs(), FakeSources::wall_ns.load() / kMs + 3);
}

TEST_F(TickClockTest, MeasuresTheCounterRate) {
  TickClock<FakeSources> clock;
  clock.NowMs();
  // 3 ticks per ns this time: 10 ms of ticks is then 30,000,000 of them.
  FakeSources::ticks += 3 * TickClock<FakeSources>::kCalibrationNs;
  FakeSources::wall_ns += TickClock<FakeSources>::kCalibrationNs;
  FakeSources::steady_ns += TickClock<FakeSources>::kCalibrationNs;
  const int64_t anchored = clock.NowMs();
  // 6.5 ms: the rate is a 32.32 fixed-point fraction, exact to well under a nanosecond here,
  // so a reading lands on the right millisecond unless it sits right at a boundary.
  FakeSources::ticks += 3 * 6 * kMs + 3 * kMs / 2;
  EXPECT_EQ(clock.NowMs(), anchored + 6);
}

// Every reading lies between what the sources said just before and just after it, while
// other threads move time and re-anchor. Run under ThreadSanitizer by the tsan step.
TEST(Concurrency, TickClockReadersAgreeWithTheSourcesWhileReanchoring) {
  FakeSources::Reset();
  TickClock<FakeSources> clock;
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock, &failed, t] {
      for (int i = 0; i < 20'000; ++i) {
        if (t < 2) FakeSources::Pass(1'000 + 7 * (i % 13));  // ~0.1 s of time in all
        const int64_t before = FakeSources::wall_ns.load() / kMs;
        const int64_t reading = clock.NowMs();
        const int64_t after = FakeSources::wall_ns.load() / kMs;
        if (reading < before - 1 || reading > after + 1) failed = true;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(failed.load());
  EXPECT_TRUE(clock.calibrated());
}

TEST(SystemClockTest, TracksTheSystemClock) {
  auto system_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  std::shared_ptr<Clock> clock = SystemClock();
  // 40 ms of readings: past calibration and several re-anchors where the counter is used.
  const int64_t end = system_ms() + 40;
  int64_t readings = 0;
  for (int64_t now = system_ms(); now < end; now = system_ms()) {
    const int64_t before = system_ms();
    const int64_t reading = clock->NowMs();
    const int64_t after = system_ms();
    ASSERT_GE(reading, before - 1) << "after " << readings << " readings";
    ASSERT_LE(reading, after + 1) << "after " << readings << " readings";
    ++readings;
  }
  EXPECT_GT(readings, 1000);
}

}  // namespace
}  // namespace tickcache
