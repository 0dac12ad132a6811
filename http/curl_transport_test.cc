#include "http/curl_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <httplib.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_transport.h"
#include "testdata/azure/recorded_bodies.h"
#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/fake_azure/fake_imds_server.h"
#include "testdata/fake_azure/test_pki.h"

namespace http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A plain HTTP httplib server on 127.0.0.1:0 with test-specific routes.
class LoopbackServer {
 public:
  httplib::Server& server() { return server_; }
  void Start() {
    server_.set_keep_alive_timeout(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!server_.is_running() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_TRUE(server_.is_running());
  }
  ~LoopbackServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

CurlTransport::Options TrustOnly(const std::string& ca_file) {
  CurlTransport::Options options;
  options.ca_file = ca_file;
  return options;
}

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

std::string TokenForm(const fake_azure::FakeAzureServer& azure) {
  return absl::StrCat("grant_type=client_credentials&client_id=", azure.options().client_id,
                      "&scope=https%3A%2F%2Fapi.loganalytics.io%2F.default&client_secret=",
                      azure.options().client_secret);
}

// A port on 127.0.0.1 where nothing listens.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// ---- CurlCodeToStatus ----------------------------------------------------------

struct CodeCase {
  CURLcode code;
  absl::StatusCode expected;
  const char* advice;  // a piece of the operator-facing advice
};

TEST(CurlCodeToStatusTest, MapsEveryListedCode) {
  const CodeCase cases[] = {
      {CURLE_OPERATION_TIMEDOUT, absl::StatusCode::kDeadlineExceeded, "raise the timeout"},
      {CURLE_COULDNT_RESOLVE_HOST, absl::StatusCode::kUnavailable, "DNS"},
      {CURLE_COULDNT_RESOLVE_PROXY, absl::StatusCode::kUnavailable, "HTTPS_PROXY"},
      {CURLE_COULDNT_CONNECT, absl::StatusCode::kUnavailable, "firewall"},
      {CURLE_SSL_CONNECT_ERROR, absl::StatusCode::kUnavailable, "TLS handshake"},
      {CURLE_PEER_FAILED_VERIFICATION, absl::StatusCode::kUnavailable, "not trusted"},
      {CURLE_SEND_ERROR, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_RECV_ERROR, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_GOT_NOTHING, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_PARTIAL_FILE, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_HTTP2, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_HTTP2_STREAM, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_WEIRD_SERVER_REPLY, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_BAD_CONTENT_ENCODING, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_SEND_FAIL_REWIND, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_SSL_SHUTDOWN_FAILED, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_AGAIN, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_TOO_MANY_REDIRECTS, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_PROXY, absl::StatusCode::kUnavailable, "retry later"},
      {CURLE_WRITE_ERROR, absl::StatusCode::kOutOfRange, "size limit"},
      {CURLE_FILESIZE_EXCEEDED, absl::StatusCode::kOutOfRange, "size limit"},
      {CURLE_URL_MALFORMAT, absl::StatusCode::kInvalidArgument, "endpoint"},
      {CURLE_UNSUPPORTED_PROTOCOL, absl::StatusCode::kInvalidArgument, "not http(s)"},
      {CURLE_SSL_CACERT_BADFILE, absl::StatusCode::kInvalidArgument, "ca_file"},
      {CURLE_SSL_CRL_BADFILE, absl::StatusCode::kInvalidArgument, "ca_file"},
      {CURLE_SSL_CERTPROBLEM, absl::StatusCode::kInvalidArgument, "TLS settings"},
      {CURLE_SSL_CIPHER, absl::StatusCode::kInvalidArgument, "TLS settings"},
      {CURLE_SSL_ENGINE_NOTFOUND, absl::StatusCode::kInvalidArgument, "TLS settings"},
      {CURLE_SSL_ENGINE_SETFAILED, absl::StatusCode::kInvalidArgument, "TLS settings"},
      {CURLE_BAD_FUNCTION_ARGUMENT, absl::StatusCode::kInvalidArgument, "does not support"},
      {CURLE_NOT_BUILT_IN, absl::StatusCode::kInvalidArgument, "does not support"},
      {CURLE_UNKNOWN_OPTION, absl::StatusCode::kInvalidArgument, "does not support"},
      {CURLE_OUT_OF_MEMORY, absl::StatusCode::kResourceExhausted, "out of memory"},
      {CURLE_ABORTED_BY_CALLBACK, absl::StatusCode::kCancelled, "cancelled"},
      {CURLE_FAILED_INIT, absl::StatusCode::kInternal, "initialised"},
      {CURLE_LDAP_CANNOT_BIND, absl::StatusCode::kUnknown, "unexpected"},
  };
  const std::string url = "https://api.loganalytics.io/v1/workspaces/w/query?secret=s3cr3t";
  for (const CodeCase& c : cases) {
    absl::Status status = CurlCodeToStatus(c.code, url);
    EXPECT_EQ(status.code(), c.expected) << curl_easy_strerror(c.code);
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("HTTP request to api.loganalytics.io failed: "));
    EXPECT_THAT(std::string(status.message()), HasSubstr(curl_easy_strerror(c.code)));
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat("(curl code ", static_cast<int>(c.code), ")")));
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.advice))
        << curl_easy_strerror(c.code);
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("/v1/workspaces")));
  }
  EXPECT_TRUE(CurlCodeToStatus(CURLE_OK, url).ok());
}

