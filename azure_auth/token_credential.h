// File: azure_auth/token_credential.h
//
// The credential seam: a scope in, an access token out. Every way of authenticating to
// Entra ID (client secret, client certificate, workload identity, managed identity)
// implements `azure_auth::TokenCredential`; the query client takes one in its
// constructor and never sees how the token was obtained.
//
// Example:
//   absl::StatusOr<azure_auth::AccessToken> token =
//       credential.GetToken("https://api.loganalytics.io/.default");
//   if (!token.ok()) return token.status();   // kUnauthenticated says what to fix
//   request.headers.push_back({"Authorization", "Bearer " + token->token});
//
// Status codes: kUnauthenticated (bad or expired credential; the message names the
// AADSTS code and the fix), kNotFound (unknown tenant or application),
// kPermissionDenied (blocked by policy), kInvalidArgument (bad scope or settings),
// kUnavailable / kDeadlineExceeded (network, 5xx; retryable), kResourceExhausted
// (throttled). Messages never contain secrets, assertions or tokens.
//
// Implementations are thread-safe: one credential serves every thread.
#ifndef AZURE_AUTH_TOKEN_CREDENTIAL_H_
#define AZURE_AUTH_TOKEN_CREDENTIAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace azure_auth {

struct AccessToken {
  std::string token;
  absl::Time expires_on = absl::InfinitePast();
  // When the issuer suggests refreshing (`refresh_in`); InfinitePast when it said nothing.
  absl::Time refresh_on = absl::InfinitePast();
};

class TokenCredential {
 public:
  virtual ~TokenCredential() = default;

  // Returns a token for `scope` (e.g. "https://api.loganalytics.io/.default").
  // Implementations are thread-safe.
  virtual absl::StatusOr<AccessToken> GetToken(absl::string_view scope) = 0;

  // A short, secret-free description for logs ("client secret for app 1234…").
  virtual std::string Describe() const = 0;

  // Tells the credential that the token it gave for `scope` was rejected (e.g. the
  // API answered 401 to it), so a caching credential stops handing it out. The
  // default does nothing: credentials that do not cache need not override it.
  // Thread-safe.
  virtual void Invalidate(absl::string_view scope) { (void)scope; }
};

}  // namespace azure_auth

#endif  // AZURE_AUTH_TOKEN_CREDENTIAL_H_
