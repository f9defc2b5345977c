// file_store_test.cc: the file-backed Store through the Store interface (put, read, release,
// touch, restart recovery, torn tails, byte bounds, write failures), and the platform file
// seam under it (atomic replacement that leaves the old file intact on failure).
//
// Failures a root user or a healthy disk never produces (EACCES, ENOSPC, a failed rename)
// are injected through platform::InjectFaultForTesting; the fixture clears them.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "platform_file.h"
#include "tickcache/cache.h"
#include "tickcache/store.h"

namespace tickcache {

// Defined in file_store.cc (not in a header yet): "name=value" counters of a file store.
std::string FileStoreDiagnostics(const Store& store);

namespace {

constexpr uint64_t kLogHeaderBytes = 20;

class TempDirectory {
 public:
  TempDirectory() {
    std::string pattern = testing::TempDir();
    if (pattern.empty() || pattern.back() != '/') pattern += '/';
    pattern += "tickcache-files-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) != nullptr) path_ = buffer.data();
  }
  ~TempDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t FileSize(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(info.st_size);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

uint64_t Counter(const Store& store, const std::string& name) {
  const std::string text = " " + FileStoreDiagnostics(store);
  const size_t at = text.find(" " + name + "=");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no counter " << name << " in \"" << text << "\"";
    return UINT64_MAX;
  }
  return std::stoull(text.substr(at + name.size() + 2));
}

std::unique_ptr<Store> OpenStore(const std::string& directory, uint64_t max_file_bytes = 0,
                                 uint32_t shard_index = 0, uint32_t shard_count = 1) {
  Result<std::unique_ptr<Store>> store =
      FileStoreFactory(directory, max_file_bytes)(shard_index, shard_count);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

struct Entry {
  std::string value;
  int64_t fresh_until_ms = 0;
  int64_t stale_until_ms = 0;
  std::vector<std::string> tags;
  bool operator==(const Entry& other) const {
    return value == other.value && fresh_until_ms == other.fresh_until_ms &&
           stale_until_ms == other.stale_until_ms && tags == other.tags;
  }
};

std::ostream& operator<<(std::ostream& out, const Entry& entry) {
  out << "{" << entry.value.size() << " bytes, fresh " << entry.fresh_until_ms << ", stale "
      << entry.stale_until_ms << ", " << entry.tags.size() << " tags}";
  return out;
}

// Everything Recover reports, with each value read back through the store.
std::map<std::string, Entry> RecoverAll(Store& store) {
  std::map<std::string, Entry> found;
  store.Recover([&](const RecoveredEntry& recovered) {
    Entry entry;
    Status status = store.ReadValue(recovered.handle, &entry.value);
    EXPECT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(entry.value.size(), recovered.value_size);
    EXPECT_EQ(store.Key(recovered.handle), recovered.key);
    entry.fresh_until_ms = recovered.fresh_until_ms;
    entry.stale_until_ms = recovered.stale_until_ms;
    entry.tags = recovered.tags;
    EXPECT_TRUE(found.emplace(std::string(recovered.key), entry).second)
        << "key reported twice: " << recovered.key;
  });
  return found;
}

StoreHandle MustPut(Store& store, const std::string& key, const Entry& entry) {
  StoredMeta meta;
  meta.fresh_until_ms = entry.fresh_until_ms;
  meta.stale_until_ms = entry.stale_until_ms;
  meta.tags = &entry.tags;
  Result<StoreHandle> handle = store.Put(key, entry.value, meta);
  EXPECT_TRUE(handle.ok()) << key << ": " << handle.status().ToString();
  return handle.ok() ? handle.value() : UINT32_MAX;
}

Entry Lasting(std::string value, std::vector<std::string> tags = {}) {
  Entry entry;
  entry.value = std::move(value);
  entry.fresh_until_ms = WallNowMs() + 3'600'000;
  entry.stale_until_ms = entry.fresh_until_ms + 3'600'000;
  entry.tags = std::move(tags);
  return entry;
}

class FileStoreTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed"; }
  void TearDown() override { platform::ClearFaultsForTesting(); }
  std::string LogPath(uint32_t index = 0, uint32_t count = 1) const {
    return dir_.Join("shard-" + std::to_string(index) + "-of-" + std::to_string(count) + ".log");
  }
  TempDirectory dir_;
};

TEST_F(FileStoreTest, PutReadRelease) {
  std::unique_ptr<Store> store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  const std::string binary("\0\x01\xff\n", 4);
  const StoreHandle a = MustPut(*store, "price:AAPL", Lasting("189.5", {"prices"}));
  const StoreHandle b = MustPut(*store, "empty", Lasting(""));
  const StoreHandle c = MustPut(*store, binary, Lasting(binary + binary));
  EXPECT_EQ(store->Key(a), "price:AAPL");
  EXPECT_EQ(store->Key(c), binary);
  EXPECT_EQ(store->ValueSize(a), 5u);
  EXPECT_EQ(store->ValueSize(b), 0u);
  std::string value = "stale contents";
  ASSERT_TRUE(store->ReadValue(a, &value).ok());
  EXPECT_EQ(value, "189.5");
  ASSERT_TRUE(store->ReadValue(b, &value).ok());
  EXPECT_EQ(value, "");
  ASSERT_TRUE(store->ReadValue(c, &value).ok());
  EXPECT_EQ(value, binary + binary);

  store->Release(b);
  EXPECT_EQ(store->Key(b), "");
  EXPECT_EQ(store->ReadValue(b, &value).code(), ErrorCode::kInvalidArgument);
  // Handles are dense: the freed one is handed out again.
  EXPECT_EQ(MustPut(*store, "next", Lasting("n")), b);
  EXPECT_EQ(store->Key(b), "next");
  EXPECT_GT(store->OverheadBytes(), 0u);
  EXPECT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->Put("", "v", StoredMeta()).status().code(), ErrorCode::kEmptyKey);
  EXPECT_EQ(store->Put(std::string(65536, 'k'), "v", StoredMeta()).status().code(),
            ErrorCode::kKeyTooLarge);
}

TEST_F(FileStoreTest, ReopenRecoversExactlyTheLiveEntries) {
  std::map<std::string, Entry> expected;
  {
    std::unique_ptr<Store> store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    std::mt19937_64 random(42);
    std::map<std::string, StoreHandle> handles;
    for (int i = 0; i < 60; ++i) {
      const std::string key = "key:" + std::to_string(i);
      Entry entry = Lasting(std::string(random() % 200, static_cast<char>('a' + i % 26)));
      if (i % 3 == 0) entry.tags = {"tag:" + std::to_string(i % 7), "all", ""};
      if (i % 5 == 0) entry.fresh_until_ms = entry.stale_until_ms = kNoExpiry;
      handles[key] = MustPut(*store, key, entry);
      expected[key] = entry;
    }
    for (int i = 0; i < 60; i += 6) {  // released: must not come back
      store->Release(handles["key:" + std::to_string(i)]);
      expected.erase("key:" + std::to_string(i));
    }
    for (int i = 1; i < 60; i += 10) {  // touched: the new times must come back
      Entry& entry = expected["key:" + std::to_string(i)];
      entry.fresh_until_ms += 1234;
      entry.stale_until_ms += 99'999;
      StoredMeta meta;
      meta.fresh_until_ms = entry.fresh_until_ms;
      meta.stale_until_ms = entry.stale_until_ms;
      store->Touch(handles["key:" + std::to_string(i)], meta);
    }
    for (int i = 2; i < 60; i += 10) {  // overwritten as a cache does: put new, release old
      const std::string key = "key:" + std::to_string(i);
      Entry entry = Lasting("new value " + std::to_string(i), {"fresh"});
      const StoreHandle old = handles[key];
      handles[key] = MustPut(*store, key, entry);
      store->Release(old);
      expected[key] = entry;
    }
    Entry expired = Lasting("gone");
    expired.fresh_until_ms = WallNowMs() - 2000;
    expired.stale_until_ms = WallNowMs() - 1000;
    MustPut(*store, "expired:1", expired);
    MustPut(*store, "expired:2", expired);
    ASSERT_TRUE(store->Flush().ok());
  }
  std::unique_ptr<Store> reopened = OpenStore(dir_.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(RecoverAll(*reopened), expected);
  EXPECT_EQ(Counter(*reopened, "expired_dropped"), 2u);
  EXPECT_EQ(Counter(*reopened, "torn_tail_bytes"), 0u);
  // A second restart sees the same (nothing was lost by the first open's bookkeeping).
  reopened.reset();
  reopened = OpenStore(dir_.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(RecoverAll(*reopened), expected);
}

TEST_F(FileStoreTest, LastPutOfAKeyWinsWhenTheOldOneWasNeverReleased) {
  {
    std::unique_ptr<Store> store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    // Crashes before the old handles' releases: the last put of the key wins.
    for (int i = 0; i < 10; ++i) MustPut(*store, "k", Lasting("put " + std::to_string(i)));
  }
  std::unique_ptr<Store> reopened = OpenStore(dir_.path());
  ASSERT_NE(reopened, nullptr);
  const std::map<std::string, Entry> found = RecoverAll(*reopened);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.at("k").value, "put 9");
  EXPECT_EQ(Counter(*reopened, "superseded_dropped"), 9u);
}

TEST_F(FileStoreTest, EntriesReleasedBeforeRecoverAreNotReported) {
  {
    std::unique_ptr<Store> store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    for (const char* key : {"a", "b", "c"}) MustPut(*store, key, Lasting(key));
  }
  std::unique_ptr<Store> reopened = OpenStore(dir_.path());
  ASSERT_NE(reopened, nullptr);
  const std::string released(reopened->Key(0));
  ASSERT_FALSE(released.empty());
  reopened->Release(0);
  // The freed handle goes to a new entry, which is the cache's already, not a recovered one.
  EXPECT_EQ(MustPut(*reopened, "new", Lasting("n")), 0u);
  const std::map<std::string, Entry> found = RecoverAll(*reopened);
  EXPECT_EQ(found.size(), 2u);
  EXPECT_EQ(found.count(released), 0u);
  EXPECT_EQ(found.count("new"), 0u);
}

TEST_F(FileStoreTest, ReleaseAllLeavesNothingForTheNextOpen) {
  {
    std::unique_ptr<Store> store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 100; ++i) MustPut(*store, "k" + std::to_string(i), Lasting("v"));
    store->ReleaseAll();
    EXPECT_EQ(FileSize(LogPath()), kLogHeaderBytes);
    MustPut(*store, "after", Lasting("clear"));
  }
  std::unique_ptr<Store> reopened = OpenStore(dir_.path());
  ASSERT_NE(reopened, nullptr);
  const std::map<std::string, Entry> found = RecoverAll(*reopened);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.at("after").value, "clear");
}

TEST_F(FileStoreTest, TouchedTimesSurviveCompactionAndRestart) {
  Entry entry = Lasting("value", {"t"});
  {
    std::unique_ptr<Store> store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    const StoreHandle handle = MustPut(*store, "k", entry);
    // Enough touch records (dead on arrival) to pass the 64 KiB compaction threshold.
    for (int i = 1; i <= 5000; ++i) {
      entry.fresh_until_ms += 1;
      entry.stale_until_ms += 2;
      StoredMeta meta;
      meta.fresh_until_ms = entry.fresh_until_ms;
      meta.stale_until_ms = entry.stale_until_ms;
      store->Touch(handle, meta);
    }
    EXPECT_GE(Counter(*store, "compactions"), 1u);
    EXPECT_LT(FileSize(LogPath()), 100u * 1024);
    // One more touch, then churn another key until a compaction has folded that touch into
    // the put record and left the touch record behind.
    entry.fresh_until_ms += 7;
    entry.stale_until_ms += 7000;
    StoredMeta meta;
    meta.fresh_until_ms = entry.fresh_until_ms;
    meta.stale_until_ms = entry.stale_until_ms;
    store->Touch(handle, meta);
    const uint64_t compactions = Counter(*store, "compactions");
    StoreHandle churn = MustPut(*store, "churn", Lasting(std::string(1000, 'c')));
    for (int i = 0; i < 1000 && Counter(*store, "compactions") == compactions; ++i) {
      const StoreHandle next = MustPut(*store, "churn", Lasting(std::string(1000, 'c')));
      store->Release(churn);
      churn = next;
    }
    ASSERT_GT(Counter(*store, "compactions"), compactions);
    store->Release(churn);
  }
  std::unique_ptr<Store> reopened = OpenStore(dir_.path());
  ASSERT_NE(reopened, nullptr);
  const std::map<std::string, Entry> found = RecoverAll(*reopened);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.at("k"), entry);
}