TEST(CurlCodeToStatusTest, KeepsSafeDetailAndDropsDetailThatEchoesTheUrl) {
  absl::Status status = CurlCodeToStatus(CURLE_COULDNT_CONNECT, "http://10.0.0.1:81/x",
                                         "Failed to connect to 10.0.0.1 port 81\n");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(": Failed to connect to 10.0.0.1 port 81;"));
  status = CurlCodeToStatus(CURLE_URL_MALFORMAT, "https://h/path?token=abc",
                            "bad URL: https://h/path?token=abc");
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("token=abc")));
  EXPECT_THAT(std::string(status.message()), HasSubstr("HTTP request to h failed"));
}

TEST(CurlCodeToStatusTest, NeverNamesUserInfo) {
  absl::Status status =
      CurlCodeToStatus(CURLE_COULDNT_CONNECT, "https://user:pa55@example.com:8443/x",
                       "Failed to connect to user:pa55@example.com");
  EXPECT_THAT(std::string(status.message()), HasSubstr("HTTP request to example.com:8443"));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("pa55")));
}

// ---- Against the fake Azure (real HTTPS) ----------------------------------------

TEST(CurlTransportTest, TokenThenQueryAgainstFakeAzureOverVerifiedTls) {
  fake_azure::FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  CurlTransport transport(TrustOnly(azure.ca_file()));

  HttpRequest token_request;
  token_request.method = "POST";
  token_request.url = azure.token_url();
  token_request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  token_request.body = TokenForm(azure);
  absl::StatusOr<HttpResponse> token = transport.Send(token_request);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->status, 200);
  EXPECT_THAT(token->Header("content-type").value_or(""), HasSubstr("application/json"));
  size_t at = token->body.find("\"access_token\":\"");
  ASSERT_NE(at, std::string::npos) << token->body;
  std::string access = token->body.substr(at + 16);
  access = access.substr(0, access.find('"'));

  HttpRequest query;
  query.method = "POST";
  query.url = azure.query_url();
  query.headers = {{"Authorization", "Bearer " + access},
                   {"Content-Type", "application/json"},
                   {"Prefer", "wait=600"}};
  query.body = R"({"query":"SigninLogs | take 6","timespan":"PT1H"})";
  absl::StatusOr<HttpResponse> answer = transport.Send(query);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, azure_testdata::kQueryAnswer);

  std::vector<fake_azure::RecordedRequest> sent = azure.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].Form("client_secret"), azure.options().client_secret);
  EXPECT_EQ(sent[1].Header("Prefer"), "wait=600");
  EXPECT_EQ(sent[1].body, query.body);
  EXPECT_THAT(sent[1].Header("Accept-Encoding").value_or(""), HasSubstr("gzip"));
  EXPECT_EQ(sent[1].Header("User-Agent"), "azure-loganalytics-utmstack/1.0");
  EXPECT_EQ(sent[1].Header("Expect"), std::nullopt);
}

