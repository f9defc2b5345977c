// snapshot_codec_test.cc: the snapshot format round-trips any entry it accepts, and refuses
// every damaged document (each single-byte change, each truncation, forged counts and
// lengths) with kCorruptSnapshot, without allocating from the forged numbers.
#include "snapshot_codec.h"

#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "tickcache/cache.h"

// The largest single allocation made while `g_track_allocations` is set. Replacing the global
// operator new is the only way to observe what DecodeSnapshot asks of the allocator; it and
// the matching deletes use malloc/free, which GCC 12 misreads as a mismatch in gtest's
// inline code (-Wmismatched-new-delete), hence the pragma.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<bool> g_track_allocations{false};
std::atomic<size_t> g_largest_allocation{0};
}  // namespace

void* operator new(size_t size) {
  if (g_track_allocations.load(std::memory_order_relaxed)) {
    size_t largest = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > largest && !g_largest_allocation.compare_exchange_weak(largest, size)) {
    }
  }
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, size_t) noexcept { std::free(memory); }

namespace tickcache {
namespace {

std::string RandomBytes(std::mt19937_64& random, size_t length) {
  std::string bytes(length, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random() & 0xff);
  return bytes;
}

std::vector<SnapshotEntry> RandomEntries(std::mt19937_64& random, size_t count) {
  std::vector<SnapshotEntry> entries(count);
  for (SnapshotEntry& entry : entries) {
    entry.key = RandomBytes(random, 1 + random() % 40);
    // A quarter of the values are empty; the rest any bytes, NUL and 0xff included.
    entry.value = random() % 4 == 0 ? std::string() : RandomBytes(random, random() % 300);
    switch (random() % 3) {
      case 0:
        entry.fresh_until_ms = kNoExpiry;
        entry.stale_until_ms = kNoExpiry;
        break;
      case 1:
        entry.fresh_until_ms = static_cast<int64_t>(random() >> 1) - (int64_t{1} << 62);
        entry.stale_until_ms = entry.fresh_until_ms + static_cast<int64_t>(random() % 100000);
        break;
      default:
        entry.fresh_until_ms = 1'700'000'000'000 + static_cast<int64_t>(random() % 1000);
        entry.stale_until_ms = entry.fresh_until_ms;
    }
    const size_t tags = random() % 5 == 0 ? 30 + random() % 30 : random() % 4;
    for (size_t i = 0; i < tags; ++i) entry.tags.push_back(RandomBytes(random, random() % 12));
  }
  return entries;
}

std::string Encode(const std::vector<SnapshotEntry>& entries) {
  SnapshotWriter writer;
  for (const SnapshotEntry& entry : entries) EXPECT_TRUE(writer.Add(entry).ok());
  return writer.Finish();
}

// A small document with tags, an empty value and binary bytes: the corruption target.
std::string SmallSnapshot() {
  SnapshotWriter writer;
  EXPECT_TRUE(writer.Add("price:AAPL", "189.5", 100, 200, std::vector<std::string>{"prices"}).ok());
  EXPECT_TRUE(writer.Add("k", "", 5, 5, std::vector<std::string>{}).ok());
  const std::vector<std::string_view> tags = {"a", "", "bc"};
  EXPECT_TRUE(
      writer.Add(std::string("\0\xff", 2), std::string("\x01\x00\x02", 3), -7, 9, tags).ok());
  return writer.Finish();
}

void SetChecksum(std::string* snapshot) {
  const size_t body = snapshot->size() - kSnapshotChecksumBytes;
  uint64_t checksum = XXH3_64bits(snapshot->data(), body);
  for (size_t i = 0; i < 8; ++i, checksum >>= 8) {
    (*snapshot)[body + i] = static_cast<char>(checksum & 0xff);
  }
}

void SetLittleEndian(std::string* bytes, size_t offset, uint64_t value, size_t width) {
  for (size_t i = 0; i < width; ++i, value >>= 8)
    (*bytes)[offset + i] = static_cast<char>(value & 0xff);
}

TEST(SnapshotCodecTest, RandomEntriesRoundTrip) {
  std::mt19937_64 random(20240611);
  const std::vector<SnapshotEntry> entries = RandomEntries(random, 500);
  const std::string bytes = Encode(entries);
  Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded.value().size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const SnapshotEntry& want = entries[i];
    const SnapshotEntry& got = decoded.value()[i];
    EXPECT_EQ(got.key, want.key) << "entry " << i;
    EXPECT_EQ(got.value, want.value) << "entry " << i;
    EXPECT_EQ(got.fresh_until_ms, want.fresh_until_ms) << "entry " << i;
    EXPECT_EQ(got.stale_until_ms, want.stale_until_ms) << "entry " << i;
    EXPECT_EQ(got.tags, want.tags) << "entry " << i;
  }
}

TEST(SnapshotCodecTest, LargestKeyAndTagRoundTrip) {
  SnapshotEntry entry;
  entry.key = std::string(65535, 'k');
  entry.value = std::string(1 << 20, 'v');
  entry.tags = {std::string(65535, 't'), "x"};
  entry.fresh_until_ms = 1;
  entry.stale_until_ms = 2;
  Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(Encode({entry}));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded.value().size(), 1u);
  EXPECT_EQ(decoded.value()[0].key, entry.key);
  EXPECT_EQ(decoded.value()[0].value, entry.value);
  EXPECT_EQ(decoded.value()[0].tags, entry.tags);
}

