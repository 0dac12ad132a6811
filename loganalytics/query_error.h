// File: loganalytics/query_error.h
//
// Turns a Log Analytics answer that is not a success into an absl::Status whose code
// tells the scheduler what to do (retry, back off, stop and tell the operator) and whose
// message tells the operator what failed and how to fix it. This is the one mapping from
// the Query API's HTTP statuses and error envelopes to status codes; everything else in
// the connector relies on it:
//
//   400 BadArgumentError/SyntaxError    kInvalidArgument  (line, position, token)
//   400 BadArgumentError/SemanticError  kInvalidArgument  ("not found in this workspace"
//                                                          for an unresolved table, with
//                                                          the kMissingTablePayload)
//   401                                 kUnauthenticated
//   403 InvalidAuthenticationToken*     kUnauthenticated  (token for the wrong resource)
//   403 otherwise                       kPermissionDenied (Log Analytics Reader)
//   404                                 kNotFound         (the workspace id)
//   408                                 kUnavailable
//   429                                 kResourceExhausted (Retry-After in the message
//                                                           and as kRetryAfterPayload)
//   504                                 kDeadlineExceeded
//   500-599 otherwise                   kUnavailable
//   other 4xx                           kFailedPrecondition
//   anything else not 2xx               kUnknown
//
// Every status carries the HTTP status as kHttpStatusPayload. Messages quote at most the
// first 256 bytes of the body and never a token.
//
// Example:
//   absl::Status s = ParseQueryError(response.status, response.body, response.headers,
//                                    {"KQL query \"SigninLogs\" page 3", workspace_id,
//                                     "api.loganalytics.io"});
//   if (std::optional<absl::Duration> wait = RetryAfter(s)) sleep(*wait);
//
// All functions are pure and thread-safe.
#ifndef LOGANALYTICS_QUERY_ERROR_H_
#define LOGANALYTICS_QUERY_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "http/http_transport.h"
#include "simdjson.h"

namespace loganalytics {

// Status payload keys set by ParseQueryError (and read by RetryPolicy and Paginator).
// Retry-After in whole seconds, as decimal text.
inline constexpr absl::string_view kRetryAfterPayload = "retry-after";
// The HTTP status of the answer, as decimal text.
inline constexpr absl::string_view kHttpStatusPayload = "loganalytics.http-status";
// The name in "Failed to resolve table or column expression named 'X'": a table the
// workspace does not have (or a column of that wording).
inline constexpr absl::string_view kMissingTablePayload = "loganalytics.missing-table";

// Where the failed query came from, for the message.
struct QueryErrorContext {
  // What failed, as the operator knows it: `KQL query "SigninLogs" page 3`.
  std::string what = "KQL query";
  std::string workspace_id;
  // Host of the query endpoint ("api.loganalytics.io").
  std::string host = "api.loganalytics.io";
};

// The fields of a Query API error envelope
// {"error":{"code","message","correlationId","innererror":{…}}}.
struct QueryErrorEnvelope {
  std::string code;
  std::string message;
  std::string correlation_id;
  // Codes of the nested innererrors, outermost first ("SyntaxError", "SYN0002").
  std::vector<std::string> inner_codes;
  // The message of the innermost innererror that has one.
  std::string inner_message;
  // Position of a syntax error, from the innermost innererror that has it.
  std::optional<int64_t> line;
  std::optional<int64_t> pos;
  std::optional<std::string> token;
};

namespace query_error_internal {

inline std::string_view GetString(simdjson::dom::element object,
                                  std::string_view key) {
  std::string_view value;
  if (object[key].get(value) != simdjson::SUCCESS) return {};
  return value;
}

inline std::optional<int64_t> GetInt(simdjson::dom::element object,
                                     std::string_view key) {
  int64_t value = 0;
  if (object[key].get(value) == simdjson::SUCCESS) return value;
  std::string_view text;
  if (object[key].get(text) == simdjson::SUCCESS &&
      absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &value)) {
    return value;
  }
  return std::nullopt;
}

// Length of the valid UTF-8 sequence starting at `text[i]`, or 0 if it is not one.
inline size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3
                                   : (c >> 3) == 0x1e ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  }
  return length;
}

// Printable, bounded text for a message: at most `limit` bytes of `text`; control
// characters and bytes that are not UTF-8 become \xNN, so the message stays valid
// UTF-8 on one line; other text (quotes, non-ASCII letters) is kept as it is.
inline std::string Quote(absl::string_view text, size_t limit = 256) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t i = 0;
  while (i < text.size() && i < limit) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = Utf8SequenceLength(text, i);
    if (length > 1 && i + length <= limit) {
      out.append(text.data() + i, length);
      i += length;
      continue;
    }
    if (length > 1) break;  // a character cut by the limit
    if (length == 1 && c >= 0x20 && c != 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
    ++i;
  }
  if (i < text.size()) out.append("...");
  return out;
}

inline void SetPayload(absl::Status* status, absl::string_view key,
                       absl::string_view value) {
  status->SetPayload(key, absl::Cord(value));
}

}  // namespace query_error_internal