// Writes five entries and returns the log size after each one.
std::vector<uint64_t> WriteFive(const std::string& directory, const std::string& log) {
  std::vector<uint64_t> ends;
  std::unique_ptr<Store> store = OpenStore(directory);
  if (store == nullptr) return ends;
  for (int i = 0; i < 5; ++i) {
    MustPut(*store, "key" + std::to_string(i),
            Lasting(std::string(40, static_cast<char>('a' + i)), {"tag"}));
    ends.push_back(FileSize(log));
  }
  return ends;
}

TEST_F(FileStoreTest, GarbageAppendedToTheLogIsCutOff) {
  const std::vector<uint64_t> ends = WriteFive(dir_.path(), LogPath());
  ASSERT_EQ(ends.size(), 5u);
  std::mt19937_64 random(1);
  std::string garbage(1000, '\0');
  for (char& byte : garbage) byte = static_cast<char>(random());
  WriteFile(LogPath(), ReadFile(LogPath()) + garbage);

  std::unique_ptr<Store> store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RecoverAll(*store).size(), 5u);
  EXPECT_EQ(Counter(*store, "torn_tail_bytes"), 1000u);
  EXPECT_EQ(FileSize(LogPath()), ends[4]);
  // New records after the cut are read back after another restart.
  MustPut(*store, "later", Lasting("x"));
  store.reset();
  store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RecoverAll(*store).size(), 6u);
  EXPECT_EQ(Counter(*store, "torn_tail_bytes"), 0u);
}

