// File: azure_auth/internal/token_request.h
//
// The client-credentials exchange every app credential shares: POST a form to the
// tenant's token endpoint, then read the answer with ParseTokenResponse (200) or
// ParseTokenError (anything else). Each request carries a fresh `client-request-id`
// that is quoted in errors, so Microsoft support can find it.
//
// Whatever comes back, the returned message never contains a value listed in
// `TokenRequest::sensitive` (the secret, the assertion) in plain or form-encoded form,
// even if a server echoed it. Also the checks for identifiers that end up in URLs.
//
// Example:
//   azure_auth_internal::TokenRequest request;
//   request.url = azure_auth::TokenEndpoint(cloud, tenant);
//   request.form = {{"grant_type", "client_credentials"}, {"client_id", id},
//                   {"scope", scope}, {"client_secret", *secret}};
//   request.sensitive = {*secret};
//   request.context = "client secret credential for app " + id;
//   return azure_auth_internal::SendTokenRequest(*transport, clock, request);
//
// Thread-safe.
#ifndef AZURE_AUTH_INTERNAL_TOKEN_REQUEST_H_
#define AZURE_AUTH_INTERNAL_TOKEN_REQUEST_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "azure_auth/internal/json_fields.h"
#include "azure_auth/internal/json_writer.h"
#include "azure_auth/internal/openssl_util.h"
#include "azure_auth/internal/url_encode.h"
#include "azure_auth/token_credential.h"
#include "azure_auth/token_error.h"
#include "azure_auth/token_response.h"
#include "common/clock.h"
#include "http/http_transport.h"

namespace azure_auth_internal {

// The forms a sensitive value can take in text from a server or in a message: as
// given, percent-encoded (a form echoed back), and JSON-escaped.
inline std::vector<std::string> SensitiveForms(const std::string& value) {
  std::string json;
  AppendJsonString(&json, value);
  return {value, PercentEncode(value), json.substr(1, json.size() - 2)};
}

// `text` with every form of each sensitive value at least 4 bytes long replaced by
// "[redacted]".
inline std::string RedactText(std::string text,
                              const std::vector<std::string>& sensitive) {
  for (const std::string& value : sensitive) {
    if (value.size() < 4) continue;
    for (const std::string& form : SensitiveForms(value)) {
      if (text.find(form) != std::string::npos) {
        text = absl::StrReplaceAll(text, {{form, "[redacted]"}});
      }
    }
  }
  return text;
}

// `status` with its message passed through RedactText; the code is kept.
inline absl::Status Redact(const absl::Status& status,
                           const std::vector<std::string>& sensitive) {
  if (status.ok()) return status;
  std::string message = RedactText(std::string(status.message()), sensitive);
  if (message == status.message()) return status;
  return absl::Status(status.code(), message);
}

// `status` with `prefix` + ": " in front of its message, code kept.
inline absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
}

// How long a token request may take; token endpoints answer in well under a second.
inline http::RequestOptions TokenRequestOptions() {
  http::RequestOptions options;
  options.connect_timeout = absl::Seconds(10);
  options.total_timeout = absl::Seconds(30);
  options.max_response_bytes = size_t{1} << 20;
  return options;
}

struct TokenRequest {
  std::string url;                     // the token endpoint
  FormFields form;                     // the client-credentials form
  std::vector<std::string> sensitive;  // values that must never appear in a message
  std::string context;                 // message prefix naming the credential
};

