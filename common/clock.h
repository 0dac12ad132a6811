// File: common/clock.h
//
// The clock seam. Debian's abseil (20220623) has no absl::Clock, so code that needs
// the time takes a `common::Clock` (a std::function returning absl::Time) in its
// constructor; production passes `common::SystemClock()`, tests pass a FakeClock.
//
// Example:
//   common::FakeClock clock(absl::FromUnixSeconds(1700000000));
//   TokenCache cache(credential, clock.AsClock());
//   clock.Advance(absl::Minutes(55));   // the cache now refreshes ahead of expiry
//
// SystemClock() and FakeClock are thread-safe. Nothing here can fail: no status codes.
#ifndef COMMON_CLOCK_H_
#define COMMON_CLOCK_H_

#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace common {

using Clock = std::function<absl::Time()>;

inline Clock SystemClock() { return [] { return absl::Now(); }; }

// A clock that moves only when told to.
class FakeClock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000))
      : now_(start) {}

  absl::Time Now() const {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }
  // A Clock reading this FakeClock; the FakeClock must outlive it.
  Clock AsClock() const {
    return [this] { return Now(); };
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace common

#endif  // COMMON_CLOCK_H_
