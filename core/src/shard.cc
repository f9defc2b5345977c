// shard.cc: Shard<Policy>, the single-threaded engine behind each lock (see shard.h for the
// invariants), and the factory that picks its policy instantiation at run time.
#include "shard.h"

#include <array>
#include <cstring>

namespace tickcache {
namespace {

using Cause = RemovalCause;

// Key equality on every lookup. Keys of 8-16 bytes (most: "AAPL:quote", ids) compare as two
// overlapping 8-byte words in registers instead of a call into memcmp.
bool SameKey(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  const size_t n = a.size();
  if (n >= 8 && n <= 16) {
    uint64_t a_head, b_head, a_tail, b_tail;
    std::memcpy(&a_head, a.data(), 8);
    std::memcpy(&b_head, b.data(), 8);
    std::memcpy(&a_tail, a.data() + n - 8, 8);
    std::memcpy(&b_tail, b.data() + n - 8, 8);
    return ((a_head ^ b_head) | (a_tail ^ b_tail)) == 0;
  }
  return a == b;
}

template <template <typename> class PolicyT>
class Shard final : public ShardBase {
 public:
  using Policy = PolicyT<Shard>;

  Shard(const ShardLimits& limits, std::unique_ptr<Store> store, int64_t now)
      : limits_(limits),
        entry_cap_(EntryCap(limits)),
        weigh_by_bytes_(limits.max_entries == 0),
        store_(std::move(store)),
        index_(limits.max_entries != 0 ? static_cast<size_t>(entry_cap_) : 0),
        policy_(slots_, *this,
                weigh_by_bytes_ ? static_cast<int64_t>(limits.max_bytes)
                                : static_cast<int64_t>(entry_cap_),
                limits.max_entries != 0 ? entry_cap_ : 1024) {
    wheel_.Init(slots_, now);
    last_now_ = now;
    if (limits.max_entries != 0)
      slots_.Reserve(slots_.EndId() + static_cast<size_t>(entry_cap_) + 1);
    Adopt(now);
  }

  // --- what the policy asks of its host ---
  int64_t Weight(SlotId s) const { return weigh_by_bytes_ ? static_cast<int64_t>(Charge(s)) : 1; }
  uint64_t SketchFloorBytes() const { return limits_.sketch_floor_bytes; }
  uint64_t HashOf(SlotId s) const {
    return HashKey(store_->Key(slots_.Data(s)), limits_.hash_seed);
  }

  // --- ShardBase ---
  Lookup Get(std::string_view key, uint64_t hash, int64_t now, std::string* value) override {
    now = Monotonic(now);
    // A hit is a chain of cache misses (index cell, store handle, key block); what the policy
    // learns from it waits in pending_ (see Defer), so none of the policy's misses (its
    // sketch, the slot's queue neighbours) sit on that chain.
    SlotId s = Find(key, hash);
    if (s != kNoSlot && now >= slots_.StaleUntil(s)) {
      Remove(s, hash, Cause::kExpired);
      s = kNoSlot;
    }
    if (s == kNoSlot || (value != nullptr && !store_->ReadValue(slots_.Data(s), value).ok())) {
      ++misses_;
      Defer(hash, kNoSlot, PendingKind::kMiss);
      return {};
    }
    Defer(hash, s, PendingKind::kHit);
    Lookup lookup = Describe(s, now);
    ++(lookup.state == Freshness::kFresh ? hits_ : stale_hits_);
    return lookup;
  }

  Lookup Peek(std::string_view key, uint64_t hash, int64_t now, std::string* value) const override {
    now = std::max(now, last_now_);
    SlotId s = Find(key, hash);
    if (s == kNoSlot || now >= slots_.StaleUntil(s)) return {};
    if (value != nullptr && !store_->ReadValue(slots_.Data(s), value).ok()) return {};
    return Describe(s, now);
  }

