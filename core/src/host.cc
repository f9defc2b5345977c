// host.cc: what both JavaScript hosts share (see tickcache/host.h): number conversions and
// the removal-notice queue.
#include "tickcache/host.h"

#include <algorithm>
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

void RemovalQueue::Push(EntryRef ref, RemovalCause cause) {
  items_.push_back(ref);
  items_.push_back(static_cast<uint32_t>(cause));
}

size_t RemovalQueue::Drain(uint32_t* out, size_t max_pairs) {
  const size_t pairs = std::min(max_pairs, Pending());
  std::copy_n(items_.begin() + static_cast<std::ptrdiff_t>(head_), pairs * 2, out);
  head_ += pairs * 2;
  if (head_ == items_.size()) {
    items_.clear();
    head_ = 0;
  } else if (head_ > items_.size() / 2) {  // compacting only past half keeps Drain O(1) amortized
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return pairs;
}

}  // namespace tickcache
