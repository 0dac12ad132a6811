// File: azure_auth/internal/json_fields.h
//
// Small readers shared by the token answer and token error parsers: a JSON value read
// as an integer whether Azure sent it as a number (v2 endpoint) or as a string of
// digits (v1 endpoint, IMDS), and text from outside made safe to quote in a message.
//
// Example:
//   std::optional<int64_t> seconds = azure_auth_internal::JsonInt(value);
//   if (!seconds) return absl::InvalidArgumentError("expires_in is not a number");
//
// Pure functions over their arguments: thread-safe (a simdjson value belongs to one
// thread, like its parser).
#ifndef AZURE_AUTH_INTERNAL_JSON_FIELDS_H_
#define AZURE_AUTH_INTERNAL_JSON_FIELDS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "simdjson.h"

namespace azure_auth_internal {

// The value as an integer: a JSON integer, a finite JSON number (truncated), or a
// string holding a decimal integer ("3599"). nullopt for anything else.
inline std::optional<int64_t> JsonInt(simdjson::ondemand::value& value) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type)) return std::nullopt;
  if (type == simdjson::ondemand::json_type::number) {
    int64_t i = 0;
    if (!value.get_int64().get(i)) return i;
    double d = 0;
    if (value.get_double().get(d) || !std::isfinite(d) || std::fabs(d) > 1e15) {
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }
  if (type == simdjson::ondemand::json_type::string) {
    std::string_view s;
    if (value.get_string().get(s)) return std::nullopt;
    int64_t i = 0;
    if (!absl::SimpleAtoi(absl::string_view(s.data(), s.size()), &i)) {
      return std::nullopt;
    }
    return i;
  }
  return std::nullopt;
}

// The value as a string, if it is one.
inline std::optional<std::string> JsonString(simdjson::ondemand::value& value) {
  std::string_view s;
  if (value.get_string().get(s)) return std::nullopt;
  return std::string(s);
}

// Text from a remote answer made fit for an error message: at most `max_bytes`
// bytes, control characters and non-ASCII bytes replaced by '?', "..." appended when
// cut.
inline std::string Sanitize(absl::string_view text, size_t max_bytes = 256) {
  std::string out;
  size_t n = text.size() < max_bytes ? text.size() : max_bytes;
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (n < text.size()) out += "...";
  return out;
}

// An identifier from a remote answer (trace id, correlation id, timestamp): kept only
// if it is short and made of letters, digits, and " -:.TZ" characters, else "".
inline std::string SanitizeId(absl::string_view id) {
  if (id.size() > 64) return "";
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != ':' && c != '.' && c != ' ' && c != '+') {
      return "";
    }
  }
  return std::string(id);
}

}  // namespace azure_auth_internal

#endif  // AZURE_AUTH_INTERNAL_JSON_FIELDS_H_
