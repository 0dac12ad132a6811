#include "azure_auth/token_cache.h"

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;

constexpr char kScope[] = "https://api.loganalytics.io/.default";

// A credential answering from a script; each answer is a token life (a token
// "tok-N" expiring that long after the clock's now) or an error. Counts requests
// and can hold them until released.
class ScriptedCredential : public TokenCredential {
 public:
  explicit ScriptedCredential(const common::FakeClock* clock) : clock_(clock) {}

  void PushToken(absl::Duration life, absl::Duration refresh_in = absl::ZeroDuration()) {
    absl::MutexLock lock(&mu_);
    script_.push_back({absl::OkStatus(), life, refresh_in});
  }
  void PushError(absl::Status status) {
    absl::MutexLock lock(&mu_);
    script_.push_back({std::move(status), absl::ZeroDuration(), absl::ZeroDuration()});
  }
  void HoldRequests() { hold_ = std::make_unique<absl::Notification>(); }
  void Release() { hold_->Notify(); }
  int requests() const { return requests_.load(); }

  absl::StatusOr<AccessToken> GetToken(absl::string_view scope) override {
    int n = ++requests_;
    if (hold_ != nullptr) hold_->WaitForNotification();
    absl::MutexLock lock(&mu_);
    scopes_.emplace_back(scope);
    if (script_.empty()) return absl::InternalError("script exhausted");
    Answer a = script_.front();
    script_.pop_front();
    if (!a.status.ok()) return a.status;
    AccessToken token;
    token.token = absl::StrCat("tok-", n);
    token.expires_on = clock_->Now() + a.life;
    if (a.refresh_in > absl::ZeroDuration()) token.refresh_on = clock_->Now() + a.refresh_in;
    return token;
  }
  std::string Describe() const override { return "scripted credential"; }
  std::vector<std::string> scopes() {
    absl::MutexLock lock(&mu_);
    return scopes_;
  }

 private:
  struct Answer {
    absl::Status status;
    absl::Duration life;
    absl::Duration refresh_in;
  };
  const common::FakeClock* clock_;
  absl::Mutex mu_;
  std::deque<Answer> script_;
  std::vector<std::string> scopes_;
  std::atomic<int> requests_{0};
  std::unique_ptr<absl::Notification> hold_;
};

class TokenCacheTest : public ::testing::Test {
 protected:
  TokenCacheTest()
      : inner_(std::make_shared<ScriptedCredential>(&clock_)),
        cache_(inner_, clock_.AsClock()) {}
  common::FakeClock clock_;
  std::shared_ptr<ScriptedCredential> inner_;
  TokenCache cache_;
};

TEST_F(TokenCacheTest, ServesTheCachedTokenUntilFiveMinutesBeforeExpiry) {
  inner_->PushToken(absl::Minutes(60));
  inner_->PushToken(absl::Minutes(60));
  auto first = cache_.GetToken(kScope);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->token, "tok-1");
  clock_.Advance(absl::Minutes(54) + absl::Seconds(59));
  auto cached = cache_.GetToken(kScope);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->token, "tok-1");
  EXPECT_EQ(inner_->requests(), 1);
  clock_.Advance(absl::Seconds(1));  // expires_on - 5 min
  auto refreshed = cache_.GetToken(kScope);
  ASSERT_TRUE(refreshed.ok());
  EXPECT_EQ(refreshed->token, "tok-2");
  EXPECT_EQ(inner_->requests(), 2);
}

TEST_F(TokenCacheTest, RefreshOnFromTheIssuerComesFirst) {
  inner_->PushToken(absl::Hours(24), /*refresh_in=*/absl::Hours(12));
  inner_->PushToken(absl::Hours(24));
  ASSERT_TRUE(cache_.GetToken(kScope).ok());
  clock_.Advance(absl::Hours(12) - absl::Seconds(1));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-2");
}

TEST_F(TokenCacheTest, ShortTokensAreRefreshedHalfWay) {
  inner_->PushToken(absl::Minutes(4));
  inner_->PushToken(absl::Minutes(4));
  ASSERT_TRUE(cache_.GetToken(kScope).ok());
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");  // not refreshed on every call
  clock_.Advance(absl::Minutes(2) - absl::Seconds(1));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-2");
  EXPECT_EQ(inner_->requests(), 2);
}

TEST_F(TokenCacheTest, ScopesAreCachedSeparately) {
  inner_->PushToken(absl::Minutes(60));
  inner_->PushToken(absl::Minutes(60));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");
  EXPECT_EQ(cache_.GetToken("https://api.loganalytics.us/.default")->token, "tok-2");
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");
  EXPECT_EQ(inner_->scopes(),
            (std::vector<std::string>{kScope, "https://api.loganalytics.us/.default"}));
}

