// File: http/internal/curl_callbacks.h
//
// The pure parts of CurlTransport, kept apart from libcurl so they can be fuzzed: the
// body and header callbacks (which see bytes straight from the network), and the
// functions that keep URLs' paths, query strings and credentials out of messages.
// Not an API: used by //http:curl_transport and its fuzzer.
//
// Example:
//   http::HttpResponse response;
//   http::curl_internal::Transfer transfer{&response, /*max_bytes=*/1 << 20};
//   char line[] = "Retry-After: 3\r\n";
//   http::curl_internal::OnHeader(line, 1, sizeof(line) - 1, &transfer);
//   // response.headers == {{"Retry-After", "3"}}
//
// Functions are thread-safe; a Transfer belongs to one transfer at a time.
#ifndef HTTP_INTERNAL_CURL_CALLBACKS_H_
#define HTTP_INTERNAL_CURL_CALLBACKS_H_

#include <algorithm>
#include <cstddef>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "http/http_transport.h"

namespace http {
namespace curl_internal {

// The host of `url` without any "user:password@" part, for messages.
inline std::string SafeHost(absl::string_view url) {
  std::string host = HostOf(url);
  size_t at = host.rfind('@');
  if (at != std::string::npos) host.erase(0, at + 1);
  return host.empty() ? "(no host)" : host;
}

// curl's error text, unless it could carry the URL's path or query (which may hold
// secrets): then nothing.
inline std::string SafeDetail(absl::string_view detail, absl::string_view url) {
  size_t start = url.find("://");
  start = start == absl::string_view::npos ? 0 : start + 3;
  size_t path = url.find_first_of("/?#", start);
  if (path != absl::string_view::npos) {
    absl::string_view rest = url.substr(path);
    if (rest.size() > 1 && absl::StrContains(detail, rest)) return "";
  }
  if (absl::StrContains(detail, "@")) return "";  // might echo credentials in the URL
  return std::string(absl::StripAsciiWhitespace(detail));
}

// Where one transfer's callbacks put the answer, and its body size limit.
struct Transfer {
  HttpResponse* response;
  size_t max_bytes;
  bool over_limit = false;
};

// CURLOPT_WRITEFUNCTION: appends to the body; returns 0 (abort) once the body would
// pass max_bytes, and sets over_limit.
inline size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string& body = transfer->response->body;
  if (n > transfer->max_bytes - std::min(transfer->max_bytes, body.size())) {
    transfer->over_limit = true;
    return 0;  // a value other than n aborts the transfer with CURLE_WRITE_ERROR
  }
  body.append(data, n);
  return n;
}

// CURLOPT_HEADERFUNCTION: one raw header line (CRLF included) per call. Keeps
// "Name: value" pairs, trimmed; a status line starts over. Always returns the length.
inline size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  absl::string_view line(data, n);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response starts (after 100 Continue or a proxy's CONNECT answer): only
    // the final response's headers are kept.
    transfer->response->headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;  // the blank line, or junk
  absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
  absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  if (!name.empty()) transfer->response->headers.emplace_back(name, value);
  return n;
}

// True when `s` holds CR or LF (header injection).
inline bool HasLineBreak(absl::string_view s) {
  return s.find_first_of("\r\n") != absl::string_view::npos;
}

}  // namespace curl_internal
}  // namespace http

#endif  // HTTP_INTERNAL_CURL_CALLBACKS_H_
