#include "loganalytics/retry_policy.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loganalytics/query_error.h"
#include "loganalytics/sleeper.h"

namespace loganalytics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RetryPolicyTest : public ::testing::Test {
 protected:
  RetryPolicy Make(RetryOptions options, double draw = 0.5) {
    return RetryPolicy(
        options, clock_.AsClock(),
        [this](absl::Duration d) {
          sleeps_.push_back(d);
          clock_.Advance(d);
        },
        [draw] { return draw; });
  }

  static absl::Status Throttled(int seconds) {
    absl::Status s = absl::ResourceExhaustedError("HTTP 429");
    s.SetPayload(kRetryAfterPayload, absl::Cord(std::to_string(seconds)));
    return s;
  }

  common::FakeClock clock_;
  std::vector<absl::Duration> sleeps_;
};

TEST_F(RetryPolicyTest, SuccessAndPermanentFailuresReturnAtOnce) {
  RetryPolicy retry = Make(RetryOptions());
  int calls = 0;
  EXPECT_TRUE(retry.Run([&] { ++calls; return absl::OkStatus(); }).ok());
  absl::Status s = retry.Run([&] {
    ++calls;
    return absl::PermissionDeniedError("no Log Analytics Reader");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "no Log Analytics Reader");
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(RetryPolicyTest, ExponentialBackoffWithFullJitter) {
  RetryOptions options;
  options.initial_backoff = absl::Seconds(1);
  options.multiplier = 2;
  options.max_backoff = absl::Seconds(5);
  RetryPolicy retry = Make(options, 0.5);
  int calls = 0;
  absl::StatusOr<int> result = retry.Run([&]() -> absl::StatusOr<int> {
    if (++calls < 6) {
      return calls % 2 ? absl::UnavailableError("HTTP 503")
                       : absl::DeadlineExceededError("HTTP 504");
    }
    return 42;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 42);
  // Half of min(5 s, 1 s * 2^retry): 0.5, 1, 2, 2.5 (capped), 2.5.
  EXPECT_THAT(sleeps_, ElementsAre(absl::Milliseconds(500), absl::Seconds(1),
                                   absl::Seconds(2), absl::Milliseconds(2500),
                                   absl::Milliseconds(2500)));
}

TEST_F(RetryPolicyTest, JitterSpansZeroToCap) {
  RetryOptions options;
  EXPECT_EQ(Make(options, 0.0).Backoff(3), absl::ZeroDuration());
  EXPECT_EQ(Make(options, 0.999).Backoff(3), absl::Seconds(8 * 0.999));
  RetryPolicy real(options);
  for (int i = 0; i < 100; ++i) {
    absl::Duration d = real.Backoff(2);
    EXPECT_GE(d, absl::ZeroDuration());
    EXPECT_LT(d, absl::Seconds(4));
  }
}

TEST_F(RetryPolicyTest, HonoursRetryAfter) {
  RetryPolicy retry = Make(RetryOptions(), 0.1);
  int calls = 0;
  absl::Status s = retry.Run([&] { return ++calls == 1 ? Throttled(30) : absl::OkStatus(); });
  EXPECT_TRUE(s.ok());
  EXPECT_THAT(sleeps_, ElementsAre(absl::Seconds(30)));
}

TEST_F(RetryPolicyTest, CapsRetryAfter) {
  RetryOptions options;
  options.max_retry_after = absl::Seconds(10);
  RetryPolicy retry = Make(options, 0.0);
  int calls = 0;
  EXPECT_TRUE(retry.Run([&] { return ++calls == 1 ? Throttled(86000) : absl::OkStatus(); }).ok());
  EXPECT_THAT(sleeps_, ElementsAre(absl::Seconds(10)));
}

TEST_F(RetryPolicyTest, GivesUpAfterMaxAttemptsKeepingCodeAndPayloads) {
  RetryOptions options;
  options.max_attempts = 3;
  RetryPolicy retry = Make(options, 0.0);
  int calls = 0;
  absl::Status s = retry.Run([&] { ++calls; return Throttled(2); });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "gave up after 3 attempts over 4s (that was the last allowed attempt): "
            "HTTP 429");
  EXPECT_EQ(RetryAfter(s), absl::Seconds(2));
}

TEST_F(RetryPolicyTest, DoesNotStartAWaitThatPassesTheDeadline) {
  RetryOptions options;
  options.deadline = absl::Seconds(45);
  RetryPolicy retry = Make(options, 0.0);
  int calls = 0;
  std::vector<int> observed;
  absl::Status s = retry.Run(
      [&] { ++calls; return Throttled(30); },
      [&](const absl::Status&, int attempt, absl::Duration wait) {
        observed.push_back(attempt);
        EXPECT_EQ(wait, absl::Seconds(30));
      });
  EXPECT_EQ(calls, 2);  // 0 s, then 30 s; a third at 60 s would pass 45 s
  EXPECT_THAT(observed, ElementsAre(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("gave up after 2 attempts over 30s (waiting 30s more would "
                        "pass the retry deadline of 45s): HTTP 429"));
}

// A stop request during the backoff (real time) ends the wait and the retries at once.
TEST_F(RetryPolicyTest, AStopEndsTheWaitAndGivesUpWithCancelled) {
  auto stop = std::make_shared<StopSignal>();
  RetryOptions options;
  options.initial_backoff = absl::Seconds(20);
  options.stop = stop;
  RetryPolicy retry(options, common::SystemClock(), InterruptibleSleeper(stop),
                    [] { return 0.9; });  // the first wait would be 18 s
  int calls = 0;
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(200));
    stop->Stop();
  });
  const absl::Time start = absl::Now();
  absl::Status s = retry.Run([&] {
    ++calls;
    return absl::UnavailableError("KQL query \"SigninLogs\" page 3 failed: HTTP 503");
  });
  const absl::Duration took = absl::Now() - start;
  stopper.join();
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("stopping: retry abandoned after 1 attempt(s)"));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("last failure: UNAVAILABLE: KQL query \"SigninLogs\" page 3 failed: "
                        "HTTP 503"));

  // Already stopped: no wait at all after a failure; a success is still returned.
  RetryPolicy stopped = Make(options);
  calls = 0;
  EXPECT_EQ(stopped.Run([&] { ++calls; return absl::UnavailableError("HTTP 503"); }).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_TRUE(stopped.Run([] { return absl::OkStatus(); }).ok());
}

TEST_F(RetryPolicyTest, RetryableCodes) {
  EXPECT_TRUE(RetryPolicy::IsRetryable(absl::UnavailableError("")));
  EXPECT_TRUE(RetryPolicy::IsRetryable(absl::DeadlineExceededError("")));
  EXPECT_TRUE(RetryPolicy::IsRetryable(absl::ResourceExhaustedError("")));
  EXPECT_FALSE(RetryPolicy::IsRetryable(absl::OkStatus()));
  EXPECT_FALSE(RetryPolicy::IsRetryable(absl::InvalidArgumentError("")));
  EXPECT_FALSE(RetryPolicy::IsRetryable(absl::UnauthenticatedError("")));
  EXPECT_FALSE(RetryPolicy::IsRetryable(absl::DataLossError("")));
  EXPECT_FALSE(RetryPolicy::IsRetryable(absl::NotFoundError("")));
}

}  // namespace
}  // namespace loganalytics
