// DefaultAzureCredential: which link the environment selects, why the others were
// skipped, and each link working end to end against the fakes.
#include "azure_auth/default_azure_credential.h"

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "azure_auth/internal/test_pki.h"
#include "azure_auth/internal/test_util.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/curl_transport.h"
#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/fake_azure/fake_imds_server.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kScope[] = "https://api.loganalytics.io/.default";

class DefaultAzureCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(azure_.Start().ok());
    ASSERT_TRUE(imds_.Start().ok());
    http::CurlTransport::Options options;
    options.ca_file = azure_.ca_file();
    transport_ = std::make_shared<http::CurlTransport>(options);
  }
  std::shared_ptr<DefaultAzureCredential> Make(std::map<std::string, std::string> env) {
    DefaultCredentialOptions options;
    options.env = azure_auth_internal::MapEnv(std::move(env));
    options.sleep = [](absl::Duration) {};
    return std::make_shared<DefaultAzureCredential>(options, transport_, clock_.AsClock());
  }
  std::map<std::string, std::string> AppEnv() {
    return {{"AZURE_TENANT_ID", azure_.options().tenant_id},
            {"AZURE_CLIENT_ID", azure_.options().client_id},
            {"AZURE_AUTHORITY_HOST", azure_.base_url()}};
  }

  fake_azure::FakeAzureServer azure_;
  fake_azure::FakeImdsServer imds_;
  std::shared_ptr<http::CurlTransport> transport_;
  common::FakeClock clock_;
  azure_auth_internal::TempDir dir_;
};

TEST_F(DefaultAzureCredentialTest, EnvironmentSecretIsChosenFirst) {
  auto env = AppEnv();
  env["AZURE_CLIENT_SECRET"] = azure_.options().client_secret;
  env["AZURE_FEDERATED_TOKEN_FILE"] = dir_.Write("token", "federated");
  auto credential = Make(env);
  EXPECT_EQ(credential->chosen_link(), "environment");
  ASSERT_EQ(credential->links().size(), 3u);
  EXPECT_EQ(credential->links()[1].reason,
            "also configured, but the environment link comes first");
  EXPECT_EQ(credential->links()[2].reason, "not needed, an earlier link is configured");
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(azure_.token_requests()[0].Form("client_secret"), azure_.options().client_secret);
  EXPECT_THAT(credential->Describe(),
              StartsWith("default credential chain: using environment (AZURE_TENANT_ID, "
                         "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set)"));
  EXPECT_THAT(credential->Describe(), HasSubstr("credential: client secret credential"));
  EXPECT_THAT(credential->Describe(), Not(HasSubstr(azure_.options().client_secret)));
}

TEST_F(DefaultAzureCredentialTest, EnvironmentCertificate) {
  auto cert = azure_auth_internal::MakeTestCertificate(2048, "env-cert");
  ASSERT_TRUE(cert.ok());
  auto env = AppEnv();
  env["AZURE_CLIENT_CERTIFICATE_PATH"] = dir_.Write("app.pem", cert->key_pem + cert->cert_pem);
  auto credential = Make(env);
  EXPECT_EQ(credential->chosen_link(), "environment");
  ASSERT_TRUE(credential->GetToken(kScope).ok());
  auto sent = azure_.token_requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(azure_auth_internal::VerifyRs256Jwt(*sent[0].Form("client_assertion"),
                                                  cert->cert_pem)
                  .ok());
}

TEST_F(DefaultAzureCredentialTest, WorkloadIdentityWhenNoSecretOrCertificate) {
  auto env = AppEnv();
  env["AZURE_FEDERATED_TOKEN_FILE"] = dir_.Write("token", "federated.jwt.value");
  auto credential = Make(env);
  EXPECT_EQ(credential->chosen_link(), "workload identity");
  EXPECT_EQ(credential->links()[0].reason,
            "neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set");
  ASSERT_TRUE(credential->GetToken(kScope).ok());
  EXPECT_EQ(azure_.token_requests()[0].Form("client_assertion"), "federated.jwt.value");
  EXPECT_THAT(credential->Describe(),
              HasSubstr("environment: skipped (neither AZURE_CLIENT_SECRET nor "
                        "AZURE_CLIENT_CERTIFICATE_PATH is set)"));
}

TEST_F(DefaultAzureCredentialTest, ManagedIdentityLastWithReasonsForTheOthers) {
  auto credential = Make({{"IDENTITY_ENDPOINT", imds_.token_url()}});
  EXPECT_EQ(credential->chosen_link(), "managed identity");
  EXPECT_EQ(credential->links()[0].reason,
            "AZURE_TENANT_ID, AZURE_CLIENT_ID are not set; neither AZURE_CLIENT_SECRET "
            "nor AZURE_CLIENT_CERTIFICATE_PATH is set");
  EXPECT_EQ(credential->links()[1].reason,
            "AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID are not set");
  ASSERT_TRUE(credential->GetToken(kScope).ok());
  ASSERT_EQ(imds_.requests().size(), 1u);
  EXPECT_EQ(imds_.requests()[0].Param("client_id"), std::nullopt);
}

TEST_F(DefaultAzureCredentialTest, ManagedIdentityUsesAzureClientIdAsUserAssigned) {
  auto credential = Make({{"AZURE_CLIENT_ID", "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170"},
                          {"IDENTITY_ENDPOINT", imds_.base_url()}});
  EXPECT_EQ(credential->chosen_link(), "managed identity");
  ASSERT_TRUE(credential->GetToken(kScope).ok());
  EXPECT_EQ(imds_.requests()[0].Param("client_id"), "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170");
}

TEST_F(DefaultAzureCredentialTest, ErrorsCarryTheChainSummary) {
  std::string endpoint = imds_.base_url();
  imds_.Stop();
  auto credential = Make({{"IDENTITY_ENDPOINT", endpoint}});
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
  std::string message(token.status().message());
  EXPECT_THAT(message, StartsWith("default credential chain: using managed identity"));
  EXPECT_THAT(message, HasSubstr("environment: skipped (AZURE_TENANT_ID, AZURE_CLIENT_ID are not set"));
  EXPECT_THAT(message, HasSubstr("workload identity: skipped (AZURE_FEDERATED_TOKEN_FILE"));
  EXPECT_THAT(message, HasSubstr("did not answer"));
}

TEST_F(DefaultAzureCredentialTest, ConfiguredLinkThatFailsDoesNotFallThrough) {
  auto env = AppEnv();
  env["AZURE_CLIENT_SECRET"] = "wrong-secret-value";
  env["IDENTITY_ENDPOINT"] = imds_.base_url();
  auto credential = Make(env);
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("AADSTS7000215"));
  EXPECT_TRUE(imds_.requests().empty());
}

}  // namespace
}  // namespace azure_auth