TEST_F(FileStoreTest, EveryCutOfTheLastRecordRecoversThePrefix) {
  const std::vector<uint64_t> ends = WriteFive(dir_.path(), LogPath());
  ASSERT_EQ(ends.size(), 5u);
  const std::string whole = ReadFile(LogPath());
  ASSERT_EQ(whole.size(), ends[4]);
  for (uint64_t cut = ends[3] + 1; cut < ends[4]; ++cut) {
    WriteFile(LogPath(), whole.substr(0, cut));
    std::unique_ptr<Store> store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    const std::map<std::string, Entry> found = RecoverAll(*store);
    ASSERT_EQ(found.size(), 4u) << "cut at " << cut;
    ASSERT_EQ(found.count("key4"), 0u);
    ASSERT_EQ(Counter(*store, "torn_tail_bytes"), cut - ends[3]);
    ASSERT_EQ(FileSize(LogPath()), ends[3]);
  }
}

TEST_F(FileStoreTest, ADamagedRecordEndsTheTrustedPrefix) {
  const std::vector<uint64_t> ends = WriteFive(dir_.path(), LogPath());
  ASSERT_EQ(ends.size(), 5u);
  const std::string whole = ReadFile(LogPath());
  // In the third record: a time (only the checksum notices), the value length (the layout
  // no longer adds up), the last value byte (only the checksum notices).
  for (uint64_t position : {ends[1] + 12, ends[1] + 30, ends[2] - 1}) {
    std::string bytes = whole;
    bytes[position] ^= 0x20;
    WriteFile(LogPath(), bytes);
    std::unique_ptr<Store> store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    const std::map<std::string, Entry> found = RecoverAll(*store);
    EXPECT_EQ(found.size(), 2u) << "byte " << position;
    EXPECT_EQ(found.count("key0") + found.count("key1"), 2u);
    EXPECT_EQ(Counter(*store, "torn_tail_bytes"), ends[4] - ends[1]);
    EXPECT_EQ(FileSize(LogPath()), ends[1]);
  }
}

