// Pushes recognisable secrets, client assertions, federated tokens and access tokens
// through every error path of every credential, with servers that echo them back in
// every place an answer can carry text, and checks that no returned message, no
// Describe() and no warning contains any of them (as given, percent-encoded or
// JSON-escaped).
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "azure_auth/client_certificate_credential.h"
#include "azure_auth/client_secret_credential.h"
#include "azure_auth/credential_factory.h"
#include "azure_auth/default_azure_credential.h"
#include "azure_auth/internal/test_pki.h"
#include "azure_auth/internal/test_util.h"
#include "azure_auth/internal/url_encode.h"
#include "azure_auth/managed_identity_credential.h"
#include "azure_auth/secret_source.h"
#include "azure_auth/token_cache.h"
#include "azure_auth/workload_identity_credential.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/curl_transport.h"
#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/fake_azure/fake_imds_server.h"

namespace azure_auth {
namespace {

constexpr char kScope[] = "https://api.loganalytics.io/.default";
// Characters Azure puts in secrets, plus ones that change under encoding.
constexpr char kSecret[] = "LEAKCANARY~Secret+/=.Value_0123456789";
constexpr char kAlnumSecret[] = "LEAKCANARYalnumSecret0123456789";
constexpr char kFederated[] = "LEAKCANARY.federated-token.signature";
constexpr char kAccessToken[] = "LEAKCANARY-access-token-0123456789";
constexpr char kIdentityHeader[] = "LEAKCANARY-identity-header";
constexpr int64_t kKnownCodes[] = {7000215, 7000222, 90002, 700016, 700027, 700024,
                                   5002738, 7000218, 70011, 700022, 500011, 7000112,
                                   53003,   90055};

class SecretLeakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_azure::FakeAzureServer::Options options;
    options.client_secret = kSecret;
    azure_ = std::make_unique<fake_azure::FakeAzureServer>(options);
    ASSERT_TRUE(azure_->Start().ok());
    ASSERT_TRUE(imds_.Start().ok());
    http::CurlTransport::Options transport_options;
    transport_options.ca_file = azure_->ca_file();
    transport_ = std::make_shared<http::CurlTransport>(transport_options);
    cloud_ = CustomCloud(azure_->base_url(), azure_->base_url(), kScope);
    canaries_ = {kSecret, kAlnumSecret, kFederated, kAccessToken, kIdentityHeader,
                 "LEAKCANARY"};
  }

  // Every text we produced so far must be free of every canary in every form.
  void Check(const std::string& where, const std::string& text) {
    ++checked_;
    for (const std::string& canary : canaries_) {
      std::string json;
      azure_auth_internal::AppendJsonString(&json, canary);
      for (const std::string& form :
           {canary, azure_auth_internal::PercentEncode(canary), json.substr(1, json.size() - 2)}) {
        EXPECT_EQ(text.find(form), std::string::npos)
            << where << " leaked \"" << form << "\" in: " << text;
      }
    }
  }
  void CheckResult(const std::string& where, const absl::StatusOr<AccessToken>& result) {
    EXPECT_FALSE(result.ok()) << where << " unexpectedly succeeded";
    Check(where, std::string(result.status().message()));
  }
  // Makes the token endpoint answer (status, body) to every request.
  void Answer(int status, std::string body, fake_azure::Headers headers = {}) {
    azure_->SetTokenHandler([=](const fake_azure::TokenRequest&) {
      return std::optional<fake_azure::TokenReply>(fake_azure::TokenReply{status, headers, body});
    });
  }
  // Makes the token endpoint echo `pick(request)` in every text field of an error.
  void Echo(int status, int64_t code,
            std::function<std::string(const fake_azure::TokenRequest&)> pick) {
    azure_->SetTokenHandler([=](const fake_azure::TokenRequest& request) {
      std::string value = pick(request);
      std::string v;
      azure_auth_internal::AppendJsonString(&v, value);
      std::string padded;
      azure_auth_internal::AppendJsonString(
          &padded, absl::StrCat("AADSTS", code, ": ", std::string(230, 'p'), value,
                                " and the raw form: ", request.form.empty() ? "" : value));
      std::string body = absl::StrCat(
          R"({"error":)", v, R"(,"error_description":)", padded, R"(,"error_codes":[)",
          code, R"(],"trace_id":)", v, R"(,"correlation_id":)", v, R"(,"timestamp":)", v,
          "}");
      return std::optional<fake_azure::TokenReply>(
          fake_azure::TokenReply{status, {{"Retry-After", value}}, body});
    });
  }

  std::vector<int64_t> AllCodes() {
    std::vector<int64_t> codes(std::begin(kKnownCodes), std::end(kKnownCodes));
    codes.push_back(12345);  // unknown: its description is quoted
    return codes;
  }

  std::unique_ptr<fake_azure::FakeAzureServer> azure_;
  fake_azure::FakeImdsServer imds_;
  std::shared_ptr<http::CurlTransport> transport_;
  CloudSettings cloud_;
  common::FakeClock clock_;
  azure_auth_internal::TempDir dir_;
  std::vector<std::string> canaries_;
  int checked_ = 0;
};

