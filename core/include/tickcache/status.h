// tickcache/status.h: typed errors for every core operation.
//
// The core never throws on bad input and never aborts: an operation that cannot be done
// returns a Status whose code a caller can switch on, and leaves the cache as it was.
// Codes are stable; hosts map them to their own error types (`code` strings in JS).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace tickcache {

enum class ErrorCode : uint8_t {
  kOk = 0,
  kInvalidArgument,  // an option or argument outside its documented range
  kEmptyKey,         // keys are at least one byte long
  kKeyTooLarge,      // key longer than Options::max_key_bytes
  kValueTooLarge,    // value longer than Options::max_value_bytes
  kEntryTooLarge,    // the entry alone would exceed the cache's (shard's) byte bound
  kInvalidTtl,       // TTL or grace negative, zero where not allowed, or beyond the maximum
  kInvalidPattern,   // a glob pattern that cannot be parsed (a dangling escape)
  kBadConfig,        // a policy configuration document that does not validate
  kCorruptSnapshot,  // a snapshot that is truncated, altered or of another format
  kIoError,          // the operating system refused a file operation
  kStoreFull,        // a storage backend could not take the entry within its own bound
  kUnsupported,      // the operation is not available in this build (e.g. files in wasm)
};

// Stable lower-case name of a code ("key_too_large"), used in messages and by hosts.
const char* ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "key_too_large: key is 2048 bytes, the limit is 1024"
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tickcache