// Reads a Query API error envelope from `body`.
// Returns nullopt when `body` is not JSON or has no "error" object. Thread-safe.
inline std::optional<QueryErrorEnvelope> ParseErrorEnvelope(absl::string_view body) {
  using query_error_internal::GetInt;
  using query_error_internal::GetString;
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(body.data(), body.size()).get(document) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::dom::element node;
  if (document["error"].get(node) != simdjson::SUCCESS || !node.is_object()) {
    return std::nullopt;
  }
  QueryErrorEnvelope envelope;
  envelope.code = std::string(GetString(node, "code"));
  envelope.message = std::string(GetString(node, "message"));
  envelope.correlation_id = std::string(GetString(node, "correlationId"));
  // Envelopes nest two or three deep; the bound keeps a hostile body from costing more.
  for (int depth = 0; depth < 32; ++depth) {
    simdjson::dom::element inner;
    if (node["innererror"].get(inner) != simdjson::SUCCESS || !inner.is_object()) {
      break;
    }
    node = inner;
    std::string_view code = GetString(node, "code");
    if (!code.empty()) envelope.inner_codes.emplace_back(code);
    std::string_view message = GetString(node, "message");
    if (!message.empty()) envelope.inner_message = std::string(message);
    if (std::optional<int64_t> line = GetInt(node, "line")) envelope.line = line;
    if (std::optional<int64_t> pos = GetInt(node, "pos")) envelope.pos = pos;
    std::string_view token;
    if (node["token"].get(token) == simdjson::SUCCESS) {
      envelope.token = std::string(token);
    }
  }
  return envelope;
}

// The Retry-After header as a duration, when it holds whole (or decimal) seconds.
// HTTP-date values and garbage give nullopt. Thread-safe.
inline std::optional<absl::Duration> ParseRetryAfterHeader(const http::Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (!absl::EqualsIgnoreCase(name, "Retry-After")) continue;
    double seconds = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(value), &seconds) &&
        seconds >= 0 && seconds < 86400.0 * 7) {
      return absl::Seconds(seconds);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// The Retry-After a status carries (kRetryAfterPayload), if any. Thread-safe.
inline std::optional<absl::Duration> RetryAfter(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryAfterPayload);
  if (!payload) return std::nullopt;
  double seconds = 0;
  if (!absl::SimpleAtod(std::string(*payload), &seconds) || seconds < 0) {
    return std::nullopt;
  }
  return absl::Seconds(seconds);
}

