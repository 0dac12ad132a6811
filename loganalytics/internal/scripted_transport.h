// File: loganalytics/internal/scripted_transport.h
//
// An HttpTransport for unit tests: it answers each request with the next scripted
// response (or transport error) and records every request it was sent, so tests can
// assert the exact URL, headers and body. An exhausted script answers kInternal.
//
// Example:
//   auto transport = std::make_shared<ScriptedTransport>();
//   transport->Push(200, R"({"tables":[]})");
//   ... run the client ...
//   EXPECT_EQ(transport->requests()[0].body, R"({"query":"Heartbeat"})");
//
// Thread-safe.
#ifndef LOGANALYTICS_INTERNAL_SCRIPTED_TRANSPORT_H_
#define LOGANALYTICS_INTERNAL_SCRIPTED_TRANSPORT_H_

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "http/http_transport.h"

namespace loganalytics_internal {

class ScriptedTransport : public http::HttpTransport {
 public:
  // Queues an answer with `status`, `body` and `headers`.
  void Push(int status, std::string body, http::Headers headers = {}) {
    http::HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    absl::MutexLock lock(&mu_);
    script_.emplace_back(std::move(response));
  }
  // Queues a transport failure (no answer arrived).
  void PushError(absl::Status error) {
    absl::MutexLock lock(&mu_);
    script_.emplace_back(std::move(error));
  }

  using http::HttpTransport::Send;
  absl::StatusOr<http::HttpResponse> Send(const http::HttpRequest& request,
                                          const http::RequestOptions& options) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    options_.push_back(options);
    if (script_.empty()) {
      return absl::InternalError(absl::StrCat("no scripted answer for request ",
                                              requests_.size(), " to ", request.url));
    }
    absl::StatusOr<http::HttpResponse> next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  std::vector<http::HttpRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<http::RequestOptions> options() const {
    absl::MutexLock lock(&mu_);
    return options_;
  }
  size_t remaining() const {
    absl::MutexLock lock(&mu_);
    return script_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<absl::StatusOr<http::HttpResponse>> script_;
  std::vector<http::HttpRequest> requests_;
  std::vector<http::RequestOptions> options_;
};

}  // namespace loganalytics_internal

#endif  // LOGANALYTICS_INTERNAL_SCRIPTED_TRANSPORT_H_