  Status Set(const EntryWrite& w, int64_t now, SlotId* slot_out) override {
    now = Monotonic(now);
    std::string_view ns = NamespaceOf(w.key);
    uint64_t memberships = (w.tags != nullptr ? w.tags->size() : 0) + (ns.empty() ? 0 : 1);
    uint64_t charge =
        w.key.size() + w.value.size() + kEntryChargeBytes + kTagChargeBytes * memberships;
    if (limits_.max_bytes != 0 && charge > limits_.max_bytes) {
      return Status(ErrorCode::kEntryTooLarge,
                    "entry charges " + std::to_string(charge) + " bytes, more than the " +
                        std::to_string(limits_.max_bytes) + "-byte bound of its shard");
    }
    StoredMeta meta{w.fresh_until_ms, w.stale_until_ms, w.tags};
    SlotId s = Find(w.key, w.hash);
    if (s != kNoSlot) {
      // Only the replace path pays for Add's check; an entry past its grace counts as absent.
      if (w.only_if_absent && now < slots_.StaleUntil(s)) {
        if (slot_out != nullptr) *slot_out = kNoSlot;
        return Status::Ok();
      }
      const uint64_t old_charge = Charge(s);
      const int64_t old_weight = weigh_by_bytes_ ? static_cast<int64_t>(old_charge) : 1;
      Result<StoreHandle> handle = store_->Replace(slots_.Data(s), w.key, w.value, meta);
      if (!handle.ok()) return handle.status();
      bytes_ -= old_charge;
      slots_.SetData(s, handle.value());
      if (slots_.Flag(s, SlotTable::kFlagMembers)) members_.RemoveAll(s);
      AddMemberships(s, w.tags, ns);
      SetTimes(s, w.fresh_until_ms, w.stale_until_ms);
      // `charge` is what Charge(s) now reads back from the store and the memberships; the
      // write already knows it, and each read-back is two calls into the store.
      const uint64_t new_charge = charge;
      bytes_ += new_charge;
      const int64_t new_weight = weigh_by_bytes_ ? static_cast<int64_t>(new_charge) : 1;
      if (new_weight == old_weight && new_charge <= old_charge) {
        // Nothing grew, so no bound can be crossed and nothing is evicted: the policy hears
        // of the write in its turn with the lookups (Defer), and the window's hill climber
        // waits for the next write that inserts or changes a weight (Caffeine's runs in
        // its maintenance, after writes, the same way).
        Defer(w.hash, s, PendingKind::kRewrite);
        wheel_.Schedule(slots_, s, slots_.StaleUntil(s));
        ++sets_;
        if (slot_out != nullptr) *slot_out = s;
        AdvanceWheel(now, /*exact=*/false);
        return Status::Ok();
      }
      ApplyPending();
      policy_.OnWeightChange(s, old_weight, new_weight);
    } else {
      Result<StoreHandle> handle = store_->Put(w.key, w.value, meta);
      if (!handle.ok()) return handle.status();
      s = slots_.Allocate();
      slots_.SetData(s, handle.value());
      SetTimes(s, w.fresh_until_ms, w.stale_until_ms);
      AddMemberships(s, w.tags, ns);
      index_.Insert(s, w.hash, [this](SlotId id) { return HashOf(id); });
      ++entries_;
      bytes_ += charge;
      ApplyPending();
      policy_.OnInsert(s);
      if (weigh_by_bytes_ && entries_ > sketch_entries_) {
        sketch_entries_ = entries_ * 2;
        policy_.EnsureSketchCapacity(sketch_entries_);
      }
    }
    wheel_.Schedule(slots_, s, slots_.StaleUntil(s));
    ++sets_;
    if (slot_out != nullptr) *slot_out = s;
    MakeRoom();
    AdvanceWheel(now, /*exact=*/false);
    return Status::Ok();
  }

  void Touch(SlotId s, bool stale) override {
    if (s < slots_.FirstEntryId() || s >= slots_.EndId() || !slots_.IsLive(s)) return;
    ApplyPending();
    policy_.OnAccess(s, HashOf(s));
    ++(stale ? stale_hits_ : hits_);
  }

  void RecordMissedHashes(const uint64_t* hashes, size_t count) override {
    ApplyPending();
    for (size_t i = 0; i < count; ++i) {
      // The sketch block of the next key is independent of this one: start loading it.
      if (i + 1 < count) policy_.Prefetch(hashes[i + 1]);
      policy_.OnMiss(hashes[i]);
    }
    misses_ += count;
  }

  bool Delete(std::string_view key, uint64_t hash) override {
    ApplyPending();
    SlotId s = Find(key, hash);
    if (s == kNoSlot) return false;
    Remove(s, hash, Cause::kDeleted);
    return true;
  }

  uint64_t InvalidateTag(std::string_view tag) override {
    ApplyPending();
    std::vector<SlotId> victims;
    members_.MembersOfTag(tag, &victims);
    return RemoveAll(victims);
  }

  uint64_t InvalidatePrefix(std::string_view prefix) override {
    ApplyPending();
    return InvalidateMatching(
        prefix, [prefix](std::string_view key) { return key.substr(0, prefix.size()) == prefix; });
  }

  uint64_t InvalidateGlob(std::string_view glob, std::string_view literal_prefix) override {
    ApplyPending();
    return InvalidateMatching(literal_prefix,
                              [glob](std::string_view key) { return GlobMatch(glob, key); });
  }

