#include "testdata/fake_azure/fake_azure_server.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <httplib.h>
#include <simdjson.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testdata/azure/recorded_bodies.h"
#include "testdata/fake_azure/fake_imds_server.h"
#include "testdata/fake_azure/test_pki.h"

namespace fake_azure {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kJwtBearer[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// An HTTPS client that trusts only the fake's CA and checks the host name.
std::unique_ptr<httplib::SSLClient> ClientFor(const FakeAzureServer& server) {
  auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", server.port());
  client->set_ca_cert_path(server.ca_file().c_str());
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(5);
  client->set_read_timeout(5);
  return client;
}

std::string SecretForm(const FakeAzureServer& server, absl::string_view secret) {
  return absl::StrCat("grant_type=client_credentials&client_id=", server.options().client_id,
                      "&scope=https%3A%2F%2Fapi.loganalytics.io%2F.default&client_secret=",
                      httplib::detail::encode_query_param(std::string(secret)));
}

std::string TokenPath(const FakeAzureServer& server) {
  return absl::StrCat("/", server.options().tenant_id, "/oauth2/v2.0/token");
}

std::string QueryPath(const FakeAzureServer& server) {
  return absl::StrCat("/v1/workspaces/", server.options().workspace_id, "/query");
}

// Reads access_token and expires_in from a v2 token answer.
void ParseToken(const std::string& body, std::string* token, int64_t* expires_in) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  ASSERT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS) << body;
  std::string_view text;
  ASSERT_EQ(doc["access_token"].get_string().get(text), simdjson::SUCCESS) << body;
  *token = std::string(text);
  ASSERT_EQ(doc["expires_in"].get_int64().get(*expires_in), simdjson::SUCCESS) << body;
}

std::string GetToken(FakeAzureServer& server) {
  auto client = ClientFor(server);
  auto res = client->Post(TokenPath(server).c_str(),
                          SecretForm(server, server.options().client_secret),
                          "application/x-www-form-urlencoded");
  EXPECT_TRUE(res) << httplib::to_string(res.error());
  if (!res) return "";
  EXPECT_EQ(res->status, 200) << res->body;
  std::string token;
  int64_t expires_in = 0;
  ParseToken(res->body, &token, &expires_in);
  return token;
}

httplib::Result Query(FakeAzureServer& server, const std::string& token,
                      const std::string& body = R"({"query":"SigninLogs | take 6"})",
                      httplib::Headers extra = {}) {
  auto client = ClientFor(server);
  httplib::Headers headers = {{"Authorization", "Bearer " + token}};
  headers.insert(extra.begin(), extra.end());
  return client->Post(QueryPath(server).c_str(), headers, body, "application/json");
}

TEST(FakeAzureServerTest, IssuesTokenForClientSecretOverVerifiedTls) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.base_url(), absl::StrCat("https://127.0.0.1:", server.port()));
  EXPECT_EQ(server.token_url(), server.base_url() + TokenPath(server));

  auto client = ClientFor(server);
  auto res = client->Post(TokenPath(server).c_str(),
                          SecretForm(server, server.options().client_secret),
                          "application/x-www-form-urlencoded");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith("application/json"));
  std::string token;
  int64_t expires_in = 0;
  ParseToken(res->body, &token, &expires_in);
  EXPECT_EQ(expires_in, 3599);
  EXPECT_THAT(token, StartsWith("fake-la-token."));
  EXPECT_THAT(res->body, HasSubstr(R"("token_type":"Bearer")"));
  EXPECT_THAT(res->body, HasSubstr(R"("ext_expires_in":3599)"));
  EXPECT_THAT(res->body, Not(HasSubstr("refresh_in")));
  EXPECT_EQ(server.issued_token_count(), 1u);

  std::vector<RecordedRequest> sent = server.token_requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].Form("grant_type"), "client_credentials");
  EXPECT_EQ(sent[0].Form("scope"), "https://api.loganalytics.io/.default");
  EXPECT_EQ(sent[0].Form("client_secret"), server.options().client_secret);
  EXPECT_EQ(sent[0].remote_addr, "127.0.0.1");
  EXPECT_EQ(sent[0].Header("REMOTE_ADDR"), std::nullopt);
}

