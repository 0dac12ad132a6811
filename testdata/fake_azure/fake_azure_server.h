// File: testdata/fake_azure/fake_azure_server.h
//
// A fake Entra ID token endpoint and Log Analytics Query API in one HTTPS server on
// 127.0.0.1, for tests and the offline demo. It serves TLS with a certificate from a
// fresh test CA (test_pki.h); clients trust ca_file() and nothing else. It behaves as
// docs/azure_api.md describes, answering with the recorded bodies of testdata/azure:
//
//   POST /{tenant}/oauth2/v2.0/token      client credentials (secret or JWT assertion)
//     ok          200 {"token_type":"Bearer","expires_in":N,"ext_expires_in":N,
//                      "access_token":"<fresh opaque token>"}
//     bad secret  401 AADSTS7000215 (token_error_7000215.json)
//     bad tenant  400 AADSTS90002 (token_error_90002.json)
//     also        400 AADSTS900144 (missing field), 70003 (grant_type), 700016 (client
//                 id), 70011 / 700022 (scope), 9002313 (both secret and assertion),
//                 401 7000218 (no credential), 700027 (assertion rejected)
//   POST /v1/workspaces/{workspace}/query   {"query":"…","timespan":"…"}
//     no or unknown or expired bearer token  401 AuthenticationFailed
//     token issued for another scope         403 InvalidAuthenticationTokenAudience
//     unknown workspace                      404 PathNotFoundError
//     Content-Type not application/json      200 with an empty body (as Azure does)
//     body not JSON / no "query"             400 BadArgumentError
//     otherwise                              the QueryHandler's reply (default: 200
//                                            with Options::answer_body)
//   anything else                            404, empty body
//
// Answers are gzip/brotli compressed when the client asks for it (Accept-Encoding).
// Every request is recorded (requests()); InjectTokenFaults / InjectQueryFaults make
// the next n requests to an endpoint fail with a given reply, before any check.
//
// Example:
//   fake_azure::FakeAzureServer azure;            // default ids, secret, answer
//   ASSERT_TRUE(azure.Start().ok());
//   // token: POST azure.token_url() with the form of docs/azure_api.md
//   // query: POST azure.query_url() with "Authorization: Bearer <token>"
//   azure.InjectQueryFaults(2, 429, std::string(azure_testdata::kQueryError429),
//                           {{"Retry-After", "3"}});
//   azure.SetQueryHandler([](const fake_azure::QueryRequest& q) {
//     return fake_azure::QueryReply{200, {}, MakePageFor(q.query, q.timespan)};
//   });
//   EXPECT_EQ(azure.query_requests().size(), 3u);
//
// All public methods are thread-safe; handlers run on the server's threads, possibly
// several at once, and must be thread-safe themselves.
#ifndef TESTDATA_FAKE_AZURE_FAKE_AZURE_SERVER_H_
#define TESTDATA_FAKE_AZURE_FAKE_AZURE_SERVER_H_

#include <stdlib.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>
#include <simdjson.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "testdata/azure/recorded_bodies.h"
#include "testdata/fake_azure/internal/server_util.h"
#include "testdata/fake_azure/recorded_request.h"
#include "testdata/fake_azure/test_pki.h"

namespace fake_azure {

// A token request as the token endpoint parsed it.
struct TokenRequest {
  std::string tenant;  // from the path
  Headers form;        // decoded form fields, in order, duplicates kept
  Headers headers;

