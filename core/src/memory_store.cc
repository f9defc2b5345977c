// memory_store.cc: the default Store: keys and values packed into size-classed slabs.
//
// One malloc per entry would cost 8-24 bytes of allocator overhead per entry and scatter
// entries across the heap. Instead each entry is one block [varint key length][varint value
// length][key][value] in a slab class whose block size is the smallest that fits: classes
// step by 8 bytes up to 256, then by ~12.5%, so rounding wastes little. Blocks are carved
// from 64 KiB pages; freed blocks go on a per-class free list threaded through the blocks
// themselves. Blocks larger than the last class are allocated one by one.
//
// A handle is class (6 bits) | block index within the class (26 bits).
// Invariants: a live handle's block holds exactly one entry; a free block's first 4 bytes
// hold the next free index (+1, 0 = end); pages are never moved (handles stay valid).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "tickcache/store.h"

namespace tickcache {
namespace {

constexpr uint32_t kClassBits = 6;
constexpr uint32_t kIndexBits = 32 - kClassBits;
constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;
constexpr size_t kPageBytes = 64 * 1024;

constexpr uint32_t kLastEvenClassBytes = 256;  // classes step by 8 up to here

std::vector<uint32_t> MakeClassSizes() {
  std::vector<uint32_t> sizes;
  for (uint32_t s = 16; s <= kLastEvenClassBytes; s += 8) sizes.push_back(s);
  uint32_t s = kLastEvenClassBytes;
  while (sizes.size() < (1u << kClassBits) - 1) {
    s = ((s + s / 8) + 7) & ~7u;
    sizes.push_back(s);
  }
  return sizes;  // the last id, 63, is "large": one allocation per block
}

size_t VarintSize(uint32_t v) {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
char* PutVarint(char* p, uint32_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
const char* GetVarint(const char* p, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0;; shift += 7) {
    auto byte = static_cast<uint8_t>(*p++);
    result |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  *v = result;
  return p;
}

class MemoryStore final : public Store {
 public:
  MemoryStore() : class_sizes_(MakeClassSizes()), classes_(class_sizes_.size()) {
    for (uint32_t size : class_sizes_) {
      uint32_t shift = 0;
      while ((size_t{2} << shift) * size <= kPageBytes) ++shift;
      page_shift_.push_back(shift);
    }
  }

  Result<StoreHandle> Put(std::string_view key, std::string_view value,
                          const StoredMeta& /*meta*/) override {
    size_t need = BlockBytes(key.size(), value.size());
    uint32_t cls = ClassFor(need);
    char* block;
    StoreHandle handle =
        cls == kLargeClass ? AllocateLarge(need, &block) : AllocateSmall(cls, &block);
    Write(block, key, value);
    used_bytes_ += key.size() + value.size();
    return handle;
  }

  // An update whose block size class is unchanged (the common case: a new price, the same
  // shape of JSON) rewrites the block in place: no free-list traffic, no new cache line.
  Result<StoreHandle> Replace(StoreHandle old, std::string_view key, std::string_view value,
                              const StoredMeta& meta) override {
    uint32_t old_key_len, old_value_len;
    Header(Block(old), &old_key_len, &old_value_len);
    size_t need = BlockBytes(key.size(), value.size());
    uint32_t cls = old >> kIndexBits;
    if (cls == kLargeClass || ClassFor(need) != cls) {
      Result<StoreHandle> handle = Put(key, value, meta);
      if (handle.ok()) Release(old);
      return handle;
    }
    Write(const_cast<char*>(Block(old)), key, value);
    used_bytes_ += value.size();
    used_bytes_ -= old_value_len;
    return old;
  }

  std::string_view Key(StoreHandle handle) const override {
    const char* block = Block(handle);
    // The index compares keys through here, and a match is read next: fetch every line of
    // the block now, before its header arrives (the class says how long it is), rather than
    // one miss at a time during the compare and the copy.
    const uint32_t cls = handle >> kIndexBits;
    if (cls != kLargeClass) PrefetchLines(block, class_sizes_[cls]);
    uint32_t key_len, value_len;
    const char* p = Header(block, &key_len, &value_len);
    if (cls == kLargeClass) PrefetchLines(p, key_len + value_len);
    return {p, key_len};
  }
  uint32_t ValueSize(StoreHandle handle) const override {
    uint32_t key_len, value_len;
    Header(Block(handle), &key_len, &value_len);
    return value_len;
  }
  Status ReadValue(StoreHandle handle, std::string* out) const override {
    uint32_t key_len, value_len;
    const char* p = Header(Block(handle), &key_len, &value_len);
    out->assign(p + key_len, value_len);
    return Status::Ok();
  }

  void Release(StoreHandle handle) override {
    uint32_t key_len, value_len;
    Header(Block(handle), &key_len, &value_len);
    used_bytes_ -= key_len + value_len;
    uint32_t cls = handle >> kIndexBits;
    uint32_t index = handle & kIndexMask;
    if (cls == kLargeClass) {
      std::free(large_[index]);
      large_[index] = nullptr;
      large_free_.push_back(index);
      return;
    }
    SizeClass& c = classes_[cls];
    uint32_t link = c.free_head;
    std::memcpy(BlockIn(cls, index), &link, sizeof(link));
    c.free_head = index + 1;
    --c.live;
  }

  void ReleaseAll() override {
    for (SizeClass& c : classes_) c = SizeClass{};
    for (char* p : large_) std::free(p);
    large_.clear();
    large_free_.clear();
    used_bytes_ = 0;
  }

  uint64_t OverheadBytes() const override {
    uint64_t reserved = 0;
    for (size_t cls = 0; cls < classes_.size(); ++cls) {
      reserved += classes_[cls].pages.size() * PageBytesFor(static_cast<uint32_t>(cls));
    }
    for (char* p : large_) reserved += p != nullptr ? 16 : 0;  // allocator headers, roughly
    return reserved > used_bytes_ ? reserved - used_bytes_ : 0;
  }

  ~MemoryStore() override { ReleaseAll(); }

 private:
  static constexpr uint32_t kLargeClass = (1u << kClassBits) - 1;

  struct SizeClass {
    std::vector<std::unique_ptr<char[]>> pages;
    uint32_t carved = 0;     // blocks handed out from pages so far
    uint32_t free_head = 0;  // index + 1 of the first free block, 0: none
    uint32_t live = 0;
  };

  uint32_t ClassFor(size_t need) const {
    if (need > class_sizes_.back()) return kLargeClass;
    // The small classes step by 8 from 16 (MakeClassSizes): arithmetic, on every write.
    if (need <= kLastEvenClassBytes) return need <= 16 ? 0 : static_cast<uint32_t>((need - 9) / 8);
    // Above them, binary: classes are sorted.
    size_t lo = 0, hi = class_sizes_.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (class_sizes_[mid] < need) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return static_cast<uint32_t>(lo);
  }
  // Blocks per page is a power of two so finding a block is a shift and a mask: this sits
  // on every lookup's path (the index compares keys through Key()).
  uint32_t PageShift(uint32_t cls) const { return page_shift_[cls]; }
  size_t PageBytesFor(uint32_t cls) const {
    return (size_t{1} << page_shift_[cls]) * class_sizes_[cls];
  }
  char* BlockIn(uint32_t cls, uint32_t index) const {
    uint32_t shift = page_shift_[cls];
    return classes_[cls].pages[index >> shift].get() +
           (index & ((1u << shift) - 1)) * class_sizes_[cls];
  }
  const char* Block(StoreHandle handle) const {
    uint32_t cls = handle >> kIndexBits;
    uint32_t index = handle & kIndexMask;
    return cls == kLargeClass ? large_[index] : BlockIn(cls, index);
  }
  // The lines after the first of [start, start + bytes): the first is about to be read.
  static void PrefetchLines(const char* start, size_t bytes) {
    const size_t into_first = reinterpret_cast<uintptr_t>(start) & 63;
    for (size_t offset = 64 - into_first; offset < bytes; offset += 64) {
      __builtin_prefetch(start + offset);
    }
  }
  static size_t BlockBytes(size_t key_len, size_t value_len) {
    return VarintSize(static_cast<uint32_t>(key_len)) +
           VarintSize(static_cast<uint32_t>(value_len)) + key_len + value_len;
  }
  static void Write(char* block, std::string_view key, std::string_view value) {
    char* p = PutVarint(block, static_cast<uint32_t>(key.size()));
    p = PutVarint(p, static_cast<uint32_t>(value.size()));
    std::memcpy(p, key.data(), key.size());
    std::memcpy(p + key.size(), value.data(), value.size());
  }
  static const char* Header(const char* block, uint32_t* key_len, uint32_t* value_len) {
    const char* p = GetVarint(block, key_len);
    return GetVarint(p, value_len);
  }

  StoreHandle AllocateSmall(uint32_t cls, char** block) {
    SizeClass& c = classes_[cls];
    uint32_t index;
    if (c.free_head != 0) {
      index = c.free_head - 1;
      std::memcpy(&c.free_head, BlockIn(cls, index), sizeof(uint32_t));
    } else {
      size_t per_page = size_t{1} << PageShift(cls);
      if (c.carved == c.pages.size() * per_page) {
        c.pages.emplace_back(new char[PageBytesFor(cls)]);
      }
      index = c.carved++;
    }
    ++c.live;
    *block = BlockIn(cls, index);
    return (cls << kIndexBits) | index;
  }

  StoreHandle AllocateLarge(size_t need, char** block) {
    char* p = static_cast<char*>(std::malloc(need));
    if (p == nullptr) std::abort();  // as new would: the cache cannot continue without memory
    uint32_t index;
    if (!large_free_.empty()) {
      index = large_free_.back();
      large_free_.pop_back();
      large_[index] = p;
    } else {
      index = static_cast<uint32_t>(large_.size());
      large_.push_back(p);
    }
    *block = p;
    return (kLargeClass << kIndexBits) | index;
  }

  std::vector<uint32_t> class_sizes_;
  std::vector<uint32_t> page_shift_;  // log2 of blocks per page, per class
  std::vector<SizeClass> classes_;
  std::vector<char*> large_;
  std::vector<uint32_t> large_free_;
  uint64_t used_bytes_ = 0;
};

}  // namespace

StoreFactory MemoryStoreFactory() {
  return [](uint32_t, uint32_t) -> Result<std::unique_ptr<Store>> {
    return std::unique_ptr<Store>(std::make_unique<MemoryStore>());
  };
}

}  // namespace tickcache
