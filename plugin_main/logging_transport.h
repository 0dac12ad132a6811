// File: plugin_main/logging_transport.h
//
// An http::HttpTransport in front of a workspace's Log Analytics queries that writes one
// log line for each answer the query client and its retry policy handle without giving
// up: throttling (HTTP 429), server errors (5xx, 504), an access token refused (401,
// replaced by a new one), and exchanges that got no answer at all (connection refused or
// reset, timeout). Those are retried silently below the collector, which only logs a
// page that finally failed; without this line an operator could not see Azure
// throttling or failing until every retry was used up.
//
// A line carries the workspace, the HTTP status or the transport error, and Azure's
// error code from the body; never the request (its Authorization header holds the token)
// nor more of the body. Everything else (2xx, other 4xx, a body over the size cap) passes
// without a line: callers report those themselves.
//
// Example:
//   auto logged = std::make_shared<plugin_main::LoggingTransport>(curl, log, "prod");
//   auto client = std::make_shared<loganalytics::QueryClient>(logged, credential, options);
//   // {"level":"warning","workspace":"prod","status":"429","azure_code":"ThrottledError",
//   //  "retry_after":"3","message":"Log Analytics throttled a query (HTTP 429); it is
//   //  retried after Retry-After"}
//
// Thread-safe if the inner transport is.
#ifndef PLUGIN_MAIN_LOGGING_TRANSPORT_H_
#define PLUGIN_MAIN_LOGGING_TRANSPORT_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json_log.h"
#include "http/http_transport.h"

namespace plugin_main {

namespace logging_transport_internal {

// The "code" member of an Azure error envelope ({"error":{"code":"..."}}), found by a
// scan of the first 1 KiB; empty when there is none or it is not a plain token.
inline std::string AzureErrorCode(absl::string_view body) {
  body = body.substr(0, 1024);
  const size_t key = body.find("\"code\"");
  if (key == absl::string_view::npos) return "";
  size_t i = key + 6;
  while (i < body.size() && absl::ascii_isspace(static_cast<unsigned char>(body[i]))) ++i;
  if (i >= body.size() || body[i] != ':') return "";
  ++i;
  while (i < body.size() && absl::ascii_isspace(static_cast<unsigned char>(body[i]))) ++i;
  if (i >= body.size() || body[i] != '"') return "";
  std::string code;
  for (++i; i < body.size() && body[i] != '"' && code.size() < 64; ++i) {
    const char c = body[i];
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.')) {
      return "";
    }
    code.push_back(c);
  }
  return i < body.size() && body[i] == '"' ? code : "";
}

}  // namespace logging_transport_internal

class LoggingTransport : public http::HttpTransport {
 public:
  // `inner` and `log` must not be null; `workspace` names the workspace in the lines.
  LoggingTransport(std::shared_ptr<http::HttpTransport> inner,
                   std::shared_ptr<common::JsonLogger> log, std::string workspace)
      : inner_(std::move(inner)), log_(std::move(log)), workspace_(std::move(workspace)) {}

  // Sends through the inner transport and returns its result unchanged, after the log
  // line described at the top of this file. Thread-safe.
  absl::StatusOr<http::HttpResponse> Send(const http::HttpRequest& request,
                                          const http::RequestOptions& options) override {
    absl::StatusOr<http::HttpResponse> response = inner_->Send(request, options);
    const std::string host = http::HostOf(request.url);
    if (!response.ok()) {
      const absl::StatusCode code = response.status().code();
      if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
        log_->Warning("Log Analytics query got no answer; it is retried",
                      {{"workspace", workspace_},
                       {"host", host},
                       {"code", absl::StatusCodeToString(code)},
                       {"error", response.status().message()}});
      }
      return response;
    }
    const int status = response->status;
    const std::string azure_code = logging_transport_internal::AzureErrorCode(response->body);
    const std::string status_text = absl::StrCat(status);
    if (status == 429) {
      log_->Warning("Log Analytics throttled a query (HTTP 429); it is retried after "
                    "Retry-After",
                    {{"workspace", workspace_},
                     {"host", host},
                     {"status", status_text},
                     {"azure_code", azure_code},
                     {"retry_after", response->Header("Retry-After").value_or("")}});
    } else if (status == 401) {
      log_->Warning("Log Analytics refused the access token (HTTP 401: expired or revoked); "
                    "a new token is requested",
                    {{"workspace", workspace_},
                     {"host", host},
                     {"status", status_text},
                     {"azure_code", azure_code}});
    } else if (status >= 500) {
      log_->Warning(absl::StrCat("Log Analytics answered HTTP ", status,
                                 status == 504 ? " (gateway timeout)" : " (server error)",
                                 "; the query is retried"),
                    {{"workspace", workspace_},
                     {"host", host},
                     {"status", status_text},
                     {"azure_code", azure_code}});
    }
    return response;
  }

 private:
  std::shared_ptr<http::HttpTransport> inner_;
  std::shared_ptr<common::JsonLogger> log_;
  const std::string workspace_;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_LOGGING_TRANSPORT_H_