// Posts `request` and returns the token, or the mapped error prefixed with
// `request.context` and the endpoint host. Errors: the transport's own codes
// (kUnavailable, kDeadlineExceeded, ...) and those of ParseTokenError /
// ParseTokenResponse. Thread-safe.
inline absl::StatusOr<azure_auth::AccessToken> SendTokenRequest(
    http::HttpTransport& transport, const common::Clock& clock,
    const TokenRequest& request) {
  absl::StatusOr<std::string> request_id = NewGuid();
  if (!request_id.ok()) return request_id.status();
  http::HttpRequest http_request;
  http_request.method = "POST";
  http_request.url = request.url;
  http_request.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
      {"client-request-id", *request_id},
      {"return-client-request-id", "true"},
  };
  http_request.body = FormEncode(request.form);
  const std::string where =
      absl::StrCat(request.context, ": token request to ", http::HostOf(request.url));
  absl::StatusOr<http::HttpResponse> response =
      transport.Send(http_request, TokenRequestOptions());
  if (!response.ok()) {
    return Redact(
        Annotate(response.status(),
                 absl::StrCat(where, " got no answer (check network, DNS, proxy "
                                     "and firewall access to the authority host)")),
        request.sensitive);
  }
  const std::string ids = absl::StrCat(" [client-request-id=", *request_id, "]");
  if (response->status == 200) {
    absl::StatusOr<azure_auth::AccessToken> token =
        azure_auth::ParseTokenResponse(response->body, clock());
    if (!token.ok()) {
      return Redact(Annotate(token.status(), where), request.sensitive);
    }
    return token;
  }
  // Redacted before parsing: a message quotes at most a prefix of the body, which
  // could otherwise cut an echoed secret into a piece Redact no longer recognises.
  absl::Status error = azure_auth::ParseTokenError(
      response->status, RedactText(response->body, request.sensitive));
  std::string retry_after;
  if (std::optional<std::string> value = response->Header("Retry-After")) {
    std::string clean = SanitizeId(absl::StripAsciiWhitespace(*value));
    if (!clean.empty()) retry_after = absl::StrCat(" (Retry-After: ", clean, ")");
  }
  return Redact(absl::Status(error.code(), absl::StrCat(where, ": ", error.message(),
                                                        retry_after, ids)),
                request.sensitive);
}

// Checks a tenant id before it becomes part of a URL: a GUID or a domain name.
// Errors: kInvalidArgument saying what to configure. Thread-safe.
inline absl::Status ValidateTenantId(absl::string_view tenant) {
  if (tenant.empty()) {
    return absl::InvalidArgumentError(
        "the tenant id is empty: copy the Directory (tenant) ID from Entra ID > "
        "Overview");
  }
  bool ok = tenant.size() <= 256;
  for (char c : tenant) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' &&
        c != '_') {
      ok = false;
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the tenant id \"", Sanitize(tenant, 64),
        "\" is not a GUID or domain name: copy the Directory (tenant) ID from "
        "Entra ID > Overview"));
  }
  std::string lower = absl::AsciiStrToLower(tenant);
  if (lower == "common" || lower == "organizations" || lower == "consumers") {
    return absl::InvalidArgumentError(absl::StrCat(
        "the tenant id \"", lower,
        "\" cannot issue app-only tokens: use the Directory (tenant) ID from Entra "
        "ID > Overview"));
  }
  return absl::OkStatus();
}

// Checks a client (application) id: non-empty, printable, no spaces.
// Errors: kInvalidArgument. Thread-safe.
inline absl::Status ValidateClientId(absl::string_view client_id) {
  bool ok = !client_id.empty() && client_id.size() <= 256;
  for (char c : client_id) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      ok = false;
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the client id \"", Sanitize(client_id, 64),
        "\" is not valid: copy the Application (client) ID from App registrations > "
        "your app > Overview"));
  }
  return absl::OkStatus();
}

// Checks a scope: non-empty, no spaces or control characters (one resource).
// Errors: kInvalidArgument. Thread-safe.
inline absl::Status ValidateScope(absl::string_view scope) {
  bool ok = !scope.empty() && scope.size() <= 1024;
  for (char c : scope) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      ok = false;
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the scope \"", Sanitize(scope, 128),
        "\" is not valid: request one resource's /.default scope, e.g. "
        "https://api.loganalytics.io/.default"));
  }
  return absl::OkStatus();
}

}  // namespace azure_auth_internal

#endif  // AZURE_AUTH_INTERNAL_TOKEN_REQUEST_H_
