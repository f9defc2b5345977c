// bench/trace_replay.cc: the hit-ratio command (issue 2, line 4).
//
// Replays every trace@capacity of ../shared/traces/reference-lru-opt.json through every
// policy, via the public API only (trace_reader.h: Get, and Set on a miss; one shard; a clock
// that never moves), and prints a Markdown table beside the reference LRU and OPT columns,
// then the target checks, each PASS or FAIL. Exit code 1 when a check fails (unless
// --no-fail), 2 when the run itself cannot be done (a missing trace, a refused operation).
//
// Our LRU column is checked against the reference LRU column on every row: the reference is
// exact, so any difference means the replay or the LRU policy is wrong, and then no other
// column can be trusted either.
//
// Each trace is decoded once and shared read-only; each replay owns its cache, so replays run
// in parallel (two threads, the machine's core count) without sharing anything mutable.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "trace_reader.h"

#include "machine_info.h"
#include "tickcache/cache.h"

#ifndef TICKCACHE_TRACES_DIR
#define TICKCACHE_TRACES_DIR "../shared/traces"
#endif

namespace {

using tickcache::PolicyKind;
using tickcache_bench::ReferencePoint;

constexpr int kReplayThreads = 2;
// Targets of issue 2, line 4.
constexpr double kMaxPointsBelowLru = 1.0;
constexpr double kGliTarget = 50.5;   // lirs-gli@1000, Caffeine's published W-TinyLFU figure
constexpr double kOltpTarget = 39.5;  // arc-oltp@1000, likewise
constexpr double kMaxMeanGapToOpt = 7.0;
// The reference is given to 2 decimals: ours matches when it rounds to the same figure.
constexpr double kOracleTolerance = 0.005 + 1e-9;

struct PolicyColumn {
  PolicyKind kind;
  const char* label;       // the table's column
  const char* flag_names;  // accepted by --policy, lower-case, '|'-separated
};
// Table order: the oracle first, then the challengers.
const PolicyColumn kPolicies[] = {
    {PolicyKind::kLru, "tickcache LRU", "lru"},
    {PolicyKind::kSieve, "SIEVE", "sieve"},
    {PolicyKind::kWTinyLfu, "W-TinyLFU", "wtinylfu|w-tinylfu|tinylfu|default"},
};
constexpr size_t kPolicyCount = sizeof kPolicies / sizeof kPolicies[0];
constexpr size_t kLruColumn = 0;
constexpr size_t kWTinyLfuColumn = 2;

struct Flags {
  std::string traces_dir = TICKCACHE_TRACES_DIR;
  std::string only;
  std::string policy;
  uint64_t seed = tickcache_bench::kReplayHashSeed;
  bool no_fail = false;
};

void PrintUsage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--traces DIR] [--only SUBSTRING] [--policy lru|sieve|wtinylfu] "
               "[--seed HEX] [--no-fail]\n"
               "  --traces DIR      traces and reference-lru-opt.json (default %s)\n"
               "  --only SUBSTRING  replay only the trace@capacity rows containing SUBSTRING\n"
               "  --policy NAME     replay only one policy\n"
               "  --seed HEX        hash seed of the replays (default: the fixed kReplayHashSeed)\n"
               "  --no-fail         report the target checks but exit 0 when they fail\n",
               program, TICKCACHE_TRACES_DIR);
}

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto take_value = [&](std::string* out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", arg.c_str());
        return false;
      }
      *out = argv[++i];
      return true;
    };
    if (arg == "--traces") {
      if (!take_value(&flags.traces_dir)) return std::nullopt;
    } else if (arg == "--only") {
      if (!take_value(&flags.only)) return std::nullopt;
    } else if (arg == "--policy") {
      if (!take_value(&flags.policy)) return std::nullopt;
    } else if (arg == "--seed") {
      std::string text;
      if (!take_value(&text)) return std::nullopt;
      char* end = nullptr;
      flags.seed = std::strtoull(text.c_str(), &end, 16);
      if (end == text.c_str() || *end != '\0' || flags.seed == 0) {
        std::fprintf(stderr, "error: --seed wants a non-zero hex number, got \"%s\"\n",
                     text.c_str());
        return std::nullopt;
      }
    } else if (arg == "--no-fail") {
      flags.no_fail = true;
    } else {
      std::fprintf(stderr, "error: unknown argument \"%s\"\n", arg.c_str());
      return std::nullopt;
    }
  }
  return flags;
}

