// bench/core_bench.cc: the core's throughput (issue 2, line 12), Google Benchmark.
//
// Workloads on 100,000 resident 16-byte keys (--resident_keys=N) with 100-byte values, on 1
// and 2 threads:
//   get_hit  Get of a resident key (the value copied into a reused std::string);
//   set      Set of a resident key (an overwrite, so the resident set stays the same size);
//   mix      90 % get_hit, 10 % set.
// Each runs against tickcache (default policy, default sharding, system clock) and against
// the floor to beat: std::unordered_map<std::string, std::string> under one std::mutex.
// Keys and the access order (uniformly random, pre-generated) are shared by both, and each
// thread walks the order from its own offset. Times are wall-clock (UseRealTime), so the
// 2-thread rate is what the two threads did together. After the run, the tickcache / floor
// ratio of each workload and thread count is printed (medians over repetitions): absolute
// rates drift between machines, ratios measured in one run hold.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "machine_info.h"
#include "tickcache/cache.h"

namespace {

constexpr size_t kDefaultResidentKeys = 100'000;
constexpr size_t kValueBytes = 100;
constexpr size_t kOrderLength = size_t{1} << 20;  // a power of two: the walk wraps with a mask
constexpr size_t kSetEvery = 10;                  // mix: one set in ten operations

// --resident_keys=N (default 100,000): 1,000 keeps everything in cache, which measures the
// CPU work of an operation rather than its memory misses.
size_t g_resident_keys = kDefaultResidentKeys;
std::vector<std::string> g_keys;
std::vector<uint32_t> g_order;
std::string g_value;

void PrepareWorkload() {
  char buffer[32];
  g_keys.reserve(g_resident_keys);
  for (size_t i = 0; i < g_resident_keys; ++i) {
    std::snprintf(buffer, sizeof buffer, "k%015zu", i);
    g_keys.emplace_back(buffer, 16);
  }
  std::mt19937_64 random(20240601);
  std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(g_resident_keys - 1));
  g_order.resize(kOrderLength);
  for (uint32_t& index : g_order) index = pick(random);
  g_value.assign(kValueBytes, 'v');
}

class TickcacheTarget {
 public:
  bool Init(std::string* error) {
    tickcache::Options options;
    // Twice the resident keys, so that no shard runs full and every get is a hit.
    options.max_entries = 2 * g_resident_keys;
    auto created = tickcache::Cache::Create(std::move(options));
    if (!created.ok()) {
      *error = created.status().ToString();
      return false;
    }
    cache_ = std::move(created).value();
    for (const std::string& key : g_keys) {
      tickcache::Status status = cache_->Set(key, g_value);
      if (!status.ok()) {
        *error = status.ToString();
        return false;
      }
    }
    if (cache_->Entries() != g_resident_keys) {
      *error = std::to_string(cache_->Entries()) + " resident keys, expected " +
               std::to_string(g_resident_keys);
      return false;
    }
    return true;
  }
  bool Get(const std::string& key, std::string* value) {
    return cache_->Get(key, value).state != tickcache::Freshness::kMiss;
  }
  bool Set(const std::string& key, const std::string& value) {
    return cache_->Set(key, value).ok();
  }

 private:
  std::unique_ptr<tickcache::Cache> cache_;
};

class FloorTarget {
 public:
  bool Init(std::string* /*error*/) {
    map_.reserve(g_resident_keys);
    for (const std::string& key : g_keys) map_.emplace(key, g_value);
    return true;
  }
  bool Get(const std::string& key, std::string* value) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    *value = it->second;
    return true;
  }
  bool Set(const std::string& key, const std::string& value) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      it->second.assign(value);
    } else {
      map_.emplace(key, value);
    }
    return true;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::string> map_;
};

TickcacheTarget g_tickcache;
FloorTarget g_floor;

enum class Workload { kGetHit, kSet, kMix };

