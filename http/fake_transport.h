// File: http/fake_transport.h
//
// A scripted HttpTransport for unit tests of code that sends through the seam (token
// credentials, the query client): responses are queued per "METHOD URL" and handed out
// in order; a request with nothing queued goes to a fallback handler, or fails with
// kFailedPrecondition naming the request so the missing script is obvious. Every
// request is kept for assertions. Like the real transport, a body larger than
// RequestOptions::max_response_bytes becomes kOutOfRange.
//
// Example:
//   http::FakeTransport transport;
//   transport.AddResponse("POST", token_url, 200, std::string(azure_testdata::kTokenV2Success));
//   transport.AddResponse("POST", query_url, absl::UnavailableError("connection reset"));
//   transport.AddResponse("POST", query_url, 200, answer, {{"Content-Type", "application/json"}});
//   ... code under test calls transport.Send(...) ...
//   ASSERT_EQ(transport.requests().size(), 3u);
//   EXPECT_EQ(transport.requests()[1].request.body, R"({"query":"..."})");
//   EXPECT_EQ(transport.pending(), 0u);
//
// Thread-safe: Send may be called from several threads; the fallback handler is called
// without the internal lock held, so it may call back into the FakeTransport.
#ifndef HTTP_FAKE_TRANSPORT_H_
#define HTTP_FAKE_TRANSPORT_H_

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "http/http_transport.h"

namespace http {

class FakeTransport : public HttpTransport {
 public:
  // Answers requests that have nothing queued.
  using Handler = std::function<absl::StatusOr<HttpResponse>(const HttpRequest&,
                                                             const RequestOptions&)>;

  // One call to Send, as it was made.
  struct Exchange {
    HttpRequest request;
    RequestOptions options;
  };

  // Queues `response` (a response or an error status) for the next `method url`
  // request. `url` must match exactly, query string included.
  void AddResponse(absl::string_view method, absl::string_view url,
                   absl::StatusOr<HttpResponse> response) {
    absl::MutexLock lock(&mu_);
    queues_[Key(method, url)].push_back(std::move(response));
  }
  // Queues a response with this status, body and headers.
  void AddResponse(absl::string_view method, absl::string_view url, int status,
                   std::string body, Headers headers = {}) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    AddResponse(method, url, absl::StatusOr<HttpResponse>(std::move(response)));
  }
  // Answers every request with nothing queued; nullptr removes it.
  void SetFallback(Handler handler) {
    absl::MutexLock lock(&mu_);
    fallback_ = std::move(handler);
  }

  // Every request sent so far, oldest first.
  std::vector<Exchange> requests() const {
    absl::MutexLock lock(&mu_);
    return exchanges_;
  }
  // Queued responses not handed out yet (all URLs).
  size_t pending() const {
    absl::MutexLock lock(&mu_);
    size_t n = 0;
    for (const auto& [key, queue] : queues_) n += queue.size();
    return n;
  }

  // Hands out the next queued response for "METHOD URL", else the fallback's answer.
  // kFailedPrecondition when neither exists; kOutOfRange when the body is larger than
  // options.max_response_bytes; otherwise whatever was scripted. Thread-safe.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request,
                                    const RequestOptions& options) override {
    std::optional<absl::StatusOr<HttpResponse>> scripted;
    Handler fallback;
    {
      absl::MutexLock lock(&mu_);
      exchanges_.push_back({request, options});
      auto it = queues_.find(Key(request.method, request.url));
      if (it != queues_.end() && !it->second.empty()) {
        scripted = std::move(it->second.front());
        it->second.pop_front();
      } else {
        fallback = fallback_;
      }
    }
    if (!scripted) {
      if (!fallback) {
        return absl::FailedPreconditionError(
            absl::StrCat("FakeTransport: no response scripted for ",
                         Key(request.method, request.url)));
      }
      scripted = fallback(request, options);
    }
    if (scripted->ok() && (*scripted)->body.size() > options.max_response_bytes) {
      return absl::OutOfRangeError(absl::StrCat(
          "HTTP response from ", HostOf(request.url), " is larger than the ",
          options.max_response_bytes, "-byte response size limit; the transfer was "
          "aborted. Ask for less data per request (a smaller page or time window)"));
    }
    return *std::move(scripted);
  }
  using HttpTransport::Send;

 private:
  static std::string Key(absl::string_view method, absl::string_view url) {
    return absl::StrCat(method, " ", url);
  }

  mutable absl::Mutex mu_;
  std::map<std::string, std::deque<absl::StatusOr<HttpResponse>>> queues_;
  Handler fallback_;
  std::vector<Exchange> exchanges_;
};

}  // namespace http

#endif  // HTTP_FAKE_TRANSPORT_H_
