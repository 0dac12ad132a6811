// File: azure_auth/internal/url_encode.h
//
// Percent-encoding for application/x-www-form-urlencoded bodies and URL query strings
// (RFC 3986: everything but ALPHA / DIGIT / "-" / "." / "_" / "~" becomes %XX).
//
// Example:
//   std::string body = azure_auth_internal::FormEncode(
//       {{"grant_type", "client_credentials"}, {"client_secret", secret}});
//
// Pure functions: thread-safe.
#ifndef AZURE_AUTH_INTERNAL_URL_ENCODE_H_
#define AZURE_AUTH_INTERNAL_URL_ENCODE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace azure_auth_internal {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// `s` with every byte outside the RFC 3986 unreserved set percent-encoded.
inline std::string PercentEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// "k1=v1&k2=v2" with keys and values percent-encoded, in the order given.
inline std::string FormEncode(const FormFields& fields) {
  std::string out;
  for (const auto& [key, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += PercentEncode(key);
    out.push_back('=');
    out += PercentEncode(value);
  }
  return out;
}

}  // namespace azure_auth_internal

#endif  // AZURE_AUTH_INTERNAL_URL_ENCODE_H_
