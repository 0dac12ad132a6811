#include "loganalytics/identity_limiter.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loganalytics/query_error.h"
#include "loganalytics/sleeper.h"

namespace loganalytics {
namespace {

using ::testing::HasSubstr;

// Sleeps 1 ms of real time whatever it is asked, so waiting threads keep re-reading
// the fake clock while the test moves it.
void ShortRealSleep(absl::Duration) { absl::SleepFor(absl::Milliseconds(1)); }

TEST(IdentityLimiterTest, NeverMoreThanMaxConcurrentAcrossThreads) {
  common::FakeClock clock;
  IdentityLimiterOptions options;
  options.max_requests = 100000;
  IdentityLimiter limiter(options, clock.AsClock(), ShortRealSleep);
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        absl::StatusOr<IdentityLimiter::Permit> permit =
            limiter.Acquire(absl::InfiniteFuture());
        ASSERT_TRUE(permit.ok()) << permit.status();
        int now = ++running;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        absl::SleepFor(absl::Microseconds(300));
        --running;
        ++done;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(done.load(), 240);
  EXPECT_LE(peak.load(), 4);
  EXPECT_EQ(peak.load(), 4);  // 12 threads do fill every slot
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_EQ(limiter.granted(), 240);
}

TEST(IdentityLimiterTest, ConcurrencySlotFreedByAnotherThread) {
  common::FakeClock clock;
  IdentityLimiter limiter(IdentityLimiterOptions(), clock.AsClock(), ShortRealSleep,
                          "client c1 in tenant t1");
  std::vector<IdentityLimiter::Permit> held;
  for (int i = 0; i < 4; ++i) held.push_back(*limiter.Acquire(clock.Now()));
  absl::StatusOr<IdentityLimiter::Permit> refused = limiter.Acquire(clock.Now());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("query budget of identity client c1 in tenant t1 exhausted: 4 "
                        "queries are already running"));
  EXPECT_FALSE(RetryAfter(refused.status()).has_value());

  std::atomic<bool> got{false};
  std::thread waiter([&] {
    absl::StatusOr<IdentityLimiter::Permit> p =
        limiter.Acquire(clock.Now() + absl::Minutes(1));
    EXPECT_TRUE(p.ok()) << p.status();
    got = true;
  });
  absl::SleepFor(absl::Milliseconds(60));
  EXPECT_FALSE(got.load());
  held.pop_back();  // releases one slot
  waiter.join();
  EXPECT_TRUE(got.load());
}

TEST(IdentityLimiterTest, SlidingWindowOf200Per30Seconds) {
  common::FakeClock clock;
  const absl::Time t0 = clock.Now();
  std::vector<absl::Duration> sleeps;
  IdentityLimiter limiter(IdentityLimiterOptions(), clock.AsClock(),
                          [&](absl::Duration d) {
                            sleeps.push_back(d);
                            clock.Advance(d);
                          });
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.Acquire(t0).ok());
  clock.Advance(absl::Seconds(10));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.Acquire(clock.Now()).ok());
  EXPECT_TRUE(sleeps.empty());

  // The 201st inside the window: the first slot frees at t0 + 30 s.
  absl::StatusOr<IdentityLimiter::Permit> refused =
      limiter.Acquire(clock.Now() + absl::Seconds(5));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("200 requests already started in the last 30s; the next slot "
                        "frees in 20s"));
  EXPECT_EQ(RetryAfter(refused.status()), absl::Seconds(20));
  EXPECT_TRUE(sleeps.empty());  // no wait started that could not end in time

  absl::StatusOr<IdentityLimiter::Permit> waited =
      limiter.Acquire(clock.Now() + absl::Minutes(1));
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(clock.Now(), t0 + absl::Seconds(30));
  // At t0 + 30 s the first hundred have left the window: 99 more go at once.
  for (int i = 0; i < 99; ++i) ASSERT_TRUE(limiter.Acquire(clock.Now()).ok());
  EXPECT_EQ(limiter.Acquire(clock.Now()).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sleeps.size(), 1u);
}

