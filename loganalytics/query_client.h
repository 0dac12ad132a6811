// File: loganalytics/query_client.h
//
// Runs one KQL query against one Log Analytics workspace through the Query API:
//   POST {query_host}/v1/workspaces/{workspace_id}/query
//   Authorization: Bearer <token for options.scope>
//   Content-Type: application/json
//   Prefer: wait=<options.wait seconds>[, include-statistics=true]
//   {"query":"<kql>","timespan":"<ISO 8601 interval>"}
// and returns the answer's body untouched (200 or 204), or a Status from
// ParseQueryError for anything else. The client sends exactly one request, plus one
// more after a 401: the credential is told the token was refused (Invalidate, which
// makes a TokenCache drop it) and asked again, and the query is resent if the new token
// differs (tokens may be revoked before they expire). Retries of transient failures are the
// caller's (RetryPolicy); a 200 answer with a partial error is still a 200 here: the
// converter reports it and the paginator re-reads the page smaller.
//
// When an IdentityLimiter is given, every request holds one of its permits while it
// runs, and a 429 with Retry-After pauses that identity's requests for as long. A stop
// request on the limiter (IdentityLimiterOptions::stop) ends a wait for a permit with
// kCancelled, which RetryPolicy does not retry.
//
// The client depends only on the http::HttpTransport and azure_auth::TokenCredential
// interfaces; the binary passes the curl transport and a cached credential.
//
// Example:
//   QueryClientOptions options;
//   options.query_host = "https://api.loganalytics.io";
//   QueryClient client(transport, credential, options);
//   absl::StatusOr<QueryResponse> answer = client.Query(
//       workspace_id, "SigninLogs | take 10",
//       "PT1H");   // or "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"
//   if (!answer.ok()) return answer.status();   // code per query_error.h
//   Convert(answer->body);
//
// Thread-safe: one client may serve several threads and workspaces at once.
#ifndef LOGANALYTICS_QUERY_CLIENT_H_
#define LOGANALYTICS_QUERY_CLIENT_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "azure_auth/token_credential.h"
#include "common/clock.h"
#include "http/http_transport.h"
#include "loganalytics/identity_limiter.h"
#include "loganalytics/internal/json_writer.h"
#include "loganalytics/query_error.h"

namespace loganalytics {

struct QueryClientOptions {
  // Scheme and authority of the Query API, no trailing path: "https://api.loganalytics.io"
  // (Government: api.loganalytics.us, China: api.loganalytics.azure.cn), or a fake's
  // "https://127.0.0.1:PORT".
  std::string query_host = "https://api.loganalytics.io";
  // The token scope. Its audience stays api.loganalytics.io even for the
  // api.loganalytics.azure.com host.
  std::string scope = "https://api.loganalytics.io/.default";
  // Server-side time limit sent as `Prefer: wait=N`; clamped to [1 s, 600 s] and sent in
  // whole seconds.
  absl::Duration wait = absl::Seconds(180);
  // Adds `include-statistics=true` to Prefer (the answer then has "statistics").
  bool include_statistics = false;
  // Transport limits. total_timeout is raised to at least wait + 60 s so the client
  // never gives up before the server does.
  http::RequestOptions request;
  // Shared budget of the identity behind `credential`; null: no limit.
  std::shared_ptr<IdentityLimiter> limiter;
  // How long a query may wait for a permit of `limiter`.
  absl::Duration limiter_wait = absl::Minutes(3);
  // Time source for the limiter's deadline and pauses.
  common::Clock clock = common::SystemClock();
};

// Per-call settings.
struct QueryOptions {
  // What the operator calls this query, for messages:
  // `KQL query "SigninLogs" page 3`. Empty: "KQL query".
  std::string what;
};

// A successful answer.
struct QueryResponse {
  int status = 200;     // 200, or 204 (no content: an empty workspace)
  std::string body;     // as received (after transport decompression); empty for 204
  http::Headers headers;
  // The Preference-Applied header ("wait=600"), when the service sent one.
  std::string preference_applied;
};

class QueryClient {
 public:
  // `transport` and `credential` must not be null.
  QueryClient(std::shared_ptr<http::HttpTransport> transport,
              std::shared_ptr<azure_auth::TokenCredential> credential,
              QueryClientOptions options = {})
      : transport_(std::move(transport)),
        credential_(std::move(credential)),
        options_(std::move(options)) {
    while (!options_.query_host.empty() && options_.query_host.back() == '/') {
      options_.query_host.pop_back();
    }
    options_.wait = std::clamp(absl::Trunc(options_.wait, absl::Seconds(1)),
                               absl::Seconds(1), absl::Seconds(600));
    options_.request.total_timeout =
        std::max(options_.request.total_timeout, options_.wait + absl::Seconds(60));
    host_ = http::HostOf(options_.query_host);
  }

