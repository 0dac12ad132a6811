// File: loganalytics/internal/json_writer.h
//
// Writes JSON string literals for request bodies built by hand (the query body is two
// fields; a JSON library would be more code than the body). The escaping follows RFC
// 8259: quote, backslash and every control character are escaped, everything else is
// copied as UTF-8. Input that is not valid UTF-8 is refused, since Log Analytics would
// reject the body or, worse, read a different query.
//
// Example:
//   std::string body = "{\"query\":";
//   if (absl::Status s = AppendJsonString(kql, &body); !s.ok()) return s;
//   body += "}";
//
// Thread-safe (pure functions).
#ifndef LOGANALYTICS_INTERNAL_JSON_WRITER_H_
#define LOGANALYTICS_INTERNAL_JSON_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json_string.h"
#include "simdjson.h"

namespace loganalytics_internal {

// Appends `value` as a quoted JSON string to `*out`, without validating UTF-8.
// The caller guarantees `value` is UTF-8 (e.g. it was read from a JSON document).
inline void AppendJsonStringUnchecked(absl::string_view value, std::string* out) {
  common::AppendJsonString(out, value);
}

// Appends `value` as a quoted JSON string to `*out`.
// Returns kInvalidArgument (and leaves `*out` unchanged) when `value` is not valid UTF-8.
inline absl::Status AppendJsonString(absl::string_view value, std::string* out) {
  if (!simdjson::validate_utf8(value.data(), value.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "text of ", value.size(),
        " bytes is not valid UTF-8 and cannot be sent in a JSON body; save the "
        "query as UTF-8"));
  }
  AppendJsonStringUnchecked(value, out);
  return absl::OkStatus();
}

// `value` as a quoted JSON string. kInvalidArgument when it is not valid UTF-8.
inline absl::StatusOr<std::string> JsonString(absl::string_view value) {
  std::string out;
  absl::Status status = AppendJsonString(value, &out);
  if (!status.ok()) return status;
  return out;
}

}  // namespace loganalytics_internal

#endif  // LOGANALYTICS_INTERNAL_JSON_WRITER_H_