  // The first form field named `name`; nullopt when absent.
  std::optional<std::string> Form(absl::string_view name) const {
    for (const auto& [k, v] : form) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

// A whole HTTP answer of the token endpoint.
struct TokenReply {
  int status = 200;
  Headers headers;   // Content-Type defaults to application/json; charset=utf-8
  std::string body;
};

// A query request that passed the token, workspace, Content-Type and JSON checks.
struct QueryRequest {
  std::string workspace_id;           // from the path
  std::string query;                  // the "query" member, unescaped
  std::string timespan;               // the "timespan" member; empty when absent
  std::vector<std::string> workspaces;  // the optional "workspaces" member
  Headers headers;                    // e.g. Prefer: wait=600,include-statistics=true
  std::string body;                   // the raw JSON body

  // The first header named `name` (case-insensitive); nullopt when absent.
  std::optional<std::string> Header(absl::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, name)) return v;
    }
    return std::nullopt;
  }
};

// The answer to a query: any status, headers (e.g. Retry-After, Preference-Applied)
// and body. Status 204 sends no body.
struct QueryReply {
  int status = 200;
  Headers headers;   // Content-Type defaults to application/json; charset=utf-8
  std::string body;
  // When set, the body is sent with chunked transfer encoding from this provider
  // instead of `body`, for as long as it returns true (an endless body for tests of
  // a client's size cap). It writes a piece per call with sink.write(), which
  // returns false once the client went away.
  std::function<bool(size_t offset, httplib::DataSink& sink)> stream;
};

// Decides a query's answer. Called on a server thread, maybe several at once.
using QueryHandler = std::function<QueryReply(const QueryRequest&)>;
// Overrides the token endpoint: a reply replaces the built-in checks, nullopt falls
// through to them. Called on a server thread.
using TokenHandler = std::function<std::optional<TokenReply>(const TokenRequest&)>;
// Says whether a client assertion (a JWT, compact form) is acceptable.
using AssertionValidator = std::function<bool(const std::string& assertion)>;

class FakeAzureServer {
 public:
  struct Options {
    std::string tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    std::string client_id = "3f2b9c1e-5a47-4d8e-9b61-0c2d4e6f8a10";
    // The secret the token endpoint expects in `client_secret`.
    std::string client_secret = "fake~client~secret.0123456789";
    std::string workspace_id = "b4c4d9a5-7e2f-4c1d-9a3b-5e6f7a8b9c0d";
    // What the default QueryHandler answers (status 200).
    std::string answer_body = std::string(azure_testdata::kQueryAnswer);
    // expires_in / ext_expires_in of issued tokens; they stop working after it.
    absl::Duration token_lifetime = absl::Seconds(3599);
    // When positive, token answers carry "refresh_in" (whole seconds).
    absl::Duration refresh_in = absl::ZeroDuration();
    // Tokens are good for queries only when issued for this scope.
    std::string query_scope = "https://api.loganalytics.io/.default";
    // Judges client assertions; unset accepts any non-empty assertion.
    AssertionValidator assertion_validator;
    // Time source for token expiry; unset means the system clock.
    common::Clock clock;
    // 0 picks a free port.
    int port = 0;
    // Where the CA and server PEM files go; empty makes a private temporary directory
    // (under $TEST_TMPDIR or /tmp) that the destructor removes.
    std::string pki_dir;
  };

  FakeAzureServer() : FakeAzureServer(Options()) {}
  explicit FakeAzureServer(Options options) : options_(std::move(options)) {
    if (!options_.clock) options_.clock = common::SystemClock();
    query_handler_ = [body = options_.answer_body](const QueryRequest&) {
      return QueryReply{200, {}, body};
    };
  }
  FakeAzureServer(const FakeAzureServer&) = delete;
  FakeAzureServer& operator=(const FakeAzureServer&) = delete;
  ~FakeAzureServer() { Stop(); }

