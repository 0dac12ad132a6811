// File: azure_auth/token_cache.h
//
// A TokenCredential that remembers the tokens of the credential it wraps, one per
// scope, and gets a new one ahead of expiry: at the earlier of the issuer's
// refresh_on and expires_on minus a margin (5 minutes), or half-way through the
// life of a token shorter than that margin.
//
// Concurrency: at most one request to the wrapped credential is in flight per
// scope. While it runs, callers holding no usable token wait for it (absl::CondVar);
// callers for whom the current token is still valid get that token at once.
//
// Failures: a failed refresh keeps serving the still-valid token and is retried with
// exponential backoff, at most one attempt per backoff step. When no valid token is
// left, callers get the refresh error; within the backoff step they get the same
// error again without a new request (Entra ID throttles tenants that hammer it).
//
// Example:
//   auto cache = std::make_shared<azure_auth::TokenCache>(
//       std::make_shared<azure_auth::ClientSecretCredential>(...), clock);
//   absl::StatusOr<azure_auth::AccessToken> token =
//       cache->GetToken("https://api.loganalytics.io/.default");   // cheap when cached
//   // after the API answered 401 to that token:
//   cache->Invalidate("https://api.loganalytics.io/.default");
//
// Thread-safe.
//
// Status codes (GetToken): the wrapped credential's, when no valid token is cached (within
// a backoff step the same error again, without a new request); kUnavailable when the
// wrapped credential hands out an already expired token.
#ifndef AZURE_AUTH_TOKEN_CACHE_H_
#define AZURE_AUTH_TOKEN_CACHE_H_

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "azure_auth/token_credential.h"
#include "common/clock.h"

namespace azure_auth {

struct TokenCacheOptions {
  // Refresh this long before expires_on (unless refresh_on says earlier).
  absl::Duration refresh_margin = absl::Minutes(5);
  // Waits after consecutive failed requests: initial, doubled each time, capped.
  absl::Duration initial_backoff = absl::Seconds(2);
  absl::Duration max_backoff = absl::Minutes(1);
};

class TokenCache : public TokenCredential {
 public:
  // `inner` gets the tokens; `clock` decides when they are due.
  TokenCache(std::shared_ptr<TokenCredential> inner, common::Clock clock,
             TokenCacheOptions options = {})
      : inner_(std::move(inner)), clock_(std::move(clock)), options_(options) {}

  // Returns the cached token for `scope` when it is not yet due for refresh;
  // otherwise gets a new one from the wrapped credential (one request at a time).
  // Errors: those of the wrapped credential, when no valid token is cached; within a
  // backoff step the last error is returned again without a new request. kUnavailable
  // if the wrapped credential returns an already expired token. Thread-safe.
  absl::StatusOr<AccessToken> GetToken(absl::string_view scope) override {
    const std::string key(scope);
    absl::MutexLock lock(&mu_);
    for (;;) {
      Entry& entry = entries_[key];
      const absl::Time now = clock_();
      const bool valid = entry.token.has_value() && now < entry.token->expires_on;
      if (valid && now < entry.refresh_at) return *entry.token;
      if (entry.refreshing) {
        if (valid) return *entry.token;
        cond_.Wait(&mu_);
        continue;  // the entry may have changed; look again
      }
      if (now < entry.next_attempt) {
        if (valid) return *entry.token;
        return entry.last_error;
      }
      return Refresh(key, entry);
    }
  }

  // Forgets the token cached for `scope` (say, after the API rejected it), so the
  // next GetToken asks the wrapped credential. A refresh in flight is not
  // interrupted. Thread-safe.
  void Invalidate(absl::string_view scope) override {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(std::string(scope));
    if (it == entries_.end()) return;
    it->second.token.reset();
    it->second.next_attempt = absl::InfinitePast();
  }

  // "token cache over <wrapped credential's description>". Thread-safe.
  std::string Describe() const override {
    return absl::StrCat("token cache over ", inner_->Describe());
  }

  // The wrapped credential.
  const std::shared_ptr<TokenCredential>& inner() const { return inner_; }

 private:
  struct Entry {
    std::optional<AccessToken> token;
    absl::Time refresh_at = absl::InfinitePast();
    bool refreshing = false;
    int failures = 0;
    absl::Time next_attempt = absl::InfinitePast();
    absl::Status last_error;
  };

  absl::Time RefreshAt(const AccessToken& token, absl::Time obtained) const {
    absl::Time at = token.expires_on - options_.refresh_margin;
    if (token.refresh_on != absl::InfinitePast()) at = std::min(at, token.refresh_on);
    if (at <= obtained) at = obtained + (token.expires_on - obtained) / 2;
    return at;
  }

  absl::Duration Backoff(int failures) const {
    absl::Duration d = options_.initial_backoff;
    for (int i = 1; i < failures && d < options_.max_backoff; ++i) d *= 2;
    return std::min(d, options_.max_backoff);
  }

  // Runs one request to the wrapped credential with `mu_` released. `entry` stays
  // valid: std::map nodes are stable and entries are never erased.
  absl::StatusOr<AccessToken> Refresh(const std::string& scope, Entry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    entry.refreshing = true;
    mu_.Unlock();
    absl::StatusOr<AccessToken> fresh = inner_->GetToken(scope);
    mu_.Lock();
    entry.refreshing = false;
    cond_.SignalAll();
    const absl::Time now = clock_();
    if (fresh.ok() && now >= fresh->expires_on) {
      fresh = absl::UnavailableError(absl::StrCat(
          inner_->Describe(), " returned a token that had already expired at ",
          absl::FormatTime(fresh->expires_on),
          ": check this machine's clock (NTP)"));
    }
    if (fresh.ok()) {
      entry.token = *fresh;
      entry.refresh_at = RefreshAt(*fresh, now);
      entry.failures = 0;
      entry.next_attempt = absl::InfinitePast();
      entry.last_error = absl::OkStatus();
      return fresh;
    }
    ++entry.failures;
    entry.next_attempt = now + Backoff(entry.failures);
    entry.last_error = fresh.status();
    if (entry.token.has_value() && now < entry.token->expires_on) return *entry.token;
    return fresh.status();
  }

  const std::shared_ptr<TokenCredential> inner_;
  const common::Clock clock_;
  const TokenCacheOptions options_;
  absl::Mutex mu_;
  absl::CondVar cond_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace azure_auth

#endif  // AZURE_AUTH_TOKEN_CACHE_H_