TEST_F(SecretLeakTest, ClientSecretOnEveryErrorPath) {
  for (const char* secret : {kSecret, kAlnumSecret}) {
    auto credential = std::make_shared<ClientSecretCredential>(
        azure_->options().tenant_id, azure_->options().client_id, FixedSecret(secret),
        cloud_, transport_, clock_.AsClock());
    auto cached = std::make_shared<TokenCache>(credential, clock_.AsClock());
    Check("Describe", credential->Describe());
    Check("Describe", cached->Describe());

    azure_->SetTokenHandler(nullptr);
    if (std::string(secret) != kSecret) CheckResult("wrong secret", credential->GetToken(kScope));
    for (int64_t code : AllCodes()) {
      for (int status : {400, 401, 429, 500}) {
        Echo(status, code, [](const fake_azure::TokenRequest& r) {
          return r.Form("client_secret").value_or("");
        });
        CheckResult(absl::StrCat("echo secret ", code, "/", status),
                    credential->GetToken(kScope));
      }
    }
    // The raw form body echoed back as plain text and as an Entra description.
    azure_->SetTokenHandler([](const fake_azure::TokenRequest& r) {
      std::string body;
      for (const auto& [k, v] : r.form) absl::StrAppend(&body, k, "=", v, "&");
      return std::optional<fake_azure::TokenReply>(fake_azure::TokenReply{502, {}, body});
    });
    CheckResult("502 echo form", credential->GetToken(kScope));
    Answer(500, secret);
    CheckResult("500 plain secret", credential->GetToken(kScope));
    Answer(200, absl::StrCat(R"({"access_token":")", secret, R"(","expires_in":"x"})"));
    CheckResult("200 malformed", credential->GetToken(kScope));
    clock_.Advance(absl::Hours(1));  // past the cache's backoff
    CheckResult("cache", cached->GetToken(kScope));
  }
  EXPECT_GT(checked_, 100);
}

TEST_F(SecretLeakTest, AccessTokenNeverAppearsInErrors) {
  auto credential = std::make_shared<ClientSecretCredential>(
      azure_->options().tenant_id, azure_->options().client_id, FixedSecret(kSecret),
      cloud_, transport_, clock_.AsClock());
  for (const std::string& body :
       {absl::StrCat(R"({"access_token":")", kAccessToken, R"(","token_type":"pop","expires_in":1})"),
        absl::StrCat(R"({"access_token":")", kAccessToken, R"(","expires_in":-1})"),
        absl::StrCat(R"({"access_token":")", kAccessToken, R"("})"),
        absl::StrCat(R"({"access_token":")", kAccessToken, R"(","expires_in":1} trailing)"),
        absl::StrCat(R"({"access_token":")", kAccessToken, "\n\",\"expires_in\":60}")}) {
    Answer(200, body);
    CheckResult("200 " + body.substr(0, 20), credential->GetToken(kScope));
  }
  // A token the issuer says expired is refused by the cache without quoting it.
  Answer(200, absl::StrCat(R"({"access_token":")", kAccessToken,
                           R"(","expires_on":1})"));
  TokenCache cache(credential, clock_.AsClock());
  CheckResult("cache expired", cache.GetToken(kScope));
}

TEST_F(SecretLeakTest, CertificateAssertionOnEveryErrorPath) {
  auto cert = azure_auth_internal::MakeTestCertificate(2048, "leak");
  ASSERT_TRUE(cert.ok());
  std::string pem_path = dir_.Write("app.pem", cert->key_pem + cert->cert_pem, 0644);
  std::vector<std::string> warnings;
  auto credential = std::make_shared<ClientCertificateCredential>(
      azure_->options().tenant_id, azure_->options().client_id,
      CertificateFile(pem_path, [&](absl::string_view w) { warnings.emplace_back(w); }),
      cloud_, transport_, clock_.AsClock());
  absl::Mutex mu;
  std::vector<std::string> assertions;
  for (int64_t code : AllCodes()) {
    Echo(401, code, [&](const fake_azure::TokenRequest& r) {
      std::string a = r.Form("client_assertion").value_or("");
      absl::MutexLock lock(&mu);
      assertions.push_back(a);
      return a;
    });
    CheckResult(absl::StrCat("echo assertion ", code), credential->GetToken(kScope));
  }
  // The key material and each assertion, and its signature part, are canaries too.
  std::vector<std::string> key_lines = absl::StrSplit(cert->key_pem, '\n');
  canaries_.push_back(key_lines[1]);
  canaries_.push_back(key_lines[5]);
  canaries_.push_back("-----END PRIVATE KEY-----");
  for (const std::string& a : assertions) {
    canaries_.push_back(a);
    std::vector<std::string> parts = absl::StrSplit(a, '.');
    ASSERT_EQ(parts.size(), 3u);
    canaries_.push_back(parts[2]);
  }
  ASSERT_EQ(warnings.size(), 1u);
  Check("warning", warnings[0]);
  // Re-run with the full canary list.
  for (int64_t code : AllCodes()) {
    Echo(401, code, [&](const fake_azure::TokenRequest& r) {
      std::string a = r.Form("client_assertion").value_or("");
      absl::MutexLock lock(&mu);
      canaries_.push_back(a);
      return a;
    });
    absl::StatusOr<AccessToken> result = credential->GetToken(kScope);
    CheckResult(absl::StrCat("echo assertion again ", code), result);
  }
  // Broken PEM files: their content stays out of messages.
  dir_.Write("app.pem", cert->key_pem, 0600);
  CheckResult("key only", credential->GetToken(kScope));
  dir_.Write("app.pem", cert->cert_pem + "LEAKCANARY", 0600);
  CheckResult("cert only", credential->GetToken(kScope));
}

