// File: testdata/fake_azure/fake_imds_server.h
//
// A fake Azure Instance Metadata Service (IMDS) token endpoint for managed identity
// tests: plain HTTP on 127.0.0.1 (as the real one on 169.254.169.254), serving
//
//   GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id=C]
//     header "Metadata: true" missing   400 invalid_request "Required metadata header
//                                        not specified"
//     api-version or resource missing   400 invalid_request
//     client_id not a known identity    400 invalid_request "Identity not found"
//                                        (imds_error_identity_not_found.json)
//     otherwise                         200, every field a JSON string:
//       {"access_token":"…","client_id":"…","expires_in":"86399","expires_on":"<epoch>",
//        "ext_expires_in":"86399","not_before":"<epoch>","resource":"R",
//        "token_type":"Bearer"}
//   anything else                       404, empty body
//
// Requests are recorded; InjectFaults makes the next n requests get a given reply
// before any check (e.g. 429, 500, 404, 410, which clients must retry).
//
// Example:
//   fake_azure::FakeImdsServer imds;
//   ASSERT_TRUE(imds.Start().ok());
//   imds.InjectFaults(2, 429);
//   // GET imds.token_url() + "?api-version=2018-02-01&resource=https://api.loganalytics.io"
//   //   with "Metadata: true", never through a proxy
//   EXPECT_EQ(imds.requests().size(), 3u);
//
// To make IMDS tokens good at a FakeAzureServer, set token_source:
//   options.token_source = [&azure](const std::string& resource) {
//     return azure.IssueToken(resource + "/.default");
//   };
//
// All public methods are thread-safe; token_source runs on server threads.
#ifndef TESTDATA_FAKE_AZURE_FAKE_IMDS_SERVER_H_
#define TESTDATA_FAKE_AZURE_FAKE_IMDS_SERVER_H_

#include <sys/socket.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "testdata/azure/recorded_bodies.h"
#include "testdata/fake_azure/internal/server_util.h"
#include "testdata/fake_azure/recorded_request.h"

namespace fake_azure {

class FakeImdsServer {
 public:
  struct Options {
    // client_id reported for the system-assigned identity (no client_id parameter).
    std::string system_client_id = "7d8a6c2e-1b3f-4e5d-8c9a-0f1e2d3c4b5a";
    // User-assigned identities this machine has; others get "Identity not found".
    std::vector<std::string> user_assigned_client_ids = {
        "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170"};
    absl::Duration token_lifetime = absl::Seconds(86399);
    // Time source for expires_on / not_before; unset means the system clock.
    common::Clock clock;
    // Makes the access token for a resource; unset makes a random opaque one.
    std::function<std::string(const std::string& resource)> token_source;
    // 0 picks a free port.
    int port = 0;
  };

  FakeImdsServer() : FakeImdsServer(Options()) {}
  explicit FakeImdsServer(Options options) : options_(std::move(options)) {
    if (!options_.clock) options_.clock = common::SystemClock();
  }
  FakeImdsServer(const FakeImdsServer&) = delete;
  FakeImdsServer& operator=(const FakeImdsServer&) = delete;
  ~FakeImdsServer() { Stop(); }

  // Binds 127.0.0.1:port and serves on a thread of its own. kFailedPrecondition when
  // already started, kUnavailable when the port cannot be bound, kInternal when the
  // server thread does not come up. Call once.
  absl::Status Start() {
    absl::MutexLock lock(&lifecycle_mu_);
    if (server_ != nullptr) {
      return absl::FailedPreconditionError("FakeImdsServer::Start called twice");
    }
    auto server = std::make_unique<httplib::Server>();
    server->set_keep_alive_timeout(1);
    // Headers and body go out in separate writes: without TCP_NODELAY, Nagle and the
    // client's delayed ACK add 40 ms to every answer.
    server->set_tcp_nodelay(true);
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let two
    // servers share a fixed port silently.
    server->set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server->Get("/metadata/identity/oauth2/token",
                [this](const httplib::Request& req, httplib::Response& res) {
                  Handle(req, res);
                });
    auto not_found = [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      res.status = 404;
    };
    server->Get(".*", not_found);
    server->Post(".*", not_found);
    int port = options_.port;
    if (port == 0) {
      port = server->bind_to_any_port("127.0.0.1");
      if (port < 0) {
        return absl::UnavailableError("FakeImdsServer: cannot bind 127.0.0.1 to any port");
      }
    } else if (!server->bind_to_port("127.0.0.1", port)) {
      return absl::UnavailableError(absl::StrCat(
          "FakeImdsServer: cannot bind 127.0.0.1:", port, "; is the port in use?"));
    }
    port_ = port;
    server_ = std::move(server);
    thread_ = std::thread([s = server_.get()] { s->listen_after_bind(); });
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!server_->is_running() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    if (!server_->is_running()) {
      return absl::InternalError("FakeImdsServer: the server thread did not start");
    }
    return absl::OkStatus();
  }