template <typename Target>
void RunWorkload(benchmark::State& state, Target* target, Workload workload) {
  // Threads start far apart in the shared order so they do not touch the same keys in step.
  size_t position = static_cast<size_t>(state.thread_index()) * (kOrderLength / 2 + 7919);
  std::string value;
  value.reserve(kValueBytes);
  uint64_t failures = 0;
  for (auto _ : state) {
    const std::string& key = g_keys[g_order[position & (kOrderLength - 1)]];
    bool ok;
    if (workload == Workload::kSet || (workload == Workload::kMix && position % kSetEvery == 0)) {
      ok = target->Set(key, g_value);
    } else {
      ok = target->Get(key, &value);
      benchmark::DoNotOptimize(value.data());
    }
    failures += ok ? 0 : 1;
    ++position;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (failures > 0) {
    // Every key is resident and every set fits: a miss or a refusal means the figure is wrong.
    state.SkipWithError((std::to_string(failures) + " gets missed or sets failed").c_str());
  }
}

// Every repetition's rate; the ratio table uses the medians (--benchmark_repetitions=N with
// --benchmark_enable_random_interleaving spreads a busy machine's noise over both sides).
struct Rates {
  std::vector<double> tickcache;
  std::vector<double> floor;
};

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// Prints as the console reporter does, and keeps each run's rate for the ratio table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Colors only on a terminal: the output is often kept in a file or a report.
  RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      auto counter = run.counters.find("items_per_second");
      if (counter == run.counters.end()) continue;
      const std::string& name = run.run_name.function_name;  // "get_hit/tickcache"
      size_t slash = name.find('/');
      if (slash == std::string::npos) continue;
      Rates& rates = rates_[{name.substr(0, slash), run.threads}];
      (name.substr(slash + 1) == "tickcache" ? rates.tickcache : rates.floor)
          .push_back(counter->second.value);
    }
  }
  const std::map<std::pair<std::string, int64_t>, Rates>& rates() const { return rates_; }

 private:
  std::map<std::pair<std::string, int64_t>, Rates> rates_;
};

}  // namespace

// Takes --resident_keys=N out of argv (Google Benchmark refuses flags it does not know).
bool TakeResidentKeysFlag(int* argc, char** argv) {
  constexpr std::string_view kFlag = "--resident_keys=";
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, kFlag.size()) != kFlag) {
      argv[kept++] = argv[i];
      continue;
    }
    char* end = nullptr;
    unsigned long long n = std::strtoull(argv[i] + kFlag.size(), &end, 10);
    if (end == argv[i] + kFlag.size() || *end != '\0' || n < 1 || n > 1'000'000) {
      std::fprintf(stderr, "error: %s: want a count of keys from 1 to 1000000\n", argv[i]);
      return false;
    }
    g_resident_keys = static_cast<size_t>(n);
  }
  *argc = kept;
  argv[kept] = nullptr;
  return true;
}

int main(int argc, char** argv) {
  if (!TakeResidentKeysFlag(&argc, argv)) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  PrepareWorkload();
  std::string error;
  if (!g_tickcache.Init(&error)) {
    std::fprintf(stderr, "error: tickcache setup: %s\n", error.c_str());
    return 2;
  }
  if (!g_floor.Init(&error)) {
    std::fprintf(stderr, "error: floor setup: %s\n", error.c_str());
    return 2;
  }

  const std::pair<const char*, Workload> workloads[] = {
      {"get_hit", Workload::kGetHit}, {"set", Workload::kSet}, {"mix90_10", Workload::kMix}};
  for (const auto& [name, workload] : workloads) {
    const Workload chosen = workload;
    benchmark::RegisterBenchmark(
        (std::string(name) + "/tickcache").c_str(),
        [chosen](benchmark::State& state) { RunWorkload(state, &g_tickcache, chosen); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark(
        (std::string(name) + "/floor").c_str(),
        [chosen](benchmark::State& state) { RunWorkload(state, &g_floor, chosen); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }

  std::printf("machine: %s; %zu resident keys, 16-byte keys, %zu-byte values\n",
              tickcache_bench::CpuModel().c_str(), g_resident_keys, kValueBytes);
  std::printf("floor: std::unordered_map<std::string, std::string> under one std::mutex\n");
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::printf("\n(medians over repetitions)\n");
  std::printf("| workload | threads | tickcache Mops/s | floor Mops/s | tickcache / floor |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  for (const auto& [key, rates] : reporter.rates()) {
    const double tickcache = Median(rates.tickcache);
    const double floor = Median(rates.floor);
    if (tickcache <= 0 || floor <= 0) continue;
    std::printf("| %s | %lld | %.2f | %.2f | %.2f |\n", key.first.c_str(),
                static_cast<long long>(key.second), tickcache / 1e6, floor / 1e6,
                tickcache / floor);
  }
  return 0;
}