TEST_F(TokenCacheTest, FailedRefreshKeepsServingTheValidTokenWithBackoff) {
  inner_->PushToken(absl::Minutes(60));
  ASSERT_TRUE(cache_.GetToken(kScope).ok());
  for (int i = 0; i < 4; ++i) inner_->PushError(absl::UnavailableError("entra down"));
  inner_->PushToken(absl::Minutes(60));

  clock_.Advance(absl::Minutes(55));  // due for refresh
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");  // attempt 1 failed
  EXPECT_EQ(inner_->requests(), 2);
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");  // within 2 s: no attempt
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");
  EXPECT_EQ(inner_->requests(), 2);
  clock_.Advance(absl::Seconds(1));  // 2 s step over
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");  // attempt 2 failed
  EXPECT_EQ(inner_->requests(), 3);
  clock_.Advance(absl::Seconds(3));  // next step is 4 s
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");
  EXPECT_EQ(inner_->requests(), 3);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");  // attempt 3 failed
  EXPECT_EQ(inner_->requests(), 4);
  clock_.Advance(absl::Seconds(8));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");  // attempt 4 failed
  EXPECT_EQ(inner_->requests(), 5);
  clock_.Advance(absl::Seconds(16));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-6");  // attempt 5 succeeded
  EXPECT_EQ(inner_->requests(), 6);
}

TEST_F(TokenCacheTest, ExpiredTokenAndFailedRefreshReturnsTheRefreshError) {
  inner_->PushToken(absl::Minutes(60));
  ASSERT_TRUE(cache_.GetToken(kScope).ok());
  inner_->PushError(absl::UnauthenticatedError("AADSTS7000222 secret expired"));
  inner_->PushError(absl::UnauthenticatedError("AADSTS7000222 secret expired again"));
  clock_.Advance(absl::Minutes(60));  // expired
  auto token = cache_.GetToken(kScope);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("AADSTS7000222"));
  // Within the backoff step: the same error, no new request.
  auto again = cache_.GetToken(kScope);
  EXPECT_EQ(again.status(), token.status());
  EXPECT_EQ(inner_->requests(), 2);
  clock_.Advance(absl::Seconds(2));
  auto third = cache_.GetToken(kScope);
  EXPECT_THAT(std::string(third.status().message()), HasSubstr("again"));
  EXPECT_EQ(inner_->requests(), 3);
}

TEST_F(TokenCacheTest, FirstRequestFailureIsReturned) {
  inner_->PushError(absl::NotFoundError("AADSTS90002 tenant not found"));
  auto token = cache_.GetToken(kScope);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TokenCacheTest, AlreadyExpiredTokenFromTheCredentialIsAnError) {
  inner_->PushToken(absl::ZeroDuration());
  auto token = cache_.GetToken(kScope);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("already expired"));
}

TEST_F(TokenCacheTest, InvalidateForcesANewRequest) {
  inner_->PushToken(absl::Minutes(60));
  inner_->PushToken(absl::Minutes(60));
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");
  TokenCredential& as_interface = cache_;
  as_interface.Invalidate(kScope);
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-2");
  EXPECT_EQ(inner_->requests(), 2);
  EXPECT_EQ(cache_.Describe(), "token cache over scripted credential");
}

TEST_F(TokenCacheTest, EightConcurrentCallersMakeExactlyOneRequest) {
  inner_->PushToken(absl::Minutes(60));
  inner_->PushToken(absl::Minutes(60));
  inner_->HoldRequests();
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto token = cache_.GetToken(kScope);
      got[i] = token.ok() ? token->token : std::string(token.status().message());
    });
  }
  // Let the first caller reach the credential and the others queue behind it.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (inner_->requests() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::SleepFor(absl::Milliseconds(100));
  inner_->Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(inner_->requests(), 1);
  for (const std::string& token : got) EXPECT_EQ(token, "tok-1");
}

TEST_F(TokenCacheTest, CallersWithAValidTokenDoNotWaitForARefresh) {
  inner_->PushToken(absl::Minutes(60));
  inner_->PushToken(absl::Minutes(60));
  ASSERT_TRUE(cache_.GetToken(kScope).ok());
  clock_.Advance(absl::Minutes(56));
  inner_->HoldRequests();
  std::thread refresher([&] { EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-2"); });
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (inner_->requests() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  // The refresh is held; this caller still gets the valid token immediately.
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-1");
  inner_->Release();
  refresher.join();
  EXPECT_EQ(cache_.GetToken(kScope)->token, "tok-2");
  EXPECT_EQ(inner_->requests(), 2);
}

}  // namespace
}  // namespace azure_auth
