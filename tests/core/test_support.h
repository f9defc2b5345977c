// test_support.h: helpers shared by the core's tests: building caches on a fake clock and
// temporary directories that clean up after themselves.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "tickcache/cache.h"

namespace tickcache::testing_support {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tickcache-test-XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<Cache> MustCreate(Options options) {
  Result<std::unique_ptr<Cache>> made = Cache::Create(std::move(options));
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(made).value() : nullptr;
}

inline std::string GetValue(Cache& cache, std::string_view key) {
  std::string value;
  Lookup lookup = cache.Get(key, &value);
  return lookup.state == Freshness::kMiss ? "<miss>" : value;
}

inline SetOptions Ttl(int64_t ttl_ms, int64_t grace_ms = 0, std::vector<std::string> tags = {}) {
  SetOptions o;
  o.ttl_ms = ttl_ms;
  o.grace_ms = grace_ms;
  o.tags = std::move(tags);
  return o;
}

inline SetOptions Tags(std::vector<std::string> tags) {
  SetOptions o;
  o.tags = std::move(tags);
  return o;
}

}  // namespace tickcache::testing_support
