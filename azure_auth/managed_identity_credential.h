// File: azure_auth/managed_identity_credential.h
//
// Azure managed identity: on an Azure VM, scale set or container host, the Instance
// Metadata Service (IMDS) at http://169.254.169.254 hands out tokens for the identity
// assigned to the machine, with no secret at all:
//
//   GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=<resource>
//       [&client_id=<user-assigned identity>]          header  Metadata: true
//
// The request never goes through a proxy (RequestOptions::use_proxy = false). IMDS
// asks clients to retry 404, 410, 429 and 5xx with exponential backoff; 400
// ("Identity not found") is final. The endpoint can be overridden (tests, or
// IDENTITY_ENDPOINT with IDENTITY_HEADER on App Service / Azure Arc style hosts,
// which take api-version 2019-08-01 and an X-IDENTITY-HEADER header).
//
// Example:
//   azure_auth::ManagedIdentityOptions options;
//   options.client_id = "5e4d3c2b-...";          // empty: system-assigned identity
//   auto credential = std::make_shared<azure_auth::ManagedIdentityCredential>(
//       options, transport, common::SystemClock());
//   absl::StatusOr<azure_auth::AccessToken> token =
//       credential->GetToken("https://api.loganalytics.io/.default");
//   // resource=https://api.loganalytics.io (the scope without /.default)
//
// Status codes (GetToken): kUnauthenticated (no such identity on this machine),
// kUnavailable (no IMDS answer, or 404/410/5xx still after the retries),
// kResourceExhausted (429 still after the retries), kInvalidArgument (bad scope or a
// malformed answer); other answers as ParseTokenError maps them.
//
// Thread-safe.
#ifndef AZURE_AUTH_MANAGED_IDENTITY_CREDENTIAL_H_
#define AZURE_AUTH_MANAGED_IDENTITY_CREDENTIAL_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "azure_auth/cloud.h"
#include "azure_auth/internal/json_fields.h"
#include "azure_auth/internal/token_request.h"
#include "azure_auth/internal/url_encode.h"
#include "azure_auth/token_credential.h"
#include "azure_auth/token_error.h"
#include "azure_auth/token_response.h"
#include "common/clock.h"
#include "http/http_transport.h"

namespace azure_auth {

// The IMDS token endpoint.
inline constexpr char kImdsTokenEndpoint[] =
    "http://169.254.169.254/metadata/identity/oauth2/token";

// Retries of 404, 410, 429 and 5xx answers: waits initial_backoff, then multiplied
// by `multiplier` each time up to max_backoff, for at most max_retries retries
// (defaults: 2, 4, 8, 16, 32 s, about a minute in all, which covers IMDS's
// "retry 410 for at least 70 s" together with the request times).
struct ImdsRetryPolicy {
  int max_retries = 5;
  absl::Duration initial_backoff = absl::Seconds(2);
  double multiplier = 2.0;
  absl::Duration max_backoff = absl::Seconds(32);
};

struct ManagedIdentityOptions {
  // Client id of a user-assigned identity; empty for the system-assigned one.
  std::string client_id;
  // The token endpoint. Empty means IMDS; an origin without a path
  // ("http://169.254.169.254", "http://127.0.0.1:PORT") gets IMDS's path appended.
  std::string endpoint;
  // When set (IDENTITY_HEADER), sent as X-IDENTITY-HEADER with api-version 2019-08-01.
  // It is a secret: never in messages.
  std::string identity_header;
  ImdsRetryPolicy retry;
  // Waits between retries; unset means absl::SleepFor. Tests pass a recorder.
  std::function<void(absl::Duration)> sleep;
  // IMDS is link-local and answers in milliseconds; off Azure nothing answers, and a
  // short connect timeout keeps that quick.
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration total_timeout = absl::Seconds(20);
};

class ManagedIdentityCredential : public TokenCredential {
 public:
  ManagedIdentityCredential(ManagedIdentityOptions options,
                            std::shared_ptr<http::HttpTransport> transport,
                            common::Clock clock = common::SystemClock())
      : options_(std::move(options)),
        endpoint_(NormalizeEndpoint(options_.endpoint)),
        transport_(std::move(transport)),
        clock_(std::move(clock)) {
    if (!options_.sleep) options_.sleep = [](absl::Duration d) { absl::SleepFor(d); };
  }

  // Gets a token for `scope` (sent as resource=<scope without /.default>), retrying
  // 404, 410, 429 and 5xx per ImdsRetryPolicy.
  // Errors:
  //   kUnauthenticated    HTTP 400: no such identity on this machine (says what to
  //                       assign), or the request was refused
  //   kUnavailable        no answer at all (not on Azure, or IMDS blocked), or 404,
  //                       410, 5xx still after the last retry
  //   kResourceExhausted  429 still after the last retry
  //   kInvalidArgument    bad scope; the token answer malformed
  //   others              per ParseTokenError for other statuses
  // Thread-safe.
  absl::StatusOr<AccessToken> GetToken(absl::string_view scope) override {
    using azure_auth_internal::Annotate;
    using azure_auth_internal::PercentEncode;
    if (absl::Status check = azure_auth_internal::ValidateScope(scope); !check.ok()) {
      return Annotate(check, Describe());
    }
    if (transport_ == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(Describe(), ": no transport"));
    }
    const bool app_service_style = !options_.identity_header.empty();
    http::HttpRequest request;
    request.method = "GET";
    request.url = absl::StrCat(
        endpoint_, endpoint_.find('?') == std::string::npos ? "?" : "&",
        "api-version=", app_service_style ? "2019-08-01" : "2018-02-01",
        "&resource=", PercentEncode(ScopeToResource(scope)));
    if (!options_.client_id.empty()) {
      absl::StrAppend(&request.url, "&client_id=", PercentEncode(options_.client_id));
    }
    request.headers = {{"Metadata", "true"}, {"Accept", "application/json"}};
    if (app_service_style) {
      request.headers.push_back({"X-IDENTITY-HEADER", options_.identity_header});
    }
    http::RequestOptions http_options;
    http_options.use_proxy = false;
    http_options.connect_timeout = options_.connect_timeout;
    http_options.total_timeout = options_.total_timeout;
    http_options.max_response_bytes = size_t{1} << 20;
    const std::vector<std::string> sensitive = {options_.identity_header};
    const std::string where = absl::StrCat(Describe(), ": managed identity endpoint ",
                                           http::HostOf(endpoint_));