TEST(CurlTransportTest, ErrorAnswersComeBackAsResponses) {
  fake_azure::FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  CurlTransport transport(TrustOnly(azure.ca_file()));
  azure.InjectQueryFaults(1, 429, std::string(azure_testdata::kQueryError429),
                          {{"Retry-After", "12"}});
  HttpRequest query;
  query.method = "POST";
  query.url = azure.query_url();
  query.headers = {{"Content-Type", "application/json"}};
  query.body = R"({"query":"x"})";
  absl::StatusOr<HttpResponse> response = transport.Send(query);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(response->Header("retry-after"), "12");
  EXPECT_EQ(response->body, azure_testdata::kQueryError429);
  response = transport.Send(query);  // no token
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->body, azure_testdata::kQueryError401);
}

TEST(CurlTransportTest, SendsNoContentTypeUnlessAsked) {
  fake_azure::FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  CurlTransport transport(TrustOnly(azure.ca_file()));
  HttpRequest query;
  query.method = "POST";
  query.url = azure.query_url();
  query.headers = {{"Authorization",
                    "Bearer " + azure.IssueToken("https://api.loganalytics.io/.default")},
                  };
  query.body = R"({"query":"x"})";
  absl::StatusOr<HttpResponse> response = transport.Send(query);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");  // what Azure does without Content-Type
  std::vector<fake_azure::RecordedRequest> sent = azure.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].Header("Content-Type"), std::nullopt);
}

// Accepts one connection on 127.0.0.1, keeps the raw request head, answers 204.
class RawServer {
 public:
  RawServer() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listener_, 4);
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string head;
      char buffer[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n <= 0) break;
        head.append(buffer, static_cast<size_t>(n));
      }
      {
        // Kept before the reply goes out: the client reads head() once it has the reply.
        absl::MutexLock lock(&mu_);
        head_ = head;
      }
      const char reply[] = "HTTP/1.1 204 No Content\r\nX-Seen: yes\r\n\r\n";
      (void)!write(fd, reply, sizeof(reply) - 1);
      close(fd);
    });
  }
  ~RawServer() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string head() {
    absl::MutexLock lock(&mu_);
    return head_;
  }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::string head_;
};

TEST(CurlTransportTest, WireHeadersAreExactlyTheCallersPlusCurlsBasics) {
  CurlTransport transport;
  RawServer server;
  HttpRequest request;
  request.method = "POST";
  request.url = absl::StrCat("http://127.0.0.1:", server.port(), "/p?q=1");
  request.headers = {{"X-Empty", ""}, {"X-Two", "a b"}};
  request.body = "0123456789";
  absl::StatusOr<HttpResponse> response = transport.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 204);
  EXPECT_EQ(response->Header("x-seen"), "yes");
  std::string head = server.head();
  EXPECT_THAT(head, HasSubstr("POST /p?q=1 HTTP/1.1\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nX-Empty:\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nX-Two: a b\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nContent-Length: 10\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nUser-Agent: azure-loganalytics-utmstack/1.0\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nAccept-Encoding: "));
  EXPECT_THAT(head, Not(HasSubstr("Content-Type")));
  EXPECT_THAT(head, Not(HasSubstr("Expect")));
}

