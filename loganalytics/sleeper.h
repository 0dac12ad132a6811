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
// A process that shuts down must not sit out a long wait: StopSignal::Stop() ends every
// InterruptibleSleeper made from it at once (pair it with RetryOptions::stop, so that the
// retry gives up instead of trying again).
//
//   auto stop = std::make_shared<StopSignal>();
//   RetryOptions options;
//   options.stop = stop;
//   RetryPolicy retry(options, common::SystemClock(), InterruptibleSleeper(stop));
//   ...                                   // another thread, on SIGTERM:
//   stop->Stop();                         // the wait ends, Run returns kCancelled
//
// Thread-safe as long as the function given is; StopSignal is thread-safe.
//
// Status codes: none (a sleeper cannot fail).
#ifndef LOGANALYTICS_SLEEPER_H_
#define LOGANALYTICS_SLEEPER_H_

#include <functional>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace loganalytics {

// Blocks the calling thread for (about) the given duration.
using Sleeper = std::function<void(absl::Duration)>;

// Sleeps in real time. Thread-safe.
inline Sleeper RealSleeper() {
  return [](absl::Duration d) { absl::SleepFor(d); };
}

// A one-way stop request for waits. Thread-safe.
class StopSignal {
 public:
  // Wakes every waiter now and every later wait at once.
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  bool stopped() const {
    absl::MutexLock lock(&mu_);
    return stopped_;
  }
  // Blocks for `d`, or until Stop(). Returns whether a stop was requested.
  bool WaitFor(absl::Duration d) const {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopped_), d);
    return stopped_;
  }

 private:
  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// Sleeps in real time, but no longer than until `stop` is requested. Thread-safe.
inline Sleeper InterruptibleSleeper(std::shared_ptr<const StopSignal> stop) {
  return [stop = std::move(stop)](absl::Duration d) { stop->WaitFor(d); };
}

}  // namespace loganalytics

#endif  // LOGANALYTICS_SLEEPER_H_
