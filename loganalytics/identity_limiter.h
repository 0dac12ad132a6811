// File: loganalytics/identity_limiter.h
//
// Keeps one identity (an app registration, i.e. a tenant + client id) inside the Query
// API's per-identity limits: at most 5 concurrent queries and 200 requests per 30 s,
// shared by every workspace and every query that identity runs; past them Azure queues
// and then answers 429. An IdentityLimiter hands out a Permit per request: it waits while
// `max_concurrent` requests are in flight or `max_requests` started in the last `window`
// (a sliding window), and while the identity is paused after a 429 (PauseUntil).
//
// Get the instance for an identity from an IdentityLimiterRegistry, so every query
// client of the same identity shares it; the binary owns one registry.
//
// Example:
//   IdentityLimiterRegistry registry;
//   std::shared_ptr<IdentityLimiter> limiter = registry.Get(tenant_id, client_id);
//   absl::StatusOr<IdentityLimiter::Permit> permit =
//       limiter->Acquire(absl::Now() + absl::Minutes(3));
//   if (!permit.ok()) return permit.status();   // kResourceExhausted, with Retry-After
//   ... send the request; the permit is released when it goes out of scope ...
//
// Waiting for a free slot is not FIFO: whichever waiter looks first takes it.
//
// During a 429 storm a query may wait minutes for a permit; a process shutting down must
// not. With IdentityLimiterOptions::stop, a stop request ends every wait for a permit
// with kCancelled (pass InterruptibleSleeper(stop) as the sleeper, so that a wait for the
// end of a pause or of the window ends at once too):
//
//   auto stop = std::make_shared<StopSignal>();
//   IdentityLimiterOptions options;
//   options.stop = stop;
//   IdentityLimiterRegistry registry(options, common::SystemClock(),
//                                    InterruptibleSleeper(stop));
//   ...                                   // another thread, on SIGTERM:
//   stop->Stop();                         // waiting Acquire calls return kCancelled
//
// Thread-safe.
#ifndef LOGANALYTICS_IDENTITY_LIMITER_H_
#define LOGANALYTICS_IDENTITY_LIMITER_H_

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "loganalytics/query_error.h"
#include "loganalytics/sleeper.h"

namespace loganalytics {

struct IdentityLimiterOptions {
  // Requests in flight at once. Azure allows 5 concurrent queries per identity; one
  // slot is left for the operator's own tools (portal, CLI) using the same app.
  int max_concurrent = 4;
  // Requests started within any `window`.
  int max_requests = 200;
  absl::Duration window = absl::Seconds(30);
  // When set, a stop request makes Acquire give up its wait with kCancelled instead of
  // waiting up to its deadline (minutes during a 429 storm) while the process shuts
  // down. A slot that is free at once is still granted: only waiting is abandoned, as
  // with RetryOptions::stop. Checked before and after each wait; a wait for a
  // concurrency slot notices it within 20 ms, a wait for a pause or the window only when
  // the sleeper is an InterruptibleSleeper of the same signal.
  std::shared_ptr<const StopSignal> stop;
};

class IdentityLimiter {
 public:
  // The right to send one request. Releases its concurrency slot when destroyed or on
  // Release(). Move-only; not thread-safe itself (one request, one thread).
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept : limiter_(std::exchange(other.limiter_, nullptr)) {}
    Permit& operator=(Permit&& other) noexcept {
      if (this != &other) {
        Release();
        limiter_ = std::exchange(other.limiter_, nullptr);
      }
      return *this;
    }
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { Release(); }

    // Gives the slot back now. Idempotent.
    void Release() {
      if (limiter_ != nullptr) std::exchange(limiter_, nullptr)->ReleaseSlot();
    }
    bool held() const { return limiter_ != nullptr; }

   private:
    friend class IdentityLimiter;
    explicit Permit(IdentityLimiter* limiter) : limiter_(limiter) {}
    IdentityLimiter* limiter_ = nullptr;
  };

  // `clock` tells the time for the window and deadlines; `sleeper` waits for a window
  // slot or the end of a pause. Waits for a concurrency slot block on a condition
  // variable, re-reading `clock` at least every 20 ms of real time.
  explicit IdentityLimiter(IdentityLimiterOptions options = {},
                           common::Clock clock = common::SystemClock(),
                           Sleeper sleeper = RealSleeper(), std::string name = "")
      : options_(std::move(options)),
        clock_(std::move(clock)),
        sleeper_(std::move(sleeper)),
        name_(std::move(name)) {
    options_.max_concurrent = std::max(1, options_.max_concurrent);
    options_.max_requests = std::max(1, options_.max_requests);
  }

  IdentityLimiter(const IdentityLimiter&) = delete;
  IdentityLimiter& operator=(const IdentityLimiter&) = delete;

