#include "azure_auth/token_response.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);
constexpr char kRecordedToken[] =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.RECORDED-TEST-TOKEN-NOT-VALID-ANYWHERE."
    "c2lnbmF0dXJl";

std::string ReadTestdata(const std::string& name) {
  std::ifstream in("testdata/entra/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read testdata/entra/" << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ParseTokenResponseTest, V2AnswerWithNumbers) {
  auto token = ParseTokenResponse(ReadTestdata("token_v2.json"), kNow);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, kRecordedToken);
  EXPECT_EQ(token->expires_on, kNow + absl::Seconds(3599));
  EXPECT_EQ(token->refresh_on, absl::InfinitePast());
}

TEST(ParseTokenResponseTest, V2AnswerWithRefreshIn) {
  auto token = ParseTokenResponse(ReadTestdata("token_v2_refresh_in.json"), kNow);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires_on, kNow + absl::Seconds(86399));
  EXPECT_EQ(token->refresh_on, kNow + absl::Seconds(43199));
}

TEST(ParseTokenResponseTest, V1AnswerWithStringsPrefersExpiresIn) {
  // The file's expires_on is 1700003599; received 100 s "late" the relative
  // expires_in still gives the token its full life from the local clock.
  absl::Time later = kNow + absl::Seconds(100);
  auto token = ParseTokenResponse(ReadTestdata("token_v1.json"), later);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, kRecordedToken);
  EXPECT_EQ(token->expires_on, later + absl::Seconds(3599));
}

TEST(ParseTokenResponseTest, ImdsAnswer) {
  auto token = ParseTokenResponse(ReadTestdata("imds.json"), kNow);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, kRecordedToken);
  EXPECT_EQ(token->expires_on, kNow + absl::Seconds(86399));
}

TEST(ParseTokenResponseTest, ExpiresOnAloneIsUsed) {
  auto token = ParseTokenResponse(
      R"({"access_token":"abc","token_type":"Bearer","expires_on":"1700000600"})", kNow);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires_on, absl::FromUnixSeconds(1700000600));
}

TEST(ParseTokenResponseTest, ExpiresOnInThePastPointsAtTheClock) {
  auto token = ParseTokenResponse(
      R"({"access_token":"abc","expires_on":1699999000})", kNow);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("check this machine's clock"));
}

TEST(ParseTokenResponseTest, MissingTokenIsUnauthenticated) {
  auto token = ParseTokenResponse(R"({"token_type":"Bearer","expires_in":3599})", kNow);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("no access_token"));
  auto empty = ParseTokenResponse(R"({"access_token":"","expires_in":3599})", kNow);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(ParseTokenResponseTest, MalformedAnswersAreInvalidArgument) {
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {"", "not a valid JSON object"},
      {"<html>502 Bad Gateway</html>", "not a valid JSON object"},
      {"[1,2]", "not a valid JSON object"},
      {R"({"access_token":"abc","expires_in":3599)", "not a valid JSON object"},
      {R"({"access_token":"abc","expires_in":3599} trailing)", "not a valid JSON object"},
      {R"({"access_token":"abc","expires_in":3599} {})", "bytes follow the JSON object"},
      {R"({"access_token":42,"expires_in":3599})", "access_token is not a string"},
      {R"({"access_token":"abc","expires_in":"soon"})", "expires_in is not an integer"},
      {R"({"access_token":"abc","expires_in":0})", "outside 1.."},
      {R"({"access_token":"abc","expires_in":-5})", "outside 1.."},
      {R"({"access_token":"abc","expires_in":99999999999})", "outside 1.."},
      {R"({"access_token":"abc"})", "neither expires_in nor expires_on"},
      {R"({"access_token":"abc","expires_in":1,"token_type":"pop"})", "expected Bearer"},
      {R"({"access_token":"ab\r\nX-Evil: 1","expires_in":60})", "Authorization header"},
      {R"({"access_token":"abc","expires_in":60,"refresh_in":true})", "refresh_in"},
  };
  for (const Case& c : cases) {
    auto token = ParseTokenResponse(c.body, kNow);
    ASSERT_FALSE(token.ok()) << c.body;
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(std::string(token.status().message()), HasSubstr(c.message)) << c.body;
  }
}

TEST(ParseTokenResponseTest, MessagesNeverQuoteTheToken) {
  const std::string secretish = "SECRET-TOKEN-VALUE-0123456789";
  for (const std::string& body : {
           R"({"access_token":")" + secretish + R"(","token_type":"pop","expires_in":1})",
           R"({"access_token":")" + secretish + R"("})",
           R"({"access_token":")" + secretish + R"(","expires_in":1} x)",
           R"({"access_token":")" + secretish + R"(","expires_in":-1})"}) {
    auto token = ParseTokenResponse(body, kNow);
    ASSERT_FALSE(token.ok()) << body;
    EXPECT_THAT(std::string(token.status().message()), Not(HasSubstr(secretish)));
  }
}

TEST(ParseTokenResponseTest, FloatTimesAndUnknownFieldsAreTolerated) {
  auto token = ParseTokenResponse(
      R"({"x":{"nested":[1,2,{"a":null}]},"access_token":"abc","expires_in":3599.0,)"
      R"("ext_expires_in":"3599","foo":null})",
      kNow);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires_on, kNow + absl::Seconds(3599));
}

TEST(ParseTokenResponseTest, OversizedBodyIsRejectedWithoutParsing) {
  std::string big(kMaxTokenResponseBytes + 1, ' ');
  auto token = ParseTokenResponse(big, kNow);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("bytes, more than a token answer"));
}

}  // namespace
}  // namespace azure_auth
