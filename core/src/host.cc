// host.cc: the number conversions both JavaScript hosts use (see tickcache/host.h).
#include "tickcache/host.h"

#include <cmath>

namespace tickcache {

std::optional<int64_t> DurationFromHost(double ms) {
  if (std::isnan(ms)) return std::nullopt;
  if (ms == INFINITY) return kNoExpiry;
  if (ms < 0) return ms < -1.0e18 ? int64_t{-1} : static_cast<int64_t>(std::floor(ms));
  if (ms > static_cast<double>(kMaxTtlMs)) return kMaxTtlMs + 1;
  return static_cast<int64_t>(std::ceil(ms));
}

namespace {
double RemainingForHost(int64_t ms) { return ms == kNoExpiry ? INFINITY : static_cast<double>(ms); }
}  // namespace

void LookupToHost(const Lookup& lookup, double out[3]) {
  out[0] = static_cast<double>(lookup.state);
  out[1] = RemainingForHost(lookup.fresh_remaining_ms);
  out[2] = RemainingForHost(lookup.stale_remaining_ms);
}

}  // namespace tickcache
