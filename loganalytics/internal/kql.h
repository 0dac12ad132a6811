// File: loganalytics/internal/kql.h
//
// Writes values into KQL text so that no value can leave its literal: string literals
// ('…' with backslash escapes), bracket-quoted entity names (['My Table']) and datetime
// literals with Log Analytics' full 100 ns precision. Also reads and writes the ISO 8601
// times Log Analytics uses on the wire.
//
// Example:
//   ASSIGN_OR_RETURN(std::string id, QuoteString(cursor.item_id));
//   std::string where = absl::StrCat("| where _IngestionTime > ",
//                                    DatetimeLiteral(cursor.ingestion_time),
//                                    " or _ItemId > ", id);
//
// Thread-safe (pure functions).
#ifndef LOGANALYTICS_INTERNAL_KQL_H_
#define LOGANALYTICS_INTERNAL_KQL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace loganalytics_internal {

namespace kql_detail {

// Appends `value` escaped for a single-quoted KQL literal. KQL reads \\, \', \", \n,
// \r and \t inside such a literal; other control characters have no escape, so they
// are refused rather than written raw (a raw newline would end the literal in some
// clients, a NUL would end the text).
inline absl::Status AppendEscaped(absl::string_view value, std::string* out) {
  for (char c : value) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\'': out->append("\\'"); break;
      case '"': out->append("\\\""); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "value \"%s\" holds control character 0x%02x, which a KQL string "
              "literal cannot carry",
              absl::CHexEscape(value.substr(0, 64)),
              static_cast<unsigned char>(c)));
        }
        out->push_back(c);
    }
  }
  return absl::OkStatus();
}

}  // namespace kql_detail

// `value` as a KQL string literal: 'it\'s'.
// Returns kInvalidArgument when `value` holds a control character other than \n \r \t.
inline absl::StatusOr<std::string> QuoteString(absl::string_view value) {
  std::string out = "'";
  absl::Status status = kql_detail::AppendEscaped(value, &out);
  if (!status.ok()) return status;
  out.push_back('\'');
  return out;
}

// `name` as a bracket-quoted KQL entity name: ['Custom Table_CL'].
// Returns kInvalidArgument for an empty name or one holding control characters.
inline absl::StatusOr<std::string> QuoteIdentifier(absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError("empty table name; name a table");
  }
  std::string out = "['";
  absl::Status status = kql_detail::AppendEscaped(name, &out);
  if (!status.ok()) return status;
  out.append("']");
  return out;
}

// `t` as ISO 8601 UTC with exactly seven fractional digits (Log Analytics' 100 ns
// ticks; finer digits are dropped): 2024-01-01T00:00:00.1234567Z.
inline std::string FormatDatetime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E7SZ", t, absl::UTCTimeZone());
}

// `t` as a KQL datetime literal: datetime(2024-01-01T00:00:00.1234567Z). The text
// between the parentheses is only digits, '-', ':', '.', 'T' and 'Z'.
inline std::string DatetimeLiteral(absl::Time t) {
  return absl::StrCat("datetime(", FormatDatetime(t), ")");
}

// An ISO 8601 interval "start/end" for the query body's `timespan`.
inline std::string FormatTimespan(absl::Time start, absl::Time end) {
  return absl::StrCat(FormatDatetime(start), "/", FormatDatetime(end));
}

// Reads an ISO 8601 / RFC 3339 time as Log Analytics writes it ("…T…Z", 0 to 7
// fractional digits; an explicit offset is accepted too).
// Returns kInvalidArgument when `text` is not such a time.
inline absl::StatusOr<absl::Time> ParseDatetime(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", std::string(text),
                       absl::UTCTimeZone(), &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CHexEscape(text.substr(0, 64)),
                     "\" is not an ISO 8601 UTC time: ", error));
  }
  return t;
}

}  // namespace loganalytics_internal

#endif  // LOGANALYTICS_INTERNAL_KQL_H_