  // Stops serving and waits for the server thread. Idempotent; the destructor calls it.
  void Stop() {
    absl::MutexLock lock(&lifecycle_mu_);
    if (server_ != nullptr) {
      server_->stop();
      if (thread_.joinable()) thread_.join();
      server_.reset();
    }
  }

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" (stands for http://169.254.169.254).
  std::string base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  // base_url() + "/metadata/identity/oauth2/token", without parameters.
  std::string token_url() const {
    return absl::StrCat(base_url(), "/metadata/identity/oauth2/token");
  }

  // Every request received so far, oldest first.
  std::vector<RecordedRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  void ClearRequests() {
    absl::MutexLock lock(&mu_);
    requests_.clear();
  }
  // The next `count` requests get this reply, before any check.
  void InjectFaults(int count, int status, std::string body = "", Headers headers = {}) {
    faults_.Push(count, {status, std::move(headers), std::move(body)});
  }

 private:
  RecordedRequest Record(const httplib::Request& req) {
    RecordedRequest r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.headers) {
      if (k == "REMOTE_ADDR" || k == "REMOTE_PORT" || k == "LOCAL_ADDR" ||
          k == "LOCAL_PORT") {
        continue;
      }
      r.headers.emplace_back(k, v);
    }
    size_t q = req.target.find('?');
    if (q != std::string::npos) {
      r.params = fake_azure_internal::ParseForm(absl::string_view(req.target).substr(q + 1));
    }
    r.body = req.body;
    r.remote_addr = req.remote_addr;
    r.remote_port = req.remote_port;
    absl::MutexLock lock(&mu_);
    requests_.push_back(r);
    return r;
  }

  static void Send(httplib::Response& res, int status, const Headers& headers,
                   const std::string& body) {
    res.status = status;
    for (const auto& [k, v] : headers) res.set_header(k, v);
    if (!body.empty()) res.set_content(body, "application/json; charset=utf-8");
  }

  static std::string Error(absl::string_view description) {
    return absl::StrCat("{\"error\":\"invalid_request\",\"error_description\":",
                        fake_azure_internal::JsonString(description), "}");
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    RecordedRequest recorded = Record(req);
    if (std::optional<fake_azure_internal::CannedReply> fault = faults_.Pop()) {
      Send(res, fault->status, fault->headers, fault->body);
      return;
    }
    if (recorded.Header("Metadata") != std::optional<std::string>("true")) {
      Send(res, 400, {}, Error("Required metadata header not specified"));
      return;
    }
    std::optional<std::string> api_version = recorded.Param("api-version");
    if (!api_version || api_version->empty()) {
      Send(res, 400, {}, Error("Required query variable 'api-version' is missing"));
      return;
    }
    std::optional<std::string> resource = recorded.Param("resource");
    if (!resource || resource->empty()) {
      Send(res, 400, {}, Error("Required query variable 'resource' is missing"));
      return;
    }
    std::string client_id = options_.system_client_id;
    if (std::optional<std::string> requested = recorded.Param("client_id")) {
      const auto& known = options_.user_assigned_client_ids;
      if (std::find(known.begin(), known.end(), *requested) == known.end()) {
        Send(res, 400, {}, std::string(azure_testdata::kImdsErrorIdentityNotFound));
        return;
      }
      client_id = *requested;
    }
    std::string token = options_.token_source
                            ? options_.token_source(*resource)
                            : fake_azure_internal::RandomToken("fake-mi-token");
    absl::Time now = options_.clock();
    int64_t lifetime = absl::ToInt64Seconds(options_.token_lifetime);
    using fake_azure_internal::JsonString;
    std::string body = absl::StrCat(
        "{\"access_token\":", JsonString(token), ",\"client_id\":", JsonString(client_id),
        ",\"expires_in\":\"", lifetime, "\",\"expires_on\":\"",
        absl::ToUnixSeconds(now) + lifetime, "\",\"ext_expires_in\":\"", lifetime,
        "\",\"not_before\":\"", absl::ToUnixSeconds(now), "\",\"resource\":",
        JsonString(*resource), ",\"token_type\":\"Bearer\"}");
    Send(res, 200, {}, body);
  }

  Options options_;
  absl::Mutex lifecycle_mu_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  std::vector<RecordedRequest> requests_;
  fake_azure_internal::FaultQueue faults_;
};

}  // namespace fake_azure

#endif  // TESTDATA_FAKE_AZURE_FAKE_IMDS_SERVER_H_
