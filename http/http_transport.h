// File: http/http_transport.h
//
// The HTTP seam. Everything that talks to Entra ID or Log Analytics sends through an
// `http::HttpTransport`; `http::CurlTransport` (curl_transport.h) is the real one and
// tests plug in their own or point the real one at a loopback fake.
//
// A transport returns an HttpResponse for every answer the server gave, whatever its
// status code: mapping 4xx/5xx to a Status is the caller's job, since only the caller
// knows what a 403 means for it. A non-OK Status means no usable answer arrived:
//   kUnavailable       connection refused or reset, DNS failure, TLS handshake failure
//   kDeadlineExceeded  the connect or total timeout ran out
//   kOutOfRange        the body grew past RequestOptions::max_response_bytes
//   kInvalidArgument   the request itself is malformed (bad URL, bad CA file)
//
// Example:
//   http::HttpRequest request;
//   request.method = "POST";
//   request.url = "https://api.loganalytics.io/v1/workspaces/" + id + "/query";
//   request.headers = {{"Content-Type", "application/json"}};
//   request.body = R"({"query":"Heartbeat | take 1"})";
//   absl::StatusOr<http::HttpResponse> response = transport.Send(request);
//   if (!response.ok()) return response.status();
//   if (response->status != 200) return MapQueryError(*response);
//
// Implementations must be safe to call from several threads at once.
#ifndef HTTP_HTTP_TRANSPORT_H_
#define HTTP_HTTP_TRANSPORT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  // The first header of this name (case-insensitive), if any.
  std::optional<std::string> Header(absl::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (absl::EqualsIgnoreCase(key, name)) return value;
    }
    return std::nullopt;
  }
};

struct RequestOptions {
  absl::Duration connect_timeout = absl::Seconds(10);
  // Whole exchange, body included. Log Analytics may hold a query for `Prefer: wait=600`.
  absl::Duration total_timeout = absl::Seconds(660);
  // Log Analytics caps an answer at about 100 MB; a larger body is refused rather than
  // buffered without bound.
  size_t max_response_bytes = size_t{192} << 20;
  // False for endpoints that must never go through a proxy (Azure IMDS).
  bool use_proxy = true;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends `request` and returns the server's answer, whatever its status code.
  // Thread-safe.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request,
                                            const RequestOptions& options) = 0;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) {
    return Send(request, RequestOptions());
  }
};

// The host part of an absolute URL ("https://host:443/path" -> "host:443"), for error
// messages that must not carry paths or query strings.
inline std::string HostOf(absl::string_view url) {
  size_t start = url.find("://");
  start = start == absl::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  return std::string(url.substr(start, end == absl::string_view::npos
                                           ? absl::string_view::npos
                                           : end - start));
}

}  // namespace http

#endif  // HTTP_HTTP_TRANSPORT_H_