TEST_F(FileStoreTest, ReadValueNoticesDamageWhileOpen) {
  std::unique_ptr<Store> store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  const StoreHandle handle = MustPut(*store, "k", Lasting("abcdefgh"));
  std::string bytes = ReadFile(LogPath());
  bytes[bytes.size() - 2] ^= 1;  // a value byte
  {
    std::fstream out(LogPath(), std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(bytes.size() - 2));
    out.put(bytes[bytes.size() - 2]);
  }
  std::string value;
  Status status = store->ReadValue(handle, &value);
  EXPECT_EQ(status.code(), ErrorCode::kIoError);
  EXPECT_NE(status.message().find("checksum"), std::string::npos) << status.message();
}

TEST_F(FileStoreTest, FileStaysUnderItsBoundAcross10000Overwrites) {
  const uint64_t bound = 64 * 1024;
  std::unique_ptr<Store> store = OpenStore(dir_.path(), bound);
  ASSERT_NE(store, nullptr);
  std::vector<StoreHandle> handles(100, UINT32_MAX);
  std::vector<std::string> latest(100);
  uint64_t largest = 0;
  for (int i = 0; i < 10000; ++i) {
    const size_t key = static_cast<size_t>(i) % 100;
    latest[key] = std::string(100, static_cast<char>('a' + i % 26)) + std::to_string(i);
    const StoreHandle fresh = MustPut(*store, "key:" + std::to_string(key), Lasting(latest[key]));
    if (handles[key] != UINT32_MAX) store->Release(handles[key]);
    handles[key] = fresh;
    largest = std::max(largest, FileSize(LogPath()));
    ASSERT_LE(FileSize(LogPath()), bound) << "after overwrite " << i;
  }
  EXPECT_GT(Counter(*store, "compactions"), 10u);
  EXPECT_GT(largest, bound / 2);  // the bound, not something else, kept it small
  std::string value;
  for (size_t key = 0; key < 100; ++key) {
    ASSERT_TRUE(store->ReadValue(handles[key], &value).ok());
    ASSERT_EQ(value, latest[key]);
  }
  store.reset();
  store = OpenStore(dir_.path(), bound);
  ASSERT_NE(store, nullptr);
  const std::map<std::string, Entry> found = RecoverAll(*store);
  ASSERT_EQ(found.size(), 100u);
  for (size_t key = 0; key < 100; ++key) {
    EXPECT_EQ(found.at("key:" + std::to_string(key)).value, latest[key]);
  }
}