    absl::Duration backoff = options_.retry.initial_backoff;
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<http::HttpResponse> response =
          transport_->Send(request, http_options);
      if (!response.ok()) {
        return azure_auth_internal::Redact(
            Annotate(response.status(),
                     absl::StrCat(where, " did not answer (is this an Azure VM, scale "
                                         "set or container with a managed identity? "
                                         "Is 169.254.169.254 reachable without a "
                                         "proxy?)")),
            sensitive);
      }
      const int status = response->status;
      if (status == 200) {
        absl::StatusOr<AccessToken> token = ParseTokenResponse(response->body, clock_());
        if (!token.ok()) return Annotate(token.status(), where);
        return token;
      }
      const bool retryable = status == 404 || status == 410 || status == 429 ||
                             (status >= 500 && status <= 599);
      const std::string body = azure_auth_internal::RedactText(response->body, sensitive);
      if (!retryable) return FinalError(where, status, body, sensitive);
      if (attempt >= options_.retry.max_retries) {
        std::string detail = azure_auth_internal::Sanitize(
            ParseTokenError(status, body).message());
        return azure_auth_internal::Redact(
            absl::Status(status == 429 ? absl::StatusCode::kResourceExhausted
                                       : absl::StatusCode::kUnavailable,
                         absl::StrCat(where, " still answered HTTP ", status, " after ",
                                      attempt + 1,
                                      " attempts (IMDS is busy or updating; retry "
                                      "later): ",
                                      detail)),
            sensitive);
      }
      absl::Duration delay = std::min(backoff, options_.retry.max_backoff);
      if (status == 429) {
        int64_t seconds = 0;
        std::optional<std::string> retry_after = response->Header("Retry-After");
        if (retry_after && absl::SimpleAtoi(*retry_after, &seconds) && seconds > 0) {
          delay = std::min(std::max(delay, absl::Seconds(seconds)),
                           options_.retry.max_backoff);
        }
      }
      options_.sleep(delay);
      backoff = backoff * options_.retry.multiplier;
    }
  }

  // "managed identity credential (system-assigned | user-assigned client id <id>,
  // endpoint <host>)". Thread-safe.
  std::string Describe() const override {
    return absl::StrCat(
        "managed identity credential (",
        options_.client_id.empty()
            ? std::string("system-assigned")
            : absl::StrCat("user-assigned client id ",
                           azure_auth_internal::Sanitize(options_.client_id, 64)),
        ", endpoint ", http::HostOf(endpoint_), ")");
  }

  // The token endpoint URL in use, without parameters.
  const std::string& endpoint() const { return endpoint_; }

 private:
  static std::string NormalizeEndpoint(absl::string_view endpoint) {
    if (endpoint.empty()) return kImdsTokenEndpoint;
    std::string url(endpoint);
    size_t scheme = url.find("://");
    size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (path == std::string::npos || url.substr(path) == "/") {
      if (path != std::string::npos) url.resize(path);
      url += "/metadata/identity/oauth2/token";
    }
    return url;
  }

  absl::Status FinalError(const std::string& where, int status,
                          const std::string& body,
                          const std::vector<std::string>& sensitive) const {
    if (status == 400) {
      std::optional<EntraError> e = ParseEntraError(body);
      std::string said = e.has_value() && !e->description.empty()
                             ? azure_auth_internal::Sanitize(e->description, 200)
                             : azure_auth_internal::Sanitize(body, 200);
      std::string advice =
          options_.client_id.empty()
              ? "turn on the system-assigned identity (the resource's Identity > "
                "System assigned > On), or configure the client id of a "
                "user-assigned identity attached to it"
              : absl::StrCat("attach the user-assigned identity with client id ",
                             azure_auth_internal::Sanitize(options_.client_id, 64),
                             " to this resource (Identity > User assigned), or fix "
                             "the configured client id");
      return azure_auth_internal::Redact(
          absl::UnauthenticatedError(absl::StrCat(
              where, " refused the request (HTTP 400: ", said.empty() ? "no details" : said,
              "): ", advice)),
          sensitive);
    }
    return azure_auth_internal::Redact(
        azure_auth_internal::Annotate(ParseTokenError(status, body), where), sensitive);
  }

  ManagedIdentityOptions options_;
  const std::string endpoint_;
  const std::shared_ptr<http::HttpTransport> transport_;
  const common::Clock clock_;
};

}  // namespace azure_auth

#endif  // AZURE_AUTH_MANAGED_IDENTITY_CREDENTIAL_H_