bool PolicySelected(const PolicyColumn& column, const std::string& wanted) {
  if (wanted.empty()) return true;
  std::string lower;
  for (char c : wanted)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::string names = column.flag_names;
  size_t start = 0;
  while (start <= names.size()) {
    size_t bar = names.find('|', start);
    if (bar == std::string::npos) bar = names.size();
    if (names.compare(start, bar - start, lower) == 0) return true;
    start = bar + 1;
  }
  return false;
}

// Runs job(i) for i in [0, count) on `threads` threads.
template <typename Job>
void RunParallel(size_t count, int threads, const Job& job) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) job(i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
}

std::string Percent(const std::optional<double>& value) {
  if (!value) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", *value);
  return text;
}

// Rounded first, so that a difference of -0.001 prints as +0.00 and not as -0.00.
double Round2(double value) { return std::round(value * 100.0) / 100.0 + 0.0; }

std::string SignedPoints(double value) {
  value = Round2(value);
  char text[32];
  std::snprintf(text, sizeof text, "%+.2f", value);
  return text;
}

const char* Verdict(bool pass) { return pass ? "PASS" : "FAIL"; }

}  // namespace

int main(int argc, char** argv) {
  std::optional<Flags> parsed = ParseFlags(argc, argv);
  if (!parsed) {
    PrintUsage(argv[0]);
    return 2;
  }
  const Flags& flags = *parsed;
  auto started = std::chrono::steady_clock::now();

  std::vector<size_t> columns;
  for (size_t c = 0; c < kPolicyCount; ++c) {
    if (PolicySelected(kPolicies[c], flags.policy)) columns.push_back(c);
  }
  if (columns.empty()) {
    std::fprintf(stderr, "error: --policy \"%s\" names no policy (lru, sieve, wtinylfu)\n",
                 flags.policy.c_str());
    return 2;
  }

  auto reference = tickcache_bench::ReadReference(flags.traces_dir + "/reference-lru-opt.json");
  if (!reference.ok()) {
    std::fprintf(stderr, "error: %s\n", reference.status().ToString().c_str());
    return 2;
  }
  const size_t table_rows = reference.value().size();
  std::vector<ReferencePoint> points;
  for (const ReferencePoint& point : reference.value()) {
    if (point.name.find(flags.only) != std::string::npos) points.push_back(point);
  }
  if (points.empty()) {
    std::fprintf(stderr, "error: --only \"%s\" matches no trace@capacity\n", flags.only.c_str());
    return 2;
  }

  // Decode each trace once.
  std::vector<std::string> trace_names;
  for (const ReferencePoint& point : points) {
    if (std::find(trace_names.begin(), trace_names.end(), point.trace) == trace_names.end()) {
      trace_names.push_back(point.trace);
    }
  }
  std::vector<tickcache::Result<std::vector<uint64_t>>> decoded(
      trace_names.size(), tickcache::Status(tickcache::ErrorCode::kIoError, "not decoded"));
  RunParallel(trace_names.size(), kReplayThreads, [&](size_t i) {
    decoded[i] =
        tickcache_bench::ReadTraceKeys(flags.traces_dir + "/" + trace_names[i] + ".keys.gz");
  });
  std::map<std::string, const std::vector<uint64_t>*> traces;
  for (size_t i = 0; i < trace_names.size(); ++i) {
    if (!decoded[i].ok()) {
      std::fprintf(stderr, "error: %s\n", decoded[i].status().ToString().c_str());
      return 2;
    }
    traces[trace_names[i]] = &decoded[i].value();
  }
  double decode_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // One job per (row, policy); longest traces first so the two threads finish together.
  struct Job {
    size_t row;
    size_t column;
  };
  std::vector<Job> jobs;
  for (size_t row = 0; row < points.size(); ++row) {
    for (size_t column : columns) jobs.push_back({row, column});
  }
  std::stable_sort(jobs.begin(), jobs.end(), [&](const Job& a, const Job& b) {
    return traces[points[a.row].trace]->size() > traces[points[b.row].trace]->size();
  });
  std::vector<std::vector<std::optional<double>>> ratios(
      points.size(), std::vector<std::optional<double>>(kPolicyCount));
  std::vector<std::string> errors(jobs.size());
  std::atomic<uint64_t> requests_replayed{0};
  RunParallel(jobs.size(), kReplayThreads, [&](size_t i) {
    const Job& job = jobs[i];
    const ReferencePoint& point = points[job.row];
    auto replay = tickcache_bench::ReplayTrace(*traces[point.trace], kPolicies[job.column].kind,
                                               point.capacity, flags.seed);
    if (!replay.ok()) {
      errors[i] =
          point.name + " " + kPolicies[job.column].label + ": " + replay.status().ToString();
      return;
    }
    requests_replayed += replay.value().requests;
    ratios[job.row][job.column] = replay.value().HitPercent();
  });
  for (const std::string& error : errors) {
    if (!error.empty()) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 2;
    }
  }
  double total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // ---- the table ----
  std::printf("| trace@capacity | LRU (ref) | OPT (ref) |");
  for (size_t c = 0; c < kPolicyCount; ++c) std::printf(" %s |", kPolicies[c].label);
  std::printf(" W-TinyLFU - LRU | gap to OPT |\n|---|---:|---:|");
  for (size_t c = 0; c < kPolicyCount; ++c) std::printf("---:|");
  std::printf("---:|---:|\n");

  size_t oracle_mismatches = 0;
  double gap_sum = 0;
  size_t gap_rows = 0;
  std::optional<double> worst_vs_lru;
  std::string worst_vs_lru_name;
  std::vector<std::string> below_lru;
  std::optional<double> gli_1000;
  std::optional<double> oltp_1000;
  for (size_t row = 0; row < points.size(); ++row) {
    const ReferencePoint& point = points[row];
    std::printf("| %s | %.2f | %.2f |", point.name.c_str(), point.lru_percent, point.opt_percent);
    for (size_t c = 0; c < kPolicyCount; ++c) {
      std::string cell = Percent(ratios[row][c]);
      if (c == kLruColumn && ratios[row][c] &&
          std::fabs(*ratios[row][c] - point.lru_percent) > kOracleTolerance) {
        cell += " MISMATCH";
        ++oracle_mismatches;
      }
      std::printf(" %s |", cell.c_str());
    }
    const std::optional<double>& tiny = ratios[row][kWTinyLfuColumn];
    if (tiny) {
      double vs_lru = *tiny - point.lru_percent;
      double gap = point.opt_percent - *tiny;
      std::string vs_lru_cell = SignedPoints(vs_lru);
      if (vs_lru < -kMaxPointsBelowLru) {
        vs_lru_cell += " (below)";
        below_lru.push_back(point.name);
      }
      std::printf(" %s | %.2f |\n", vs_lru_cell.c_str(), Round2(gap));
      gap_sum += gap;
      ++gap_rows;
      if (!worst_vs_lru || vs_lru < *worst_vs_lru) {
        worst_vs_lru = vs_lru;
        worst_vs_lru_name = point.name;
      }
      if (point.name == "lirs-gli@1000") gli_1000 = tiny;
      if (point.name == "arc-oltp@1000") oltp_1000 = tiny;
    } else {
      std::printf(" - | - |\n");
    }
  }

  // ---- the summary and the checks ----
  std::printf("\n");
  bool all_pass = true;
  auto check = [&](const char* what, std::optional<bool> pass, const std::string& detail) {
    if (!pass) {
      std::printf("%-58s n/a  (%s)\n", what, detail.c_str());
      return;
    }
    std::printf("%-58s %s (%s)\n", what, Verdict(*pass), detail.c_str());
    all_pass = all_pass && *pass;
  };
  char detail[160];
  const bool whole_table = points.size() == table_rows;
  if (gap_rows > 0) {
    double mean_gap = gap_sum / static_cast<double>(gap_rows);
    std::printf("mean gap to OPT of W-TinyLFU: %.2f pp over %zu of %zu trace@capacity rows\n",
                mean_gap, gap_rows, table_rows);
    std::printf("worst W-TinyLFU - LRU(ref): %+.2f pp at %s\n", *worst_vs_lru,
                worst_vs_lru_name.c_str());
    for (size_t c : columns) {
      double sum = 0;
      size_t count = 0;
      for (size_t row = 0; row < points.size(); ++row) {
        if (ratios[row][c]) sum += points[row].opt_percent - *ratios[row][c], ++count;
      }
      if (count > 0) {
        std::printf("  mean gap to OPT of %s: %.2f pp\n", kPolicies[c].label,
                    sum / static_cast<double>(count));
      }
    }
    std::printf("\n");

    std::string below = below_lru.empty()
                            ? "worst " + SignedPoints(*worst_vs_lru) + " pp at " + worst_vs_lru_name
                            : std::to_string(below_lru.size()) + " rows below:";
    for (const std::string& name : below_lru) below += " " + name;
    check("W-TinyLFU no trace@capacity more than 1 pp below LRU", below_lru.empty(), below);
    std::snprintf(detail, sizeof detail, "%s",
                  gli_1000 ? Percent(gli_1000).c_str() : "not replayed");
    check("W-TinyLFU lirs-gli@1000 >= 50.5 %",
          gli_1000 ? std::optional<bool>(*gli_1000 >= kGliTarget) : std::nullopt, detail);
    std::snprintf(detail, sizeof detail, "%s",
                  oltp_1000 ? Percent(oltp_1000).c_str() : "not replayed");
    check("W-TinyLFU arc-oltp@1000 >= 39.5 %",
          oltp_1000 ? std::optional<bool>(*oltp_1000 >= kOltpTarget) : std::nullopt, detail);
    std::snprintf(detail, sizeof detail, whole_table ? "%.2f pp" : "%.2f pp on a partial table",
                  mean_gap);
    check("W-TinyLFU mean gap to OPT <= 7 pp over the whole table",
          whole_table ? std::optional<bool>(mean_gap <= kMaxMeanGapToOpt) : std::nullopt, detail);
  } else {
    std::printf("W-TinyLFU not replayed (--policy): no target checks\n\n");
  }
  if (std::find(columns.begin(), columns.end(), kLruColumn) != columns.end()) {
    std::snprintf(detail, sizeof detail, "%zu mismatching rows", oracle_mismatches);
    check("tickcache LRU equals the reference LRU (the oracle)", oracle_mismatches == 0, detail);
  }

  // Replays use a fixed seed (kReplayHashSeed, or --seed) so the table is reproducible; with
  // another seed the admission-based columns move by a few tenths of a point, LRU's cannot.
  std::printf("\nhash: %s, replays seeded with %016llx (fixed, for reproducible tables)\n",
              tickcache::HashName(), static_cast<unsigned long long>(flags.seed));
  std::printf("machine: %s, %u hardware threads; %d replay threads\n",
              tickcache_bench::CpuModel().c_str(), std::thread::hardware_concurrency(),
              kReplayThreads);
  std::printf(
      "time: %.2f s in all (%.2f s decoding %zu traces), %zu replays, %.1f M "
      "requests\n",
      total_seconds, decode_seconds, trace_names.size(), jobs.size(),
      static_cast<double>(requests_replayed.load()) / 1e6);
  if (!all_pass) {
    std::printf("result: some checks FAIL%s\n", flags.no_fail ? " (--no-fail: exit 0)" : "");
    return flags.no_fail ? 0 : 1;
  }
  std::printf("result: all checks PASS\n");
  return 0;
}
