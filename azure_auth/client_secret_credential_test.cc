// ClientSecretCredential against FakeAzureServer over real HTTPS (CurlTransport
// trusting the fake's test CA).
#include "azure_auth/client_secret_credential.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "azure_auth/cloud.h"
#include "azure_auth/internal/test_util.h"
#include "azure_auth/secret_source.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/curl_transport.h"
#include "testdata/fake_azure/fake_azure_server.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kScope[] = "https://api.loganalytics.io/.default";

class ClientSecretCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(azure_.Start().ok());
    http::CurlTransport::Options options;
    options.ca_file = azure_.ca_file();
    transport_ = std::make_shared<http::CurlTransport>(options);
    cloud_ = CustomCloud(azure_.base_url(), azure_.base_url(), kScope);
  }
  std::shared_ptr<ClientSecretCredential> Make(SecretProvider secret,
                                               std::string tenant = "") {
    return std::make_shared<ClientSecretCredential>(
        tenant.empty() ? azure_.options().tenant_id : tenant, azure_.options().client_id,
        std::move(secret), cloud_, transport_, clock_.AsClock());
  }
  std::string Secret() const { return azure_.options().client_secret; }

  fake_azure::FakeAzureServer azure_;
  std::shared_ptr<http::CurlTransport> transport_;
  CloudSettings cloud_;
  common::FakeClock clock_;
  azure_auth_internal::TempDir dir_;
};

TEST_F(ClientSecretCredentialTest, SendsTheClientCredentialsFormAndReturnsTheToken) {
  auto credential = Make(FixedSecret(Secret()));
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires_on, clock_.Now() + absl::Seconds(3599));
  EXPECT_EQ(azure_.issued_token_count(), 1u);

  auto sent = azure_.token_requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].path, absl::StrCat("/", azure_.options().tenant_id, "/oauth2/v2.0/token"));
  EXPECT_THAT(sent[0].Header("Content-Type").value_or(""),
              StartsWith("application/x-www-form-urlencoded"));
  EXPECT_THAT(sent[0].Header("client-request-id").value_or(""),
              MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  ASSERT_EQ(sent[0].form.size(), 4u);
  EXPECT_EQ(sent[0].form[0], (std::pair<std::string, std::string>("grant_type", "client_credentials")));
  EXPECT_EQ(sent[0].form[1], (std::pair<std::string, std::string>("client_id", azure_.options().client_id)));
  EXPECT_EQ(sent[0].form[2], (std::pair<std::string, std::string>("scope", kScope)));
  EXPECT_EQ(sent[0].form[3], (std::pair<std::string, std::string>("client_secret", Secret())));
  // The secret is percent-encoded on the wire ('~' stays, '.' stays).
  EXPECT_THAT(sent[0].body, HasSubstr("scope=https%3A%2F%2Fapi.loganalytics.io%2F.default"));
}

TEST_F(ClientSecretCredentialTest, WrongSecretIsAadsts7000215AndNeverQuoted) {
  const std::string wrong = "wrong~secret.value-4242";
  auto credential = Make(FixedSecret(wrong));
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  std::string message(token.status().message());
  EXPECT_THAT(message, StartsWith(credential->Describe()));
  EXPECT_THAT(message, HasSubstr("AADSTS7000215"));
  EXPECT_THAT(message, HasSubstr("not its Secret ID"));
  EXPECT_THAT(message, HasSubstr("trace_id="));
  EXPECT_THAT(message, HasSubstr("client-request-id="));
  EXPECT_THAT(message, Not(HasSubstr(wrong)));
}

TEST_F(ClientSecretCredentialTest, RotatedSecretFileIsUsedAtTheNextRequest) {
  std::string path = dir_.Write("secret", "old-secret-value\n");
  auto credential = Make(FileSecret(path));
  EXPECT_EQ(credential->GetToken(kScope).status().code(),
            absl::StatusCode::kUnauthenticated);
  dir_.Write("secret", Secret() + "\n");
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_TRUE(token.ok()) << token.status();
  auto sent = azure_.token_requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].Form("client_secret"), "old-secret-value");
  EXPECT_EQ(sent[1].Form("client_secret"), Secret());
}

TEST_F(ClientSecretCredentialTest, MissingSecretFileFailsWithoutARequest) {
  auto credential = Make(FileSecret(dir_.path() + "/absent"));
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(token.status().message()),
              HasSubstr("cannot read the client secret: secret file " + dir_.path() +
                        "/absent does not exist"));
  EXPECT_TRUE(azure_.token_requests().empty());
}

struct RecordedError {
  int64_t code;
  int http_status;
  absl::StatusCode status;
  const char* advice;
};

