// machine_info.h: names the machine a benchmark ran on, because its figures mean something
// only beside that name (and beside peers measured in the same run).
#pragma once

#include <fstream>
#include <string>

namespace tickcache_bench {

// The CPU model from /proc/cpuinfo ("AMD EPYC ..."), or "unknown CPU".
inline std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown CPU";
}

}  // namespace tickcache_bench