TEST(FakeAzureServerTest, TwoTokensAreDifferentAndRefreshInIsOptional) {
  FakeAzureServer::Options options;
  options.refresh_in = absl::Seconds(1800);
  options.token_lifetime = absl::Seconds(600);
  FakeAzureServer server(options);
  ASSERT_TRUE(server.Start().ok());
  auto client = ClientFor(server);
  auto first = client->Post(TokenPath(server).c_str(),
                            SecretForm(server, options.client_secret),
                            "application/x-www-form-urlencoded");
  auto second = client->Post(TokenPath(server).c_str(),
                             SecretForm(server, options.client_secret),
                             "application/x-www-form-urlencoded");
  ASSERT_TRUE(first && second);
  EXPECT_THAT(first->body, HasSubstr(R"("refresh_in":1800)"));
  EXPECT_THAT(first->body, HasSubstr(R"("expires_in":600)"));
  EXPECT_NE(first->body, second->body);
}

TEST(FakeAzureServerTest, WrongSecretGetsRecorded7000215) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  auto res = ClientFor(server)->Post(TokenPath(server).c_str(),
                                     SecretForm(server, "not-the-secret"),
                                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->body, azure_testdata::kTokenError7000215);
  EXPECT_EQ(server.issued_token_count(), 0u);
}

TEST(FakeAzureServerTest, UnknownTenantGets90002) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  auto res = ClientFor(server)->Post("/00000000-1111-2222-3333-444444444444/oauth2/v2.0/token",
                                     SecretForm(server, server.options().client_secret),
                                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(res->body, azure_testdata::kTokenError90002);
}

TEST(FakeAzureServerTest, RejectsMalformedTokenRequestsWithTheirAadstsCodes) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  auto client = ClientFor(server);
  const std::string id = server.options().client_id;
  const std::string secret = server.options().client_secret;
  struct Case {
    std::string form;
    int status;
    std::string code;
  } cases[] = {
      {"client_id=" + id + "&scope=a%2F.default&client_secret=" + secret, 400,
       "[900144]"},
      {"grant_type=password&client_id=" + id + "&scope=a%2F.default&client_secret=" +
           secret,
       400, "[70003]"},
      {"grant_type=client_credentials&client_id=someone-else&scope=a%2F.default"
       "&client_secret=" + secret,
       400, "[700016]"},
      {"grant_type=client_credentials&client_id=" + id +
           "&scope=https%3A%2F%2Fapi.loganalytics.io%2F.default+https%3A%2F%2Fgraph."
           "microsoft.com%2F.default&client_secret=" + secret,
       400, "[700022]"},
      {"grant_type=client_credentials&client_id=" + id +
           "&scope=a%2F.default&scope=b%2F.default&client_secret=" + secret,
       400, "[700022]"},
      {"grant_type=client_credentials&client_id=" + id +
           "&scope=https%3A%2F%2Fapi.loganalytics.io&client_secret=" + secret,
       400, "[70011]"},
      {"grant_type=client_credentials&client_id=" + id + "&scope=a%2F.default", 401,
       "[7000218]"},
      {"grant_type=client_credentials&client_id=" + id +
           "&scope=a%2F.default&client_secret=" + secret +
           "&client_assertion_type=" + kJwtBearer + "&client_assertion=x.y.z",
       400, "[9002313]"},
      {"grant_type=client_credentials&client_id=" + id +
           "&scope=a%2F.default&client_assertion_type=bogus&client_assertion=x.y.z",
       400, "[700025]"},
  };
  for (const Case& c : cases) {
    auto res = client->Post(TokenPath(server).c_str(), c.form,
                            "application/x-www-form-urlencoded");
    ASSERT_TRUE(res) << c.form;
    EXPECT_EQ(res->status, c.status) << c.form << "\n" << res->body;
    EXPECT_THAT(res->body, HasSubstr("\"error_codes\":" + c.code)) << c.form;
    EXPECT_THAT(res->body, HasSubstr("\"error_description\":\"AADSTS")) << c.form;
  }
  EXPECT_EQ(server.issued_token_count(), 0u);
}

TEST(FakeAzureServerTest, ClientAssertionGoesThroughTheValidator) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  auto client = ClientFor(server);
  std::string form = absl::StrCat(
      "grant_type=client_credentials&client_id=", server.options().client_id,
      "&scope=https%3A%2F%2Fapi.loganalytics.io%2F.default&client_assertion_type=",
      httplib::detail::encode_query_param(kJwtBearer), "&client_assertion=aaa.bbb.ccc");
  // Default: any non-empty assertion.
  auto res = client->Post(TokenPath(server).c_str(), form,
                          "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;

  std::string seen;
  server.SetAssertionValidator([&seen](const std::string& assertion) {
    seen = assertion;
    return false;
  });
  res = client->Post(TokenPath(server).c_str(), form, "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(res->body, HasSubstr("\"error_codes\":[700027]"));
  EXPECT_THAT(res->body, HasSubstr("\"error\":\"invalid_client\""));
  EXPECT_EQ(seen, "aaa.bbb.ccc");
}

