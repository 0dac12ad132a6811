// ManagedIdentityCredential against FakeImdsServer (plain HTTP on 127.0.0.1, standing
// for 169.254.169.254) through the real CurlTransport.
#include "azure_auth/managed_identity_credential.h"

#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "azure_auth/internal/test_util.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/curl_transport.h"
#include "testdata/fake_azure/fake_imds_server.h"

namespace azure_auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kScope[] = "https://api.loganalytics.io/.default";
constexpr char kUserAssigned[] = "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170";

class ManagedIdentityCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(imds_.Start().ok());
    recording_ = std::make_shared<azure_auth_internal::RecordingTransport>(
        std::make_shared<http::CurlTransport>());
  }
  std::shared_ptr<ManagedIdentityCredential> Make(std::string client_id = "",
                                                  std::string endpoint = "") {
    ManagedIdentityOptions options;
    options.client_id = std::move(client_id);
    options.endpoint = endpoint.empty() ? imds_.base_url() : endpoint;
    options.sleep = [this](absl::Duration d) {
      absl::MutexLock lock(&mu_);
      sleeps_.push_back(d);
    };
    return std::make_shared<ManagedIdentityCredential>(options, recording_,
                                                       clock_.AsClock());
  }
  std::vector<absl::Duration> sleeps() {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

  fake_azure::FakeImdsServer imds_;
  std::shared_ptr<azure_auth_internal::RecordingTransport> recording_;
  common::FakeClock clock_;
  absl::Mutex mu_;
  std::vector<absl::Duration> sleeps_;
};

TEST_F(ManagedIdentityCredentialTest, SystemAssignedRequestAndToken) {
  auto credential = Make();
  EXPECT_EQ(credential->endpoint(), imds_.token_url());
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires_on, clock_.Now() + absl::Seconds(86399));
  auto sent = imds_.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[0].path, "/metadata/identity/oauth2/token");
  EXPECT_EQ(sent[0].Param("api-version"), "2018-02-01");
  EXPECT_EQ(sent[0].Param("resource"), "https://api.loganalytics.io");
  EXPECT_EQ(sent[0].Param("client_id"), std::nullopt);
  EXPECT_EQ(sent[0].Header("Metadata"), "true");
  auto options = recording_->sent();
  ASSERT_EQ(options.size(), 1u);
  EXPECT_FALSE(options[0].second.use_proxy);
}

TEST_F(ManagedIdentityCredentialTest, NeverGoesThroughTheProxyFromTheEnvironment) {
  // A proxy that does not exist: a request sent through it would fail.
  ::setenv("http_proxy", "http://127.0.0.1:9", 1);
  ::setenv("HTTP_PROXY", "http://127.0.0.1:9", 1);
  absl::StatusOr<AccessToken> token = Make()->GetToken(kScope);
  // Control: the same request allowed to use the proxy does fail.
  http::CurlTransport direct;
  http::HttpRequest request;
  request.url = imds_.token_url() + "?api-version=2018-02-01&resource=x";
  request.headers = {{"Metadata", "true"}};
  absl::StatusOr<http::HttpResponse> proxied = direct.Send(request, http::RequestOptions());
  ::unsetenv("http_proxy");
  ::unsetenv("HTTP_PROXY");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(imds_.requests().size(), 1u);
  EXPECT_FALSE(proxied.ok());
}

TEST_F(ManagedIdentityCredentialTest, UserAssignedSendsClientId) {
  absl::StatusOr<AccessToken> token = Make(kUserAssigned)->GetToken(kScope);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(imds_.requests()[0].Param("client_id"), kUserAssigned);
}