  // Makes the TLS material, binds 127.0.0.1:port and starts serving on a thread of its
  // own. Returns kFailedPrecondition when already started, kUnavailable when the port
  // cannot be bound, kInternal when the certificates or the TLS context cannot be made.
  // Thread-safe, but call it once, before the server is used.
  absl::Status Start() {
    absl::MutexLock lock(&lifecycle_mu_);
    if (server_ != nullptr) {
      return absl::FailedPreconditionError("FakeAzureServer::Start called twice");
    }
    std::string dir = options_.pki_dir;
    if (dir.empty()) {
      const char* base = getenv("TEST_TMPDIR");
      std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/fake-azure-XXXXXX");
      if (mkdtemp(tmpl.data()) == nullptr) {
        return absl::InternalError(absl::StrCat("FakeAzureServer: mkdtemp(", tmpl,
                                                ") failed; check that the directory is writable"));
      }
      dir = tmpl;
      owned_dir_ = dir;
    }
    absl::StatusOr<TestPki> pki = MakeTestPki(dir);
    if (!pki.ok()) return pki.status();
    pki_ = *std::move(pki);

    auto server = std::make_unique<httplib::SSLServer>(pki_.server_cert_file.c_str(),
                                                       pki_.server_key_file.c_str());
    if (!server->is_valid()) {
      return absl::InternalError("FakeAzureServer: the TLS server context is invalid");
    }
    server->set_keep_alive_max_count(100000);
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
    RegisterRoutes(*server);
    int port = options_.port;
    if (port == 0) {
      port = server->bind_to_any_port("127.0.0.1");
      if (port < 0) {
        return absl::UnavailableError("FakeAzureServer: cannot bind 127.0.0.1 to any port");
      }
    } else if (!server->bind_to_port("127.0.0.1", port)) {
      return absl::UnavailableError(absl::StrCat(
          "FakeAzureServer: cannot bind 127.0.0.1:", port, "; is the port in use?"));
    }
    port_ = port;
    server_ = std::move(server);
    thread_ = std::thread([s = server_.get()] { s->listen_after_bind(); });
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!server_->is_running() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    if (!server_->is_running()) {
      return absl::InternalError("FakeAzureServer: the server thread did not start");
    }
    return absl::OkStatus();
  }

  // Stops serving, waits for the server thread and removes a private PKI directory.
  // Idempotent; the destructor calls it. Thread-safe.
  void Stop() {
    absl::MutexLock lock(&lifecycle_mu_);
    if (server_ != nullptr) {
      server_->stop();
      if (thread_.joinable()) thread_.join();
      server_.reset();
    }
    if (!owned_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(owned_dir_, ignored);
      owned_dir_.clear();
    }
  }

  // The bound port (after Start()).
  int port() const { return port_; }
  // "https://127.0.0.1:PORT": the authority host and the query host at once.
  std::string base_url() const { return absl::StrCat("https://127.0.0.1:", port_); }
  // base_url() + "/{tenant}/oauth2/v2.0/token".
  std::string token_url() const {
    return absl::StrCat(base_url(), "/", options_.tenant_id, "/oauth2/v2.0/token");
  }
  // base_url() + "/v1/workspaces/{workspace}/query".
  std::string query_url() const {
    return absl::StrCat(base_url(), "/v1/workspaces/", options_.workspace_id, "/query");
  }
  // Path of the CA certificate (PEM) clients must trust; valid after Start().
  const std::string& ca_file() const { return pki_.ca_cert_file; }
  // The same CA certificate as PEM text.
  const std::string& ca_pem() const { return pki_.ca_cert_pem; }
  const Options& options() const { return options_; }

  // Every request received so far, oldest first. Thread-safe.
  std::vector<RecordedRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  // The requests whose path ends in /oauth2/v2.0/token.
  std::vector<RecordedRequest> token_requests() const {
    return Filter([](const RecordedRequest& r) {
      return absl::EndsWith(r.path, "/oauth2/v2.0/token");
    });
  }
  // The requests whose path starts with /v1/workspaces/.
  std::vector<RecordedRequest> query_requests() const {
    return Filter([](const RecordedRequest& r) {
      return absl::StartsWith(r.path, "/v1/workspaces/");
    });
  }
  // Forgets the recorded requests.
  void ClearRequests() {
    absl::MutexLock lock(&mu_);
    requests_.clear();
  }