// The unresolved table or column name a status carries (kMissingTablePayload), if any.
inline std::optional<std::string> MissingTable(const absl::Status& status) {
  auto payload = status.GetPayload(kMissingTablePayload);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

// Maps a Log Analytics answer with a non-2xx `http_status` to a Status (see the table at
// the top of this file). A 2xx status gives OkStatus. `body` may be anything: an
// envelope, HTML from a gateway, or nothing. Thread-safe.
inline absl::Status ParseQueryError(int http_status, absl::string_view body,
                                    const http::Headers& headers,
                                    const QueryErrorContext& context = {}) {
  using query_error_internal::Quote;
  if (http_status >= 200 && http_status < 300) return absl::OkStatus();

  std::optional<QueryErrorEnvelope> envelope = ParseErrorEnvelope(body);
  std::string codes;
  std::string service_says;
  if (envelope) {
    std::vector<std::string> all;
    if (!envelope->code.empty()) all.push_back(envelope->code);
    all.insert(all.end(), envelope->inner_codes.begin(), envelope->inner_codes.end());
    codes = absl::StrJoin(all, "/");
    std::string said = !envelope->inner_message.empty() ? envelope->inner_message
                                                        : envelope->message;
    if (!said.empty()) service_says = absl::StrCat(" (\"", Quote(said), "\")");
  }
  const std::string workspace =
      context.workspace_id.empty() ? std::string("the workspace")
                                   : absl::StrCat("workspace ", context.workspace_id);
  std::string head = absl::StrCat(context.what, " on ", workspace, " failed: HTTP ",
                                  http_status, codes.empty() ? "" : " ", codes,
                                  " from ", context.host);
  std::string tail;
  if (envelope && !envelope->correlation_id.empty()) {
    absl::StrAppend(&tail, "; correlation id ", Quote(envelope->correlation_id, 64));
  }
  absl::StrAppend(&tail, "; body: ", Quote(body));

  std::optional<absl::Duration> retry_after = ParseRetryAfterHeader(headers);
  auto retry_text = [&]() -> std::string {
    if (!retry_after) return "retry after a backoff";
    return absl::StrCat("retry after ", absl::FormatDuration(*retry_after));
  };

  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string what;
  std::optional<std::string> missing_table;
  auto has_inner = [&](absl::string_view wanted) {
    if (!envelope) return false;
    for (const std::string& c : envelope->inner_codes) {
      if (c == wanted) return true;
    }
    return false;
  };

  if (http_status == 400) {
    code = absl::StatusCode::kInvalidArgument;
    const std::string inner = envelope ? envelope->inner_message : std::string();
    constexpr absl::string_view kUnresolved = "Failed to resolve";
    if (has_inner("SemanticError") && absl::StrContains(inner, kUnresolved)) {
      // "'where' operator: Failed to resolve table or column expression named 'X'"
      std::string name;
      size_t named = inner.find("named '");
      if (named != std::string::npos) {
        size_t start = named + 7;
        size_t end = inner.find('\'', start);
        name = inner.substr(start, end == std::string::npos ? std::string::npos
                                                            : end - start);
      }
      const bool table = absl::StrContains(inner, "table or column");
      if (table) missing_table = name;
      what = absl::StrCat(
          table ? "table or column '" : "column or function '", Quote(name, 128),
          "' not found in this workspace", service_says,
          table ? "; check the table name, and that the data source sends its logs "
                  "to this workspace (diagnostic settings or data connector); a "
                  "table appears only after its first record arrives"
                : "; fix the query");
    } else if (has_inner("SyntaxError") || (envelope && envelope->line)) {
      std::string where;
      if (envelope->line) absl::StrAppend(&where, " at line ", *envelope->line);
      if (envelope->pos) absl::StrAppend(&where, ", position ", *envelope->pos);
      if (envelope->token) {
        absl::StrAppend(&where, ", near token \"", Quote(*envelope->token, 64), "\"");
      }
      what = absl::StrCat("the KQL does not parse", where, service_says,
                          "; fix the query text");
    } else if (has_inner("SemanticError")) {
      what = absl::StrCat("the KQL is not valid for this workspace", service_says,
                          "; fix the query");
    } else {
      what = absl::StrCat("the request was refused as invalid", service_says,
                          "; check the query and its timespan");
    }
  } else if (http_status == 401) {
    code = absl::StatusCode::kUnauthenticated;
    what = absl::StrCat(
        "the access token was refused", service_says,
        "; check the tenant id, client id and client secret (or certificate) of the "
        "app registration, and that the secret has not expired");
  } else if (http_status == 403 && envelope &&
             absl::StartsWith(envelope->code, "InvalidAuthenticationToken")) {
    code = absl::StatusCode::kUnauthenticated;
    what = absl::StrCat(
        "the access token is not valid for Log Analytics", service_says,
        "; request the token for the Log Analytics scope "
        "(https://api.loganalytics.io/.default; api.loganalytics.us or "
        "api.loganalytics.azure.cn in sovereign clouds)");
  } else if (http_status == 403) {
    code = absl::StatusCode::kPermissionDenied;
    what = absl::StrCat(
        "the app registration may not read ", workspace, service_says,
        "; assign it the Log Analytics Reader role on this workspace (workspace -> "
        "Access control (IAM) -> Add role assignment), and check that no "
        "Conditional Access policy blocks it");
  } else if (http_status == 404) {
    code = absl::StatusCode::kNotFound;
    what = absl::StrCat(
        workspace, " was not found", service_says,
        "; check the Workspace ID on the workspace's Overview page (a GUID, not the "
        "workspace name or resource id) and that it belongs to the configured tenant");
  } else if (http_status == 408) {
    code = absl::StatusCode::kUnavailable;
    what = absl::StrCat("the request timed out", service_says, "; ", retry_text());
  } else if (http_status == 429) {
    code = absl::StatusCode::kResourceExhausted;
    what = absl::StrCat(
        "throttled", service_says, "; ", retry_text(),
        "; the app registration's budget (200 requests per 30 s, 5 concurrent "
        "queries) is shared by every workspace and query it runs");
  } else if (http_status == 504) {
    code = absl::StatusCode::kDeadlineExceeded;
    what = absl::StrCat("the query ran past the gateway's time limit", service_says,
                        "; ", retry_text(),
                        "; if it keeps happening, narrow the query or its page size");
  } else if (http_status >= 500 && http_status < 600) {
    code = absl::StatusCode::kUnavailable;
    what = absl::StrCat("Log Analytics is unavailable", service_says, "; ",
                        retry_text());
  } else if (http_status >= 400 && http_status < 500) {
    code = absl::StatusCode::kFailedPrecondition;
    what = absl::StrCat("unexpected client error", service_says,
                        "; check the query host and the request");
  } else {
    code = absl::StatusCode::kUnknown;
    what = absl::StrCat("unexpected HTTP status", service_says,
                        "; check the query host (a proxy or redirect may be in the way)");
  }

  absl::Status status(code, absl::StrCat(head, ": ", what, tail));
  query_error_internal::SetPayload(&status, kHttpStatusPayload,
                                   absl::StrCat(http_status));
  if (retry_after) {
    query_error_internal::SetPayload(
        &status, kRetryAfterPayload,
        absl::StrCat(absl::ToDoubleSeconds(*retry_after)));
  }
  if (missing_table) {
    query_error_internal::SetPayload(&status, kMissingTablePayload, *missing_table);
  }
  return status;
}

}  // namespace loganalytics

#endif  // LOGANALYTICS_QUERY_ERROR_H_
