// File: common/json_string.h
//
// Writes text as a JSON string literal (RFC 8259): quotes, backslash and control
// characters escaped, everything else copied, so UTF-8 input stays UTF-8. The one
// escaper for the small JSON the project writes (log lines, checkpoints, request bodies,
// JWT parts); the row converter's escaper for bytes that may not be UTF-8 shares
// AppendJsonEscape.
//
// Example:
//   std::string out = "{\"query\":";
//   common::AppendJsonString(&out, "SigninLogs | where A == \"b\"");
//   out += "}";   // {"query":"SigninLogs | where A == \"b\""}
//
// The caller guarantees UTF-8 input (validate first where it comes from outside).
// Thread-safe.
#ifndef COMMON_JSON_STRING_H_
#define COMMON_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace common {

// Appends the JSON escape of `c`, which must be '"', '\\' or a byte below 0x20:
// \" \\ \b \f \n \r \t, or \u00XX for the other control characters.
inline void AppendJsonEscape(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"': out->append("\\\""); break;
    case '\\': out->append("\\\\"); break;
    case '\b': out->append("\\b"); break;
    case '\f': out->append("\\f"); break;
    case '\n': out->append("\\n"); break;
    case '\r': out->append("\\r"); break;
    case '\t': out->append("\\t"); break;
    default: {
      const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(escaped, 6);
    }
  }
}

inline void AppendJsonString(std::string* out, absl::string_view s) {
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || c == '"' || c == '\\') {
      AppendJsonEscape(u, out);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

}  // namespace common

#endif  // COMMON_JSON_STRING_H_