  // The JSON body for `kql` and `timespan` (omitted when empty), escaped per RFC 8259.
  // Returns kInvalidArgument when either is not valid UTF-8. Thread-safe.
  static absl::StatusOr<std::string> BuildBody(absl::string_view kql,
                                               absl::string_view timespan) {
    std::string body = "{\"query\":";
    absl::Status status = loganalytics_internal::AppendJsonString(kql, &body);
    if (!status.ok()) return status;
    if (!timespan.empty()) {
      body.append(",\"timespan\":");
      status = loganalytics_internal::AppendJsonString(timespan, &body);
      if (!status.ok()) return status;
    }
    body.push_back('}');
    return body;
  }

  // Runs `kql` on `workspace_id` over `timespan` (an ISO 8601 interval "start/end" or
  // a duration such as "PT1H"; empty: all retained data). Returns the answer for HTTP
  // 200 and 204, otherwise:
  //   kInvalidArgument    bad workspace id or KQL (syntax/semantic error with line,
  //                       position and token; kMissingTablePayload for an unknown table)
  //   kUnauthenticated    token refused, also after asking the credential again; or the
  //                       credential's own failure (its code and message kept)
  //   kPermissionDenied   no Log Analytics Reader on the workspace
  //   kNotFound           no such workspace
  //   kResourceExhausted  throttled (kRetryAfterPayload), or no limiter permit in time
  //   kCancelled          the limiter's options.stop was requested while the query
  //                       waited for a permit ("stopping: ..."; nothing was sent)
  //   kUnavailable        network failure or 5xx; kDeadlineExceeded: 504 or timeout
  //   kOutOfRange         the answer was larger than request.max_response_bytes
  //   kInternal           200 with an empty body (a proxy stripped Content-Type)
  // Thread-safe.
  absl::StatusOr<QueryResponse> Query(absl::string_view workspace_id,
                                      absl::string_view kql,
                                      absl::string_view timespan,
                                      const QueryOptions& query_options = {}) const {
    QueryErrorContext context;
    context.what = query_options.what.empty() ? "KQL query" : query_options.what;
    context.workspace_id = std::string(workspace_id);
    context.host = host_;
    auto fail = [&context](absl::string_view what, const absl::Status& cause) {
      absl::Status status(cause.code(),
                          absl::StrCat(context.what, " on workspace ",
                                       context.workspace_id, " failed: ", what, ": ",
                                       cause.message()));
      cause.ForEachPayload([&status](absl::string_view key, const absl::Cord& value) {
        status.SetPayload(key, value);
      });
      return status;
    };

    if (absl::Status valid = ValidateWorkspaceId(workspace_id); !valid.ok()) {
      return fail("bad workspace id", valid);
    }
    absl::StatusOr<std::string> body = BuildBody(kql, timespan);
    if (!body.ok()) return fail("cannot encode the request", body.status());

    http::HttpRequest request;
    request.method = "POST";
    request.url = absl::StrCat(options_.query_host, "/v1/workspaces/", workspace_id,
                               "/query");
    request.body = *std::move(body);

    absl::StatusOr<azure_auth::AccessToken> token = credential_->GetToken(options_.scope);
    if (!token.ok()) {
      return fail(absl::StrCat("no access token from ", credential_->Describe()),
                  token.status());
    }
    // One request under one limiter permit; failures come back with their context.
    auto attempt = [&](const std::string& bearer,
                       absl::string_view when) -> absl::StatusOr<http::HttpResponse> {
      IdentityLimiter::Permit permit;
      if (options_.limiter) {
        absl::StatusOr<IdentityLimiter::Permit> acquired =
            options_.limiter->Acquire(options_.clock() + options_.limiter_wait);
        if (!acquired.ok()) {
          return fail(absl::StrCat("no query slot", when), acquired.status());
        }
        permit = *std::move(acquired);
      }
      absl::StatusOr<http::HttpResponse> answer = Send(request, bearer);
      if (!answer.ok()) {
        return fail(absl::StrCat("no answer from ", host_, when), answer.status());
      }
      return answer;
    };

    absl::StatusOr<http::HttpResponse> response = attempt(token->token, "");
    if (!response.ok()) return response.status();

    std::string refresh_note;
    if (response->status == 401) {
      credential_->Invalidate(options_.scope);  // a cache drops the refused token
      absl::StatusOr<azure_auth::AccessToken> fresh = credential_->GetToken(options_.scope);
      if (!fresh.ok()) {
        return fail(absl::StrCat("HTTP 401 from ", host_, ", then no new access token from ",
                                 credential_->Describe()),
                    fresh.status());
      }
      if (fresh->token == token->token) {
        refresh_note = " [asked for a new token after the 401; the credential returned "
                       "the same one]";
      } else {
        response = attempt(fresh->token, " after a token refresh");
        if (!response.ok()) return response.status();
        refresh_note = " [also with a newly issued token]";
      }
    }

    if (response->status == 200 || response->status == 204) {
      if (response->status == 200 && response->body.empty()) {
        return absl::InternalError(absl::StrCat(
            context.what, " on workspace ", workspace_id, " failed: HTTP 200 with an "
            "empty body from ", host_, "; Log Analytics answers so when the request has "
            "no Content-Type: application/json: check that no proxy strips it"));
      }
      QueryResponse out;
      out.status = response->status;
      out.preference_applied = response->Header("Preference-Applied").value_or("");
      out.body = std::move(response->body);
      out.headers = std::move(response->headers);
      return out;
    }

    absl::Status error =
        ParseQueryError(response->status, response->body, response->headers, context);
    if (response->status == 401 && !refresh_note.empty()) {
      absl::Status noted(error.code(), absl::StrCat(error.message(), refresh_note));
      error.ForEachPayload([&noted](absl::string_view key, const absl::Cord& value) {
        noted.SetPayload(key, value);
      });
      error = noted;
    }
    if (error.code() == absl::StatusCode::kResourceExhausted && options_.limiter) {
      if (std::optional<absl::Duration> after = RetryAfter(error)) {
        options_.limiter->PauseUntil(options_.clock() + *after);
      }
    }
    return error;
  }

