#include "azure_auth/client_assertion.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "azure_auth/internal/test_pki.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kClientId[] = "3f2c5e1a-8d4b-4c6e-9a7f-1b2d3c4e5f60";
constexpr char kAudience[] =
    "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token";
const absl::Time kNow = absl::FromUnixSeconds(1700000000);

class ClientAssertionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto made = azure_auth_internal::MakeTestCertificate(2048, "assertion-test");
    ASSERT_TRUE(made.ok()) << made.status();
    cert_ = new azure_auth_internal::TestCertificate(*made);
  }
  static azure_auth_internal::TestCertificate* cert_;
};
azure_auth_internal::TestCertificate* ClientAssertionTest::cert_ = nullptr;

std::string Str(simdjson::ondemand::document& doc, const char* key) {
  std::string_view v;
  if (doc[key].get_string().get(v)) return "<missing or not a string>";
  return std::string(v);
}
int64_t Int(simdjson::ondemand::document& doc, const char* key) {
  int64_t v = -1;
  if (doc[key].get_int64().get(v)) return -1;
  return v;
}

TEST_F(ClientAssertionTest, JwtHasTheHeaderAndClaimsEntraIdExpectsAndVerifies) {
  // Key after certificate: order in the file does not matter.
  auto cert = ClientCertificate::FromPem(cert_->cert_pem + cert_->key_pem);
  ASSERT_TRUE(cert.ok()) << cert.status();
  auto jwt = BuildClientAssertion(*cert, kClientId, kAudience, kNow);
  ASSERT_TRUE(jwt.ok()) << jwt.status();

  auto decoded = azure_auth_internal::VerifyRs256Jwt(*jwt, cert_->cert_pem);
  ASSERT_TRUE(decoded.ok()) << decoded.status();

  unsigned char sha1[20];
  unsigned int n = 0;
  EVP_Digest(cert_->der.data(), cert_->der.size(), sha1, &n, EVP_sha1(), nullptr);
  std::string expected_x5t = absl::WebSafeBase64Escape(
      std::string(reinterpret_cast<const char*>(sha1), n));
  EXPECT_EQ(decoded->header_json,
            absl::StrCat(R"({"alg":"RS256","typ":"JWT","x5t":")", expected_x5t, R"("})"));
  EXPECT_EQ(cert->x5t(), expected_x5t);
  EXPECT_EQ(cert->der(), cert_->der);
  EXPECT_EQ(cert->ThumbprintHex().size(), 40u);

  simdjson::ondemand::parser parser;
  simdjson::padded_string claims(decoded->claims_json);
  simdjson::ondemand::document doc = parser.iterate(claims);
  EXPECT_EQ(Str(doc, "aud"), kAudience);
  EXPECT_EQ(Str(doc, "iss"), kClientId);
  EXPECT_EQ(Str(doc, "sub"), kClientId);
  EXPECT_THAT(Str(doc, "jti"),
              MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_EQ(Int(doc, "nbf"), 1700000000);
  EXPECT_EQ(Int(doc, "exp"), 1700000600);
}

TEST_F(ClientAssertionTest, EachAssertionHasANewJti) {
  auto cert = ClientCertificate::FromPem(cert_->key_pem + cert_->cert_pem);
  ASSERT_TRUE(cert.ok()) << cert.status();
  auto a = BuildClientAssertion(*cert, kClientId, kAudience, kNow);
  auto b = BuildClientAssertion(*cert, kClientId, kAudience, kNow);
  ASSERT_TRUE(a.ok() && b.ok());
  auto da = azure_auth_internal::VerifyRs256Jwt(*a, cert_->cert_pem);
  auto db = azure_auth_internal::VerifyRs256Jwt(*b, cert_->cert_pem);
  ASSERT_TRUE(da.ok() && db.ok());
  EXPECT_NE(da->claims_json, db->claims_json);
}

TEST_F(ClientAssertionTest, SignatureFailsWithAnotherCertificate) {
  auto other = azure_auth_internal::MakeTestCertificate(2048, "other");
  ASSERT_TRUE(other.ok());
  auto cert = ClientCertificate::FromPem(cert_->key_pem + cert_->cert_pem);
  ASSERT_TRUE(cert.ok());
  auto jwt = BuildClientAssertion(*cert, kClientId, kAudience, kNow);
  ASSERT_TRUE(jwt.ok());
  EXPECT_FALSE(azure_auth_internal::VerifyRs256Jwt(*jwt, other->cert_pem).ok());
}

TEST_F(ClientAssertionTest, ChainPicksTheCertificateMatchingTheKey) {
  auto other = azure_auth_internal::MakeTestCertificate(2048, "ca-like");
  ASSERT_TRUE(other.ok());
  auto cert = ClientCertificate::FromPem(other->cert_pem + cert_->key_pem + cert_->cert_pem);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->der(), cert_->der);
}

TEST_F(ClientAssertionTest, BadPemFilesSayWhatIsWrong) {
  auto other = azure_auth_internal::MakeTestCertificate(2048, "other");
  ASSERT_TRUE(other.ok());
  auto ec = azure_auth_internal::MakeTestCertificate(0, "ec");
  ASSERT_TRUE(ec.ok());
  auto small = azure_auth_internal::MakeTestCertificate(1024, "small");
  ASSERT_TRUE(small.ok());
  auto encrypted = azure_auth_internal::EncryptKeyPem(cert_->key_pem, "pw");
  ASSERT_TRUE(encrypted.ok());
  struct Case {
    std::string pem;
    const char* message;
  } cases[] = {
      {"", "no private key found"},
      {cert_->cert_pem, "no private key found"},
      {"garbage\n", "no private key found"},
      {*encrypted + cert_->cert_pem, "is encrypted"},
      {cert_->key_pem, "no certificate found"},
      {cert_->key_pem + other->cert_pem, "matches its private key"},
      {ec->key_pem + ec->cert_pem, "not an RSA key"},
      {small->key_pem + small->cert_pem, "has 1024 bits"},
  };
  for (const Case& c : cases) {
    auto cert = ClientCertificate::FromPem(c.pem);
    ASSERT_FALSE(cert.ok()) << c.message;
    EXPECT_EQ(cert.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(cert.status().message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(cert.status().message()), Not(HasSubstr("MII")));
  }
}

TEST_F(ClientAssertionTest, EmptyClientIdIsRejected) {
  auto cert = ClientCertificate::FromPem(cert_->key_pem + cert_->cert_pem);
  ASSERT_TRUE(cert.ok());
  auto jwt = BuildClientAssertion(*cert, "", kAudience, kNow);
  EXPECT_EQ(jwt.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace azure_auth
