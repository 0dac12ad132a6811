#include "loganalytics/query_client.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_transport.h"
#include "loganalytics/identity_limiter.h"
#include "loganalytics/internal/scripted_transport.h"
#include "loganalytics/internal/static_credential.h"
#include "loganalytics/query_error.h"
#include "simdjson.h"
#include "testdata/azure/recorded_bodies.h"

namespace loganalytics {
namespace {

using ::loganalytics_internal::ScriptedTransport;
using ::loganalytics_internal::StaticCredential;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr char kWorkspace[] = "b1a7e3c2-0d4f-4e5a-9b6c-7d8e9f0a1b2c";
constexpr char kUrl[] =
    "https://api.loganalytics.io/v1/workspaces/b1a7e3c2-0d4f-4e5a-9b6c-7d8e9f0a1b2c/query";

std::string S(std::string_view v) { return std::string(v); }
std::string S(absl::string_view v) { return std::string(v); }

class QueryClientTest : public ::testing::Test {
 protected:
  QueryClient Make(QueryClientOptions options = {},
                   std::vector<std::string> tokens = {"token-one"}) {
    credential_ = std::make_shared<StaticCredential>(std::move(tokens));
    return QueryClient(transport_, credential_, std::move(options));
  }

  std::shared_ptr<ScriptedTransport> transport_ = std::make_shared<ScriptedTransport>();
  std::shared_ptr<StaticCredential> credential_;
};

TEST_F(QueryClientTest, SendsExactRequest) {
  QueryClient client = Make();
  transport_->Push(200, S(azure_testdata::kQueryAnswer),
                   {{"Preference-Applied", "wait=180"}});
  absl::StatusOr<QueryResponse> answer = client.Query(
      kWorkspace, "SigninLogs | where UserPrincipalName == \"a\\\\b\" | take 5",
      "2024-01-01T00:00:00.0000000Z/2024-01-02T00:00:00.0000000Z");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, azure_testdata::kQueryAnswer);
  EXPECT_EQ(answer->preference_applied, "wait=180");

  std::vector<http::HttpRequest> sent = transport_->requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url, kUrl);
  EXPECT_THAT(sent[0].headers,
              ElementsAre(Pair("Authorization", "Bearer token-one"),
                          Pair("Content-Type", "application/json"),
                          Pair("Prefer", "wait=180")));
  EXPECT_EQ(sent[0].body,
            R"({"query":"SigninLogs | where UserPrincipalName == \"a\\\\b\" | take 5",)"
            R"("timespan":"2024-01-01T00:00:00.0000000Z/2024-01-02T00:00:00.0000000Z"})");
  EXPECT_THAT(credential_->scopes(), ElementsAre("https://api.loganalytics.io/.default"));
  EXPECT_GE(transport_->options()[0].total_timeout, absl::Seconds(240));
}

TEST_F(QueryClientTest, BodyEscapingSurvivesAJsonParser) {
  QueryClient client = Make();
  transport_->Push(200, "{\"tables\":[]}");
  const std::string kql =
      "T | where a == 'it\\'s' and b == \"q\\\"\"\n| where c has \"\t\x01\" // é 日本";
  ASSERT_TRUE(client.Query(kWorkspace, kql, "").ok());
  std::string body = transport_->requests()[0].body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
  std::string_view query;
  ASSERT_EQ(doc["query"].get(query), simdjson::SUCCESS);
  EXPECT_EQ(query, kql);
  EXPECT_EQ(doc["timespan"].error(), simdjson::NO_SUCH_FIELD);  // omitted when empty
}

TEST_F(QueryClientTest, PreferHeaderClampsWaitAndAddsStatistics) {
  QueryClientOptions options;
  options.query_host = "https://127.0.0.1:8443/";
  options.wait = absl::Seconds(1000);
  options.include_statistics = true;
  QueryClient client = Make(options);
  transport_->Push(204, "");
  absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "Heartbeat", "PT1H");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 204);
  EXPECT_EQ(answer->body, "");
  http::HttpRequest sent = transport_->requests()[0];
  EXPECT_EQ(sent.url, absl::StrCat("https://127.0.0.1:8443/v1/workspaces/", kWorkspace,
                                   "/query"));
  EXPECT_EQ(sent.headers[2].second, "wait=600, include-statistics=true");
  EXPECT_EQ(sent.body, R"({"query":"Heartbeat","timespan":"PT1H"})");
  EXPECT_EQ(transport_->options()[0].total_timeout, absl::Seconds(660));

  QueryClientOptions tiny;
  tiny.wait = absl::ZeroDuration();
  QueryClient tiny_client = Make(tiny);
  transport_->Push(204, "");
  ASSERT_TRUE(tiny_client.Query(kWorkspace, "Heartbeat", "").ok());
  EXPECT_EQ(transport_->requests()[1].headers[2].second, "wait=1");
}

