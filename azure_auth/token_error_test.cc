#include "azure_auth/token_error.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in("testdata/entra/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read testdata/entra/" << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Each recorded error: the HTTP status Azure sends it with, the Status code it must
// become, and a phrase of the advice the operator must get.
struct Expected {
  int64_t code;
  int http_status;
  absl::StatusCode status;
  const char* advice;
};

const Expected kExpected[] = {
    {7000215, 401, absl::StatusCode::kUnauthenticated, "not its Secret ID"},
    {7000222, 401, absl::StatusCode::kUnauthenticated,
     "Certificates & secrets > New client secret"},
    {90002, 400, absl::StatusCode::kNotFound, "check the Tenant ID"},
    {700016, 400, absl::StatusCode::kNotFound, "check the Client ID"},
    {700027, 401, absl::StatusCode::kUnauthenticated, "upload this certificate"},
    {700024, 401, absl::StatusCode::kUnauthenticated, "clock (NTP)"},
    {5002738, 401, absl::StatusCode::kUnauthenticated, "signing algorithm"},
    {7000218, 401, absl::StatusCode::kUnauthenticated,
     "neither a client secret nor a client assertion"},
    {70011, 400, absl::StatusCode::kInvalidArgument, "the scope is invalid"},
    {700022, 400, absl::StatusCode::kInvalidArgument, "more than one resource"},
    {500011, 400, absl::StatusCode::kNotFound, "api.loganalytics.us"},
    {7000112, 400, absl::StatusCode::kPermissionDenied, "application is disabled"},
    {53003, 400, absl::StatusCode::kPermissionDenied, "Conditional Access"},
    {90055, 429, absl::StatusCode::kResourceExhausted, "throttled"},
};

TEST(ParseTokenErrorTest, EveryRecordedCodeGetsItsStatusAndAdvice) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.code);
    std::string body = ReadTestdata(absl::StrCat("error_", e.code, ".json"));
    std::optional<EntraError> parsed = ParseEntraError(body);
    ASSERT_TRUE(parsed.has_value());
    absl::Status status = ParseTokenError(e.http_status, body);
    EXPECT_EQ(status.code(), e.status) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(absl::StrCat("AADSTS", e.code, " (")));
    EXPECT_THAT(std::string(status.message()), HasSubstr(e.advice));
    EXPECT_THAT(std::string(status.message()), HasSubstr(absl::StrCat("HTTP ", e.http_status)));
    EXPECT_THAT(std::string(status.message()), HasSubstr("trace_id=" + parsed->trace_id));
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("correlation_id=" + parsed->correlation_id));
    EXPECT_THAT(std::string(status.message()), HasSubstr("timestamp=" + parsed->timestamp));
    EXPECT_THAT(std::string(status.message()), HasSubstr(parsed->error));
  }
}

TEST(ParseTokenErrorTest, TableAndRecordingsCoverTheSameCodes) {
  std::set<int64_t> table, expected;
  for (const AadstsInfo& info : KnownAadstsCodes()) table.insert(info.code);
  for (const Expected& e : kExpected) expected.insert(e.code);
  EXPECT_EQ(table, expected);
}

TEST(ParseTokenErrorTest, DecisionIgnoresTheDescription) {
  // A description that reads like 53003 but a code saying "secret expired".
  absl::Status status = ParseTokenError(
      401, R"({"error":"invalid_client","error_codes":[7000222],)"
           R"("error_description":"AADSTS53003: blocked by Conditional Access"})");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()), HasSubstr("AADSTS7000222"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("client secret has expired"));
}

TEST(ParseTokenErrorTest, UnknownCodeFallsBackToErrorNameAndQuotesFirstLine) {
  absl::Status status = ParseTokenError(
      400, "{\"error\":\"invalid_grant\",\"error_codes\":[50126],"
           "\"error_description\":\"AADSTS50126: Something new.\\r\\nTrace ID: x\","
           "\"trace_id\":\"abc-1\"}");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()), HasSubstr("AADSTS50126 (invalid_grant, HTTP 400)"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("AADSTS50126: Something new."));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("Trace ID: x")));
  EXPECT_THAT(std::string(status.message()), HasSubstr("[trace_id=abc-1]"));
}

TEST(ParseTokenErrorTest, FallbackByErrorNameAndHttpStatus) {
  struct Case {
    int http;
    const char* body;
    absl::StatusCode code;
  } cases[] = {
      {400, R"({"error":"invalid_scope"})", absl::StatusCode::kInvalidArgument},
      {400, R"({"error":"invalid_tenant"})", absl::StatusCode::kNotFound},
      {400, R"({"error":"access_denied"})", absl::StatusCode::kPermissionDenied},
      {401, R"({"error":"something_new"})", absl::StatusCode::kUnauthenticated},
      {403, R"({"error":"something_new"})", absl::StatusCode::kPermissionDenied},
      {429, R"({"error":"invalid_request"})", absl::StatusCode::kResourceExhausted},
      {503, R"({"error":"invalid_request"})", absl::StatusCode::kUnavailable},
      {200, R"({"error":"something_new"})", absl::StatusCode::kUnknown},
  };
  for (const Case& c : cases) {
    absl::Status status = ParseTokenError(c.http, c.body);
    EXPECT_EQ(status.code(), c.code) << c.http << " " << c.body << " " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(absl::StrCat("HTTP ", c.http)));
  }
}

TEST(ParseTokenErrorTest, NonEntraBodiesMapByStatusAndQuoteAnExcerpt) {
  absl::Status gateway =
      ParseTokenError(502, "<html><body>502 Bad Gateway\x01</body></html>");
  EXPECT_EQ(gateway.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(gateway.message()), HasSubstr("HTTP 502"));
  EXPECT_THAT(std::string(gateway.message()), HasSubstr("502 Bad Gateway?"));
  EXPECT_THAT(std::string(gateway.message()), HasSubstr("retry later"));
  absl::Status not_found = ParseTokenError(404, "");
  EXPECT_EQ(not_found.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(not_found.message()), HasSubstr("check the authority host"));
  std::string huge(10000, 'x');
  absl::Status cut = ParseTokenError(500, huge);
  EXPECT_LT(cut.message().size(), 600u);
  EXPECT_THAT(std::string(cut.message()), HasSubstr("xxx..."));
}

TEST(ParseTokenErrorTest, HostileIdsAreDropped) {
  absl::Status status = ParseTokenError(
      401, R"({"error":"invalid_client","error_codes":[7000215],)"
           R"("trace_id":"a\nInjected: yes","correlation_id":"ok-1"})");
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("Injected")));
  EXPECT_THAT(std::string(status.message()), HasSubstr("[correlation_id=ok-1]"));
}

TEST(ParseTokenErrorTest, FirstKnownCodeWins) {
  absl::Status status = ParseTokenError(
      400, R"({"error":"invalid_request","error_codes":[12345,"90002",700016]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr("AADSTS90002"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("tenant was not found"));
}

}  // namespace
}  // namespace azure_auth
