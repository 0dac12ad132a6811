// File: azure_auth/token_error.h
//
// Turns a refused token request into an absl::Status that says what to fix. Entra ID
// answers with a JSON body carrying `error` (an OAuth error name), `error_codes`
// (AADSTS numbers), a human `error_description`, and ids Microsoft support asks for
// (`trace_id`, `correlation_id`, `timestamp`). The mapping is keyed on the AADSTS
// numbers, never on the description text, whose wording Microsoft changes. Codes
// without a specific entry fall back to the OAuth error name, then to the HTTP status.
//
// Status codes produced:
//   kUnauthenticated    bad, expired or missing credential (7000215, 7000222, 700027,
//                       700024, 5002738, 7000218; invalid_client; HTTP 401)
//   kNotFound           tenant, application or resource principal not found (90002,
//                       700016, 500011; HTTP 404)
//   kPermissionDenied   application disabled, Conditional Access (7000112, 53003; 403)
//   kInvalidArgument    bad scope or request (70011, 700022; invalid_request)
//   kResourceExhausted  throttled (90055; HTTP 429)
//   kUnavailable        5xx, or an answer that is not an Entra ID error at all
//
// Pure: no I/O; any byte string is a valid body (fuzzed by
// //azure_auth:token_error_fuzzer).
//
// Example:
//   if (response->status != 200) {
//     return azure_auth::ParseTokenError(response->status, response->body);
//     // kUnauthenticated: "Entra ID refused the token request: AADSTS7000222
//     // (invalid_client, HTTP 401): the client secret has expired. ..."
//   }
//
// Thread-safe.
#ifndef AZURE_AUTH_TOKEN_ERROR_H_
#define AZURE_AUTH_TOKEN_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "azure_auth/internal/json_fields.h"
#include "simdjson.h"

namespace azure_auth_internal {

// The status for an answer with no known AADSTS code.
inline absl::StatusCode FallbackCode(int http_status, absl::string_view error) {
  if (http_status >= 500) return absl::StatusCode::kUnavailable;
  if (http_status == 429) return absl::StatusCode::kResourceExhausted;
  if (error == "invalid_client" || error == "unauthorized_client" ||
      error == "invalid_grant") {
    return absl::StatusCode::kUnauthenticated;
  }
  if (error == "invalid_tenant") return absl::StatusCode::kNotFound;
  if (error == "access_denied") return absl::StatusCode::kPermissionDenied;
  if (error == "temporarily_unavailable") return absl::StatusCode::kUnavailable;
  if (error == "invalid_scope" || error == "invalid_request" ||
      error == "invalid_resource" || error == "unsupported_grant_type") {
    return absl::StatusCode::kInvalidArgument;
  }
  switch (http_status) {
    case 400: return absl::StatusCode::kInvalidArgument;
    case 401: return absl::StatusCode::kUnauthenticated;
    case 403: return absl::StatusCode::kPermissionDenied;
    case 404: return absl::StatusCode::kNotFound;
    case 408: return absl::StatusCode::kUnavailable;
    default: return absl::StatusCode::kUnknown;
  }
}

}  // namespace azure_auth_internal