TEST(FakeAzureServerTest, TokenHandlerOverridesOrFallsThrough) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  server.SetTokenHandler([](const TokenRequest& request) -> std::optional<TokenReply> {
    if (request.Form("client_secret") == "expired") {
      return TokenReply{401, {{"X-Test", "1"}},
                        std::string(azure_testdata::kTokenError7000222)};
    }
    return std::nullopt;
  });
  auto client = ClientFor(server);
  auto res = client->Post(TokenPath(server).c_str(), SecretForm(server, "expired"),
                          "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->body, azure_testdata::kTokenError7000222);
  EXPECT_EQ(res->get_header_value("X-Test"), "1");
  res = client->Post(TokenPath(server).c_str(),
                     SecretForm(server, server.options().client_secret),
                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(FakeAzureServerTest, InjectedTokenFaultsComeFirstThenNormalService) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  server.InjectTokenFaults(2, 503, "", {{"Retry-After", "1"}});
  auto client = ClientFor(server);
  for (int i = 0; i < 2; ++i) {
    auto res = client->Post(TokenPath(server).c_str(),
                            SecretForm(server, server.options().client_secret),
                            "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503);
    EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  }
  EXPECT_FALSE(GetToken(server).empty());
  EXPECT_EQ(server.token_requests().size(), 3u);
}

TEST(FakeAzureServerTest, QueryWithIssuedTokenGetsTheRecordedAnswer) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  std::string token = GetToken(server);
  auto res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, azure_testdata::kQueryAnswer);
  EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith("application/json"));
  std::vector<RecordedRequest> sent = server.query_requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].Header("Authorization"), "Bearer " + token);
  EXPECT_EQ(sent[0].body, R"({"query":"SigninLogs | take 6"})");
}

TEST(FakeAzureServerTest, QueryWithoutValidTokenGets401) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  auto client = ClientFor(server);
  auto res = client->Post(QueryPath(server).c_str(), R"({"query":"x"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->body, azure_testdata::kQueryError401);

  res = Query(server, "fake-la-token.made-up");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(res->body, HasSubstr("\"code\":\"AuthenticationFailed\""));

  std::string token = GetToken(server);
  server.RevokeAllTokens();
  res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
}

TEST(FakeAzureServerTest, TokensExpireOnTheInjectedClock) {
  common::FakeClock clock;
  FakeAzureServer::Options options;
  options.clock = clock.AsClock();
  options.token_lifetime = absl::Minutes(60);
  FakeAzureServer server(options);
  ASSERT_TRUE(server.Start().ok());
  std::string token = GetToken(server);
  clock.Advance(absl::Minutes(59));
  auto res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  clock.Advance(absl::Minutes(1));
  res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->body, azure_testdata::kQueryError401);
}

TEST(FakeAzureServerTest, TokenForAnotherAudienceGets403) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  std::string token = server.IssueToken("https://graph.microsoft.com/.default");
  auto res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_THAT(res->body, HasSubstr("\"code\":\"InvalidAuthenticationTokenAudience\""));
  EXPECT_THAT(res->body, HasSubstr("graph.microsoft.com"));
}

TEST(FakeAzureServerTest, UnknownWorkspaceGets404) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  std::string token = GetToken(server);
  auto res = ClientFor(server)->Post(
      "/v1/workspaces/00000000-0000-0000-0000-000000000000/query",
      {{"Authorization", "Bearer " + token}}, R"({"query":"x"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body, azure_testdata::kQueryError404);
}

TEST(FakeAzureServerTest, QueryWithoutJsonContentTypeGetsEmpty200) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  std::string token = GetToken(server);
  auto res = ClientFor(server)->Post(QueryPath(server).c_str(),
                                     {{"Authorization", "Bearer " + token}},
                                     R"({"query":"x"})", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
}