TEST_F(SecretLeakTest, FederatedTokenOnEveryErrorPath) {
  std::string file = dir_.Write("token", kFederated, 0644);
  auto credential = std::make_shared<WorkloadIdentityCredential>(
      azure_->options().tenant_id, azure_->options().client_id, file, cloud_, transport_,
      clock_.AsClock());
  Check("Describe", credential->Describe());
  for (int64_t code : AllCodes()) {
    Echo(401, code, [](const fake_azure::TokenRequest& r) {
      return r.Form("client_assertion").value_or("");
    });
    CheckResult(absl::StrCat("echo federated ", code), credential->GetToken(kScope));
  }
}

TEST_F(SecretLeakTest, ManagedIdentityHeaderOnEveryErrorPath) {
  ManagedIdentityOptions options;
  options.endpoint = imds_.token_url();
  options.identity_header = kIdentityHeader;
  options.sleep = [](absl::Duration) {};
  auto credential = std::make_shared<ManagedIdentityCredential>(options, transport_,
                                                                clock_.AsClock());
  Check("Describe", credential->Describe());
  std::string echo = absl::StrCat(R"({"error":"invalid_request","error_description":"header )",
                                  kIdentityHeader, R"("})");
  imds_.InjectFaults(1, 400, echo);
  CheckResult("imds 400", credential->GetToken(kScope));
  imds_.InjectFaults(6, 500, echo);
  CheckResult("imds 500", credential->GetToken(kScope));
  imds_.InjectFaults(1, 403, echo);
  CheckResult("imds 403", credential->GetToken(kScope));
  imds_.InjectFaults(1, 200, absl::StrCat(R"({"access_token":")", kAccessToken, R"("})"));
  CheckResult("imds 200 malformed", credential->GetToken(kScope));
  imds_.Stop();
  CheckResult("imds down", credential->GetToken(kScope));
}

TEST_F(SecretLeakTest, FactoryChainAndSecretSources) {
  std::vector<std::string> warnings;
  CredentialConfig config;
  config.kind = CredentialKind::kClientSecretValue;
  config.tenant_id = azure_->options().tenant_id;
  config.client_id = "bad client id";
  config.secret_value = kSecret;
  config.cloud = cloud_;
  config.on_warning = [&](absl::string_view w) { warnings.emplace_back(w); };
  auto bad = MakeCredential(config, transport_, clock_.AsClock());
  EXPECT_FALSE(bad.ok());
  Check("factory bad client id", std::string(bad.status().message()));

  config.client_id = azure_->options().client_id;
  config.secret_value = "wrong-LEAKCANARY";
  auto wrong = MakeCredential(config, transport_, clock_.AsClock());
  ASSERT_TRUE(wrong.ok());
  Check("factory Describe", (*wrong)->Describe());
  CheckResult("factory wrong secret", (*wrong)->GetToken(kScope));

  config.kind = CredentialKind::kClientSecretFile;
  config.path = dir_.Write("secret", std::string(kSecret) + "\n", 0666);
  auto file = MakeCredential(config, transport_, clock_.AsClock());
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(warnings.size(), 1u);
  Check("warning", warnings[0]);
  config.path = dir_.Write("huge", std::string(2 << 20, 'x') + kSecret, 0600);
  auto huge = MakeCredential(config, transport_, clock_.AsClock());
  EXPECT_FALSE(huge.ok());
  Check("huge file", std::string(huge.status().message()));

  DefaultCredentialOptions options;
  options.env = azure_auth_internal::MapEnv(
      {{"AZURE_TENANT_ID", azure_->options().tenant_id},
       {"AZURE_CLIENT_ID", azure_->options().client_id},
       {"AZURE_CLIENT_SECRET", "LEAKCANARY-env-secret"},
       {"AZURE_AUTHORITY_HOST", azure_->base_url()}});
  DefaultAzureCredential chain(options, transport_, clock_.AsClock());
  Check("chain Describe", chain.Describe());
  CheckResult("chain wrong secret", chain.GetToken(kScope));
  EnvLookup empty = azure_auth_internal::MapEnv({{"AZURE_CLIENT_SECRET", ""}});
  Check("env empty", std::string(EnvSecret("AZURE_CLIENT_SECRET", empty)().status().message()));
}

}  // namespace
}  // namespace azure_auth