TEST_F(FileStoreTest, UnboundedLogStaysWithinTwiceTheLiveDataPlusSlack) {
  std::unique_ptr<Store> store = OpenStore(dir_.path(), 0);
  ASSERT_NE(store, nullptr);
  std::vector<StoreHandle> handles(100, UINT32_MAX);
  for (int i = 0; i < 10000; ++i) {
    const size_t key = static_cast<size_t>(i) % 100;
    const StoreHandle fresh =
        MustPut(*store, "key:" + std::to_string(key), Lasting(std::string(300, 'v')));
    if (handles[key] != UINT32_MAX) store->Release(handles[key]);
    handles[key] = fresh;
    ASSERT_LE(FileSize(LogPath()), 2 * Counter(*store, "live_bytes") + (1 << 20));
  }
  // 10,000 records of 340 bytes would be 3.4 MB without compaction.
  EXPECT_LT(FileSize(LogPath()), 1200u * 1024);
  EXPECT_GT(Counter(*store, "compactions"), 0u);
}

TEST_F(FileStoreTest, EntryLargerThanTheBoundIsStoreFull) {
  const uint64_t bound = 4096;
  std::unique_ptr<Store> store = OpenStore(dir_.path(), bound);
  ASSERT_NE(store, nullptr);
  Result<StoreHandle> big = store->Put("big", std::string(5000, 'x'), StoredMeta());
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kStoreFull);
  EXPECT_NE(big.status().message().find("4096"), std::string::npos) << big.status().message();

  std::vector<StoreHandle> handles;
  while (true) {
    Result<StoreHandle> handle =
        store->Put("k" + std::to_string(handles.size()), std::string(200, 'v'), StoredMeta());
    if (!handle.ok()) {
      EXPECT_EQ(handle.status().code(), ErrorCode::kStoreFull);
      break;
    }
    handles.push_back(handle.value());
    ASSERT_LT(handles.size(), 100u) << "a 4 KiB log took 100 entries of 200 bytes";
  }
  EXPECT_GT(handles.size(), 10u);
  EXPECT_LE(FileSize(LogPath()), bound);
  store->Release(handles.back());
  EXPECT_TRUE(store->Put("room again", std::string(200, 'v'), StoredMeta()).ok());
  EXPECT_LE(FileSize(LogPath()), bound);
}