TEST(FakeAzureServerTest, MalformedQueryBodyGets400BadArgument) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  std::string token = GetToken(server);
  for (const char* body : {"not json", R"({"timespan":"PT1H"})", R"({"query":42})",
                           R"(["query"])", R"({"query":"x"} trailing)"}) {
    auto res = Query(server, token, body);
    ASSERT_TRUE(res) << body;
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_THAT(res->body, HasSubstr("\"code\":\"BadArgumentError\"")) << body;
  }
}

TEST(FakeAzureServerTest, QueryHandlerSeesParsedRequestAndShapesTheReply) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  QueryRequest seen;
  server.SetQueryHandler([&seen](const QueryRequest& request) {
    seen = request;
    return QueryReply{200, {{"Preference-Applied", "wait=600"}}, R"({"tables":[]})"};
  });
  std::string token = GetToken(server);
  auto res = Query(server, token,
                   R"({"query":"SigninLogs\n| where x == \"\u00e9\"","timespan":)"
                   R"("2024-01-01T00:00:00Z/P1D","workspaces":["w1","w2"],"extra":{"a":[1]}})",
                   {{"Prefer", "wait=600,include-statistics=true"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"tables":[]})");
  EXPECT_EQ(res->get_header_value("Preference-Applied"), "wait=600");
  EXPECT_EQ(seen.workspace_id, server.options().workspace_id);
  EXPECT_EQ(seen.query, "SigninLogs\n| where x == \"\xc3\xa9\"");
  EXPECT_EQ(seen.timespan, "2024-01-01T00:00:00Z/P1D");
  EXPECT_EQ(seen.workspaces, (std::vector<std::string>{"w1", "w2"}));
  EXPECT_EQ(seen.Header("prefer"), "wait=600,include-statistics=true");

  server.SetQueryHandler([](const QueryRequest&) { return QueryReply{204, {}, ""}; });
  res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->body, "");
}

TEST(FakeAzureServerTest, InjectedQueryFaultsThenNormalAnswers) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  std::string token = GetToken(server);
  server.InjectQueryFaults(1, 429, std::string(azure_testdata::kQueryError429),
                           {{"Retry-After", "7"}});
  server.InjectQueryFaults(1, 504, std::string(azure_testdata::kQueryError504));
  auto res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(res->get_header_value("Retry-After"), "7");
  EXPECT_EQ(res->body, azure_testdata::kQueryError429);
  res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  EXPECT_EQ(res->body, azure_testdata::kQueryError504);
  res = Query(server, token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, azure_testdata::kQueryAnswer);
  EXPECT_EQ(server.query_requests().size(), 3u);
}

TEST(FakeAzureServerTest, UnknownPathsGet404AndAreRecorded) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  auto res = ClientFor(server)->Get("/somewhere/else?x=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  std::vector<RecordedRequest> sent = server.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[0].path, "/somewhere/else");
  EXPECT_EQ(sent[0].Param("x"), "1");
  server.ClearRequests();
  EXPECT_TRUE(server.requests().empty());
}

TEST(FakeAzureServerTest, ClientTrustingAnotherCaFailsTheHandshake) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  char tmpl[] = "/tmp/pki-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  absl::StatusOr<TestPki> other = MakeTestPki(tmpl);
  ASSERT_TRUE(other.ok()) << other.status();
  httplib::SSLClient client("127.0.0.1", server.port());
  client.set_ca_cert_path(other->ca_cert_file.c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/");
  EXPECT_FALSE(res);
  EXPECT_EQ(res.error(), httplib::Error::SSLServerVerification);
  EXPECT_TRUE(server.requests().empty());
  std::error_code ignored;
  std::filesystem::remove_all(tmpl, ignored);
}

TEST(FakeAzureServerTest, StartTwiceFailsAndStopIsIdempotent) {
  FakeAzureServer server;
  ASSERT_TRUE(server.Start().ok());
  std::string dir = std::filesystem::path(server.ca_file()).parent_path();
  EXPECT_TRUE(std::filesystem::exists(server.ca_file()));
  absl::Status again = server.Start();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr("Start called twice"));
  server.Stop();
  server.Stop();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(FakeAzureServerTest, BusyPortIsUnavailable) {
  FakeAzureServer first;
  ASSERT_TRUE(first.Start().ok());
  FakeAzureServer::Options options;
  options.port = first.port();
  FakeAzureServer second(options);
  absl::Status status = second.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat("127.0.0.1:", first.port())));
}

// --- FakeImdsServer -------------------------------------------------------------