  // Replaces the query handler (the default answers Options::answer_body).
  void SetQueryHandler(QueryHandler handler) {
    absl::MutexLock lock(&mu_);
    query_handler_ = std::move(handler);
  }
  // Installs (or, with nullptr, removes) a token endpoint override.
  void SetTokenHandler(TokenHandler handler) {
    absl::MutexLock lock(&mu_);
    token_handler_ = std::move(handler);
  }
  // Replaces Options::assertion_validator.
  void SetAssertionValidator(AssertionValidator validator) {
    absl::MutexLock lock(&mu_);
    options_.assertion_validator = std::move(validator);
  }

  // The next `count` requests to the query endpoint get this reply, before any check.
  void InjectQueryFaults(int count, int status, std::string body = "",
                         Headers headers = {}) {
    query_faults_.Push(count, {status, std::move(headers), std::move(body)});
  }
  // The next `count` requests to the token endpoint get this reply, before any check.
  void InjectTokenFaults(int count, int status, std::string body = "",
                         Headers headers = {}) {
    token_faults_.Push(count, {status, std::move(headers), std::move(body)});
  }

  // Issues a token for `scope` as the token endpoint would (valid for
  // Options::token_lifetime, or `lifetime` when given). For tests that need a token
  // without going through the endpoint. Thread-safe.
  std::string IssueToken(const std::string& scope,
                         std::optional<absl::Duration> lifetime = std::nullopt) {
    std::string token = fake_azure_internal::RandomToken("fake-la-token");
    absl::MutexLock lock(&mu_);
    tokens_[token] = IssuedToken{scope, options_.clock() +
                                            lifetime.value_or(options_.token_lifetime)};
    return token;
  }
  // Makes every issued token invalid (as after a key rollover).
  void RevokeAllTokens() {
    absl::MutexLock lock(&mu_);
    tokens_.clear();
  }
  // How many tokens the server has issued and still remembers.
  size_t issued_token_count() const {
    absl::MutexLock lock(&mu_);
    return tokens_.size();
  }

 private:
  struct IssuedToken {
    std::string scope;
    absl::Time expires;
  };

  template <typename Pred>
  std::vector<RecordedRequest> Filter(Pred pred) const {
    absl::MutexLock lock(&mu_);
    std::vector<RecordedRequest> out;
    for (const RecordedRequest& r : requests_) {
      if (pred(r)) out.push_back(r);
    }
    return out;
  }

  static Headers ToHeaders(const httplib::Headers& in) {
    Headers out;
    for (const auto& [k, v] : in) {
      if (k == "REMOTE_ADDR" || k == "REMOTE_PORT" || k == "LOCAL_ADDR" ||
          k == "LOCAL_PORT") {
        continue;  // httplib's own annotations, not sent by the client
      }
      out.emplace_back(k, v);
    }
    return out;
  }

  RecordedRequest Record(const httplib::Request& req) {
    RecordedRequest r;
    r.method = req.method;
    r.path = req.path;
    r.headers = ToHeaders(req.headers);
    size_t q = req.target.find('?');
    if (q != std::string::npos) {
      for (auto& kv : fake_azure_internal::ParseForm(
               absl::string_view(req.target).substr(q + 1))) {
        r.params.push_back(std::move(kv));
      }
    }
    r.body = req.body;
    if (absl::StartsWithIgnoreCase(req.get_header_value("Content-Type"),
                                   "application/x-www-form-urlencoded")) {
      r.form = fake_azure_internal::ParseForm(req.body);
    }
    r.remote_addr = req.remote_addr;
    r.remote_port = req.remote_port;
    absl::MutexLock lock(&mu_);
    requests_.push_back(r);
    return r;
  }