TEST_F(QueryClientTest, EmptyOkBodyMeansContentTypeWasLost) {
  QueryClient client = Make();
  transport_->Push(200, "");
  absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "Heartbeat", "");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(S(answer.status().message()),
              HasSubstr("HTTP 200 with an empty body from api.loganalytics.io"));
  EXPECT_THAT(S(answer.status().message()), HasSubstr("Content-Type: application/json"));
}

TEST_F(QueryClientTest, RefusesWorkspaceIdsThatCouldChangeThePath) {
  QueryClient client = Make();
  for (const char* bad : {"", "../../admin", "abc/def", "id?x=1", "a b"}) {
    absl::StatusOr<QueryResponse> answer = client.Query(bad, "Heartbeat", "");
    EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(S(answer.status().message()), HasSubstr("is not a workspace id")) << bad;
  }
  EXPECT_TRUE(transport_->requests().empty());
  EXPECT_EQ(credential_->calls(), 0);
}

TEST_F(QueryClientTest, RefusesKqlThatIsNotUtf8) {
  QueryClient client = Make();
  absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "T | where x == '\xff'", "");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(S(answer.status().message()),
              HasSubstr("cannot encode the request: text of 18 bytes is not valid UTF-8"));
  EXPECT_TRUE(transport_->requests().empty());
}

TEST_F(QueryClientTest, CredentialFailureKeepsItsCodeAndSendsNothing) {
  credential_ = std::make_shared<StaticCredential>(absl::UnauthenticatedError(
      "AADSTS7000222: the client secret expired; create a new one"));
  QueryClient client(transport_, credential_, {});
  absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "Heartbeat", "");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(S(answer.status().message()),
            absl::StrCat("KQL query on workspace ", kWorkspace,
                         " failed: no access token from static test credential: "
                         "AADSTS7000222: the client secret expired; create a new one"));
  EXPECT_TRUE(transport_->requests().empty());
}

TEST_F(QueryClientTest, TransportFailureKeepsItsCode) {
  QueryClient client = Make();
  transport_->PushError(absl::UnavailableError("connection refused"));
  absl::StatusOr<QueryResponse> answer =
      client.Query(kWorkspace, "Heartbeat", "", {"KQL query \"Heartbeat\" page 2"});
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(S(answer.status().message()),
            absl::StrCat("KQL query \"Heartbeat\" page 2 on workspace ", kWorkspace,
                         " failed: no answer from api.loganalytics.io: connection refused"));
  transport_->PushError(absl::OutOfRangeError("body larger than 201326592 bytes"));
  EXPECT_EQ(client.Query(kWorkspace, "Heartbeat", "").status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(QueryClientTest, RefreshesTheTokenOnceAfter401) {
  QueryClient client = Make({}, {"old-token", "new-token"});
  transport_->Push(401, S(azure_testdata::kQueryError401));
  transport_->Push(200, "{\"tables\":[]}");
  absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "Heartbeat", "");
  ASSERT_TRUE(answer.ok()) << answer.status();
  std::vector<http::HttpRequest> sent = transport_->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].headers[0].second, "Bearer old-token");
  EXPECT_EQ(sent[1].headers[0].second, "Bearer new-token");
  EXPECT_EQ(sent[1].body, sent[0].body);
  EXPECT_EQ(credential_->calls(), 2);
  EXPECT_THAT(credential_->invalidated_scopes(),
              ElementsAre("https://api.loganalytics.io/.default"));
}

TEST_F(QueryClientTest, SecondUnauthorizedIsUnauthenticated) {
  QueryClient client = Make({}, {"old-token", "new-token"});
  transport_->Push(401, S(azure_testdata::kQueryError401));
  transport_->Push(401, S(azure_testdata::kQueryError401));
  absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "Heartbeat", "");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(S(answer.status().message()),
              AllOf(HasSubstr("failed: HTTP 401 AuthenticationFailed from "
                              "api.loganalytics.io: the access token was refused"),
                    HasSubstr("[also with a newly issued token]"),
                    Not(HasSubstr("old-token")), Not(HasSubstr("new-token"))));
  EXPECT_EQ(transport_->requests().size(), 2u);
}

