// File: http/curl_transport.h
//
// The real HttpTransport, on libcurl. What it guarantees:
//   - TLS is always verified (peer and host name); there is no switch to turn that off.
//     Options::ca_file replaces the system CA bundle (e.g. a test CA or a corporate one).
//   - HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment are honoured, except for
//     requests with RequestOptions::use_proxy == false (Azure IMDS), which never go
//     through a proxy.
//   - gzip / deflate / brotli answers are asked for and decoded.
//   - Redirects are not followed: a 3xx comes back as the response, so headers such as
//     Authorization are never carried to another host.
//   - Connections (and TLS sessions, DNS answers) are reused across requests: idle curl
//     handles are pooled, each keeping its connections alive.
//   - The decoded body is capped at RequestOptions::max_response_bytes: past it the
//     transfer is aborted with kOutOfRange instead of buffering without bound.
//   - Only http:// and https:// URLs are accepted.
// Error statuses follow http_transport.h (see CurlCodeToStatus below). Messages name
// the host only: never the path, query string, headers or body.
//
// Example:
//   http::CurlTransport::Options options;
//   options.ca_file = "/etc/ssl/corp-ca.pem";   // or empty: the system bundle
//   http::CurlTransport transport(options);
//   http::HttpRequest request;
//   request.method = "POST";
//   request.url = "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token";
//   request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
//   request.body = form;
//   absl::StatusOr<http::HttpResponse> response = transport.Send(request);
//   if (!response.ok()) return response.status();   // kUnavailable, kDeadlineExceeded...
//
// CurlTransport is thread-safe: Send may be called from any number of threads at once.
#ifndef HTTP_CURL_TRANSPORT_H_
#define HTTP_CURL_TRANSPORT_H_

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "http/http_transport.h"
#include "http/internal/curl_callbacks.h"

namespace http {

namespace curl_internal {

// curl_global_init, once per process, before the first handle.
inline void GlobalInitOnce() {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
}

// Milliseconds for a curl timeout option: 0 (none) for an infinite duration, at least 1.
inline long TimeoutMillis(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return 0;
  return static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

}  // namespace curl_internal

// Maps a libcurl result for a transfer to `url` onto an absl::Status:
//   CURLE_OK                                    OK
//   CURLE_OPERATION_TIMEDOUT                    kDeadlineExceeded
//   CURLE_COULDNT_RESOLVE_HOST / _PROXY,
//   CURLE_COULDNT_CONNECT, CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION,
//   CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
//   CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING,
//   CURLE_SEND_FAIL_REWIND, CURLE_SSL_SHUTDOWN_FAILED, CURLE_PROXY, CURLE_AGAIN,
//   CURLE_TOO_MANY_REDIRECTS                    kUnavailable (retryable)
//   CURLE_WRITE_ERROR, CURLE_FILESIZE_EXCEEDED  kOutOfRange (body over the limit)
//   CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT,
//   CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE, CURLE_SSL_CERTPROBLEM,
//   CURLE_SSL_CIPHER, CURLE_NOT_BUILT_IN, CURLE_UNKNOWN_OPTION,
//   CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED  kInvalidArgument
//   CURLE_OUT_OF_MEMORY                         kResourceExhausted
//   CURLE_ABORTED_BY_CALLBACK                   kCancelled
//   CURLE_FAILED_INIT                           kInternal
//   anything else                               kUnknown
// The message names the host of `url` (never its path or query), curl's description,
// `detail` (curl's error buffer) when it cannot leak the URL, and what to check.
// Thread-safe.
inline absl::Status CurlCodeToStatus(CURLcode code, absl::string_view url,
                                     absl::string_view detail = "") {
  if (code == CURLE_OK) return absl::OkStatus();
  absl::StatusCode status_code = absl::StatusCode::kUnknown;
  absl::string_view advice;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      status_code = absl::StatusCode::kDeadlineExceeded;
      advice = "the server or the network is slow; retry later or raise the timeout";
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      status_code = absl::StatusCode::kUnavailable;
      advice = "check the host name and DNS";
      break;
    case CURLE_COULDNT_RESOLVE_PROXY:
      status_code = absl::StatusCode::kUnavailable;
      advice = "check the proxy host in HTTPS_PROXY / HTTP_PROXY";
      break;
    case CURLE_COULDNT_CONNECT:
      status_code = absl::StatusCode::kUnavailable;
      advice = "check the network, firewall and proxy settings";
      break;
    case CURLE_SSL_CONNECT_ERROR:
      status_code = absl::StatusCode::kUnavailable;
      advice = "the TLS handshake failed; check for a TLS-intercepting proxy";
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
      status_code = absl::StatusCode::kUnavailable;
      advice =
          "the server's TLS certificate is not trusted; check the CA file (or the system "
          "CA bundle), the host name and the system clock";
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_AGAIN:
    case CURLE_TOO_MANY_REDIRECTS:
#if LIBCURL_VERSION_NUM >= 0x074900
    case CURLE_PROXY:
#endif
      status_code = absl::StatusCode::kUnavailable;
      advice = "the connection broke or the answer was garbled; retry later";
      break;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      status_code = absl::StatusCode::kOutOfRange;
      advice = "the answer was larger than the response size limit; ask for less data";
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      status_code = absl::StatusCode::kInvalidArgument;
      advice = "the URL is malformed or not http(s); check the configured endpoint";
      break;
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
      status_code = absl::StatusCode::kInvalidArgument;
      advice = "the CA file cannot be read or holds no certificate; check ca_file";
      break;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
      status_code = absl::StatusCode::kInvalidArgument;
      advice = "the local TLS settings are invalid";
      break;
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
      status_code = absl::StatusCode::kInvalidArgument;
      advice = "this libcurl does not support the request as made";
      break;
    case CURLE_OUT_OF_MEMORY:
      status_code = absl::StatusCode::kResourceExhausted;
      advice = "the process is out of memory";
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      status_code = absl::StatusCode::kCancelled;
      advice = "the transfer was cancelled";
      break;
    case CURLE_FAILED_INIT:
      status_code = absl::StatusCode::kInternal;
      advice = "libcurl could not be initialised";
      break;
    default:
      advice = "unexpected libcurl error";
      break;
  }
  std::string safe_detail = curl_internal::SafeDetail(detail, url);
  std::string message =
      absl::StrCat("HTTP request to ", curl_internal::SafeHost(url), " failed: ",
                   curl_easy_strerror(code), " (curl code ", static_cast<int>(code), ")");
  if (!safe_detail.empty() && safe_detail != curl_easy_strerror(code)) {
    absl::StrAppend(&message, ": ", safe_detail);
  }
  absl::StrAppend(&message, "; ", advice);
  return absl::Status(status_code, message);
}

class CurlTransport : public HttpTransport {
 public:
  struct Options {
    // PEM bundle of trusted CAs; empty uses the system bundle.
    std::string ca_file;
    std::string user_agent = "azure-loganalytics-utmstack/1.0";
    // Idle curl handles (each with its open connections) kept for reuse.
    size_t max_idle_handles = 16;
  };