TEST(SnapshotCodecTest, EmptySnapshotIsHeaderAndChecksumOnly) {
  SnapshotWriter writer;
  const std::string bytes = writer.Finish();
  EXPECT_EQ(bytes.size(), kSnapshotHeaderBytes + kSnapshotChecksumBytes);
  EXPECT_EQ(bytes.substr(0, 8), std::string("TKCSNAP\x01", 8));
  Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded.value().empty());
}

TEST(SnapshotCodecTest, FinishLeavesAFreshWriter) {
  SnapshotWriter writer;
  ASSERT_TRUE(writer.Add("a", "1", 0, 0, std::vector<std::string>{}).ok());
  EXPECT_EQ(writer.entry_count(), 1u);
  const std::string first = writer.Finish();
  EXPECT_EQ(writer.entry_count(), 0u);
  ASSERT_TRUE(writer.Add("b", "2", 0, 0, std::vector<std::string>{}).ok());
  Result<std::vector<SnapshotEntry>> second = DecodeSnapshot(writer.Finish());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(second.value().size(), 1u);
  EXPECT_EQ(second.value()[0].key, "b");
  EXPECT_TRUE(DecodeSnapshot(first).ok());
}

TEST(SnapshotCodecTest, WriterRefusesWhatTheFormatCannotHoldAndWritesNothing) {
  SnapshotWriter writer;
  const size_t empty_size = writer.size();
  const std::vector<std::string> no_tags;
  EXPECT_EQ(writer.Add("", "v", 0, 0, no_tags).code(), ErrorCode::kEmptyKey);
  EXPECT_EQ(writer.Add(std::string(65536, 'k'), "v", 0, 0, no_tags).code(),
            ErrorCode::kKeyTooLarge);
  Status ttl = writer.Add("k", "v", 10, 9, no_tags);
  EXPECT_EQ(ttl.code(), ErrorCode::kInvalidTtl);
  EXPECT_NE(ttl.message().find("fresh_until_ms 10"), std::string::npos) << ttl.message();
  EXPECT_EQ(writer.Add("k", "v", 0, 0, std::vector<std::string>(65536, "t")).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(writer.Add("k", "v", 0, 0, std::vector<std::string>{std::string(65536, 't')}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(writer.size(), empty_size);
  EXPECT_EQ(writer.entry_count(), 0u);
  Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(writer.Finish());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded.value().empty());
}

TEST(SnapshotCodecTest, EverySingleByteCorruptionIsRefused) {
  const std::string good = SmallSnapshot();
  ASSERT_TRUE(DecodeSnapshot(good).ok());
  size_t refused = 0;
  for (size_t position = 0; position < good.size(); ++position) {
    for (int delta = 1; delta < 256; ++delta) {
      std::string bad = good;
      bad[position] = static_cast<char>(static_cast<unsigned char>(bad[position]) + delta);
      Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(bad);
      ASSERT_FALSE(decoded.ok()) << "byte " << position << " + " << delta << " was accepted";
      ASSERT_EQ(decoded.status().code(), ErrorCode::kCorruptSnapshot)
          << decoded.status().ToString();
      ++refused;
    }
  }
  EXPECT_EQ(refused, good.size() * 255);
}

TEST(SnapshotCodecTest, EveryTruncationIsRefused) {
  const std::string good = SmallSnapshot();
  for (size_t length = 0; length < good.size(); ++length) {
    Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(good.substr(0, length));
    ASSERT_FALSE(decoded.ok()) << "a snapshot cut to " << length << " bytes was accepted";
    ASSERT_EQ(decoded.status().code(), ErrorCode::kCorruptSnapshot);
  }
  // Every truncation of a larger document too, with a message that says where.
  std::mt19937_64 random(7);
  const std::string big = Encode(RandomEntries(random, 40));
  for (size_t length = 0; length < big.size(); ++length) {
    Result<std::vector<SnapshotEntry>> decoded =
        DecodeSnapshot(std::string_view(big).substr(0, length));
    ASSERT_EQ(decoded.status().code(), ErrorCode::kCorruptSnapshot) << "cut to " << length;
    if (length >= kSnapshotHeaderBytes + kSnapshotChecksumBytes) {
      ASSERT_NE(decoded.status().message().find("truncated at byte"), std::string::npos)
          << "cut to " << length << ": " << decoded.status().message();
      ASSERT_NE(decoded.status().message().find(" of 40)"), std::string::npos)
          << decoded.status().message();
    }
  }
}

TEST(SnapshotCodecTest, TrailingBytesAreRefused) {
  std::string bad = SmallSnapshot();
  bad.push_back('x');
  EXPECT_EQ(DecodeSnapshot(bad).status().code(), ErrorCode::kCorruptSnapshot);
  // Even with a checksum that covers them.
  std::string forged = SmallSnapshot();
  forged.insert(forged.size() - kSnapshotChecksumBytes, "junk");
  SetChecksum(&forged);
  Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(forged);
  ASSERT_EQ(decoded.status().code(), ErrorCode::kCorruptSnapshot);
  EXPECT_NE(decoded.status().message().find("4 unexpected bytes"), std::string::npos)
      << decoded.status().message();
}

TEST(SnapshotCodecTest, MessagesNameTheProblem) {
  const std::string good = SmallSnapshot();
  std::string flipped = good;
  flipped[kSnapshotHeaderBytes + kSnapshotEntryFixedBytes + 2] ^= 1;  // inside the first key
  EXPECT_NE(DecodeSnapshot(flipped).status().message().find("checksum mismatch"), std::string::npos)
      << DecodeSnapshot(flipped).status().message();

  EXPECT_NE(DecodeSnapshot("PK\x03\x04 a zip file, not a snapshot")
                .status()
                .message()
                .find("not a tickcache snapshot"),
            std::string::npos);

  std::string version = good;
  SetLittleEndian(&version, 8, 2, 4);
  SetChecksum(&version);
  EXPECT_NE(DecodeSnapshot(version).status().message().find("version 2"), std::string::npos)
      << DecodeSnapshot(version).status().message();

  // Structurally bad but with a valid checksum: an empty key, fresh after stale.
  SnapshotWriter writer;
  ASSERT_TRUE(writer.Add("k", "v", 1, 2, std::vector<std::string>{}).ok());
  const std::string one = writer.Finish();
  std::string empty_key = one;
  SetLittleEndian(&empty_key, kSnapshotHeaderBytes, 0, 2);
  SetChecksum(&empty_key);
  EXPECT_NE(DecodeSnapshot(empty_key).status().message().find("empty key"), std::string::npos)
      << DecodeSnapshot(empty_key).status().message();
  std::string backwards = one;
  SetLittleEndian(&backwards, kSnapshotHeaderBytes + 6, 3, 8);  // fresh_until_ms 3 > stale 2
  SetChecksum(&backwards);
  Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(backwards);
  EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruptSnapshot);
  EXPECT_NE(decoded.status().message().find("fresh_until_ms 3 after stale_until_ms 2"),
            std::string::npos)
      << decoded.status().message();
}

TEST(SnapshotCodecTest, HugeDeclaredNumbersAreRefusedWithoutAllocating) {
  // 2^60 entries in an otherwise empty document, with a checksum that matches.
  SnapshotWriter writer;
  std::string huge_count = writer.Finish();
  SetLittleEndian(&huge_count, 12, uint64_t{1} << 60, 8);
  SetChecksum(&huge_count);
  // One entry whose value claims 4 GiB, and one with 65535 tags, in a few bytes.
  ASSERT_TRUE(writer.Add("k", "v", 0, 0, std::vector<std::string>{}).ok());
  const std::string one = writer.Finish();
  std::string huge_value = one;
  SetLittleEndian(&huge_value, kSnapshotHeaderBytes + 2, 0xffffffffu, 4);
  SetChecksum(&huge_value);
  std::string many_tags = one;
  SetLittleEndian(&many_tags, kSnapshotHeaderBytes + 22, 0xffffu, 2);
  SetChecksum(&many_tags);

  for (const std::string* bad : {&huge_count, &huge_value, &many_tags}) {
    g_largest_allocation = 0;
    g_track_allocations = true;
    Result<std::vector<SnapshotEntry>> decoded = DecodeSnapshot(*bad);
    g_track_allocations = false;
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruptSnapshot);
    // Nothing beyond the error message's own strings.
    EXPECT_LT(g_largest_allocation.load(), 1024u) << decoded.status().message();
  }
  EXPECT_NE(DecodeSnapshot(huge_count).status().message().find("(entry 1 of 1152921504606846976)"),
            std::string::npos)
      << DecodeSnapshot(huge_count).status().message();
}

}  // namespace
}  // namespace tickcache
