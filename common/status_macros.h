// File: common/status_macros.h
//
// Two macros for early return on error, standing in for abseil's own
// ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN, which arrive after the Debian abseil
// (20220623) this project builds against.
//
// Example:
//   absl::StatusOr<Token> Fetch() {
//     RETURN_IF_ERROR(CheckConfig());
//     ASSIGN_OR_RETURN(HttpResponse response, transport.Send(request));
//     return ParseToken(response.body);
//   }
//
// Status codes: none of their own; the macros return the status `expr` / `rexpr`
// produced. They keep no state: thread-safe.
#ifndef COMMON_STATUS_MACROS_H_
#define COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define STATUS_MACROS_CONCAT_(a, b) STATUS_MACROS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    ::absl::Status status_macros_status_ = (expr);              \
    if (!status_macros_status_.ok()) return status_macros_status_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when not OK, otherwise
// moves the value into `lhs` (a declaration or an existing variable).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL_(STATUS_MACROS_CONCAT_(status_or_value_, __LINE__), lhs, rexpr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (!statusor.ok()) return statusor.status();      \
  lhs = std::move(statusor).value()

#endif  // COMMON_STATUS_MACROS_H_