httplib::Result ImdsGet(FakeImdsServer& imds, const std::string& query, bool metadata = true) {
  httplib::Client client("127.0.0.1", imds.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  httplib::Headers headers;
  if (metadata) headers.emplace("Metadata", "true");
  return client.Get(("/metadata/identity/oauth2/token?" + query).c_str(), headers);
}

constexpr char kImdsQuery[] =
    "api-version=2018-02-01&resource=https%3A%2F%2Fapi.loganalytics.io";

TEST(FakeImdsServerTest, AnswersWithStringTypedToken) {
  common::FakeClock clock(absl::FromUnixSeconds(1700000000));
  FakeImdsServer::Options options;
  options.clock = clock.AsClock();
  FakeImdsServer imds(options);
  ASSERT_TRUE(imds.Start().ok());
  EXPECT_EQ(imds.token_url(),
            absl::StrCat("http://127.0.0.1:", imds.port(), "/metadata/identity/oauth2/token"));
  auto res = ImdsGet(imds, kImdsQuery);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr(R"("expires_in":"86399")"));
  EXPECT_THAT(res->body, HasSubstr(R"("expires_on":"1700086399")"));
  EXPECT_THAT(res->body, HasSubstr(R"("not_before":"1700000000")"));
  EXPECT_THAT(res->body, HasSubstr(R"("resource":"https://api.loganalytics.io")"));
  EXPECT_THAT(res->body, HasSubstr(R"("client_id":")" + options.system_client_id));
  EXPECT_THAT(res->body, HasSubstr(R"("access_token":"fake-mi-token.)"));
  std::vector<RecordedRequest> sent = imds.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].Param("resource"), "https://api.loganalytics.io");
  EXPECT_EQ(sent[0].Header("metadata"), "true");
}

TEST(FakeImdsServerTest, RequiresMetadataHeaderAndParameters) {
  FakeImdsServer imds;
  ASSERT_TRUE(imds.Start().ok());
  auto res = ImdsGet(imds, kImdsQuery, /*metadata=*/false);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("Required metadata header not specified"));
  res = ImdsGet(imds, "resource=https%3A%2F%2Fapi.loganalytics.io");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("'api-version'"));
  res = ImdsGet(imds, "api-version=2018-02-01");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("'resource'"));
}

TEST(FakeImdsServerTest, UserAssignedIdentityKnownOrNotFound) {
  FakeImdsServer imds;
  ASSERT_TRUE(imds.Start().ok());
  const std::string known = FakeImdsServer::Options().user_assigned_client_ids.front();
  auto res = ImdsGet(imds, absl::StrCat(kImdsQuery, "&client_id=", known));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr(R"("client_id":")" + known + "\""));
  res = ImdsGet(imds, absl::StrCat(kImdsQuery, "&client_id=11111111-2222-3333-4444-555555555555"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(res->body, azure_testdata::kImdsErrorIdentityNotFound);
}

TEST(FakeImdsServerTest, InjectedFaultsThenToken) {
  FakeImdsServer imds;
  ASSERT_TRUE(imds.Start().ok());
  imds.InjectFaults(1, 429, "", {{"Retry-After", "2"}});
  imds.InjectFaults(1, 410);
  imds.InjectFaults(1, 500, R"({"error":"unknown","error_description":"boom"})");
  auto res = ImdsGet(imds, kImdsQuery);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(res->get_header_value("Retry-After"), "2");
  res = ImdsGet(imds, kImdsQuery);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 410);
  res = ImdsGet(imds, kImdsQuery);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_THAT(res->body, HasSubstr("boom"));
  res = ImdsGet(imds, kImdsQuery);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(imds.requests().size(), 4u);
}

TEST(FakeImdsServerTest, TokensFromTokenSourceWorkAtTheFakeAzure) {
  FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  FakeImdsServer::Options options;
  options.token_source = [&azure](const std::string& resource) {
    return azure.IssueToken(resource + "/.default");
  };
  FakeImdsServer imds(options);
  ASSERT_TRUE(imds.Start().ok());
  auto res = ImdsGet(imds, kImdsQuery);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(res->body);
  simdjson::ondemand::document doc;
  ASSERT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS);
  std::string_view token;
  ASSERT_EQ(doc["access_token"].get_string().get(token), simdjson::SUCCESS);
  auto query = Query(azure, std::string(token));
  ASSERT_TRUE(query);
  EXPECT_EQ(query->status, 200);
}

}  // namespace
}  // namespace fake_azure