  // Waits for a slot and returns a Permit for one request. The limiter must outlive it.
  // Returns kResourceExhausted when no slot can be had by `deadline` (the status carries
  // kRetryAfterPayload when the limiter knows when the next slot frees: the end of a
  // pause or of the window), and kCancelled "stopping: ..." when options().stop is
  // requested while no slot is free. Thread-safe.
  absl::StatusOr<Permit> Acquire(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    const absl::Time began = clock_();
    while (true) {
      const absl::Time now = clock_();
      while (!started_.empty() && started_.front() <= now - options_.window) {
        started_.pop_front();
      }
      absl::Time free_at = now;
      if (paused_until_ > now) {
        free_at = paused_until_;
      } else if (static_cast<int>(started_.size()) >= options_.max_requests) {
        free_at = started_.front() + options_.window;
      } else if (in_flight_ < options_.max_concurrent) {
        ++in_flight_;
        started_.push_back(now);
        ++granted_;
        return Permit(this);
      }
      // No slot now: a stop ends the wait before it starts, and after each part of it.
      if (Stopped()) return Abandoned(now, free_at, began);
      if (free_at > now) {
        // Paused or the window is full: the time of the next slot is known.
        if (free_at > deadline) return Exhausted(now, free_at, deadline);
        mu_.Unlock();
        sleeper_(free_at - now);
        mu_.Lock();
        continue;
      }
      // Every concurrency slot is taken: wait for a Release.
      if (now >= deadline) return Exhausted(now, absl::InfinitePast(), deadline);
      mu_.AwaitWithTimeout(absl::Condition(this, &IdentityLimiter::HasFreeSlot),
                           std::min(deadline - now, absl::Milliseconds(20)));
    }
  }

  // Holds every new request until `until` (after Azure answered 429 with Retry-After).
  // A pause never shortens an earlier, longer one. Thread-safe.
  void PauseUntil(absl::Time until) {
    absl::MutexLock lock(&mu_);
    paused_until_ = std::max(paused_until_, until);
  }

  // Requests holding a permit now. Thread-safe.
  int in_flight() const {
    absl::MutexLock lock(&mu_);
    return in_flight_;
  }
  // Permits granted since construction. Thread-safe.
  int64_t granted() const {
    absl::MutexLock lock(&mu_);
    return granted_;
  }
  const IdentityLimiterOptions& options() const { return options_; }

 private:
  bool HasFreeSlot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ < options_.max_concurrent;
  }

  bool Stopped() const { return options_.stop != nullptr && options_.stop->stopped(); }

  std::string Name() const { return name_.empty() ? std::string("(unnamed)") : name_; }

  // What keeps the next request from going out now.
  std::string WhyNoSlot(absl::Time now, absl::Time free_at) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (paused_until_ > now) {
      return absl::StrCat("requests are paused for ", absl::FormatDuration(free_at - now),
                          " after Log Analytics answered 429");
    }
    if (free_at > now) {
      return absl::StrCat(started_.size(), " requests already started in the last ",
                          absl::FormatDuration(options_.window), "; the next slot frees in ",
                          absl::FormatDuration(free_at - now));
    }
    return absl::StrCat(in_flight_, " queries are already running");
  }

  // No Retry-After payload: the caller is shutting down, not to try again later.
  absl::Status Abandoned(absl::Time now, absl::Time free_at, absl::Time began) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::CancelledError(absl::StrCat(
        "stopping: waiting for a Log Analytics request slot abandoned after ",
        absl::FormatDuration(std::max(absl::ZeroDuration(), now - began)),
        " (a stop was requested; identity ", Name(), ": ", WhyNoSlot(now, free_at),
        "); the request was not sent"));
  }

  void ReleaseSlot() {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }

  absl::Status Exhausted(absl::Time now, absl::Time free_at, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status status = absl::ResourceExhaustedError(absl::StrCat(
        "query budget of identity ", Name(), " exhausted: ", WhyNoSlot(now, free_at),
        "; no slot by the deadline ",
        absl::FormatDuration(std::max(absl::ZeroDuration(), deadline - now)),
        " from now; the budget (", options_.max_concurrent, " concurrent, ",
        options_.max_requests, " per ", absl::FormatDuration(options_.window),
        ") is shared by every workspace and query of this app registration: spread "
        "the queries out or use another app registration"));
    if (free_at > now) {
      status.SetPayload(kRetryAfterPayload,
                        absl::Cord(absl::StrCat(
                            absl::ToDoubleSeconds(free_at - now))));
    }
    return status;
  }

  IdentityLimiterOptions options_;
  const common::Clock clock_;
  const Sleeper sleeper_;
  const std::string name_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t granted_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<absl::Time> started_ ABSL_GUARDED_BY(mu_);
  absl::Time paused_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// One IdentityLimiter per identity, keyed by (tenant id, client id), compared without
// regard to case (they are GUIDs). The binary creates one registry and hands
// `Get(...)` to every query client of that identity. Every limiter gets the registry's
// options (options.stop included) and sleeper.
// Thread-safe.
class IdentityLimiterRegistry {
 public:
  explicit IdentityLimiterRegistry(IdentityLimiterOptions options = {},
                                   common::Clock clock = common::SystemClock(),
                                   Sleeper sleeper = RealSleeper())
      : options_(std::move(options)),
        clock_(std::move(clock)),
        sleeper_(std::move(sleeper)) {}

  // The limiter shared by every caller asking for this identity; created on first use.
  // Never null. Thread-safe.
  std::shared_ptr<IdentityLimiter> Get(absl::string_view tenant_id,
                                       absl::string_view client_id) {
    std::string key = absl::StrCat(absl::AsciiStrToLower(tenant_id), "/",
                                   absl::AsciiStrToLower(client_id));
    absl::MutexLock lock(&mu_);
    std::shared_ptr<IdentityLimiter>& slot = limiters_[key];
    if (slot == nullptr) {
      slot = std::make_shared<IdentityLimiter>(options_, clock_, sleeper_,
                                               absl::StrCat("client ", client_id,
                                                            " in tenant ", tenant_id));
    }
    return slot;
  }

  // Identities seen so far. Thread-safe.
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return limiters_.size();
  }

 private:
  const IdentityLimiterOptions options_;
  const common::Clock clock_;
  const Sleeper sleeper_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<IdentityLimiter>> limiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace loganalytics

#endif  // LOGANALYTICS_IDENTITY_LIMITER_H_