TEST(IdentityLimiterTest, WindowWaitersResumeWhenTheFakeClockMoves) {
  common::FakeClock clock;
  IdentityLimiterOptions options;
  options.max_requests = 10;
  IdentityLimiter limiter(options, clock.AsClock(), ShortRealSleep);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Acquire(clock.Now()).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      EXPECT_TRUE(limiter.Acquire(absl::InfiniteFuture()).ok());
    });
  }
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(limiter.granted(), 10);
  clock.Advance(absl::Seconds(30));
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(limiter.granted(), 13);
}

TEST(IdentityLimiterTest, PauseAfter429HoldsEveryone) {
  common::FakeClock clock;
  const absl::Time t0 = clock.Now();
  IdentityLimiter limiter(IdentityLimiterOptions(), clock.AsClock(),
                          [&](absl::Duration d) { clock.Advance(d); });
  limiter.PauseUntil(t0 + absl::Seconds(12));
  limiter.PauseUntil(t0 + absl::Seconds(3));  // never shortens
  absl::StatusOr<IdentityLimiter::Permit> refused =
      limiter.Acquire(t0 + absl::Seconds(5));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("requests are paused for 12s after Log Analytics answered 429"));
  EXPECT_EQ(RetryAfter(refused.status()), absl::Seconds(12));
  ASSERT_TRUE(limiter.Acquire(t0 + absl::Minutes(1)).ok());
  EXPECT_EQ(clock.Now(), t0 + absl::Seconds(12));
}

// Every slot taken and a query waiting for one (up to 3 minutes in production): a stop
// request ends the wait at once, and no permit is handed out.
TEST(IdentityLimiterTest, AStopEndsAWaitForAConcurrencySlotWithCancelled) {
  auto stop = std::make_shared<StopSignal>();
  IdentityLimiterOptions options;
  options.stop = stop;
  IdentityLimiter limiter(options, common::SystemClock(), InterruptibleSleeper(stop),
                          "client c1 in tenant t1");
  std::vector<IdentityLimiter::Permit> held;
  for (int i = 0; i < 4; ++i) held.push_back(*limiter.Acquire(absl::Now()));
  absl::Status waited;
  absl::Duration took;
  std::thread waiter([&] {
    const absl::Time start = absl::Now();
    waited = limiter.Acquire(absl::Now() + absl::Minutes(3)).status();
    took = absl::Now() - start;
  });
  absl::SleepFor(absl::Milliseconds(200));  // the waiter is waiting now
  stop->Stop();
  waiter.join();
  EXPECT_GE(took, absl::Milliseconds(150)) << "it did wait for a slot before the stop";
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_EQ(waited.code(), absl::StatusCode::kCancelled) << waited;
  EXPECT_THAT(std::string(waited.message()),
              HasSubstr("stopping: waiting for a Log Analytics request slot abandoned after"));
  EXPECT_THAT(std::string(waited.message()),
              HasSubstr("identity client c1 in tenant t1: 4 queries are already running"));
  EXPECT_FALSE(RetryAfter(waited).has_value()) << "nothing to retry while stopping";
  EXPECT_EQ(limiter.granted(), 4);
  EXPECT_EQ(limiter.in_flight(), 4);
}

