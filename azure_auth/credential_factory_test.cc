// MakeCredential: every kind builds a cached credential that works against the
// fakes, and bad configurations fail up front naming the field.
#include "azure_auth/credential_factory.h"

#include <memory>
#include <string>
#include <vector>

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
using ::testing::StartsWith;

constexpr char kScope[] = "https://api.loganalytics.io/.default";

class CredentialFactoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(azure_.Start().ok());
    ASSERT_TRUE(imds_.Start().ok());
    http::CurlTransport::Options options;
    options.ca_file = azure_.ca_file();
    transport_ = std::make_shared<http::CurlTransport>(options);
  }
  CredentialConfig Config(CredentialKind kind) {
    CredentialConfig config;
    config.kind = kind;
    config.tenant_id = azure_.options().tenant_id;
    config.client_id = azure_.options().client_id;
    config.cloud = CustomCloud(azure_.base_url(), azure_.base_url(), kScope);
    config.env = azure_auth_internal::MapEnv({});
    config.on_warning = [this](absl::string_view note) { warnings_.emplace_back(note); };
    config.sleep = [](absl::Duration) {};
    return config;
  }
  // Two GetToken calls: the second must come from the cache.
  void ExpectCachedToken(const std::shared_ptr<TokenCredential>& credential) {
    absl::StatusOr<AccessToken> first = credential->GetToken(kScope);
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<AccessToken> second = credential->GetToken(kScope);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(first->token, second->token);
    EXPECT_THAT(credential->Describe(), StartsWith("token cache over "));
  }

  fake_azure::FakeAzureServer azure_;
  fake_azure::FakeImdsServer imds_;
  std::shared_ptr<http::CurlTransport> transport_;
  common::FakeClock clock_;
  azure_auth_internal::TempDir dir_;
  std::vector<std::string> warnings_;
};

TEST_F(CredentialFactoryTest, ClientSecretFile) {
  CredentialConfig config = Config(CredentialKind::kClientSecretFile);
  config.path = dir_.Write("secret", azure_.options().client_secret + "\n", 0640);
  auto credential = MakeCredential(config, transport_, clock_.AsClock());
  ASSERT_TRUE(credential.ok()) << credential.status();
  ExpectCachedToken(*credential);
  EXPECT_EQ(azure_.token_requests().size(), 1u);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr("client secret file " + config.path +
                                      " is readable by its group"));
}

TEST_F(CredentialFactoryTest, ClientSecretEnvAndValue) {
  CredentialConfig env = Config(CredentialKind::kClientSecretEnv);
  env.env_name = "LA_SECRET";
  env.env = azure_auth_internal::MapEnv({{"LA_SECRET", azure_.options().client_secret}});
  auto from_env = MakeCredential(env, transport_, clock_.AsClock());
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  ExpectCachedToken(*from_env);

  CredentialConfig value = Config(CredentialKind::kClientSecretValue);
  value.secret_value = azure_.options().client_secret;
  auto from_value = MakeCredential(value, transport_, clock_.AsClock());
  ASSERT_TRUE(from_value.ok()) << from_value.status();
  ExpectCachedToken(*from_value);
  EXPECT_EQ(azure_.token_requests().size(), 2u);
}