TEST(CurlTransportTest, UntrustedCertificateIsUnavailable) {
  fake_azure::FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  const std::string host = absl::StrCat("127.0.0.1:", azure.port());

  // System bundle: the test CA is not in it.
  CurlTransport system_bundle;
  absl::StatusOr<HttpResponse> response = system_bundle.Send(Get(azure.token_url()));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr(host));
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("not trusted"));

  // Another CA.
  char dir[] = "/tmp/ctt-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  absl::StatusOr<fake_azure::TestPki> other = fake_azure::MakeTestPki(dir);
  ASSERT_TRUE(other.ok()) << other.status();
  CurlTransport wrong_ca(TrustOnly(other->ca_cert_file));
  response = wrong_ca.Send(Get(azure.token_url()));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("certificate"));
  EXPECT_TRUE(azure.requests().empty());

  // The right CA and the certificate's DNS name.
  CurlTransport right_ca(TrustOnly(azure.ca_file()));
  response = right_ca.Send(
      Get(absl::StrCat("https://localhost:", azure.port(), "/nothing-here")));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST(CurlTransportTest, UnreadableCaFileIsInvalidArgument) {
  fake_azure::FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  CurlTransport transport(TrustOnly("/nonexistent/ca.pem"));
  absl::StatusOr<HttpResponse> response = transport.Send(Get(azure.token_url()));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("ca_file"));
}

TEST(CurlTransportTest, ReusesOneConnectionForSequentialRequests) {
  fake_azure::FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  CurlTransport transport(TrustOnly(azure.ca_file()));
  HttpRequest query;
  query.method = "POST";
  query.url = azure.query_url();
  query.headers = {{"Authorization",
                    "Bearer " + azure.IssueToken("https://api.loganalytics.io/.default")},
                   {"Content-Type", "application/json"}};
  query.body = R"({"query":"x"})";
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<HttpResponse> response = transport.Send(query);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200);
  }
  EXPECT_EQ(transport.connections_opened(), 1);
  std::set<int> ports;
  for (const auto& r : azure.requests()) ports.insert(r.remote_port);
  EXPECT_EQ(ports.size(), 1u);
}

TEST(CurlTransportTest, ConcurrentSendsFromFourThreads) {
  fake_azure::FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  CurlTransport transport(TrustOnly(azure.ca_file()));
  const std::string token = azure.IssueToken("https://api.loganalytics.io/.default");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        HttpRequest query;
        query.method = "POST";
        query.url = azure.query_url();
        query.headers = {{"Authorization", "Bearer " + token},
                         {"Content-Type", "application/json"}};
        query.body = absl::StrCat(R"({"query":"thread )", t, " request ", i, R"("})");
        absl::StatusOr<HttpResponse> response = transport.Send(query);
        if (response.ok() && response->status == 200 &&
            response->body == azure_testdata::kQueryAnswer) {
          ++ok;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  std::vector<fake_azure::RecordedRequest> sent = azure.requests();
  EXPECT_EQ(sent.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<int> ports;
  for (const auto& r : sent) ports.insert(r.remote_port);
  // At most one connection per handle, and handles are only made for overlap.
  EXPECT_LE(transport.connections_opened(), kThreads);
  EXPECT_EQ(ports.size(), static_cast<size_t>(transport.connections_opened()));
}

// ---- Against small loopback servers ---------------------------------------------

TEST(CurlTransportTest, DecodesGzip) {
  LoopbackServer server;
  std::string big;
  for (int i = 0; i < 4000; ++i) absl::StrAppend(&big, R"({"row":)", i, "},");
  server.server().Get("/big", [&big](const httplib::Request&, httplib::Response& res) {
    res.set_content(big, "application/json");
  });
  server.Start();
  CurlTransport transport;
  HttpRequest request = Get(server.url("/big"));
  request.headers = {{"Accept-Encoding", "gzip"}};
  absl::StatusOr<HttpResponse> response = transport.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Content-Encoding"), "gzip");
  EXPECT_LT(std::stoul(response->Header("Content-Length").value_or("0")), big.size() / 4);
  EXPECT_EQ(response->body, big);
}

TEST(CurlTransportTest, ResponseOverTheCapIsOutOfRange) {
  LoopbackServer server;
  const std::string mega(1 << 20, 'x');
  server.server().Get("/mega", [&mega](const httplib::Request&, httplib::Response& res) {
    res.set_content(mega, "application/octet-stream");
  });
  server.server().Get("/endless", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/octet-stream", [](size_t, httplib::DataSink& sink) {
          static const std::string chunk(64 << 10, 'y');
          return sink.write(chunk.data(), chunk.size());
        });
  });
  // Compresses to a few KB, decodes to 8 MB: the cap counts decoded bytes.
  const std::string zeros(8 << 20, '0');
  server.server().Get("/bomb", [&zeros](const httplib::Request&, httplib::Response& res) {
    res.set_content(zeros, "application/json");
  });
  server.Start();
  CurlTransport transport;
  RequestOptions options;
  options.max_response_bytes = 64 << 10;
  const std::string host = absl::StrCat("127.0.0.1:", server.port());
  for (const char* path : {"/mega", "/endless", "/bomb"}) {
    absl::StatusOr<HttpResponse> response = transport.Send(Get(server.url(path)), options);
    ASSERT_FALSE(response.ok()) << path;
    EXPECT_EQ(response.status().code(), absl::StatusCode::kOutOfRange) << path;
    EXPECT_THAT(std::string(response.status().message()),
                HasSubstr(absl::StrCat("HTTP response from ", host,
                                       " is larger than the 65536-byte")))
        << path;
  }
  // Exactly at the cap is fine.
  options.max_response_bytes = mega.size();
  absl::StatusOr<HttpResponse> response = transport.Send(Get(server.url("/mega")), options);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body.size(), mega.size());
}

