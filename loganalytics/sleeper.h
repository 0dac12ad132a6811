// File: loganalytics/sleeper.h
//
// The sleeping seam. Code that waits (retry backoff, the identity limiter) takes a
// `loganalytics::Sleeper` so tests can wait on a fake clock instead of real time:
// production passes `RealSleeper()`, a test passes a function that advances its
// FakeClock.
//
// Example:
//   common::FakeClock clock;
//   Sleeper sleeper = [&clock](absl::Duration d) { clock.Advance(d); };
//   RetryPolicy retry(RetryOptions(), clock.AsClock(), sleeper);
//
// Thread-safe as long as the function given is.
//
// Status codes: none (a sleeper cannot fail).
#ifndef LOGANALYTICS_SLEEPER_H_
#define LOGANALYTICS_SLEEPER_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace loganalytics {

// Blocks the calling thread for (about) the given duration.
using Sleeper = std::function<void(absl::Duration)>;

// Sleeps in real time. Thread-safe.
inline Sleeper RealSleeper() {
  return [](absl::Duration d) { absl::SleepFor(d); };
}

}  // namespace loganalytics

#endif  // LOGANALYTICS_SLEEPER_H_