TEST_F(QueryClientTest, SameTokenAfter401IsNotResent) {
  QueryClient client = Make({}, {"only-token"});
  transport_->Push(401, S(azure_testdata::kQueryError401));
  absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "Heartbeat", "");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(S(answer.status().message()),
              HasSubstr("[asked for a new token after the 401; the credential returned "
                        "the same one]"));
  EXPECT_EQ(transport_->requests().size(), 1u);
  EXPECT_EQ(credential_->calls(), 2);
}

struct StatusCase {
  int http_status;
  std::string_view body;
  absl::StatusCode code;
  std::string message;
};

TEST_F(QueryClientTest, EveryErrorStatusMapsThroughTheClient) {
  const std::string head = absl::StrCat("KQL query on workspace ", kWorkspace, " failed: HTTP ");
  const std::vector<StatusCase> cases = {
      {400, azure_testdata::kQueryError400Syntax, absl::StatusCode::kInvalidArgument,
       head + "400 BadArgumentError/SyntaxError/SYN0002 from api.loganalytics.io: the KQL "
              "does not parse at line 1, position 22, near token \"|\""},
      {400, azure_testdata::kQueryError400Semantic, absl::StatusCode::kInvalidArgument,
       "table or column 'SigninLogz' not found in this workspace"},
      {403, azure_testdata::kQueryError403, absl::StatusCode::kPermissionDenied,
       head + "403 InsufficientAccessError from api.loganalytics.io: the app registration "
              "may not read workspace " + kWorkspace},
      {404, azure_testdata::kQueryError404, absl::StatusCode::kNotFound,
       head + "404 PathNotFoundError from api.loganalytics.io: workspace " + kWorkspace +
           " was not found"},
      {500, "", absl::StatusCode::kUnavailable,
       head + "500 from api.loganalytics.io: Log Analytics is unavailable"},
      {503, "", absl::StatusCode::kUnavailable, head + "503 from api.loganalytics.io"},
      {504, azure_testdata::kQueryError504, absl::StatusCode::kDeadlineExceeded,
       head + "504 GatewayTimeout from api.loganalytics.io: the query ran past"},
  };
  QueryClient client = Make();
  for (const StatusCase& c : cases) {
    transport_->Push(c.http_status, S(c.body));
    absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "SigninLogz", "");
    EXPECT_EQ(answer.status().code(), c.code) << c.http_status;
    EXPECT_THAT(S(answer.status().message()), HasSubstr(c.message)) << c.http_status;
  }
  EXPECT_EQ(transport_->requests().size(), cases.size());
}

TEST_F(QueryClientTest, ThrottlingPausesTheIdentity) {
  common::FakeClock clock;
  auto limiter = std::make_shared<IdentityLimiter>(
      IdentityLimiterOptions(), clock.AsClock(), [](absl::Duration) {}, "app-1");
  QueryClientOptions options;
  options.limiter = limiter;
  options.limiter_wait = absl::Seconds(5);
  options.clock = clock.AsClock();
  QueryClient client = Make(options);
  transport_->Push(429, S(azure_testdata::kQueryError429), {{"Retry-After", "30"}});
  absl::StatusOr<QueryResponse> answer = client.Query(kWorkspace, "Heartbeat", "");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(S(answer.status().message()),
              HasSubstr("HTTP 429 ThrottledError from api.loganalytics.io: throttled"));
  EXPECT_THAT(S(answer.status().message()), HasSubstr("retry after 30s"));
  EXPECT_EQ(RetryAfter(answer.status()), absl::Seconds(30));
  EXPECT_EQ(limiter->in_flight(), 0);

  // The identity is paused for 30 s: a query that may wait only 5 s gets no slot.
  absl::StatusOr<QueryResponse> held = client.Query(kWorkspace, "Heartbeat", "");
  EXPECT_EQ(held.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(S(held.status().message()),
              HasSubstr("failed: no query slot: query budget of identity app-1 exhausted: "
                        "requests are paused for 30s"));
  EXPECT_EQ(transport_->requests().size(), 1u);
  clock.Advance(absl::Seconds(30));
  transport_->Push(204, "");
  EXPECT_TRUE(client.Query(kWorkspace, "Heartbeat", "").ok());
  EXPECT_EQ(limiter->granted(), 2);
}

}  // namespace
}  // namespace loganalytics