TEST_F(CredentialFactoryTest, CertificateFile) {
  auto cert = azure_auth_internal::MakeTestCertificate(2048, "factory");
  ASSERT_TRUE(cert.ok());
  CredentialConfig config = Config(CredentialKind::kCertificateFile);
  config.path = dir_.Write("app.pem", cert->key_pem + cert->cert_pem, 0600);
  auto credential = MakeCredential(config, transport_, clock_.AsClock());
  ASSERT_TRUE(credential.ok()) << credential.status();
  ExpectCachedToken(*credential);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(CredentialFactoryTest, ManagedIdentity) {
  CredentialConfig config = Config(CredentialKind::kManagedIdentity);
  config.imds_endpoint = imds_.base_url();
  config.managed_identity_client_id = "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170";
  auto credential = MakeCredential(config, transport_, clock_.AsClock());
  ASSERT_TRUE(credential.ok()) << credential.status();
  ExpectCachedToken(*credential);
  ASSERT_EQ(imds_.requests().size(), 1u);
  EXPECT_EQ(imds_.requests()[0].Param("client_id"), config.managed_identity_client_id);
}

TEST_F(CredentialFactoryTest, WorkloadIdentityFromTheEnvironment) {
  CredentialConfig config = Config(CredentialKind::kWorkloadIdentity);
  config.tenant_id.clear();
  config.client_id.clear();
  config.env = azure_auth_internal::MapEnv(
      {{"AZURE_TENANT_ID", azure_.options().tenant_id},
       {"AZURE_CLIENT_ID", azure_.options().client_id},
       {"AZURE_FEDERATED_TOKEN_FILE", dir_.Write("token", "federated")}});
  auto credential = MakeCredential(config, transport_, clock_.AsClock());
  ASSERT_TRUE(credential.ok()) << credential.status();
  ExpectCachedToken(*credential);
  EXPECT_EQ(azure_.token_requests()[0].Form("client_assertion"), "federated");
}

TEST_F(CredentialFactoryTest, DefaultChain) {
  CredentialConfig config = Config(CredentialKind::kDefault);
  config.imds_endpoint = imds_.token_url();
  auto credential = MakeCredential(config, transport_, clock_.AsClock());
  ASSERT_TRUE(credential.ok()) << credential.status();
  ExpectCachedToken(*credential);
  EXPECT_THAT((*credential)->Describe(),
              HasSubstr("default credential chain: using managed identity"));
}

TEST_F(CredentialFactoryTest, BadConfigurationsNameTheField) {
  struct Case {
    CredentialConfig config;
    absl::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  {
    CredentialConfig c = Config(CredentialKind::kClientSecretFile);
    c.path = dir_.path() + "/missing";
    cases.push_back({c, absl::StatusCode::kNotFound,
                     "credential path: client secret file " + dir_.path() +
                         "/missing does not exist"});
  }
  {
    CredentialConfig c = Config(CredentialKind::kClientSecretFile);
    cases.push_back({c, absl::StatusCode::kInvalidArgument, "credential path: empty"});
  }
  {
    CredentialConfig c = Config(CredentialKind::kClientSecretFile);
    c.path = dir_.Write("s", "x");
    c.tenant_id = "";
    cases.push_back({c, absl::StatusCode::kInvalidArgument, "credential tenant_id: "});
  }
  {
    CredentialConfig c = Config(CredentialKind::kClientSecretValue);
    c.secret_value = "x";
    c.client_id = "has space";
    cases.push_back({c, absl::StatusCode::kInvalidArgument, "credential client_id: "});
  }
  {
    CredentialConfig c = Config(CredentialKind::kClientSecretEnv);
    c.env_name = "NOT_SET_ANYWHERE";
    cases.push_back({c, absl::StatusCode::kNotFound,
                     "credential env_name: environment variable NOT_SET_ANYWHERE is not set"});
  }
  {
    CredentialConfig c = Config(CredentialKind::kClientSecretValue);
    cases.push_back({c, absl::StatusCode::kInvalidArgument, "credential secret: empty"});
  }
  {
    CredentialConfig c = Config(CredentialKind::kCertificateFile);
    c.path = dir_.Write("not.pem", "not a pem");
    cases.push_back({c, absl::StatusCode::kInvalidArgument,
                     "credential path: certificate file " + dir_.path() +
                         "/not.pem: no private key found"});
  }
  {
    CredentialConfig c = Config(CredentialKind::kWorkloadIdentity);
    cases.push_back({c, absl::StatusCode::kFailedPrecondition,
                     "AZURE_FEDERATED_TOKEN_FILE is not set"});
  }
  {
    CredentialConfig c = Config(CredentialKind::kManagedIdentity);
    c.cloud.scope = "";
    cases.push_back({c, absl::StatusCode::kInvalidArgument, "credential cloud: "});
  }
  for (const Case& c : cases) {
    auto credential = MakeCredential(c.config, transport_, clock_.AsClock());
    ASSERT_FALSE(credential.ok()) << c.message;
    EXPECT_EQ(credential.status().code(), c.code) << credential.status();
    EXPECT_THAT(std::string(credential.status().message()), HasSubstr(c.message));
  }
  auto no_transport = MakeCredential(Config(CredentialKind::kManagedIdentity), nullptr);
  EXPECT_EQ(no_transport.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(azure_.token_requests().empty());
}

TEST(CredentialKindTest, NamesRoundTrip) {
  for (CredentialKind kind :
       {CredentialKind::kClientSecretFile, CredentialKind::kClientSecretEnv,
        CredentialKind::kClientSecretValue, CredentialKind::kCertificateFile,
        CredentialKind::kManagedIdentity, CredentialKind::kWorkloadIdentity,
        CredentialKind::kDefault}) {
    auto parsed = CredentialKindByName(CredentialKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  auto bad = CredentialKindByName("password");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("client_secret_file"));
}

}  // namespace
}  // namespace azure_auth
