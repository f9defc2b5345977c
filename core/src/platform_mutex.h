// platform_mutex.h: the lock a shard takes, and nothing else about threads.
// Native builds use std::mutex; TICKCACHE_SINGLE_THREADED builds (wasm) compile the same
// code with a lock that does nothing, so the core has one source for both hosts.
#pragma once

#ifndef TICKCACHE_SINGLE_THREADED
#include <mutex>
#endif

namespace tickcache {

#ifdef TICKCACHE_SINGLE_THREADED
class Mutex {
 public:
  void lock() {}
  void unlock() {}
};
#else
using Mutex = std::mutex;
#endif

class MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

}  // namespace tickcache