  CurlTransport() : CurlTransport(Options()) {}
  explicit CurlTransport(Options options) : options_(std::move(options)) {
    curl_internal::GlobalInitOnce();
    share_ = curl_share_init();
    if (share_ != nullptr) {
      curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlTransport::Lock);
      curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlTransport::Unlock);
      curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
      curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
      curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
  }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // Every Send must have returned before destruction.
  ~CurlTransport() override {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
    idle_.clear();
    if (share_ != nullptr) curl_share_cleanup(share_);
  }

  // Sends `request` and returns the final response, whatever its status code.
  // kInvalidArgument: bad URL or scheme, a header with a line break, a non-positive
  // timeout, an unreadable CA file. kUnavailable: DNS, connect, TLS (including an
  // untrusted certificate), reset connections. kDeadlineExceeded: a timeout ran out.
  // kOutOfRange: the decoded body passed options.max_response_bytes. Thread-safe.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request,
                                    const RequestOptions& options) override {
    if (request.url.empty()) {
      return absl::InvalidArgumentError("HTTP request has no URL; check the endpoint");
    }
    if (request.method.empty() ||
        !std::all_of(request.method.begin(), request.method.end(),
                     [](char c) { return absl::ascii_isupper(c); })) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP request to ", curl_internal::SafeHost(request.url),
                       " has an invalid method; use an upper-case token such as POST"));
    }
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || curl_internal::HasLineBreak(name) ||
          curl_internal::HasLineBreak(value) || absl::StrContains(name, ':')) {
        return absl::InvalidArgumentError(absl::StrCat(
            "HTTP request to ", curl_internal::SafeHost(request.url),
            " has a malformed header (empty name, ':' in the name, or a line break); "
            "header name: '", curl_internal::HasLineBreak(name) ? "?" : name, "'"));
      }
    }
    if (options.connect_timeout <= absl::ZeroDuration() ||
        options.total_timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP request to ", curl_internal::SafeHost(request.url),
                       " has a non-positive timeout; timeouts must be > 0"));
    }

    CURL* handle = Acquire();
    if (handle == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrCat("HTTP request to ", curl_internal::SafeHost(request.url),
                       " failed: curl_easy_init returned null (out of memory?)"));
    }
    absl::StatusOr<HttpResponse> result = Perform(handle, request, options);
    Release(handle);
    return result;
  }
  using HttpTransport::Send;

  // New TCP connections opened so far by this transport (CURLINFO_NUM_CONNECTS summed
  // over all transfers): lower than the request count when connections are reused.
  // Thread-safe.
  int64_t connections_opened() const { return connections_opened_.load(); }

 private:
  struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  };

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    auto* self = static_cast<CurlTransport*>(user);
    self->share_locks_[static_cast<size_t>(data) % kLockCount].lock();  // data < LAST
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    auto* self = static_cast<CurlTransport*>(user);
    self->share_locks_[static_cast<size_t>(data) % kLockCount].unlock();
  }

  CURL* Acquire() {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();  // the most recently used: its connection is warm
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* handle) {
    curl_easy_reset(handle);  // forgets options, keeps connections and caches
    absl::MutexLock lock(&mu_);
    if (idle_.size() < options_.max_idle_handles) {
      idle_.push_back(handle);
      return;
    }
    curl_easy_cleanup(handle);
  }

  absl::StatusOr<HttpResponse> Perform(CURL* handle, const HttpRequest& request,
                                       const RequestOptions& options) {
    HttpResponse response;
    curl_internal::Transfer transfer{&response, options.max_response_bytes};
    char error_buffer[CURL_ERROR_SIZE] = {0};

    std::unique_ptr<curl_slist, SlistDeleter> headers;
    bool has_content_type = false;
    auto append = [&headers](const std::string& line) {
      curl_slist* next = curl_slist_append(headers.get(), line.c_str());
      if (next != nullptr) {
        headers.release();
        headers.reset(next);
      }
      return next != nullptr;
    };
    bool headers_ok = true;
    for (const auto& [name, value] : request.headers) {
      if (absl::EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
      // "Name;" sends a header with an empty value; "Name:" would remove it.
      headers_ok &= append(value.empty() ? absl::StrCat(name, ";")
                                         : absl::StrCat(name, ": ", value));
    }
    // Send only what the caller set: no curl default Content-Type, no Expect: 100.
    if (!has_content_type) headers_ok &= append("Content-Type:");
    headers_ok &= append("Expect:");
    if (!headers_ok) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "HTTP request to ", curl_internal::SafeHost(request.url),
          " failed: cannot build the header list (out of memory?)"));
    }

    CURLcode rc = CURLE_OK;
    auto set = [&rc, handle](CURLoption option, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(handle, option, value);
    };
    set(CURLOPT_ERRORBUFFER, error_buffer);
    set(CURLOPT_URL, request.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
    set(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (share_ != nullptr) set(CURLOPT_SHARE, share_);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
    set(CURLOPT_ACCEPT_ENCODING, "");
    set(CURLOPT_USERAGENT, options_.user_agent.c_str());
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_CONNECTTIMEOUT_MS, curl_internal::TimeoutMillis(options.connect_timeout));
    set(CURLOPT_TIMEOUT_MS, curl_internal::TimeoutMillis(options.total_timeout));
    if (!options.use_proxy) set(CURLOPT_NOPROXY, "*");
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(std::min<size_t>(
                                       options.max_response_bytes, INT64_MAX)));
    set(CURLOPT_HTTPHEADER, headers.get());
    set(CURLOPT_WRITEFUNCTION, &curl_internal::OnBody);
    set(CURLOPT_WRITEDATA, &transfer);
    set(CURLOPT_HEADERFUNCTION, &curl_internal::OnHeader);
    set(CURLOPT_HEADERDATA, &transfer);
    if (request.method == "GET") {
      set(CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else if (request.method == "POST") {
      set(CURLOPT_POST, 1L);
    } else {
      set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (request.method != "GET" && request.method != "HEAD" &&
        (request.method == "POST" || !request.body.empty())) {
      set(CURLOPT_POSTFIELDS, request.body.data());
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    if (rc != CURLE_OK) return CurlCodeToStatus(rc, request.url, error_buffer);

    rc = curl_easy_perform(handle);
    long connects = 0;
    if (curl_easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) {
      connections_opened_ += connects;
    }
    if (rc != CURLE_OK) {
      if (transfer.over_limit || rc == CURLE_FILESIZE_EXCEEDED) {
        return absl::OutOfRangeError(absl::StrCat(
            "HTTP response from ", curl_internal::SafeHost(request.url),
            " is larger than the ", options.max_response_bytes,
            "-byte response size limit; the transfer was aborted. Ask for less data "
            "per request (a smaller page or time window)"));
      }
      return CurlCodeToStatus(rc, request.url, error_buffer);
    }
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

  static constexpr size_t kLockCount = CURL_LOCK_DATA_LAST;

  Options options_;
  CURLSH* share_ = nullptr;
  std::mutex share_locks_[kLockCount];
  std::atomic<int64_t> connections_opened_{0};
  absl::Mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace http

#endif  // HTTP_CURL_TRANSPORT_H_