  uint64_t Clear() override {
    ApplyPending();
    uint64_t removed = entries_;
    if (limits_.on_removal != nullptr && *limits_.on_removal) {
      for (SlotId s = slots_.FirstEntryId(); s < slots_.EndId(); ++s) {
        if (slots_.IsLive(s)) Notify(s, Cause::kInvalidated);
      }
    }
    store_->ReleaseAll();
    slots_.Reset();
    index_.Clear();
    members_.Clear();
    policy_.Reset();
    invalidations_ += removed;
    entries_ = 0;
    bytes_ = 0;
    return removed;
  }

  uint64_t Expire(int64_t now) override {
    ApplyPending();
    uint64_t before = expirations_;
    AdvanceWheel(Monotonic(now), /*exact=*/true);
    return expirations_ - before;
  }

  void AddStats(Stats* s) const override {
    s->hits += hits_;
    s->stale_hits += stale_hits_;
    s->misses += misses_;
    s->sets += sets_;
    s->deletes += deletes_;
    s->evictions += evictions_;
    s->rejections += rejections_;
    s->expirations += expirations_;
    s->invalidations += invalidations_;
    s->entries += entries_;
    s->bytes += bytes_;
    s->store_overhead_bytes += store_->OverheadBytes();
    s->window_fraction += policy_.WindowFraction();
  }

  void ForEachEntry(const std::function<void(const EntryView&)>& visit) const override {
    std::string value;
    std::vector<std::string> tags;
    for (SlotId s = slots_.FirstEntryId(); s < slots_.EndId(); ++s) {
      if (!slots_.IsLive(s) || !store_->ReadValue(slots_.Data(s), &value).ok()) continue;
      tags.clear();
      if (slots_.Flag(s, SlotTable::kFlagMembers)) members_.AppendTagsOf(s, &tags);
      visit(EntryView{store_->Key(slots_.Data(s)), &value, slots_.FreshUntil(s),
                      slots_.StaleUntil(s), &tags});
    }
  }

  uint64_t entries() const override { return entries_; }
  uint64_t bytes() const override { return bytes_; }
  Status Flush() override { return store_->Flush(); }

 private:
  static uint64_t EntryCap(const ShardLimits& limits) {
    // Sentinels take a few hundred slot ids; keep clear of the index's 22-bit slot ids.
    uint64_t hard = kMaxSlotsPerShard - 512;
    return limits.max_entries == 0 ? hard : std::min<uint64_t>(limits.max_entries, hard);
  }

  // The policy hears of lookups (and of rewrites that change no weight) in order, in
  // batches: each is queued here and applied when the queue fills or before anything else
  // touches the policy or frees a slot (Remove, and every entry point but Get, Peek and
  // such a rewrite, applies the queue first). So eviction sees exactly what it would have
  // seen had each gone straight to the policy (the trace replays prove it), while a batch
  // lets the sketch and queue misses of many lookups overlap instead of each lookup
  // waiting for its own.
  enum class PendingKind : uint32_t { kHit, kMiss, kRewrite };
  struct PendingAccess {
    uint64_t hash;
    SlotId slot;  // kNoSlot for a miss
    PendingKind kind;
  };
  // 64 lookups: enough to overlap their misses, few enough that a batch stays in L1.
  static constexpr size_t kPendingCapacity = 64;
  void Defer(uint64_t hash, SlotId slot, PendingKind kind) {
    pending_[pending_count_++] = PendingAccess{hash, slot, kind};
    if (pending_count_ == kPendingCapacity) ApplyPending();
  }
  void ApplyPending() {
    const size_t count = pending_count_;
    if (count == 0) return;
    pending_count_ = 0;  // before the policy runs: nothing it calls may see these again
    // Two stages of prefetch ahead of the one being applied: the slot's own links, then
    // (once they have arrived) its queue neighbours and its sketch block.
    constexpr size_t kLinksAhead = 8, kNeighboursAhead = 4;
    for (size_t i = 0; i < std::min(count, kLinksAhead); ++i) PrefetchLinks(pending_[i]);
    for (size_t i = 0; i < count; ++i) {
      if (i + kLinksAhead < count) PrefetchLinks(pending_[i + kLinksAhead]);
      if (i + kNeighboursAhead < count) {
        const PendingAccess& ahead = pending_[i + kNeighboursAhead];
        policy_.Prefetch(ahead.hash);
        if (ahead.slot != kNoSlot) slots_.PrefetchNeighbours(ahead.slot);
      }
      const PendingAccess& access = pending_[i];
      switch (access.kind) {
        case PendingKind::kHit:
          policy_.OnAccess(access.slot, access.hash);
          break;
        case PendingKind::kMiss:
          policy_.OnMiss(access.hash);
          break;
        case PendingKind::kRewrite:
          policy_.OnWeightChange(access.slot, 0, 0);  // moved as a write moves it
          break;
      }
    }
  }
  void PrefetchLinks(const PendingAccess& access) const {
    if (access.slot != kNoSlot) slots_.PrefetchLinks(access.slot);
  }