  const QueryClientOptions& options() const { return options_; }

 private:
  // Workspace ids are GUIDs; anything outside [0-9A-Za-z-] could change the URL path.
  static absl::Status ValidateWorkspaceId(absl::string_view id) {
    if (id.empty() || id.size() > 64) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", query_error_internal::Quote(id, 64),
          "\" is not a workspace id; copy the Workspace ID (a GUID) from the "
          "workspace's Overview page"));
    }
    for (char c : id) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"", query_error_internal::Quote(id, 64),
            "\" is not a workspace id (only letters, digits and '-'); copy the "
            "Workspace ID (a GUID) from the workspace's Overview page"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<http::HttpResponse> Send(http::HttpRequest request,
                                          const std::string& token) const {
    std::string prefer = absl::StrCat("wait=", absl::ToInt64Seconds(options_.wait));
    if (options_.include_statistics) prefer.append(", include-statistics=true");
    request.headers = {{"Authorization", absl::StrCat("Bearer ", token)},
                       {"Content-Type", "application/json"},
                       {"Prefer", prefer}};
    return transport_->Send(request, options_.request);
  }

  std::shared_ptr<http::HttpTransport> transport_;
  std::shared_ptr<azure_auth::TokenCredential> credential_;
  QueryClientOptions options_;
  std::string host_;
};

}  // namespace loganalytics

#endif  // LOGANALYTICS_QUERY_CLIENT_H_