  static void Send(httplib::Response& res, int status, const Headers& headers,
                   const std::string& body) {
    res.status = status;
    std::string content_type = "application/json; charset=utf-8";
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, "Content-Type")) {
        content_type = v;
      } else {
        res.set_header(k, v);
      }
    }
    if (status != 204 && status != 304) res.set_content(body, content_type.c_str());
  }

  // An Entra ID error body in the documented shape.
  static std::string EntraError(absl::string_view error, int code,
                                absl::string_view description) {
    std::string trace = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
    std::string correlation = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    std::string timestamp = absl::FormatTime("%Y-%m-%d %H:%M:%SZ", absl::Now(),
                                             absl::UTCTimeZone());
    std::string full = absl::StrCat("AADSTS", code, ": ", description, "\r\nTrace ID: ",
                                    trace, "\r\nCorrelation ID: ", correlation,
                                    "\r\nTimestamp: ", timestamp);
    using fake_azure_internal::JsonString;
    return absl::StrCat("{\"error\":", JsonString(error),
                        ",\"error_description\":", JsonString(full),
                        ",\"error_codes\":[", code, "],\"timestamp\":", JsonString(timestamp),
                        ",\"trace_id\":", JsonString(trace),
                        ",\"correlation_id\":", JsonString(correlation),
                        ",\"error_uri\":", JsonString(absl::StrCat(
                            "https://login.microsoftonline.com/error?code=", code)),
                        "}");
  }

  // A Log Analytics error envelope.
  static std::string QueryError(absl::string_view code, absl::string_view message) {
    using fake_azure_internal::JsonString;
    return absl::StrCat("{\"error\":{\"message\":", JsonString(message),
                        ",\"code\":", JsonString(code),
                        ",\"correlationId\":\"7c6b5a49-3827-4165-9f8e-d7c6b5a49382\"}}");
  }

  void RegisterRoutes(httplib::Server& server) {
    server.Post(R"(/([^/]+)/oauth2/v2\.0/token)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  HandleToken(req, res);
                });
    server.Post(R"(/v1/workspaces/([^/]+)/query)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  HandleQuery(req, res);
                });
    auto not_found = [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      res.status = 404;
    };
    server.Get(".*", not_found);
    server.Post(".*", not_found);
    server.Put(".*", not_found);
    server.Patch(".*", not_found);
    server.Delete(".*", not_found);
  }

  void HandleToken(const httplib::Request& req, httplib::Response& res) {
    RecordedRequest recorded = Record(req);
    if (std::optional<fake_azure_internal::CannedReply> fault = token_faults_.Pop()) {
      Send(res, fault->status, fault->headers, fault->body);
      return;
    }
    TokenRequest token_request{req.matches[1].str(), recorded.form, recorded.headers};
    TokenHandler handler;
    AssertionValidator validator;
    {
      absl::MutexLock lock(&mu_);
      handler = token_handler_;
      validator = options_.assertion_validator;
    }
    if (handler) {
      if (std::optional<TokenReply> reply = handler(token_request)) {
        Send(res, reply->status, reply->headers, reply->body);
        return;
      }
    }
    TokenReply reply = DecideToken(token_request, validator);
    Send(res, reply.status, reply.headers, reply.body);
  }

  TokenReply DecideToken(const TokenRequest& request,
                         const AssertionValidator& validator) {
    auto error = [](int status, absl::string_view error, int code,
                    absl::string_view description) {
      return TokenReply{status, {}, EntraError(error, code, description)};
    };
    if (request.tenant != options_.tenant_id) {
      return TokenReply{400, {}, std::string(azure_testdata::kTokenError90002)};
    }
    const Headers& form = request.form;
    for (const char* field : {"grant_type", "client_id", "scope"}) {
      if (fake_azure_internal::AllValues(form, field).empty()) {
        return error(400, "invalid_request", 900144,
                     absl::StrCat("The request body must contain the following "
                                  "parameter: '", field, "'."));
      }
    }
    if (*request.Form("grant_type") != "client_credentials") {
      return error(400, "unsupported_grant_type", 70003,
                   "The app requested an unsupported grant type.");
    }
    if (*request.Form("client_id") != options_.client_id) {
      return error(400, "unauthorized_client", 700016,
                   absl::StrCat("Application with identifier '", *request.Form("client_id"),
                                "' was not found in the directory '", options_.tenant_id,
                                "'. This can happen if the application has not been "
                                "installed by the administrator of the tenant or consented "
                                "to by any user in the tenant. You may have sent your "
                                "authentication request to the wrong tenant."));
    }
    std::vector<std::string> scopes = fake_azure_internal::AllValues(form, "scope");
    std::vector<std::string> resources =
        absl::StrSplit(scopes.front(), ' ', absl::SkipEmpty());
    if (scopes.size() != 1 || resources.size() > 1) {
      return error(400, "invalid_scope", 700022,
                   "The provided value for the input parameter scope is not valid because "
                   "it contains more than one resource. Scope "
                   + scopes.front() + " is not valid.");
    }
    if (resources.empty() || !absl::EndsWith(resources.front(), "/.default")) {
      return error(400, "invalid_scope", 70011,
                   "The provided request must include a 'scope' input parameter. The "
                   "provided value for the input parameter 'scope' is not valid. Client "
                   "credential flows must have a scope value with /.default suffixed to "
                   "the resource identifier (application ID URI).");
    }
    std::optional<std::string> secret = request.Form("client_secret");
    std::optional<std::string> assertion = request.Form("client_assertion");
    std::optional<std::string> assertion_type = request.Form("client_assertion_type");
    if (secret && (assertion || assertion_type)) {
      return error(400, "invalid_request", 9002313,
                   "Invalid request. Request is malformed or invalid: both a client "
                   "secret and a client assertion were sent.");
    }
    if (secret) {
      if (*secret != options_.client_secret) {
        return TokenReply{401, {}, std::string(azure_testdata::kTokenError7000215)};
      }
    } else if (assertion || assertion_type) {
      if (assertion_type.value_or("") !=
          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        return error(400, "invalid_request", 700025,
                     "Client assertion type is missing or is not "
                     "urn:ietf:params:oauth:client-assertion-type:jwt-bearer.");
      }
      bool accepted = validator ? validator(assertion.value_or(""))
                                : !assertion.value_or("").empty();
      if (!accepted) {
        return error(401, "invalid_client", 700027,
                     "Client assertion contains an invalid signature.");
      }
    } else {
      return error(401, "invalid_client", 7000218,
                   "The request body must contain the following parameter: "
                   "'client_assertion' or 'client_secret'.");
    }
    std::string token = IssueToken(resources.front());
    int64_t lifetime = absl::ToInt64Seconds(options_.token_lifetime);
    std::string body = absl::StrCat("{\"token_type\":\"Bearer\",\"expires_in\":", lifetime,
                                    ",\"ext_expires_in\":", lifetime);
    if (options_.refresh_in > absl::ZeroDuration()) {
      absl::StrAppend(&body, ",\"refresh_in\":", absl::ToInt64Seconds(options_.refresh_in));
    }
    absl::StrAppend(&body, ",\"access_token\":\"", token, "\"}");
    return TokenReply{200, {}, body};
  }

  void HandleQuery(const httplib::Request& req, httplib::Response& res) {
    RecordedRequest recorded = Record(req);
    if (std::optional<fake_azure_internal::CannedReply> fault = query_faults_.Pop()) {
      Send(res, fault->status, fault->headers, fault->body);
      return;
    }
    // Bearer token.
    std::string authorization = req.get_header_value("Authorization");
    std::optional<IssuedToken> issued;
    if (absl::StartsWith(authorization, "Bearer ")) {
      std::string token = authorization.substr(7);
      absl::MutexLock lock(&mu_);
      auto it = tokens_.find(token);
      if (it != tokens_.end() && options_.clock() < it->second.expires) issued = it->second;
    }
    if (!issued) {
      Send(res, 401, {}, std::string(azure_testdata::kQueryError401));
      return;
    }
    if (issued->scope != options_.query_scope) {
      Send(res, 403, {},
           QueryError("InvalidAuthenticationTokenAudience",
                      absl::StrCat("The access token has been obtained for the wrong "
                                   "audience or resource '", issued->scope,
                                   "'. It should exactly match one of the allowed "
                                   "audiences '", options_.query_scope, "'.")));
      return;
    }
    std::string workspace = req.matches[1].str();
    if (workspace != options_.workspace_id) {
      Send(res, 404, {}, std::string(azure_testdata::kQueryError404));
      return;
    }
    if (!absl::StartsWithIgnoreCase(req.get_header_value("Content-Type"),
                                    "application/json")) {
      res.status = 200;  // Azure answers 200 with no body at all.
      return;
    }
    QueryRequest query{workspace, "", "", {}, recorded.headers, req.body};
    if (absl::Status parsed = ParseQueryBody(req.body, query); !parsed.ok()) {
      Send(res, 400, {}, QueryError("BadArgumentError", parsed.message()));
      return;
    }
    QueryHandler handler;
    {
      absl::MutexLock lock(&mu_);
      handler = query_handler_;
    }
    QueryReply reply = handler(query);
    if (reply.stream) {
      res.status = reply.status;
      std::string content_type = "application/json; charset=utf-8";
      for (const auto& [k, v] : reply.headers) {
        if (absl::EqualsIgnoreCase(k, "Content-Type")) {
          content_type = v;
        } else {
          res.set_header(k, v);
        }
      }
      res.set_chunked_content_provider(content_type, std::move(reply.stream));
      return;
    }
    Send(res, reply.status, reply.headers, reply.body);
  }

  // Strict parse (simdjson DOM: the whole body must be one valid JSON object).
  static absl::Status ParseQueryBody(const std::string& body, QueryRequest& out) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::dom::object object;
    if (parser.parse(body).get(root) || root.get_object().get(object)) {
      return absl::InvalidArgumentError("The request body is not a JSON object.");
    }
    bool has_query = false;
    for (simdjson::dom::key_value_pair field : object) {
      std::string_view text;
      if (field.key == "query") {
        if (field.value.get_string().get(text)) {
          return absl::InvalidArgumentError("The 'query' property must be a string.");
        }
        out.query = std::string(text);
        has_query = true;
      } else if (field.key == "timespan") {
        if (field.value.get_string().get(text)) {
          return absl::InvalidArgumentError("The 'timespan' property must be a string.");
        }
        out.timespan = std::string(text);
      } else if (field.key == "workspaces") {
        simdjson::dom::array array;
        if (field.value.get_array().get(array)) {
          return absl::InvalidArgumentError("The 'workspaces' property must be an array.");
        }
        for (simdjson::dom::element element : array) {
          if (element.get_string().get(text)) {
            return absl::InvalidArgumentError("The 'workspaces' entries must be strings.");
          }
          out.workspaces.emplace_back(text);
        }
      }  // other members are ignored
    }
    if (!has_query) {
      return absl::InvalidArgumentError(
          "The request had some invalid properties: 'query' is required.");
    }
    return absl::OkStatus();
  }

  Options options_;
  absl::Mutex lifecycle_mu_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
  TestPki pki_;
  std::string owned_dir_;

  mutable absl::Mutex mu_;
  std::vector<RecordedRequest> requests_;
  std::map<std::string, IssuedToken> tokens_;
  QueryHandler query_handler_;
  TokenHandler token_handler_;
  fake_azure_internal::FaultQueue query_faults_;
  fake_azure_internal::FaultQueue token_faults_;
};

}  // namespace fake_azure

#endif  // TESTDATA_FAKE_AZURE_FAKE_AZURE_SERVER_H_