// Paused for minutes after a 429: with the interruptible sleeper, a stop ends the wait
// for the end of the pause at once.
TEST(IdentityLimiterTest, AStopEndsAWaitForTheEndOfAPauseWithCancelled) {
  auto stop = std::make_shared<StopSignal>();
  IdentityLimiterOptions options;
  options.stop = stop;
  IdentityLimiterRegistry registry(options, common::SystemClock(), InterruptibleSleeper(stop));
  std::shared_ptr<IdentityLimiter> limiter = registry.Get("t1", "c1");
  limiter->PauseUntil(absl::Now() + absl::Minutes(3));
  absl::Status waited;
  absl::Duration took;
  std::thread waiter([&] {
    const absl::Time start = absl::Now();
    waited = limiter->Acquire(absl::Now() + absl::Minutes(5)).status();
    took = absl::Now() - start;
  });
  absl::SleepFor(absl::Milliseconds(200));
  stop->Stop();
  waiter.join();
  EXPECT_GE(took, absl::Milliseconds(150));
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_EQ(waited.code(), absl::StatusCode::kCancelled) << waited;
  EXPECT_THAT(std::string(waited.message()),
              HasSubstr("stopping: waiting for a Log Analytics request slot abandoned"));
  EXPECT_THAT(std::string(waited.message()), HasSubstr("after Log Analytics answered 429"));
  EXPECT_EQ(limiter->granted(), 0);
}

// Once stopped, a request that would have to wait is refused without waiting; one that
// finds a free slot still goes (only waits are abandoned).
TEST(IdentityLimiterTest, AfterAStopOnlyAFreeSlotIsGranted) {
  common::FakeClock clock;
  auto stop = std::make_shared<StopSignal>();
  stop->Stop();
  IdentityLimiterOptions options;
  options.stop = stop;
  options.max_requests = 2;
  std::vector<absl::Duration> sleeps;
  IdentityLimiter limiter(options, clock.AsClock(), [&](absl::Duration d) {
    sleeps.push_back(d);
    clock.Advance(d);
  });
  ASSERT_TRUE(limiter.Acquire(clock.Now()).ok());
  ASSERT_TRUE(limiter.Acquire(clock.Now()).ok());
  absl::StatusOr<IdentityLimiter::Permit> third = limiter.Acquire(absl::InfiniteFuture());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kCancelled) << third.status();
  EXPECT_THAT(std::string(third.status().message()),
              HasSubstr("2 requests already started in the last 30s"));
  EXPECT_TRUE(sleeps.empty());
  EXPECT_EQ(limiter.granted(), 2);
}

TEST(IdentityLimiterTest, PermitMovesAndReleasesOnce) {
  IdentityLimiter limiter;
  absl::StatusOr<IdentityLimiter::Permit> a = limiter.Acquire(absl::InfiniteFuture());
  ASSERT_TRUE(a.ok());
  IdentityLimiter::Permit moved = std::move(*a);
  EXPECT_TRUE(moved.held());
  EXPECT_EQ(limiter.in_flight(), 1);
  moved.Release();
  moved.Release();
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST(IdentityLimiterRegistryTest, OneLimiterPerIdentity) {
  common::FakeClock clock;
  IdentityLimiterRegistry registry(IdentityLimiterOptions(), clock.AsClock(),
                                   ShortRealSleep);
  std::shared_ptr<IdentityLimiter> a =
      registry.Get("CE66672C-E36D-4761-A8C8-90058FEE1A24", "app-1");
  std::shared_ptr<IdentityLimiter> b =
      registry.Get("ce66672c-e36d-4761-a8c8-90058fee1a24", "APP-1");
  std::shared_ptr<IdentityLimiter> other_app =
      registry.Get("ce66672c-e36d-4761-a8c8-90058fee1a24", "app-2");
  std::shared_ptr<IdentityLimiter> other_tenant = registry.Get("t2", "app-1");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other_app);
  EXPECT_NE(a, other_tenant);
  EXPECT_EQ(registry.size(), 3u);

  // Two workspaces' queries through the same identity share its 4 slots.
  std::vector<IdentityLimiter::Permit> held;
  for (int i = 0; i < 2; ++i) held.push_back(*a->Acquire(clock.Now()));
  for (int i = 0; i < 2; ++i) held.push_back(*b->Acquire(clock.Now()));
  EXPECT_EQ(b->Acquire(clock.Now()).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(other_app->Acquire(clock.Now()).ok());
}

}  // namespace
}  // namespace loganalytics