namespace azure_auth {

// The fields of an Entra ID error answer.
struct EntraError {
  std::string error;             // OAuth error name, e.g. "invalid_client"
  std::string description;       // error_description (not used for decisions)
  std::vector<int64_t> codes;    // error_codes, e.g. {7000215}
  std::string trace_id;
  std::string correlation_id;
  std::string timestamp;
};

// What a known AADSTS code means for the operator.
struct AadstsInfo {
  int64_t code;
  absl::StatusCode status;
  const char* meaning;  // what happened
  const char* fix;      // what the operator should do
};

// Every AADSTS code with a specific message. Thread-safe.
inline absl::Span<const AadstsInfo> KnownAadstsCodes() {
  static constexpr AadstsInfo kCodes[] = {
      {7000215, absl::StatusCode::kUnauthenticated,
       "the client secret is invalid",
       "check the configured secret is the secret's Value (shown once, when it "
       "was created), not its Secret ID, and that it belongs to this application"},
      {7000222, absl::StatusCode::kUnauthenticated,
       "the client secret has expired",
       "create a new one under App registrations > your app > Certificates & "
       "secrets > New client secret, and update the connector's configuration "
       "with its Value"},
      {90002, absl::StatusCode::kNotFound,
       "the tenant was not found",
       "check the Tenant ID (Entra ID > Overview > Tenant ID) and that the "
       "configured cloud (public, US Government, China) is the tenant's"},
      {700016, absl::StatusCode::kNotFound,
       "the application was not found in the tenant",
       "check the Client ID (App registrations > your app > Application (client) "
       "ID) and that the Tenant ID is the tenant the app is registered in"},
      {700027, absl::StatusCode::kUnauthenticated,
       "the client assertion's signature is invalid",
       "upload this certificate (its public part) under App registrations > your "
       "app > Certificates & secrets > Certificates, or configure the certificate "
       "that is uploaded there"},
      {700024, absl::StatusCode::kUnauthenticated,
       "the client assertion is outside its valid time range",
       "check this machine's clock (NTP); for workload identity, check the "
       "federated token file is being refreshed"},
      {5002738, absl::StatusCode::kUnauthenticated,
       "the client assertion's signing algorithm is not supported",
       "use an RSA certificate (assertions are signed with RS256)"},
      {7000218, absl::StatusCode::kUnauthenticated,
       "the request carried neither a client secret nor a client assertion",
       "configure a client secret or a certificate for this application"},
      {70011, absl::StatusCode::kInvalidArgument,
       "the scope is invalid",
       "use the resource's /.default scope, e.g. "
       "https://api.loganalytics.io/.default, matching the configured cloud"},
      {700022, absl::StatusCode::kInvalidArgument,
       "the scope names more than one resource",
       "request one resource per token, e.g. "
       "https://api.loganalytics.io/.default"},
      {500011, absl::StatusCode::kNotFound,
       "the resource (Log Analytics API) has no service principal in the tenant",
       "check the configured cloud matches the tenant's (a US Government tenant "
       "uses api.loganalytics.us) and that Log Analytics is used in the tenant"},
      {7000112, absl::StatusCode::kPermissionDenied,
       "the application is disabled",
       "an administrator must enable it (Enterprise applications > your app > "
       "Properties > Enabled for users to sign-in)"},
      {53003, absl::StatusCode::kPermissionDenied,
       "access was blocked by a Conditional Access policy",
       "ask an Entra ID administrator to exclude this application's service "
       "principal or allow this machine's location in the policy (see the "
       "app's sign-in logs for the policy name)"},
      {90055, absl::StatusCode::kResourceExhausted,
       "the tenant is being throttled",
       "reduce how often tokens are requested (tokens are cached until shortly "
       "before they expire) and retry later"},
  };
  return kCodes;
}


// Reads an Entra ID error body. Returns nullopt when `body` is not a JSON object with
// at least one of `error` or `error_codes`. Fields of the wrong type are left empty.
// Thread-safe.
inline std::optional<EntraError> ParseEntraError(absl::string_view body) {
  if (body.size() > (size_t{1} << 20)) return std::nullopt;
  simdjson::padded_string json(body.data(), body.size());
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(json).get(doc) || doc.get_object().get(object)) {
    return std::nullopt;
  }
  EntraError e;
  bool seen = false;
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      return std::nullopt;
    }
    simdjson::ondemand::value value = field.value();
    auto string_field = [&](std::string* out) {
      std::optional<std::string> s = azure_auth_internal::JsonString(value);
      if (s) *out = std::move(*s);
    };
    if (key == "error") {
      string_field(&e.error);
      seen = true;
    } else if (key == "error_description") {
      string_field(&e.description);
    } else if (key == "error_codes") {
      simdjson::ondemand::array codes;
      if (value.get_array().get(codes)) continue;
      seen = true;
      for (auto element_result : codes) {
        simdjson::ondemand::value element;
        if (std::move(element_result).get(element)) return std::nullopt;
        std::optional<int64_t> code = azure_auth_internal::JsonInt(element);
        if (code && e.codes.size() < 16) e.codes.push_back(*code);
      }
    } else if (key == "trace_id") {
      string_field(&e.trace_id);
    } else if (key == "correlation_id") {
      string_field(&e.correlation_id);
    } else if (key == "timestamp") {
      string_field(&e.timestamp);
    }
  }
  if (!seen) return std::nullopt;
  return e;
}

// Maps a non-200 answer of a token endpoint (`http_status`, `body`) to a Status that
// names the AADSTS code, what it means, what to fix, and the ids support asks for.
// Never returns OK: a 2xx status given here yields kUnknown. Status codes: see the
// table at the top of this file. Thread-safe.
inline absl::Status ParseTokenError(int http_status, absl::string_view body) {
  using azure_auth_internal::Sanitize;
  using azure_auth_internal::SanitizeId;
  std::optional<EntraError> e = ParseEntraError(body);
  if (!e.has_value()) {
    absl::StatusCode code = azure_auth_internal::FallbackCode(http_status, "");
    std::string excerpt = Sanitize(body);
    return absl::Status(
        code, absl::StrCat("token endpoint answered HTTP ", http_status,
                           " with a body that is not an Entra ID error",
                           code == absl::StatusCode::kUnavailable
                               ? " (the service or a proxy in front of it is "
                                 "failing; retry later)"
                               : " (check the authority host and any proxy)",
                           excerpt.empty() ? "" : "; body: ", excerpt));
  }
  const AadstsInfo* known = nullptr;
  for (int64_t c : e->codes) {
    for (const AadstsInfo& info : KnownAadstsCodes()) {
      if (info.code == c) {
        known = &info;
        break;
      }
    }
    if (known != nullptr) break;
  }
  std::string error_name = Sanitize(e->error, 64);
  std::string head = "Entra ID refused the token request: ";
  if (!e->codes.empty()) {
    absl::StrAppend(&head, "AADSTS", known ? known->code : e->codes.front(), " (");
  } else {
    head += "(";
  }
  absl::StrAppend(&head, error_name.empty() ? "" : error_name,
                  error_name.empty() ? "" : ", ", "HTTP ", http_status, "): ");
  std::string text;
  absl::StatusCode code;
  if (known != nullptr) {
    code = known->status;
    text = absl::StrCat(known->meaning, ". Fix: ", known->fix, ".");
  } else {
    code = azure_auth_internal::FallbackCode(http_status, e->error);
    // No specific advice: pass on the first line of Azure's own description.
    absl::string_view first_line = e->description;
    first_line = first_line.substr(0, first_line.find_first_of("\r\n"));
    text = first_line.empty() ? "no description given"
                              : Sanitize(first_line);
  }
  std::vector<std::string> ids;
  if (std::string id = SanitizeId(e->trace_id); !id.empty()) {
    ids.push_back("trace_id=" + id);
  }
  if (std::string id = SanitizeId(e->correlation_id); !id.empty()) {
    ids.push_back("correlation_id=" + id);
  }
  if (std::string id = SanitizeId(e->timestamp); !id.empty()) {
    ids.push_back("timestamp=" + id);
  }
  std::string tail =
      ids.empty() ? "" : absl::StrCat(" [", absl::StrJoin(ids, ", "), "]");
  return absl::Status(code, absl::StrCat(head, text, tail));
}

}  // namespace azure_auth

#endif  // AZURE_AUTH_TOKEN_ERROR_H_
