// status.cc: names of error codes. The names are part of the API: hosts expose them as
// the `code` of their errors, so they never change once shipped.
#include "tickcache/status.h"

namespace tickcache {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kEmptyKey:
      return "empty_key";
    case ErrorCode::kKeyTooLarge:
      return "key_too_large";
    case ErrorCode::kValueTooLarge:
      return "value_too_large";
    case ErrorCode::kEntryTooLarge:
      return "entry_too_large";
    case ErrorCode::kInvalidTtl:
      return "invalid_ttl";
    case ErrorCode::kInvalidPattern:
      return "invalid_pattern";
    case ErrorCode::kBadConfig:
      return "bad_config";
    case ErrorCode::kCorruptSnapshot:
      return "corrupt_snapshot";
    case ErrorCode::kIoError:
      return "io_error";
    case ErrorCode::kStoreFull:
      return "store_full";
    case ErrorCode::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace tickcache