  int64_t Monotonic(int64_t now) {
    if (now > last_now_) last_now_ = now;
    return last_now_;
  }

  SlotId Find(std::string_view key, uint64_t hash) const {
    return index_.Find(hash, [&](SlotId s) { return SameKey(store_->Key(slots_.Data(s)), key); });
  }

  std::string_view NamespaceOf(std::string_view key) const {
    if (limits_.namespace_separator == '\0' || key.empty()) return {};
#if defined(__GLIBC__)
    // Every write asks; glibc's memrchr scans a vector at a time where rfind goes byte by
    // byte (a tenth of a small write's CPU).
    const void* found = memrchr(key.data(), limits_.namespace_separator, key.size());
    if (found == nullptr) return {};
    return key.substr(0, static_cast<size_t>(static_cast<const char*>(found) - key.data()) + 1);
#else
    size_t last = key.rfind(limits_.namespace_separator);
    return last == std::string_view::npos ? std::string_view() : key.substr(0, last + 1);
#endif
  }

  uint64_t Charge(SlotId s) const {
    StoreHandle h = slots_.Data(s);
    uint64_t memberships = slots_.Flag(s, SlotTable::kFlagMembers) ? members_.CountOf(s) : 0;
    return store_->Key(h).size() + store_->ValueSize(h) + kEntryChargeBytes +
           kTagChargeBytes * memberships;
  }

  void SetTimes(SlotId s, int64_t fresh_until, int64_t stale_until) {
    int64_t fresh = std::min(fresh_until, kNeverMs);
    slots_.SetFreshUntil(s, fresh);
    int64_t grace = fresh >= kNeverMs ? 0 : std::max<int64_t>(0, stale_until - fresh);
    slots_.SetGraceCode(s, SlotTable::EncodeGrace(grace));
  }

  void AddMemberships(SlotId s, const std::vector<std::string>* tags, std::string_view ns) {
    bool any = false;
    if (tags != nullptr) {
      for (const std::string& tag : *tags) {
        members_.Add(s, MembershipIndex::Kind::kTag, tag);
        any = true;
      }
    }
    if (!ns.empty()) {
      members_.Add(s, MembershipIndex::Kind::kNamespace, ns);
      any = true;
    }
    slots_.SetFlag(s, SlotTable::kFlagMembers, any);
  }

  Lookup Describe(SlotId s, int64_t now) const {
    int64_t fresh = slots_.FreshUntil(s);
    int64_t stale = slots_.StaleUntil(s);
    Lookup lookup;
    lookup.stale_remaining_ms = stale >= kNeverMs ? kNoExpiry : stale - now;
    if (now < fresh) {
      lookup.state = Freshness::kFresh;
      lookup.fresh_remaining_ms = fresh >= kNeverMs ? kNoExpiry : fresh - now;
    } else {
      lookup.state = Freshness::kStale;
    }
    return lookup;
  }

  void Notify(SlotId s, Cause cause) {
    (*limits_.on_removal)((limits_.shard_index << kRefSlotBits) | s, store_->Key(slots_.Data(s)),
                          cause);
  }

  void Remove(SlotId s, uint64_t hash, Cause cause) {
    ApplyPending();  // every entry point already did; a freed slot must not be in pending_
    if (limits_.on_removal != nullptr && *limits_.on_removal) Notify(s, cause);
    uint64_t charge = Charge(s);
    policy_.OnRemove(s);
    TimerWheel::Cancel(slots_, s);
    index_.Erase(s, hash);
    if (slots_.Flag(s, SlotTable::kFlagMembers)) members_.RemoveAll(s);
    store_->Release(slots_.Data(s));
    slots_.Free(s);
    --entries_;
    bytes_ -= charge;
    switch (cause) {
      case Cause::kDeleted:
        ++deletes_;
        break;
      case Cause::kEvicted:
        ++evictions_;
        break;
      case Cause::kRejected:
        ++rejections_;
        break;
      case Cause::kExpired:
        ++expirations_;
        break;
      case Cause::kInvalidated:
        ++invalidations_;
        break;
    }
  }

  uint64_t RemoveAll(const std::vector<SlotId>& victims) {
    for (SlotId s : victims) Remove(s, HashOf(s), Cause::kInvalidated);
    return victims.size();
  }

