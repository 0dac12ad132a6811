// The query client and the paginator against FakeAzureServer over real HTTPS on
// 127.0.0.1, with the real curl transport, client-secret credential and token cache.
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "azure_auth/client_secret_credential.h"
#include "azure_auth/cloud.h"
#include "azure_auth/secret_source.h"
#include "azure_auth/token_cache.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/curl_transport.h"
#include "loganalytics/paginator.h"
#include "loganalytics/query_client.h"
#include "loganalytics/query_error.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"
#include "testdata/azure/recorded_bodies.h"
#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/workspace_model/fake_azure_handler.h"
#include "testdata/workspace_model/workspace_model.h"

namespace loganalytics {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using workspace_model::Column;
using workspace_model::Record;

const absl::Time kT0 = absl::FromUnixSeconds(1704067200);

std::string S(absl::string_view v) { return std::string(v); }
std::string S(std::string_view v) { return std::string(v); }

class QueryClientHttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    azure_.SetQueryHandler(workspace_model::MakeQueryHandler(&model_));
    ASSERT_TRUE(azure_.Start().ok());
    http::CurlTransport::Options curl;
    curl.ca_file = azure_.ca_file();
    transport_ = std::make_shared<http::CurlTransport>(curl);
    const fake_azure::FakeAzureServer::Options& o = azure_.options();
    auto secret = std::make_shared<azure_auth::ClientSecretCredential>(
        o.tenant_id, o.client_id, azure_auth::FixedSecret(o.client_secret),
        azure_auth::CustomCloud(azure_.base_url(), azure_.base_url(),
                                "https://api.loganalytics.io/.default"),
        transport_);
    credential_ = std::make_shared<azure_auth::TokenCache>(secret, common::SystemClock());
    QueryClientOptions options;
    options.query_host = azure_.base_url();
    client_ = std::make_shared<QueryClient>(transport_, credential_, options);
    host_ = absl::StrCat("127.0.0.1:", azure_.port());
  }

  std::string Workspace() const { return azure_.options().workspace_id; }

  void Add(const std::string& id, absl::Duration at, absl::Duration early = absl::Minutes(1)) {
    model_.AddRecord(Workspace(), Record{"SigninLogs", id, kT0 + at - early, kT0 + at,
                                         kT0 + at, {Column::String("Key", id)}});
  }

  common::FakeClock clock_{kT0 + absl::Hours(2)};
  workspace_model::WorkspaceModel model_{clock_.AsClock()};
  fake_azure::FakeAzureServer azure_;
  std::shared_ptr<http::CurlTransport> transport_;
  std::shared_ptr<azure_auth::TokenCache> credential_;
  std::shared_ptr<QueryClient> client_;
  std::string host_;
};

TEST_F(QueryClientHttpsTest, SendsExactRequestAndReturnsTheAnswer) {
  Add("id-1", absl::Minutes(1));
  const std::string kql = "SigninLogs | where Key == \"id-1\" | take 5";
  absl::StatusOr<QueryResponse> answer = client_->Query(
      Workspace(), kql, "2024-01-01T00:00:00.0000000Z/2024-01-02T00:00:00.0000000Z");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 200);
  EXPECT_THAT(answer->body, HasSubstr("\"id-1\""));

  std::vector<fake_azure::RecordedRequest> sent = azure_.query_requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].path, absl::StrCat("/v1/workspaces/", Workspace(), "/query"));
  EXPECT_THAT(sent[0].Header("Authorization").value_or(""), StartsWith("Bearer fake-la-token"));
  EXPECT_EQ(sent[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(sent[0].Header("Prefer"), "wait=180");
  EXPECT_THAT(sent[0].Header("Accept-Encoding").value_or(""), HasSubstr("gzip"));
  EXPECT_EQ(sent[0].body,
            "{\"query\":\"SigninLogs | where Key == \\\"id-1\\\" | take 5\","
            "\"timespan\":\"2024-01-01T00:00:00.0000000Z/2024-01-02T00:00:00.0000000Z\"}");
  ASSERT_EQ(azure_.token_requests().size(), 1u);
  EXPECT_EQ(azure_.token_requests()[0].Form("scope"), "https://api.loganalytics.io/.default");
}

TEST_F(QueryClientHttpsTest, RevokedTokenIsReplacedOnce) {
  Add("id-1", absl::Minutes(1));
  ASSERT_TRUE(client_->Query(Workspace(), "SigninLogs | take 1", "").ok());
  azure_.RevokeAllTokens();
  absl::StatusOr<QueryResponse> answer = client_->Query(Workspace(), "SigninLogs | take 1", "");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(azure_.token_requests().size(), 2u);
  std::vector<fake_azure::RecordedRequest> sent = azure_.query_requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].Header("Authorization"), sent[0].Header("Authorization"));
  EXPECT_NE(sent[2].Header("Authorization"), sent[1].Header("Authorization"));
}

