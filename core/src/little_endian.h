// little_endian.h: fixed-width little-endian integers for the persisted formats (snapshots
// and file-store logs), byte by byte so they mean the same on every host and need no
// alignment.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>

namespace tickcache {

template <typename T>
void StoreLe(char* out, T value) {
  using U = std::make_unsigned_t<T>;
  U bits = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i) {
    out[i] = static_cast<char>(bits & 0xff);
    bits = static_cast<U>(bits >> 8);
  }
}

template <typename T>
void AppendLe(std::string* out, T value) {
  char buffer[sizeof(T)];
  StoreLe(buffer, value);
  out->append(buffer, sizeof(T));
}

template <typename T>
T LoadLe(const char* in) {
  using U = std::make_unsigned_t<T>;
  U bits = 0;
  for (size_t i = sizeof(T); i-- > 0;) {
    bits = static_cast<U>((bits << 8) | static_cast<unsigned char>(in[i]));
  }
  return static_cast<T>(bits);
}

}  // namespace tickcache