  bool OverLimit() const {
    return entries_ > entry_cap_ || (limits_.max_bytes != 0 && bytes_ > limits_.max_bytes);
  }

  void MakeRoom() {
    policy_.BeginEviction();
    while (OverLimit()) {
      bool rejected = false;
      SlotId victim = policy_.PickVictim(&rejected);
      if (victim == kNoSlot) break;  // unreachable while entries exist; never loop forever
      Remove(victim, HashOf(victim), rejected ? Cause::kRejected : Cause::kEvicted);
    }
    policy_.Climb();
  }

  void AdvanceWheel(int64_t now, bool exact) {
    wheel_.Advance(
        slots_, now, exact, [this](SlotId s) { return slots_.StaleUntil(s); },
        [this](SlotId s) { Remove(s, HashOf(s), Cause::kExpired); });
  }

  // Removes the keys for which matches(key) holds, visiting only the namespaces that can hold
  // them when `prefix` reaches a separator; otherwise (no index, or a prefix without a
  // separator) it has to look at every entry.
  template <typename Matches>
  uint64_t InvalidateMatching(std::string_view prefix, Matches&& matches) {
    std::vector<SlotId> victims;
    char sep = limits_.namespace_separator;
    size_t last_sep = sep == '\0' ? std::string_view::npos : prefix.rfind(sep);
    if (last_sep != std::string_view::npos) {
      // A key starting with `prefix` has its last separator at or after the prefix's, so its
      // namespace starts with the prefix up to that separator.
      members_.ForEachNamespaceStartingWith(
          prefix.substr(0, last_sep + 1),
          [&](std::string_view, const std::vector<SlotId>& members) {
            for (SlotId s : members) {
              if (matches(store_->Key(slots_.Data(s)))) victims.push_back(s);
            }
          });
    } else {
      for (SlotId s = slots_.FirstEntryId(); s < slots_.EndId(); ++s) {
        if (slots_.IsLive(s) && matches(store_->Key(slots_.Data(s)))) victims.push_back(s);
      }
    }
    return RemoveAll(victims);
  }

  // Takes in what the store kept from an earlier run (a persistent store), dropping what
  // expired meanwhile and evicting what no longer fits the bounds.
  void Adopt(int64_t now) {
    store_->Recover([&](const RecoveredEntry& e) {
      uint64_t hash = HashKey(e.key, limits_.hash_seed);
      if (e.stale_until_ms <= now || Find(e.key, hash) != kNoSlot) {
        store_->Release(e.handle);
        return;
      }
      SlotId s = slots_.Allocate();
      slots_.SetData(s, e.handle);
      SetTimes(s, e.fresh_until_ms, e.stale_until_ms);
      AddMemberships(s, &e.tags, NamespaceOf(e.key));
      index_.Insert(s, hash, [this](SlotId id) { return HashOf(id); });
      ++entries_;
      bytes_ += Charge(s);
      policy_.OnInsert(s);
      wheel_.Schedule(slots_, s, slots_.StaleUntil(s));
      MakeRoom();
    });
  }

  ShardLimits limits_;
  uint64_t entry_cap_;
  bool weigh_by_bytes_;
  std::unique_ptr<Store> store_;
  SlotTable slots_;
  HashIndex index_;
  MembershipIndex members_;
  TimerWheel wheel_;
  Policy policy_;
  int64_t last_now_ = 0;
  uint64_t sketch_entries_ = 1024;  // what the sketch is sized for (bytes-bounded shards grow it)
  uint64_t entries_ = 0, bytes_ = 0;
  std::array<PendingAccess, kPendingCapacity> pending_;
  size_t pending_count_ = 0;
  uint64_t hits_ = 0, stale_hits_ = 0, misses_ = 0, sets_ = 0, deletes_ = 0;
  uint64_t evictions_ = 0, rejections_ = 0, expirations_ = 0, invalidations_ = 0;
};

}  // namespace

std::unique_ptr<ShardBase> MakeShard(PolicyKind policy, const ShardLimits& limits,
                                     std::unique_ptr<Store> store, int64_t now) {
  switch (policy) {
    case PolicyKind::kLru:
      return std::make_unique<Shard<LruPolicy>>(limits, std::move(store), now);
    case PolicyKind::kSieve:
      return std::make_unique<Shard<SievePolicy>>(limits, std::move(store), now);
    case PolicyKind::kWTinyLfu:
      break;
  }
  return std::make_unique<Shard<WTinyLfuPolicy>>(limits, std::move(store), now);
}

}  // namespace tickcache