TEST_F(ManagedIdentityCredentialTest, IdentityNotFoundIsFinal) {
  auto credential = Make("00000000-0000-0000-0000-000000000000");
  absl::StatusOr<AccessToken> token = credential->GetToken(kScope);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  std::string message(token.status().message());
  EXPECT_THAT(message, HasSubstr("HTTP 400: Identity not found"));
  EXPECT_THAT(message, HasSubstr("attach the user-assigned identity with client id "
                                 "00000000-0000-0000-0000-000000000000"));
  EXPECT_EQ(imds_.requests().size(), 1u);
  EXPECT_TRUE(sleeps().empty());
}

TEST_F(ManagedIdentityCredentialTest, RetriesRetryableStatusesWithExponentialBackoff) {
  imds_.InjectFaults(1, 404);
  imds_.InjectFaults(1, 410);
  imds_.InjectFaults(1, 429);
  imds_.InjectFaults(1, 500, R"({"error":"internal"})");
  imds_.InjectFaults(1, 503);
  absl::StatusOr<AccessToken> token = Make()->GetToken(kScope);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(imds_.requests().size(), 6u);
  EXPECT_THAT(sleeps(), ElementsAre(absl::Seconds(2), absl::Seconds(4), absl::Seconds(8),
                                    absl::Seconds(16), absl::Seconds(32)));
}

TEST_F(ManagedIdentityCredentialTest, GivesUpAfterTheLastRetry) {
  imds_.InjectFaults(10, 429);
  absl::StatusOr<AccessToken> throttled = Make()->GetToken(kScope);
  EXPECT_EQ(throttled.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(throttled.status().message()),
              HasSubstr("still answered HTTP 429 after 6 attempts"));
  EXPECT_EQ(imds_.requests().size(), 6u);

  imds_.ClearRequests();
  imds_.InjectFaults(10, 503);
  absl::StatusOr<AccessToken> down = Make()->GetToken(kScope);
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(down.status().message()), HasSubstr("HTTP 503 after 6 attempts"));
}

TEST_F(ManagedIdentityCredentialTest, RetryAfterLengthensTheWait) {
  imds_.InjectFaults(1, 429, "", {{"Retry-After", "7"}});
  ASSERT_TRUE(Make()->GetToken(kScope).ok());
  EXPECT_THAT(sleeps(), ElementsAre(absl::Seconds(7)));
}

TEST_F(ManagedIdentityCredentialTest, OtherClientErrorsAreFinal) {
  imds_.InjectFaults(1, 403, R"({"error":"forbidden"})");
  absl::StatusOr<AccessToken> token = Make()->GetToken(kScope);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(imds_.requests().size(), 1u);
}

TEST_F(ManagedIdentityCredentialTest, NoEndpointIsUnavailableWithoutRetries) {
  std::string endpoint = imds_.base_url();
  imds_.Stop();
  absl::StatusOr<AccessToken> token = Make("", endpoint)->GetToken(kScope);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("did not answer"));
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("managed identity"));
  EXPECT_TRUE(sleeps().empty());
}

TEST_F(ManagedIdentityCredentialTest, IdentityHeaderStyleEndpoint) {
  ManagedIdentityOptions options;
  options.endpoint = imds_.token_url();
  options.identity_header = "identity-header-secret-value";
  auto credential =
      std::make_shared<ManagedIdentityCredential>(options, recording_, clock_.AsClock());
  ASSERT_TRUE(credential->GetToken(kScope).ok());
  auto sent = imds_.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].Param("api-version"), "2019-08-01");
  EXPECT_EQ(sent[0].Header("X-IDENTITY-HEADER"), "identity-header-secret-value");
  EXPECT_THAT(credential->Describe(), Not(HasSubstr("identity-header-secret-value")));
}

TEST_F(ManagedIdentityCredentialTest, DefaultEndpointIsImds) {
  ManagedIdentityCredential credential(ManagedIdentityOptions(), recording_);
  EXPECT_EQ(credential.endpoint(), "http://169.254.169.254/metadata/identity/oauth2/token");
  EXPECT_EQ(credential.Describe(),
            "managed identity credential (system-assigned, endpoint 169.254.169.254)");
}

}  // namespace
}  // namespace azure_auth
