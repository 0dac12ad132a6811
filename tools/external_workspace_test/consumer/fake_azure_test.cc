// The toolkit's testonly fakes from another workspace: the real credential factory,
// curl transport and query client against FakeAzureServer (HTTPS with a test CA),
// which answers with the recorded query answer.
#include <memory>
#include <string>
#include <utility>

#include "azure_auth/cloud.h"
#include "azure_auth/credential_factory.h"
#include "azure_auth/token_credential.h"
#include "gtest/gtest.h"
#include "http/curl_transport.h"
#include "loganalytics/convert/log_converter.h"
#include "loganalytics/query_client.h"
#include "proto/plugins.pb.h"
#include "testdata/fake_azure/fake_azure_server.h"

namespace {

TEST(FakeAzureTest, TokenQueryAndConversionOverHttps) {
  fake_azure::FakeAzureServer azure;
  ASSERT_TRUE(azure.Start().ok());
  const fake_azure::FakeAzureServer::Options& o = azure.options();

  http::CurlTransport::Options curl;
  curl.ca_file = azure.ca_file();
  auto transport = std::make_shared<http::CurlTransport>(curl);
  azure_auth::CredentialConfig config;
  config.kind = azure_auth::CredentialKind::kClientSecretValue;
  config.tenant_id = o.tenant_id;
  config.client_id = o.client_id;
  config.secret_value = o.client_secret;
  config.cloud = azure_auth::CustomCloud(azure.base_url(), azure.base_url(),
                                         "https://api.loganalytics.io/.default");
  absl::StatusOr<std::shared_ptr<azure_auth::TokenCredential>> credential =
      azure_auth::MakeCredential(config, transport);
  ASSERT_TRUE(credential.ok()) << credential.status();

  loganalytics::QueryClientOptions options;
  options.query_host = azure.base_url();
  loganalytics::QueryClient client(transport, *credential, options);
  absl::StatusOr<loganalytics::QueryResponse> answer =
      client.Query(o.workspace_id, "SigninLogs | take 6", "PT1H");
  ASSERT_TRUE(answer.ok()) << answer.status();

  size_t rows = 0;
  absl::StatusOr<loganalytics::ConvertSummary> summary = loganalytics::ConvertAnswer(
      answer->body, loganalytics::ConvertOptions(),
      [&](plugins::Log&& log, const loganalytics::RowMeta&) {
        EXPECT_FALSE(log.id().empty());
        ++rows;
        return absl::OkStatus();
      });
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(rows, 6u);
  EXPECT_EQ(azure.token_requests().size(), 1u);
}

}  // namespace
