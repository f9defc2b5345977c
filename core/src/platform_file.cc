// platform_file.cc: POSIX file I/O for the core, and its kUnsupported twin for Emscripten.
//
// Every system call here retries EINTR and loops over short transfers, so callers see a
// whole read or write or an error naming the path and strerror(errno). Nothing else in the
// core includes a POSIX header.
#include "platform_file.h"

#include <atomic>
#include <cstring>

#ifndef __EMSCRIPTEN__
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

namespace tickcache::platform {
namespace {

// One pending fault per operation: `countdown` successes remain before it fires (-1: none).
struct Fault {
  std::atomic<int64_t> countdown{-1};
  std::atomic<int> error_number{0};
};
Fault g_faults[static_cast<size_t>(FaultPoint::kCount)];

// The errno an injected fault wants this call to fail with, or 0 to proceed normally.
[[maybe_unused]] int TakeFault(FaultPoint point) {
  Fault& fault = g_faults[static_cast<size_t>(point)];
  int64_t countdown = fault.countdown.load(std::memory_order_relaxed);
  while (countdown >= 0) {
    if (fault.countdown.compare_exchange_weak(countdown, countdown - 1)) {
      return countdown == 0 ? fault.error_number.load(std::memory_order_relaxed) : 0;
    }
  }
  return 0;
}

}  // namespace

void InjectFaultForTesting(FaultPoint point, int error_number, uint32_t successes_first) {
  Fault& fault = g_faults[static_cast<size_t>(point)];
  fault.error_number.store(error_number, std::memory_order_relaxed);
  fault.countdown.store(successes_first, std::memory_order_relaxed);
}

void ClearFaultsForTesting() {
  for (Fault& fault : g_faults) fault.countdown.store(-1, std::memory_order_relaxed);
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    (void)Close();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

File::~File() { (void)Close(); }

#ifdef __EMSCRIPTEN__

namespace {
Status Unsupported() {
  return Status(ErrorCode::kUnsupported, "files are not available in the wasm build");
}
}  // namespace

Result<std::string> ReadWholeFile(const std::string&) { return Unsupported(); }
Status WriteFileAtomically(const std::string&, std::string_view) { return Unsupported(); }
Status CreateDirectories(const std::string&) { return Unsupported(); }
Result<std::vector<std::string>> ListDirectory(const std::string&) { return Unsupported(); }
Status RenameFile(const std::string&, const std::string&) { return Unsupported(); }
Status RemoveFile(const std::string&, bool) { return Unsupported(); }
Status SyncDirectory(const std::string&) { return Unsupported(); }
Result<File> File::Open(const std::string&, Mode) { return Unsupported(); }
Status File::ReadAt(uint64_t, size_t, char*) const { return Unsupported(); }
Result<size_t> File::ReadSomeAt(uint64_t, size_t, char*) const { return Unsupported(); }
Status File::WriteAt(uint64_t, std::string_view) { return Unsupported(); }
Status File::Sync() { return Unsupported(); }
Status File::Truncate(uint64_t) { return Unsupported(); }
Result<uint64_t> File::Size() const { return Unsupported(); }
Status File::TryLockExclusive() { return Unsupported(); }
Status File::Close() {
  fd_ = -1;
  return Status::Ok();
}

#else  // POSIX

namespace {

Status IoError(const std::string& what, const std::string& path, int error_number) {
  return Status(ErrorCode::kIoError, what + " " + path + ": " + std::strerror(error_number));
}

// Returns the injected errno for `point` and sets errno to it, or 0.
int Injected(FaultPoint point) {
  const int error_number = TakeFault(point);
  if (error_number != 0) errno = error_number;
  return error_number;
}

int OpenFlags(File::Mode mode) {
  switch (mode) {
    case File::Mode::kReadOnly:
      return O_RDONLY;
    case File::Mode::kReadWrite:
      return O_RDWR | O_CREAT;
    case File::Mode::kReadWriteCreate:
      return O_RDWR | O_CREAT | O_TRUNC;
  }
  return O_RDONLY;
}

Status SyncFd(int fd, const std::string& path, FaultPoint point) {
  if (Injected(point) != 0) return IoError("cannot fsync", path, errno);
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return IoError("cannot fsync", path, errno);
  }
  return Status::Ok();
}

std::atomic<uint64_t> g_temp_sequence{0};

}  // namespace

Result<File> File::Open(const std::string& path, Mode mode) {
  if (Injected(FaultPoint::kOpen) != 0) return IoError("cannot open", path, errno);
  int fd;
  do {
    fd = ::open(path.c_str(), OpenFlags(mode) | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return IoError("cannot open", path, errno);
  struct stat info;
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    ::close(fd);
    return IoError("cannot open", path, EISDIR);
  }
  return File(fd, path);
}

Result<size_t> File::ReadSomeAt(uint64_t offset, size_t length, char* out) const {
  if (fd_ < 0) return IoError("cannot read closed file", path_, EBADF);
  if (Injected(FaultPoint::kRead) != 0) return IoError("cannot read", path_, errno);
  size_t done = 0;
  while (done < length) {
    const ssize_t got = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read", path_, errno);
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

Status File::ReadAt(uint64_t offset, size_t length, char* out) const {
  Result<size_t> got = ReadSomeAt(offset, length, out);
  if (!got.ok()) return got.status();
  if (got.value() != length) {
    return Status(ErrorCode::kIoError, "cannot read " + path_ + ": wanted " +
                                           std::to_string(length) + " bytes at offset " +
                                           std::to_string(offset) + ", the file ends after " +
                                           std::to_string(got.value()));
  }
  return Status::Ok();
}

Status File::WriteAt(uint64_t offset, std::string_view bytes) {
  if (fd_ < 0) return IoError("cannot write closed file", path_, EBADF);
  size_t limit = bytes.size();
  const int injected = TakeFault(FaultPoint::kWrite);
  if (injected != 0) limit = bytes.size() / 2;  // a torn write: half lands, then the error
  size_t done = 0;
  while (done < limit) {
    const ssize_t put =
        ::pwrite(fd_, bytes.data() + done, limit - done, static_cast<off_t>(offset + done));
    if (put < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path_, errno);
    }
    done += static_cast<size_t>(put);
  }
  if (injected != 0) return IoError("cannot write", path_, injected);
  return Status::Ok();
}

Status File::Sync() {
  if (fd_ < 0) return IoError("cannot fsync closed file", path_, EBADF);
  return SyncFd(fd_, path_, FaultPoint::kSync);
}

Status File::Truncate(uint64_t size) {
  if (fd_ < 0) return IoError("cannot truncate closed file", path_, EBADF);
  if (Injected(FaultPoint::kTruncate) != 0) return IoError("cannot truncate", path_, errno);
  while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) return IoError("cannot truncate", path_, errno);
  }
  return Status::Ok();
}

Result<uint64_t> File::Size() const {
  if (fd_ < 0) return IoError("cannot stat closed file", path_, EBADF);
  struct stat info;
  if (::fstat(fd_, &info) != 0) return IoError("cannot stat", path_, errno);
  return static_cast<uint64_t>(info.st_size);
}

Status File::TryLockExclusive() {
  if (fd_ < 0) return IoError("cannot lock closed file", path_, EBADF);
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return Status(ErrorCode::kIoError, "cannot lock " + path_ +
                                             ": another open store (in this or another process) "
                                             "is using this directory");
    }
    return IoError("cannot lock", path_, errno);
  }
  return Status::Ok();
}

