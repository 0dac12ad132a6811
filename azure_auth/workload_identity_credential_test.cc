// WorkloadIdentityCredential against FakeAzureServer over real HTTPS.
#include "azure_auth/workload_identity_credential.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "azure_auth/cloud.h"
#include "azure_auth/internal/test_util.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/curl_transport.h"
#include "testdata/fake_azure/fake_azure_server.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kScope[] = "https://api.loganalytics.io/.default";
constexpr char kFederatedToken[] = "eyJhbGciOiJSUzI1NiJ9.federated-service-account-token.sig1";

class WorkloadIdentityCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(azure_.Start().ok());
    http::CurlTransport::Options options;
    options.ca_file = azure_.ca_file();
    transport_ = std::make_shared<http::CurlTransport>(options);
    token_file_ = dir_.Write("token", kFederatedToken, 0644);
  }
  // The pod's environment as the webhook sets it, authority pointing at the fake.
  std::map<std::string, std::string> PodEnv() {
    return {{"AZURE_TENANT_ID", azure_.options().tenant_id},
            {"AZURE_CLIENT_ID", azure_.options().client_id},
            {"AZURE_FEDERATED_TOKEN_FILE", token_file_},
            {"AZURE_AUTHORITY_HOST", azure_.base_url() + "/"}};
  }

  fake_azure::FakeAzureServer azure_;
  std::shared_ptr<http::CurlTransport> transport_;
  common::FakeClock clock_;
  azure_auth_internal::TempDir dir_;
  std::string token_file_;
};

TEST_F(WorkloadIdentityCredentialTest, SendsTheFederatedTokenAsTheAssertion) {
  auto credential = WorkloadIdentityCredential::FromEnvironment(
      azure_auth_internal::MapEnv(PodEnv()), {}, AzurePublic(), transport_,
      clock_.AsClock());
  ASSERT_TRUE(credential.ok()) << credential.status();
  absl::StatusOr<AccessToken> token = (*credential)->GetToken(kScope);
  ASSERT_TRUE(token.ok()) << token.status();
  auto sent = azure_.token_requests();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].form.size(), 5u);
  EXPECT_EQ(sent[0].Form("grant_type"), "client_credentials");
  EXPECT_EQ(sent[0].Form("client_id"), azure_.options().client_id);
  EXPECT_EQ(sent[0].Form("scope"), kScope);
  EXPECT_EQ(sent[0].Form("client_assertion_type"),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  EXPECT_EQ(sent[0].Form("client_assertion"), kFederatedToken);
}

TEST_F(WorkloadIdentityCredentialTest, RereadsTheRotatedFileOnEveryRequest) {
  auto credential = WorkloadIdentityCredential::FromEnvironment(
      azure_auth_internal::MapEnv(PodEnv()), {}, AzurePublic(), transport_,
      clock_.AsClock());
  ASSERT_TRUE(credential.ok());
  ASSERT_TRUE((*credential)->GetToken(kScope).ok());
  dir_.Write("token", "rotated.federated.token\n", 0644);
  ASSERT_TRUE((*credential)->GetToken(kScope).ok());
  auto sent = azure_.token_requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].Form("client_assertion"), "rotated.federated.token");
}

TEST_F(WorkloadIdentityCredentialTest, ConfiguredValuesWinOverTheEnvironment) {
  std::map<std::string, std::string> env = PodEnv();
  env["AZURE_CLIENT_ID"] = "from-env-not-used";
  WorkloadIdentitySettings settings;
  settings.client_id = azure_.options().client_id;
  auto credential = WorkloadIdentityCredential::FromEnvironment(
      azure_auth_internal::MapEnv(env), settings, AzurePublic(), transport_,
      clock_.AsClock());
  ASSERT_TRUE(credential.ok());
  EXPECT_TRUE((*credential)->GetToken(kScope).ok());
  EXPECT_THAT((*credential)->Describe(), HasSubstr(azure_.options().client_id));
  EXPECT_THAT((*credential)->Describe(), HasSubstr(token_file_));
}

TEST_F(WorkloadIdentityCredentialTest, MissingVariablesAreAllNamed) {
  auto credential = WorkloadIdentityCredential::FromEnvironment(
      azure_auth_internal::MapEnv({{"AZURE_CLIENT_ID", "x"}}), {}, AzurePublic(),
      transport_, clock_.AsClock());
  ASSERT_FALSE(credential.ok());
  EXPECT_EQ(credential.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(credential.status().message()),
              HasSubstr("AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE are not set"));
}

TEST_F(WorkloadIdentityCredentialTest, MissingTokenFileAndStaleTokenSayWhatToDo) {
  std::map<std::string, std::string> env = PodEnv();
  env["AZURE_FEDERATED_TOKEN_FILE"] = dir_.path() + "/gone";
  auto credential = WorkloadIdentityCredential::FromEnvironment(
      azure_auth_internal::MapEnv(env), {}, AzurePublic(), transport_, clock_.AsClock());
  ASSERT_TRUE(credential.ok());
  absl::StatusOr<AccessToken> missing = (*credential)->GetToken(kScope);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("federated token file " + dir_.path() + "/gone does not exist"));

  auto good = WorkloadIdentityCredential::FromEnvironment(
      azure_auth_internal::MapEnv(PodEnv()), {}, AzurePublic(), transport_,
      clock_.AsClock());
  ASSERT_TRUE(good.ok());
  std::string body = azure_auth_internal::ReadEntraTestdata("error_700024.json");
  azure_.SetTokenHandler([&](const fake_azure::TokenRequest&) {
    return std::optional<fake_azure::TokenReply>(fake_azure::TokenReply{401, {}, body});
  });
  absl::StatusOr<AccessToken> stale = (*good)->GetToken(kScope);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(stale.status().message()), HasSubstr("AADSTS700024"));
  EXPECT_THAT(std::string(stale.status().message()),
              HasSubstr("federated token file is being refreshed"));
  EXPECT_THAT(std::string(stale.status().message()), Not(HasSubstr(kFederatedToken)));
}

}  // namespace
}  // namespace azure_auth