TEST_F(FileStoreTest, BoundIsSharedOutAmongShards) {
  // 4 shards of a 16 KiB bound: 4 KiB each, so a 5000-byte entry fits in none.
  std::unique_ptr<Store> store = OpenStore(dir_.path(), 16 * 1024, 2, 4);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Put("big", std::string(5000, 'x'), StoredMeta()).status().code(),
            ErrorCode::kStoreFull);
  EXPECT_TRUE(store->Put("small", std::string(3000, 'x'), StoredMeta()).ok());
  EXPECT_EQ(FileSize(LogPath(2, 4)), kLogHeaderBytes + 33 + 5 + 3000);
}

TEST_F(FileStoreTest, DirectoryOfAnotherShardCountIsRefused) {
  ASSERT_NE(OpenStore(dir_.path(), 0, 0, 4), nullptr);
  Result<std::unique_ptr<Store>> other = FileStoreFactory(dir_.path())(0, 8);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("4 shards"), std::string::npos)
      << other.status().message();
  EXPECT_NE(other.status().message().find("8 shards"), std::string::npos);
  EXPECT_EQ(FileStoreFactory(dir_.path())(4, 4).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(FileStoreFactory(dir_.path())(0, 0).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(FileStoreTest, ASecondOpenOfTheSameShardIsRefused) {
  std::unique_ptr<Store> first = OpenStore(dir_.path());
  ASSERT_NE(first, nullptr);
  MustPut(*first, "k", Lasting("v"));
  Result<std::unique_ptr<Store>> second = FileStoreFactory(dir_.path())(0, 1);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kIoError);
  EXPECT_NE(second.status().message().find(LogPath()), std::string::npos);
  first.reset();
  std::unique_ptr<Store> third = OpenStore(dir_.path());
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(RecoverAll(*third).size(), 1u);
}

TEST_F(FileStoreTest, MissingDirectoriesAreCreatedAndBadPathsNamed) {
  const std::string nested = dir_.Join("a/b/c");
  std::unique_ptr<Store> store = OpenStore(nested);
  ASSERT_NE(store, nullptr);
  MustPut(*store, "k", Lasting("v"));
  EXPECT_GT(FileSize(nested + "/shard-0-of-1.log"), kLogHeaderBytes);

  WriteFile(dir_.Join("plain-file"), "not a directory");
  Result<std::unique_ptr<Store>> refused = FileStoreFactory(dir_.Join("plain-file"))(0, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kIoError);
  EXPECT_NE(refused.status().message().find(dir_.Join("plain-file")), std::string::npos)
      << refused.status().message();

  WriteFile(LogPath(), "this is not a tickcache log at all");
  Result<std::unique_ptr<Store>> foreign = FileStoreFactory(dir_.path())(0, 1);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), ErrorCode::kIoError);
  EXPECT_EQ(ReadFile(LogPath()), "this is not a tickcache log at all");  // left as it was
}

