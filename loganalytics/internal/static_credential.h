// File: loganalytics/internal/static_credential.h
//
// A TokenCredential for tests: it hands out the tokens it was given, one per call (the
// last one repeats), or a scripted error, and records the scopes it was asked for.
// `Invalidate(scope)` records each time a caller reported a token as refused.
//
// Example:
//   auto credential = std::make_shared<StaticCredential>(
//       std::vector<std::string>{"token-1", "token-2"});
//   QueryClient client(transport, credential, options);
//   ... EXPECT_EQ(credential->calls(), 2);
//
// Thread-safe.
#ifndef LOGANALYTICS_INTERNAL_STATIC_CREDENTIAL_H_
#define LOGANALYTICS_INTERNAL_STATIC_CREDENTIAL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "azure_auth/token_credential.h"

namespace loganalytics_internal {

class StaticCredential : public azure_auth::TokenCredential {
 public:
  explicit StaticCredential(std::vector<std::string> tokens)
      : tokens_(std::move(tokens)) {}
  explicit StaticCredential(absl::Status error) : error_(std::move(error)) {}

  // The next scripted token (the last one once the script is used up), or the error.
  absl::StatusOr<azure_auth::AccessToken> GetToken(absl::string_view scope) override {
    absl::MutexLock lock(&mu_);
    scopes_.emplace_back(scope);
    if (!error_.ok()) return error_;
    size_t index = next_ < tokens_.size() ? next_ : tokens_.size() - 1;
    if (next_ < tokens_.size()) ++next_;
    azure_auth::AccessToken token;
    token.token = tokens_[index];
    token.expires_on = absl::InfiniteFuture();
    return token;
  }

  std::string Describe() const override { return "static test credential"; }

  // Counts the call; the script goes on as before.
  void Invalidate(absl::string_view scope) override {
    absl::MutexLock lock(&mu_);
    ++invalidations_;
    invalidated_scopes_.emplace_back(scope);
  }

  int calls() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(scopes_.size());
  }
  int invalidations() const {
    absl::MutexLock lock(&mu_);
    return invalidations_;
  }
  std::vector<std::string> scopes() const {
    absl::MutexLock lock(&mu_);
    return scopes_;
  }
  std::vector<std::string> invalidated_scopes() const {
    absl::MutexLock lock(&mu_);
    return invalidated_scopes_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> tokens_;
  absl::Status error_;
  size_t next_ = 0;
  int invalidations_ = 0;
  std::vector<std::string> scopes_;
  std::vector<std::string> invalidated_scopes_;
};

}  // namespace loganalytics_internal

#endif  // LOGANALYTICS_INTERNAL_STATIC_CREDENTIAL_H_