TEST(CurlTransportTest, TotalTimeoutOnAStallingServer) {
  LoopbackServer server;
  absl::Notification release;
  server.server().Get("/stall", [&release](const httplib::Request&, httplib::Response& res) {
    release.WaitForNotificationWithTimeout(absl::Seconds(10));
    res.set_content("late", "text/plain");
  });
  server.Start();
  CurlTransport transport;
  RequestOptions options;
  options.total_timeout = absl::Milliseconds(300);
  absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> response =
      transport.Send(Get(server.url("/stall?sig=secret")), options);
  absl::Duration took = absl::Now() - start;
  release.Notify();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(response.status().message()),
              HasSubstr(absl::StrCat("HTTP request to 127.0.0.1:", server.port())));
  EXPECT_THAT(std::string(response.status().message()), Not(HasSubstr("secret")));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(CurlTransportTest, ConnectTimeoutWhenTheListenQueueIsFull) {
  // A socket that listens but never accepts, its queue filled: SYNs are dropped.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(50));
  CurlTransport transport;
  RequestOptions options;
  options.connect_timeout = absl::Milliseconds(300);
  absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> response = transport.Send(
      Get(absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/")), options);
  absl::Duration took = absl::Now() - start;
  for (int fd : fillers) close(fd);
  close(listener);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded)
      << response.status();
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(CurlTransportTest, ConnectionRefusedIsUnavailable) {
  CurlTransport transport;
  int port = ClosedPort();
  absl::StatusOr<HttpResponse> response =
      transport.Send(Get(absl::StrCat("http://127.0.0.1:", port, "/path?code=abc")));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(response.status().message()),
              HasSubstr(absl::StrCat("HTTP request to 127.0.0.1:", port, " failed")));
  EXPECT_THAT(std::string(response.status().message()), Not(HasSubstr("code=abc")));
}

TEST(CurlTransportTest, RedirectIsReturnedNotFollowed) {
  LoopbackServer elsewhere;
  std::atomic<int> elsewhere_hits{0};
  elsewhere.server().Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    ++elsewhere_hits;
    res.set_content("stolen", "text/plain");
  });
  elsewhere.Start();
  LoopbackServer origin;
  origin.server().Get("/moved", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(elsewhere.url("/collect"), 302);
  });
  origin.Start();
  CurlTransport transport;
  HttpRequest request = Get(origin.url("/moved"));
  request.headers = {{"Authorization", "Bearer top-secret-token"}};
  absl::StatusOr<HttpResponse> response = transport.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(response->Header("Location"), elsewhere.url("/collect"));
  EXPECT_EQ(elsewhere_hits.load(), 0);
}