TEST_F(FileStoreTest, AFailedAppendLeavesTheLogWhole) {
  std::unique_ptr<Store> store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  MustPut(*store, "before", Lasting("1"));
  const uint64_t size = FileSize(LogPath());
  platform::InjectFaultForTesting(platform::FaultPoint::kWrite, ENOSPC);
  Result<StoreHandle> failed = store->Put("failed", Lasting(std::string(1000, 'f')).value, {});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kIoError);
  EXPECT_NE(failed.status().message().find("No space left"), std::string::npos)
      << failed.status().message();
  EXPECT_EQ(FileSize(LogPath()), size);  // the torn half was cut off again
  MustPut(*store, "after", Lasting("2"));

  // A torn write whose clean-up fails too: the next record overwrites it, a restart drops
  // the rest of it as a torn tail.
  platform::InjectFaultForTesting(platform::FaultPoint::kWrite, EIO);
  platform::InjectFaultForTesting(platform::FaultPoint::kTruncate, EIO);
  EXPECT_FALSE(store->Put("failed again", std::string(1000, 'f'), StoredMeta()).ok());
  MustPut(*store, "last", Lasting("3"));
  store.reset();
  store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  const std::map<std::string, Entry> found = RecoverAll(*store);
  EXPECT_EQ(found.size(), 3u);
  EXPECT_EQ(found.count("before") + found.count("after") + found.count("last"), 3u);
  EXPECT_GT(Counter(*store, "torn_tail_bytes"), 0u);
}

TEST_F(FileStoreTest, AFailedReleaseRecordIsRepairedByFlush) {
  {
    std::unique_ptr<Store> store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    MustPut(*store, "keep", Lasting("k"));
    const StoreHandle doomed = MustPut(*store, "doomed", Lasting("d"));
    platform::InjectFaultForTesting(platform::FaultPoint::kWrite, EIO);
    store->Release(doomed);
    EXPECT_EQ(Counter(*store, "dirty"), 1u);
    ASSERT_TRUE(store->Flush().ok());
    EXPECT_EQ(Counter(*store, "dirty"), 0u);
  }
  std::unique_ptr<Store> reopened = OpenStore(dir_.path());
  ASSERT_NE(reopened, nullptr);
  const std::map<std::string, Entry> found = RecoverAll(*reopened);
  EXPECT_EQ(found.size(), 1u);
  EXPECT_EQ(found.count("keep"), 1u);
}

TEST_F(FileStoreTest, AFailedCompactionLeavesTheOldLogIntact) {
  const uint64_t bound = 8 * 1024;
  std::unique_ptr<Store> store = OpenStore(dir_.path(), bound);
  ASSERT_NE(store, nullptr);
  std::vector<StoreHandle> handles;
  for (int i = 0; i < 20; ++i) {
    handles.push_back(MustPut(*store, "k" + std::to_string(i), Lasting(std::string(100, 'v'))));
  }
  for (size_t i = 0; i < 10; ++i) store->Release(handles[i]);
  // Fill until the bound forces a compaction, which a failing rename breaks.
  std::vector<std::string> filled;
  Status status;
  const uint64_t compactions = Counter(*store, "compactions");
  for (int i = 0; status.ok() && i < 100; ++i) {
    platform::InjectFaultForTesting(platform::FaultPoint::kRename, EXDEV);
    const std::string key = "fill" + std::to_string(i);
    const Entry entry = Lasting(std::string(100, 'f'));
    StoredMeta meta;
    meta.fresh_until_ms = entry.fresh_until_ms;
    meta.stale_until_ms = entry.stale_until_ms;
    status = store->Put(key, entry.value, meta).status();
    if (status.ok()) filled.push_back(key);
  }
  ASSERT_EQ(status.code(), ErrorCode::kIoError);
  EXPECT_NE(status.message().find("log is unchanged"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("Invalid cross-device link"), std::string::npos);
  EXPECT_EQ(Counter(*store, "compactions"), compactions);
  EXPECT_FALSE(std::filesystem::exists(LogPath() + ".compact"));
  EXPECT_LE(FileSize(LogPath()), bound);
  platform::ClearFaultsForTesting();
  store.reset();

  store = OpenStore(dir_.path(), bound);
  ASSERT_NE(store, nullptr);
  const std::map<std::string, Entry> found = RecoverAll(*store);
  EXPECT_EQ(found.size(), 10 + filled.size());
  for (int i = 10; i < 20; ++i) EXPECT_EQ(found.count("k" + std::to_string(i)), 1u) << i;
  for (const std::string& key : filled) EXPECT_EQ(found.count(key), 1u) << key;
}

TEST_F(FileStoreTest, ALeftoverCompactionFileIsIgnored) {
  WriteFive(dir_.path(), LogPath());
  WriteFile(LogPath() + ".compact", "half-written compaction output from a crash");
  std::unique_ptr<Store> store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RecoverAll(*store).size(), 5u);
  EXPECT_FALSE(std::filesystem::exists(LogPath() + ".compact"));
}

