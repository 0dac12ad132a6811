// File: loganalytics/retry_policy.h
//
// Retries an operation that failed for a reason that may pass: kUnavailable (network,
// 5xx), kDeadlineExceeded (504, timeouts) and kResourceExhausted (429, the identity's
// budget). Waits between attempts grow exponentially with full jitter (a uniform draw in
// [0, min(max_backoff, initial_backoff * multiplier^retry))), never less than the
// Retry-After the failure carries (kRetryAfterPayload), and all attempts together stay
// within `deadline` of the first: a wait that would pass it is not started. Any other
// status, and success, is returned at once. With RetryOptions::stop, a stop request
// ends the retries: no further wait or attempt, kCancelled (an attempt in progress is
// not interrupted, and its success is still returned).
//
// Example:
//   RetryOptions options;
//   options.max_attempts = 6;
//   RetryPolicy retry(options);
//   absl::StatusOr<QueryResponse> response = retry.Run([&] {
//     return client.Query(workspace_id, kql, timespan);
//   });
//   // On give-up: the last failure's code and payloads, with "gave up after N
//   // attempts" in front of its message.
//
// Thread-safe: Run may be called from several threads at once (the default random
// source is locked; injected clock, sleeper and random must be thread-safe too).
#ifndef LOGANALYTICS_RETRY_POLICY_H_
#define LOGANALYTICS_RETRY_POLICY_H_

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "loganalytics/query_error.h"
#include "loganalytics/sleeper.h"

namespace loganalytics {

struct RetryOptions {
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(60);
  double multiplier = 2.0;
  // Attempts in all, the first included.
  int max_attempts = 8;
  // Budget for all attempts and waits, counted from the first attempt.
  absl::Duration deadline = absl::Minutes(15);
  // A Retry-After longer than this is cut to it (a broken proxy must not park a
  // query for a day).
  absl::Duration max_retry_after = absl::Minutes(5);
  // When set, a stop request gives up the retries with kCancelled (a process shutting
  // down must not sit out a backoff for up to `deadline`). Checked after a failure and
  // after each wait; pass InterruptibleSleeper(stop) as the sleeper so that a wait in
  // progress ends at the stop.
  std::shared_ptr<const StopSignal> stop;
};

class RetryPolicy {
 public:
  // Uniform in [0, 1).
  using Random = std::function<double()>;
  // Told about each retry before its wait: the failure, the attempt that failed
  // (1-based) and the wait.
  using RetryObserver =
      std::function<void(const absl::Status& failure, int attempt, absl::Duration wait)>;

  // A thread-safe uniform [0, 1) source seeded from the OS.
  static Random DefaultRandom() {
    struct Source {
      absl::Mutex mu;
      absl::BitGen gen ABSL_GUARDED_BY(mu);
    };
    auto source = std::make_shared<Source>();
    return [source] {
      absl::MutexLock lock(&source->mu);
      return absl::Uniform<double>(source->gen, 0.0, 1.0);
    };
  }

  explicit RetryPolicy(RetryOptions options = {},
                       common::Clock clock = common::SystemClock(),
                       Sleeper sleeper = RealSleeper(), Random random = DefaultRandom())
      : options_(std::move(options)),
        clock_(std::move(clock)),
        sleeper_(std::move(sleeper)),
        random_(std::move(random)) {}

  // Whether a failure with this status may succeed when tried again.
  static bool IsRetryable(const absl::Status& status) {
    switch (status.code()) {
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kDeadlineExceeded:
      case absl::StatusCode::kResourceExhausted:
        return true;
      default:
        return false;
    }
  }

  // The jittered wait before retry number `retry` (0 for the first retry), ignoring
  // Retry-After. Thread-safe.
  absl::Duration Backoff(int retry) const {
    double cap = absl::ToDoubleSeconds(options_.initial_backoff) *
                 std::pow(options_.multiplier, std::max(0, std::min(retry, 62)));
    cap = std::min(cap, absl::ToDoubleSeconds(options_.max_backoff));
    double draw = std::clamp(random_(), 0.0, 1.0);
    return absl::Seconds(cap * draw);
  }

  // The wait before retry number `retry` after `failure`: the jittered backoff, raised
  // to the failure's Retry-After (capped at max_retry_after). Thread-safe.
  absl::Duration DelayFor(const absl::Status& failure, int retry) const {
    absl::Duration delay = Backoff(retry);
    if (std::optional<absl::Duration> after = RetryAfter(failure)) {
      delay = std::max(delay, std::min(*after, options_.max_retry_after));
    }
    return delay;
  }

  // Calls `attempt` (returning absl::Status or absl::StatusOr<T>) until it succeeds,
  // fails with a status that is not retryable, uses up max_attempts, or the next wait
  // would pass the deadline. Returns the last result; on give-up after a retryable
  // failure, its status keeps its code and payloads and the message says how many
  // attempts were made over how long. When options().stop is requested after a
  // retryable failure: kCancelled "stopping: ...", with the last failure. Thread-safe.
  template <typename Attempt>
  auto Run(Attempt&& attempt, const RetryObserver& observer = nullptr) const
      -> std::invoke_result_t<Attempt&> {
    const absl::Time start = clock_();
    const absl::Time deadline = start + options_.deadline;
    for (int attempt_number = 1;; ++attempt_number) {
      auto result = attempt();
      const absl::Status status = StatusOf(result);
      if (status.ok() || !IsRetryable(status)) return result;
      const absl::Time now = clock_();
      if (Stopped()) return Abandon(status, attempt_number, now - start);
      if (attempt_number >= options_.max_attempts) {
        return GiveUp(status, attempt_number, now - start,
                      "that was the last allowed attempt");
      }
      const absl::Duration delay = DelayFor(status, attempt_number - 1);
      if (now + delay > deadline) {
        return GiveUp(status, attempt_number, now - start,
                      absl::StrCat("waiting ", absl::FormatDuration(delay),
                                   " more would pass the retry deadline of ",
                                   absl::FormatDuration(options_.deadline)));
      }
      if (observer) observer(status, attempt_number, delay);
      sleeper_(delay);
      if (Stopped()) return Abandon(status, attempt_number, clock_() - start);
    }
  }

  const RetryOptions& options() const { return options_; }

 private:
  static const absl::Status& StatusOf(const absl::Status& status) { return status; }
  template <typename T>
  static const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
    return result.status();
  }

  bool Stopped() const { return options_.stop != nullptr && options_.stop->stopped(); }

  // Payloads such as Retry-After are left out: nothing is to be tried again now.
  static absl::Status Abandon(const absl::Status& last, int attempts,
                              absl::Duration elapsed) {
    return absl::CancelledError(absl::StrCat(
        "stopping: retry abandoned after ", attempts, " attempt(s) over ",
        absl::FormatDuration(elapsed), " (a stop was requested); last failure: ",
        absl::StatusCodeToString(last.code()), ": ", last.message()));
  }

  static absl::Status GiveUp(const absl::Status& last, int attempts,
                             absl::Duration elapsed, absl::string_view why) {
    absl::Status status(last.code(),
                        absl::StrCat("gave up after ", attempts, " attempts over ",
                                     absl::FormatDuration(elapsed), " (", why,
                                     "): ", last.message()));
    last.ForEachPayload([&status](absl::string_view key, const absl::Cord& value) {
      status.SetPayload(key, value);
    });
    return status;
  }

  RetryOptions options_;
  common::Clock clock_;
  Sleeper sleeper_;
  Random random_;
};

}  // namespace loganalytics

#endif  // LOGANALYTICS_RETRY_POLICY_H_