Status File::Close() {
  if (fd_ < 0) return Status::Ok();
  const int fd = fd_;
  fd_ = -1;
  // Linux closes the descriptor even when close() reports EINTR, so it is never retried.
  if (::close(fd) != 0 && errno != EINTR) return IoError("cannot close", path_, errno);
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  Result<File> file = File::Open(path, File::Mode::kReadOnly);
  if (!file.ok()) return file.status();
  Result<uint64_t> size = file.value().Size();
  if (!size.ok()) return size.status();
  // The size is a hint only: the file may grow or shrink while it is read.
  std::string bytes;
  bytes.resize(static_cast<size_t>(size.value()) + 1);
  size_t filled = 0;
  while (true) {
    if (filled == bytes.size()) bytes.resize(bytes.size() * 2);
    Result<size_t> got =
        file.value().ReadSomeAt(filled, bytes.size() - filled, bytes.data() + filled);
    if (!got.ok()) return got.status();
    if (got.value() == 0) break;
    filled += got.value();
  }
  bytes.resize(filled);
  return bytes;
}

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string temp_path = path + ".tmp." + std::to_string(::getpid()) + "." +
                                std::to_string(g_temp_sequence.fetch_add(1));
  Result<File> temp = File::Open(temp_path, File::Mode::kReadWriteCreate);
  if (!temp.ok()) {
    return Status(ErrorCode::kIoError,
                  "cannot write " + path +
                      " (its temporary file could not be created): " + temp.status().message());
  }
  Status status = temp.value().WriteAt(0, bytes);
  if (status.ok()) status = temp.value().Sync();
  if (status.ok()) status = temp.value().Close();
  if (status.ok()) status = RenameFile(temp_path, path);
  if (!status.ok()) {
    (void)temp.value().Close();
    (void)RemoveFile(temp_path);
    return Status(ErrorCode::kIoError,
                  "cannot write " + path + " (the old file is unchanged): " + status.message());
  }
  status = SyncDirectory(DirectoryOf(path));
  if (!status.ok()) {
    return Status(ErrorCode::kIoError,
                  "wrote " + path + " but could not make the rename durable: " + status.message());
  }
  return Status::Ok();
}

Status CreateDirectories(const std::string& path) {
  if (path.empty()) return Status(ErrorCode::kIoError, "cannot create a directory with no name");
  struct stat info;
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return Status::Ok();
    return IoError("cannot create directory", path, ENOTDIR);
  }
  const std::string parent = DirectoryOf(path);
  if (parent != path && parent != "." && parent != "/") {
    Status status = CreateDirectories(parent);
    if (!status.ok()) return status;
  }
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return IoError("cannot create directory", path, errno);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ListDirectory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return IoError("cannot list directory", path, errno);
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    const struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int read_error = errno;
  ::closedir(dir);
  if (read_error != 0) return IoError("cannot list directory", path, read_error);
  return names;
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (Injected(FaultPoint::kRename) != 0 || ::rename(from.c_str(), to.c_str()) != 0) {
    return IoError("cannot rename " + from + " to", to, errno);
  }
  return Status::Ok();
}

Status RemoveFile(const std::string& path, bool missing_ok) {
  if (Injected(FaultPoint::kRemove) != 0) return IoError("cannot remove", path, errno);
  if (::unlink(path.c_str()) != 0) {
    if (missing_ok && errno == ENOENT) return Status::Ok();
    return IoError("cannot remove", path, errno);
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return IoError("cannot open directory", path, errno);
  Status status = SyncFd(fd, path, FaultPoint::kSyncDirectory);
  ::close(fd);
  return status;
}

#endif  // __EMSCRIPTEN__

}  // namespace tickcache::platform