class PlatformFileTest : public FileStoreTest {};

TEST_F(PlatformFileTest, WriteFileAtomicallyReplacesAndReadWholeFileReads) {
  const std::string path = dir_.Join("snapshot.bin");
  ASSERT_TRUE(platform::WriteFileAtomically(path, "first").ok());
  const std::string binary("\0\x01\xff", 3);
  ASSERT_TRUE(platform::WriteFileAtomically(path, binary).ok());
  Result<std::string> read = platform::ReadWholeFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read.value(), binary);
  Result<std::vector<std::string>> names = platform::ListDirectory(dir_.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names.value(), std::vector<std::string>{"snapshot.bin"});  // no temp files left

  Result<std::string> missing = platform::ReadWholeFile(dir_.Join("missing"));
  EXPECT_EQ(missing.status().code(), ErrorCode::kIoError);
  EXPECT_NE(missing.status().message().find(dir_.Join("missing")), std::string::npos);
}

TEST_F(PlatformFileTest, OldFileSurvivesAnUnwritableDirectory) {
  const std::string path = dir_.Join("snapshot.bin");
  ASSERT_TRUE(platform::WriteFileAtomically(path, "old contents").ok());
  // As root, chmod cannot make a directory unwritable: inject the EACCES open would return.
  platform::InjectFaultForTesting(platform::FaultPoint::kOpen, EACCES);
  Status status = platform::WriteFileAtomically(path, "new contents");
  EXPECT_EQ(status.code(), ErrorCode::kIoError);
  EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("Permission denied"), std::string::npos) << status.message();
  EXPECT_EQ(ReadFile(path), "old contents");
  // A directory that does not exist fails for real.
  EXPECT_EQ(platform::WriteFileAtomically(dir_.Join("nowhere/snapshot.bin"), "x").code(),
            ErrorCode::kIoError);
}

TEST_F(PlatformFileTest, OldFileSurvivesAFailedRenameOrSync) {
  const std::string path = dir_.Join("snapshot.bin");
  ASSERT_TRUE(platform::WriteFileAtomically(path, "old contents").ok());
  for (platform::FaultPoint point :
       {platform::FaultPoint::kRename, platform::FaultPoint::kSync, platform::FaultPoint::kWrite}) {
    platform::InjectFaultForTesting(point, EIO);
    Status status = platform::WriteFileAtomically(path, "new contents");
    EXPECT_EQ(status.code(), ErrorCode::kIoError);
    EXPECT_NE(status.message().find("old file is unchanged"), std::string::npos)
        << status.message();
    EXPECT_EQ(ReadFile(path), "old contents");
    Result<std::vector<std::string>> names = platform::ListDirectory(dir_.path());
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(names.value(), std::vector<std::string>{"snapshot.bin"}) << "a temp file was left";
  }
  // A real rename failure: the target is a non-empty directory.
  const std::string taken = dir_.Join("taken");
  ASSERT_TRUE(platform::CreateDirectories(taken + "/inside").ok());
  EXPECT_EQ(platform::WriteFileAtomically(taken, "x").code(), ErrorCode::kIoError);
  EXPECT_TRUE(std::filesystem::is_directory(taken + "/inside"));
}

}  // namespace
}  // namespace tickcache