TEST_F(ClientSecretCredentialTest, EveryRecordedAadstsErrorBecomesItsStatus) {
  const RecordedError kErrors[] = {
      {7000215, 401, absl::StatusCode::kUnauthenticated, "not its Secret ID"},
      {7000222, 401, absl::StatusCode::kUnauthenticated,
       "App registrations > your app > Certificates & secrets > New client secret"},
      {90002, 400, absl::StatusCode::kNotFound, "check the Tenant ID"},
      {700016, 400, absl::StatusCode::kNotFound, "check the Client ID"},
      {700027, 401, absl::StatusCode::kUnauthenticated, "upload this certificate"},
      {700024, 401, absl::StatusCode::kUnauthenticated, "clock (NTP)"},
      {5002738, 401, absl::StatusCode::kUnauthenticated, "RS256"},
      {7000218, 401, absl::StatusCode::kUnauthenticated, "configure a client secret"},
      {70011, 400, absl::StatusCode::kInvalidArgument, "/.default scope"},
      {700022, 400, absl::StatusCode::kInvalidArgument, "one resource per token"},
      {500011, 400, absl::StatusCode::kNotFound, "configured cloud matches"},
      {7000112, 400, absl::StatusCode::kPermissionDenied, "must enable it"},
      {53003, 400, absl::StatusCode::kPermissionDenied, "Conditional Access policy"},
      {90055, 429, absl::StatusCode::kResourceExhausted, "retry later"},
  };
  auto credential = Make(FixedSecret(Secret()));
  for (const RecordedError& e : kErrors) {
    SCOPED_TRACE(e.code);
    std::string body =
        azure_auth_internal::ReadEntraTestdata(absl::StrCat("error_", e.code, ".json"));
    ASSERT_FALSE(body.empty());
    azure_.SetTokenHandler([&](const fake_azure::TokenRequest&) {
      fake_azure::TokenReply reply;
      reply.status = e.http_status;
      reply.body = body;
      if (e.http_status == 429) reply.headers = {{"Retry-After", "30"}};
      return std::optional<fake_azure::TokenReply>(reply);
    });
    absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.status().code(), e.status) << token.status();
    std::string message(token.status().message());
    EXPECT_THAT(message, HasSubstr(absl::StrCat("AADSTS", e.code)));
    EXPECT_THAT(message, HasSubstr(e.advice));
    EXPECT_THAT(message, HasSubstr(absl::StrCat("HTTP ", e.http_status)));
    EXPECT_THAT(message, HasSubstr("correlation_id="));
    if (e.http_status == 429) EXPECT_THAT(message, HasSubstr("(Retry-After: 30)"));
  }
}

TEST_F(ClientSecretCredentialTest, ServerErrorWithHtmlIsUnavailable) {
  azure_.InjectTokenFaults(1, 503, "<html>Service Unavailable</html>",
                           {{"Content-Type", "text/html"}});
  absl::StatusOr<AccessToken> token = Make(FixedSecret(Secret()))->GetToken(kScope);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("HTTP 503"));
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("Service Unavailable"));
}

TEST_F(ClientSecretCredentialTest, TenantFromTheFakeIsCheckedAndBadIdsNeverLeaveTheProcess) {
  absl::StatusOr<AccessToken> other = Make(FixedSecret(Secret()), "contoso.onmicrosoft.com")
                                          ->GetToken(kScope);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(other.status().message()), HasSubstr("AADSTS90002"));
  size_t requests = azure_.token_requests().size();
  absl::StatusOr<AccessToken> bad = Make(FixedSecret(Secret()), "../evil")->GetToken(kScope);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("not a GUID or domain name"));
  absl::StatusOr<AccessToken> common = Make(FixedSecret(Secret()), "common")->GetToken(kScope);
  EXPECT_EQ(common.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<AccessToken> scope =
      Make(FixedSecret(Secret()))->GetToken("https://a/.default https://b/.default");
  EXPECT_EQ(scope.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(azure_.token_requests().size(), requests);
}

TEST_F(ClientSecretCredentialTest, NoServerIsUnavailable) {
  auto credential = Make(FixedSecret(Secret()));
  azure_.Stop();
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("got no answer"));
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("127.0.0.1"));
}

TEST_F(ClientSecretCredentialTest, UntrustedCertificateIsRefused) {
  auto credential = std::make_shared<ClientSecretCredential>(
      azure_.options().tenant_id, azure_.options().client_id, FixedSecret(Secret()),
      cloud_, std::make_shared<http::CurlTransport>(), clock_.AsClock());
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(azure_.token_requests().empty());
}

TEST_F(ClientSecretCredentialTest, DescribeNamesAppTenantAndAuthorityOnly) {
  auto credential = Make(FixedSecret(Secret()));
  EXPECT_EQ(credential->Describe(),
            absl::StrCat("client secret credential (app ", azure_.options().client_id,
                         ", tenant ", azure_.options().tenant_id, ", authority 127.0.0.1:",
                         azure_.port(), ")"));
}

}  // namespace
}  // namespace azure_auth
