// platform_file.h: the only place in the core that touches files (POSIX natively).
//
// Everything above this seam (snapshots, the file store) is the same code on every host;
// under Emscripten every function here returns kUnsupported, so the wasm build compiles
// the same callers and reports "files are not available in the wasm build" at run time.
//
// Invariants:
//   - no function throws; every failure is a Status whose message names the path and the
//     operating system's reason (strerror);
//   - reads and writes are whole: a short read or write is an error, never a silent partial;
//   - WriteFileAtomically either replaces `path` with `bytes` entirely or leaves the old
//     file as it was (and removes its temporary file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickcache/status.h"

namespace tickcache::platform {

// Reads the whole file at `path`.
Result<std::string> ReadWholeFile(const std::string& path);

// Writes `bytes` to `path.tmp.<pid>.<sequence>`, fsyncs it, renames it over `path` and
// fsyncs the directory. A crash at any point leaves either the old or the new file. The
// sequence number keeps two threads of one process that save to the same path apart.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// mkdir -p: creates `path` and its missing parents; succeeds if it already is a directory.
Status CreateDirectories(const std::string& path);

// Names (not paths) of the entries of directory `path`, without "." and "..".
Result<std::vector<std::string>> ListDirectory(const std::string& path);

// rename(2): atomic within one file system; replaces `to` if it exists.
Status RenameFile(const std::string& from, const std::string& to);

// unlink(2). With `missing_ok`, a file that does not exist is not an error.
Status RemoveFile(const std::string& path, bool missing_ok = true);

// fsync of a directory, so that renames and creations inside it survive a power loss.
Status SyncDirectory(const std::string& path);

// The directory part of `path` ("." when it has none).
std::string DirectoryOf(const std::string& path);

// An open file descriptor, closed on destruction. Offsets are explicit (pread/pwrite), so
// one File never has a hidden cursor that two code paths could disagree about.
class File {
 public:
  enum class Mode : uint8_t {
    kReadOnly,         // the file must exist
    kReadWrite,        // created (0644) if missing, kept if present
    kReadWriteCreate,  // created (0644) if missing, truncated to 0 if present
  };

  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  static Result<File> Open(const std::string& path, Mode mode);

  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  // Reads exactly `length` bytes at `offset` into `out`; reaching the end first is an error.
  Status ReadAt(uint64_t offset, size_t length, char* out) const;
  // Reads up to `length` bytes at `offset`; returns how many (0 at the end of the file).
  Result<size_t> ReadSomeAt(uint64_t offset, size_t length, char* out) const;
  // Writes all of `bytes` at `offset`.
  Status WriteAt(uint64_t offset, std::string_view bytes);
  Status Sync();
  Status Truncate(uint64_t size);
  Result<uint64_t> Size() const;
  // Takes an exclusive advisory lock (flock) without waiting: fails with kIoError if another
  // open file (in this process or another) holds it. Released when the file is closed.
  Status TryLockExclusive();
  // Closes now, reporting the error close(2) may return; the destructor ignores it.
  Status Close();

 private:
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Fault injection for tests: makes a future call of one operation fail as if the operating
// system had returned `error_number`, so tests can reach error paths that a root user or a
// healthy disk never hits. The fault fires once, after `successes_first` calls of that
// operation have succeeded. A failing kWrite first writes half of its bytes (a torn write,
// as a full disk produces). Process-wide; tests that use it must clear it.
enum class FaultPoint : uint8_t {
  kOpen,
  kRead,
  kWrite,
  kSync,
  kTruncate,
  kRename,
  kRemove,
  kSyncDirectory,
  kCount,
};
void InjectFaultForTesting(FaultPoint point, int error_number, uint32_t successes_first = 0);
void ClearFaultsForTesting();

}  // namespace tickcache::platform