TEST(CurlTransportTest, RejectsMalformedRequests) {
  CurlTransport transport;
  struct Case {
    HttpRequest request;
    RequestOptions options;
    const char* message;
  };
  HttpRequest no_url;
  HttpRequest ftp = Get("ftp://127.0.0.1/file");
  HttpRequest bad_method = Get("http://127.0.0.1:1/");
  bad_method.method = "get me";
  HttpRequest injected = Get("http://127.0.0.1:1/");
  injected.headers = {{"Authorization", "Bearer abc\r\nX-Evil: 1"}};
  HttpRequest colon = Get("http://127.0.0.1:1/");
  colon.headers = {{"A:B", "v"}};
  RequestOptions zero_timeout;
  zero_timeout.total_timeout = absl::ZeroDuration();
  Case cases[] = {
      {no_url, {}, "no URL"},
      {ftp, {}, "not http(s)"},
      {bad_method, {}, "invalid method"},
      {injected, {}, "malformed header"},
      {colon, {}, "malformed header"},
      {Get("http://127.0.0.1:1/"), zero_timeout, "non-positive timeout"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<HttpResponse> response = transport.Send(c.request, c.options);
    ASSERT_FALSE(response.ok()) << c.message;
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(std::string(response.status().message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(response.status().message()), Not(HasSubstr("Bearer abc")));
  }
}

TEST(CurlTransportTest, ProxyFromEnvironmentExceptWhenUseProxyIsFalse) {
  fake_azure::FakeImdsServer imds;
  ASSERT_TRUE(imds.Start().ok());
  LoopbackServer proxy;
  std::atomic<int> proxied{0};
  proxy.server().Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    ++proxied;
    res.status = 502;
  });
  proxy.Start();
  setenv("http_proxy", proxy.url("").c_str(), 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");

  CurlTransport transport;
  HttpRequest request = Get(
      imds.token_url() + "?api-version=2018-02-01&resource=https%3A%2F%2Fapi.loganalytics.io");
  request.headers = {{"Metadata", "true"}};
  RequestOptions direct;
  direct.use_proxy = false;
  absl::StatusOr<HttpResponse> response = transport.Send(request, direct);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(imds.requests().size(), 1u);
  EXPECT_EQ(proxied.load(), 0);

  response = transport.Send(request);  // use_proxy defaults to true
  unsetenv("http_proxy");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 502);
  EXPECT_EQ(proxied.load(), 1);
  EXPECT_EQ(imds.requests().size(), 1u);
}

TEST(CurlTransportTest, PutAndDeleteAndHead) {
  LoopbackServer server;
  absl::Mutex mu;
  std::vector<std::string> seen;
  auto record = [&](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    seen.push_back(req.method + " " + req.body);
    res.set_header("X-Method", req.method);
    res.set_content("ok", "text/plain");
  };
  server.server().Put("/r", record);
  server.server().Delete("/r", record);
  server.server().Get("/r", record);
  server.Start();
  CurlTransport transport;
  HttpRequest put = Get(server.url("/r"));
  put.method = "PUT";
  put.body = "payload";
  put.headers = {{"Content-Type", "text/plain"}};
  HttpRequest del = Get(server.url("/r"));
  del.method = "DELETE";
  HttpRequest head = Get(server.url("/r"));
  head.method = "HEAD";
  absl::StatusOr<HttpResponse> response = transport.Send(put);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "ok");
  response = transport.Send(del);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->Header("X-Method"), "DELETE");
  response = transport.Send(head);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
  absl::MutexLock lock(&mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"PUT payload", "DELETE ", "HEAD "}));
}

}  // namespace
}  // namespace http
