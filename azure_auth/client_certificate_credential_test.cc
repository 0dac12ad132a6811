// ClientCertificateCredential against FakeAzureServer over real HTTPS: the JWT
// client assertion is verified in the test with the certificate's public key.
#include "azure_auth/client_certificate_credential.h"

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "azure_auth/client_assertion.h"
#include "azure_auth/cloud.h"
#include "azure_auth/internal/test_pki.h"
#include "azure_auth/internal/test_util.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/curl_transport.h"
#include "simdjson.h"
#include "testdata/fake_azure/fake_azure_server.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kScope[] = "https://api.loganalytics.io/.default";
constexpr char kJwtBearer[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

class ClientCertificateCredentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cert = azure_auth_internal::MakeTestCertificate(2048, "uploaded");
    auto other = azure_auth_internal::MakeTestCertificate(2048, "not-uploaded");
    ASSERT_TRUE(cert.ok() && other.ok());
    uploaded_ = new azure_auth_internal::TestCertificate(*cert);
    other_ = new azure_auth_internal::TestCertificate(*other);
  }

  void SetUp() override {
    // Entra ID's side: accept assertions whose RS256 signature verifies with the
    // uploaded certificate.
    fake_azure::FakeAzureServer::Options options;
    options.assertion_validator = [](const std::string& assertion) {
      return azure_auth_internal::VerifyRs256Jwt(assertion, uploaded_->cert_pem).ok();
    };
    azure_ = std::make_unique<fake_azure::FakeAzureServer>(options);
    ASSERT_TRUE(azure_->Start().ok());
    http::CurlTransport::Options transport_options;
    transport_options.ca_file = azure_->ca_file();
    transport_ = std::make_shared<http::CurlTransport>(transport_options);
    cloud_ = CustomCloud(azure_->base_url(), azure_->base_url(), kScope);
  }

  std::shared_ptr<ClientCertificateCredential> Make(const std::string& pem_path) {
    return std::make_shared<ClientCertificateCredential>(
        azure_->options().tenant_id, azure_->options().client_id, CertificateFile(pem_path),
        cloud_, transport_, clock_.AsClock());
  }

  static azure_auth_internal::TestCertificate* uploaded_;
  static azure_auth_internal::TestCertificate* other_;
  std::unique_ptr<fake_azure::FakeAzureServer> azure_;
  std::shared_ptr<http::CurlTransport> transport_;
  CloudSettings cloud_;
  common::FakeClock clock_;
  azure_auth_internal::TempDir dir_;
};
azure_auth_internal::TestCertificate* ClientCertificateCredentialTest::uploaded_ = nullptr;
azure_auth_internal::TestCertificate* ClientCertificateCredentialTest::other_ = nullptr;

std::string Str(simdjson::ondemand::document& doc, const char* key) {
  std::string_view v;
  if (doc[key].get_string().get(v)) return "<missing>";
  return std::string(v);
}
int64_t Int(simdjson::ondemand::document& doc, const char* key) {
  int64_t v = -1;
  if (doc[key].get_int64().get(v)) return -1;
  return v;
}

TEST_F(ClientCertificateCredentialTest, SendsAVerifiableAssertionAndGetsAToken) {
  auto credential = Make(dir_.Write("app.pem", uploaded_->key_pem + uploaded_->cert_pem));
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_TRUE(token.ok()) << token.status();

  auto sent = azure_->token_requests();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].form.size(), 5u);
  EXPECT_EQ(sent[0].form[0].first, "grant_type");
  EXPECT_EQ(sent[0].form[0].second, "client_credentials");
  EXPECT_EQ(sent[0].form[1].first, "client_id");
  EXPECT_EQ(sent[0].form[1].second, azure_->options().client_id);
  EXPECT_EQ(sent[0].form[2].first, "scope");
  EXPECT_EQ(sent[0].form[2].second, kScope);
  EXPECT_EQ(sent[0].form[3].first, "client_assertion_type");
  EXPECT_EQ(sent[0].form[3].second, kJwtBearer);
  EXPECT_EQ(sent[0].form[4].first, "client_assertion");
  EXPECT_FALSE(sent[0].Form("client_secret").has_value());

  auto jwt = azure_auth_internal::VerifyRs256Jwt(*sent[0].Form("client_assertion"),
                                                 uploaded_->cert_pem);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  auto cert = ClientCertificate::FromPem(uploaded_->key_pem + uploaded_->cert_pem);
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(jwt->header_json,
            absl::StrCat(R"({"alg":"RS256","typ":"JWT","x5t":")", cert->x5t(), R"("})"));
  simdjson::ondemand::parser parser;
  simdjson::padded_string claims(jwt->claims_json);
  simdjson::ondemand::document doc = parser.iterate(claims);
  EXPECT_EQ(Str(doc, "aud"), azure_->token_url());
  EXPECT_EQ(Str(doc, "iss"), azure_->options().client_id);
  EXPECT_EQ(Str(doc, "sub"), azure_->options().client_id);
  EXPECT_THAT(Str(doc, "jti"), MatchesRegex("[0-9a-f-]{36}"));
  EXPECT_EQ(Int(doc, "nbf"), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(Int(doc, "exp"), absl::ToUnixSeconds(clock_.Now()) + 600);
}

TEST_F(ClientCertificateCredentialTest, WrongCertificateIs700027NamingTheThumbprint) {
  auto credential = Make(dir_.Write("app.pem", other_->key_pem + other_->cert_pem));
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  std::string message(token.status().message());
  EXPECT_THAT(message, HasSubstr("AADSTS700027"));
  EXPECT_THAT(message, HasSubstr("upload this certificate"));
  auto cert = ClientCertificate::FromPem(other_->key_pem + other_->cert_pem);
  ASSERT_TRUE(cert.ok());
  EXPECT_THAT(message, HasSubstr("thumbprint " + cert->ThumbprintHex()));
  EXPECT_THAT(message, Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(ClientCertificateCredentialTest, RenewedCertificateFileIsUsedAtTheNextRequest) {
  std::string path = dir_.Write("app.pem", other_->key_pem + other_->cert_pem);
  auto credential = Make(path);
  EXPECT_FALSE(credential->GetToken(kScope).ok());
  dir_.Write("app.pem", uploaded_->cert_pem + uploaded_->key_pem);
  EXPECT_TRUE(credential->GetToken(kScope).ok());
}

TEST_F(ClientCertificateCredentialTest, UnusableFilesFailWithoutARequest) {
  absl::StatusOr<AccessToken> missing = Make(dir_.path() + "/none.pem")->GetToken(kScope);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("certificate file " + dir_.path() + "/none.pem does not exist"));
  absl::StatusOr<AccessToken> no_key =
      Make(dir_.Write("cert-only.pem", uploaded_->cert_pem))->GetToken(kScope);
  EXPECT_EQ(no_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_key.status().message()),
              HasSubstr("unusable certificate PEM: no private key found"));
  EXPECT_TRUE(azure_->token_requests().empty());
}

}  // namespace
}  // namespace azure_auth