TEST_F(QueryClientHttpsTest, ErrorStatusesOverHttps) {
  Add("id-1", absl::Minutes(1));
  azure_.InjectQueryFaults(1, 403, S(azure_testdata::kQueryError403));
  azure_.InjectQueryFaults(1, 429, S(azure_testdata::kQueryError429), {{"Retry-After", "9"}});
  azure_.InjectQueryFaults(1, 504, S(azure_testdata::kQueryError504));
  azure_.InjectQueryFaults(1, 503, "");

  absl::StatusOr<QueryResponse> r = client_->Query(Workspace(), "SigninLogs", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(S(r.status().message()),
              AllOf(HasSubstr("HTTP 403 InsufficientAccessError from " + host_),
                    HasSubstr("Log Analytics Reader")));
  r = client_->Query(Workspace(), "SigninLogs", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(S(r.status().message()), HasSubstr("retry after 9s"));
  EXPECT_EQ(RetryAfter(r.status()), absl::Seconds(9));
  r = client_->Query(Workspace(), "SigninLogs", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  r = client_->Query(Workspace(), "SigninLogs", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(S(r.status().message()), HasSubstr("HTTP 503 from " + host_));

  // The server's own checks: an unknown workspace, and KQL the model cannot parse.
  r = client_->Query("00000000-0000-0000-0000-000000000000", "SigninLogs", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(S(r.status().message()),
              HasSubstr("workspace 00000000-0000-0000-0000-000000000000 was not found"));
  r = client_->Query(Workspace(), "SigninLogs | wher x", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(S(r.status().message()), HasSubstr("at line 1, position 14, near token \"wher\""));
}

TEST_F(QueryClientHttpsTest, PaginatorReadsEverythingOnceOverHttps) {
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    std::string id = absl::StrFormat("%s-%03d", i % 7 == 0 ? "q'uote\\" : "plain", i);
    expected.push_back(id);
    // Groups of 5 share an ingestion time; every tenth arrived 30 hours late.
    Add(id, absl::Seconds(i / 5), i % 10 == 0 ? absl::Hours(30) : absl::Minutes(1));
  }
  model_.InjectFaults(1, workspace_model::Fault::Truncate(0.5));
  PaginatorOptions options;
  options.workspace_id = Workspace();
  options.name = "SigninLogs";
  options.base_query = "SigninLogs";
  options.initial_page_rows = 64;
  options.convert.clock = clock_.AsClock();
  Paginator paginator(client_, options, Cursor::StartAt(kT0 - absl::Hours(1)),
                      clock_.AsClock(), [](absl::Duration) {});
  std::vector<std::string> keys;
  int incomplete = 0;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<Page> page = paginator.NextPage();
    ASSERT_TRUE(page.ok()) << page.status();
    incomplete += !page->complete;
    simdjson::dom::parser parser;
    for (const plugins::Log& log : page->logs) {
      simdjson::dom::element doc;
      std::string_view key;
      ASSERT_EQ(parser.parse(log.raw()).get(doc), simdjson::SUCCESS);
      ASSERT_EQ(doc["Key"].get(key), simdjson::SUCCESS);
      keys.emplace_back(key);
    }
    ASSERT_TRUE(paginator.Commit(*page).ok());
    if (page->complete && !page->more_available) break;
  }
  EXPECT_EQ(incomplete, 1);
  std::sort(keys.begin(), keys.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(static_cast<int64_t>(azure_.query_requests().size()), model_.stats().queries);
  EXPECT_EQ(model_.stats().bad_requests, 0);
}

}  // namespace
}  // namespace loganalytics
